//! What happens after a share: the visitor it brings lands with `st`, reshares one level deeper,
//! passes the page on through the address bar, converts; and pages elsewhere are refused.

use crate::helpers::*;
use crate::support::*;
use serde_json::{Value, json};

#[tokio::test]
async fn following_a_shared_link_lands_with_st_and_a_reshare_is_one_level_deeper() {
    let app = spawn_app(Backend::Sqlite).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.open_page(&pages.article()).await;
    let first = browser.share_on_whatsapp().await;

    browser.open_page(&app.url(&format!("/{first}"))).await;

    let landed = url::Url::parse(&browser.href().await).expect("a URL");
    assert_eq!(
        landed.origin().ascii_serialization(),
        pages.origin,
        "landed on {landed}"
    );
    assert_eq!(landed.path(), "/post", "landed on {landed}");
    let st = landed
        .query_pairs()
        .find(|(k, _)| k == "st")
        .map(|(_, v)| v.into_owned());
    assert_eq!(
        st.as_deref(),
        Some(first.as_str()),
        "the landing URL names the share: {landed}"
    );

    let reshare = browser.share_on_whatsapp().await;

    let child = share(&app, &reshare).await;
    assert_eq!(child["channel"], "whatsapp", "{child}");
    assert_eq!(child["parent"], first.as_str(), "{child}");
    assert_eq!(child["depth"], 2, "{child}");
    let stats = app.stats(link_of(&app, &first).await).await;
    assert_eq!(stats["cascade"]["max_depth"], 2, "{stats}");
}

#[tokio::test]
async fn a_link_copied_from_the_address_bar_becomes_an_address_bar_share_and_a_reload_is_not() {
    let app = spawn_app(Backend::Sqlite).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let sharer = driver.browser().await;
    sharer.open_page(&pages.article()).await;
    let arrived_through = sharer.share_on_whatsapp().await;
    let link_id = link_of(&app, &arrived_through).await;
    sharer.open_page(&app.url(&format!("/{arrived_through}"))).await;
    let copied = sharer
        .wait_for(
            "the address-bar token",
            "return location.hash.startsWith('#st=') && location.href",
        )
        .await;
    let copied = copied.as_str().expect("a URL");

    // Someone else, in a browser of their own, opens what the sharer copied.
    let friend = driver.browser().await;
    friend.open_page(copied).await;

    let stats = eventually("the address-bar share", || async {
        let stats = app.stats(link_id).await;
        (stats["shares"]["by_channel"]["address_bar"] == 1).then_some(stats)
    })
    .await;
    let children = share(&app, &arrived_through).await["children"].clone();
    let address_bar: Vec<&Value> = children
        .as_array()
        .expect("children")
        .iter()
        .filter(|c| c["channel"] == "address_bar")
        .collect();
    assert_eq!(
        address_bar.len(),
        1,
        "one address-bar child of {arrived_through}: {children}"
    );
    let code = address_bar[0]["code"].as_str().expect("a code").to_owned();
    // Two visits: the sharer's through the WhatsApp link, the friend's through the copied URL.
    app.wait_for_visits(2).await;
    let shared = share(&app, &code).await;
    assert_eq!(shared["parent"], arrived_through.as_str(), "{shared}");
    assert_eq!(shared["depth"], 2, "{shared}");
    assert!(
        shared["clicks"].as_i64() >= Some(1),
        "the friend is a click on it: {shared}"
    );
    // The friend's address bar now carries a token of their own, for whoever they pass it on to.
    let friend_href = friend
        .wait_for(
            "the friend's own token",
            &format!("return location.href !== {} && location.href", json!(copied)),
        )
        .await;
    assert!(
        friend_href.as_str().expect("a URL").contains(&format!("#st={code}.")),
        "{friend_href}"
    );

    // The sharer reloads: the token in their own address bar is not a reshare.
    let total = stats["shares"]["total"].clone();
    sharer.client.refresh().await.expect("reload");
    sharer.wait_until_ready().await;
    assert_eq!(sharer.href().await, copied, "the reload keeps the address");
    assert_eq!(
        sharer.requests_to("/api/v1/public/arrivals").await,
        0,
        "no arrival reported"
    );
    let stats = app.stats(link_id).await;
    assert_eq!(stats["shares"]["total"], total, "{stats}");
    assert_eq!(stats["shares"]["by_channel"]["address_bar"], 1, "{stats}");
}

#[tokio::test]
async fn convert_and_heard_from_show_up_in_the_stats() {
    let app = spawn_app(Backend::Sqlite).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.open_page(&pages.article()).await;
    let arrived_through = browser.share_on_whatsapp().await;
    browser.open_page(&app.url(&format!("/{arrived_through}"))).await;

    // The site's own sign-up button calls sharetrail.convert('signup', {value: 5}).
    let signup = browser
        .client
        .find(fantoccini::Locator::Id("signup"))
        .await
        .expect("sign-up button");
    signup.click().await.expect("click");
    let outcome = browser
        .wait_for("the conversion", "return document.body.dataset.signup")
        .await;
    assert_eq!(outcome, "recorded");
    let heard = browser
        .eval(
            "return window.sharetrail.heardFrom('A colleague on Slack').then(() => 'recorded')",
            vec![],
        )
        .await;
    assert_eq!(heard, "recorded");

    let stats = app.stats(link_of(&app, &arrived_through).await).await;
    assert_eq!(stats["conversions"]["total"], 1, "{stats}");
    assert_eq!(stats["conversions"]["by_channel"]["whatsapp"], 1, "{stats}");
    assert_eq!(stats["attribution"]["self_reported"]["slack"], 1, "{stats}");
}

#[tokio::test]
async fn an_origin_the_site_does_not_allow_gets_403() {
    let app = spawn_app(Backend::Sqlite).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.open_page(&pages.foreign_article()).await;
    let mint = app.url(MINT_PATH);
    let body = json!({"site": pages.site_key, "url": pages.article(), "channel": "whatsapp"}).to_string();

    let outcome = browser
        .eval(
            "return fetch(arguments[0], {method: 'POST', body: arguments[1], credentials: 'omit'})
               .then(r => 'answered ' + r.status, e => 'failed: ' + e.name)",
            vec![json!(mint), json!(body)],
        )
        .await;

    // The answer carries no CORS header for this origin, so the page cannot read it at all...
    assert_eq!(outcome, "failed: TypeError");
    // ...and that is the server refusing, not the page's own policy.
    assert_eq!(browser.eval("return window.cspViolations", vec![]).await, json!([]));
    let request = |origin: &str| {
        app.client
            .post(&mint)
            .header("origin", origin)
            .header("content-type", "text/plain;charset=UTF-8")
            .header("user-agent", BROWSER_UA)
            .body(body.clone())
    };
    let refused = request(&pages.foreign_origin).send().await.expect("request");
    assert_eq!(refused.headers().get("access-control-allow-origin"), None);
    assert_error(refused, 403, "forbidden", None).await;
    // The same request from the site's own origin mints the only share of the page.
    let allowed = request(&pages.origin).send().await.expect("request");
    assert_eq!(allowed.status(), 201);
    let minted: Value = allowed.json().await.expect("json");
    let stats = app.stats(minted["link_id"].as_i64().expect("link id")).await;
    assert_eq!(
        stats["shares"]["total"], 1,
        "nothing was minted for the refused origin: {stats}"
    );
}
