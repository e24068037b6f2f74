//! The numbers are what people did. Visitors in Chromium move the pointer across the whole row
//! of buttons and tab through it before they pick one, cancel share sheets, fail to copy; every
//! figure afterwards counts exactly the shares they sent, on both backends.

use crate::helpers::*;
use crate::on_both_backends;
use crate::support::*;
use serde_json::{Value, json};

fn sorted_channels(children: &Value) -> Vec<String> {
    let mut channels: Vec<String> = children
        .as_array()
        .expect("children")
        .iter()
        .map(|c| c["channel"].as_str().expect("channel").to_owned())
        .collect();
    channels.sort_unstable();
    channels
}

/// The shares CSV of a link, as the signed-in `admin` downloads it: the codes in it.
async fn exported_codes(admin: &Browser, link: i64) -> Vec<String> {
    let csv = admin.fetch_text(&format!("/app/links/{link}/shares.csv")).await;
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let column = header.iter().position(|h| *h == "code").expect("a code column");
    lines
        .map(|l| l.split(',').nth(column).expect("a code").to_owned())
        .collect()
}

/// The link's analytics page, as `admin` reads it: the shares total and the tree's nodes.
async fn analytics_page(admin: &Browser, app: &TestApp, link: i64) -> (String, u64) {
    admin.goto(&app.url(&format!("/app/links/{link}"))).await;
    let total = admin
        .eval("return document.getElementById('total-shares').innerText", vec![])
        .await;
    let nodes = admin
        .eval(
            "return document.querySelectorAll('#share-tree li[data-depth]').length",
            vec![],
        )
        .await;
    (
        total.as_str().expect("text").to_owned(),
        nodes.as_u64().expect("a count"),
    )
}

on_both_backends! {
    async fn hovering_and_tabbing_through_every_button_then_clicking_one_leaves_one_share(app) {
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let first = driver.browser().await;
        first.open_page(&pages.article()).await;
        let arrived = first.share_on("whatsapp").await;
        let link = link_of(&app, &arrived).await;

        let visitor = driver.browser().await;
        visitor.open_page(&app.url(&format!("/{arrived}"))).await;
        visitor.hover_every_button().await;
        visitor.tab_through_every_button().await;
        let (email, _, status) = visitor.click_share("email").await;

        assert_eq!(status, "sent");
        app.wait_for_visits(1).await;
        let stats = app.stats(link).await;
        assert_eq!(stats["shares"]["total"], 2, "{stats}");
        assert_eq!(stats["shares"]["by_channel"], json!({"email": 1, "whatsapp": 1}), "{stats}");
        assert_eq!(
            stats["cascade"]["by_depth"],
            json!([{"depth": 1, "shares": 1, "clicks": 1}, {"depth": 2, "shares": 1, "clicks": 0}]),
            "{stats}"
        );
        assert_eq!(stats["daily"][0]["shares"], 2, "{stats}");
        let children = share(&app, &arrived).await["children"].clone();
        assert_eq!(children.as_array().map(Vec::len), Some(1), "{children}");
        assert_eq!(children[0]["code"], email.as_str(), "{children}");
        // The pointer and the keyboard did reserve codes; none of them shows anywhere.
        let reserved = app.db.strings("SELECT code FROM shares WHERE reserved_until IS NOT NULL").await;
        assert!(reserved.len() >= 4, "the row was reserved: {reserved:?}");

        let admin = driver.browser().await;
        set_up_admin(&admin, &app).await;
        let mut exported = exported_codes(&admin, link).await;
        exported.sort_unstable();
        let mut expected = vec![arrived.clone(), email.clone()];
        expected.sort_unstable();
        assert_eq!(exported, expected, "the shares CSV");
        assert_eq!(analytics_page(&admin, &app, link).await, ("2".to_owned(), 2), "shares on the analytics page");
    }

    async fn a_cascade_of_four_visitors_gives_its_exact_figures(app) {
        // A shares on Slack and WhatsApp; B arrives through A's Slack link and e-mails it; C opens
        // the address B had in the address bar and shares on WhatsApp; D arrives through B's
        // e-mail and signs up. Each moves the pointer across the whole row first.
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let a = driver.browser().await;
        a.open_page(&pages.article()).await;
        a.grant("clipboard-write").await;
        let a_slack = a.share_on("slack").await;
        let a_whatsapp = a.share_on("whatsapp").await;
        let link = link_of(&app, &a_slack).await;

        let b = driver.browser().await;
        b.open_page(&app.url(&format!("/{a_slack}"))).await;
        let b_address = b
            .wait_for("B's address-bar token", "return location.hash.startsWith('#st=') && location.href")
            .await;
        let b_email = b.share_on("email").await;

        let c = driver.browser().await;
        c.open_page(b_address.as_str().expect("a URL")).await;
        let c_whatsapp = c.share_on("whatsapp").await;

        let d = driver.browser().await;
        d.open_page(&app.url(&format!("/{b_email}"))).await;
        d.client.find(fantoccini::Locator::Id("signup")).await.expect("sign-up").click().await.expect("click");
        assert_eq!(d.wait_for("the conversion", "return document.body.dataset.signup").await, "recorded");
        // B's, C's (through the copied address) and D's visits.
        app.wait_for_visits(3).await;

        assert_four_visitor_cascade(&app.stats(link).await);
        let slack_children = share(&app, &a_slack).await["children"].clone();
        assert_eq!(sorted_channels(&slack_children), ["address_bar", "email"], "{slack_children}");
        assert_eq!(share(&app, &a_whatsapp).await["children"], json!([]));
        let c_share = share(&app, &c_whatsapp).await;
        assert_eq!(c_share["depth"], 3, "{c_share}");
    }

    async fn campaign_links_from_the_web_ui_the_api_and_a_qr_code_go_on_through_the_buttons(app) {
        let pages = serve_pages(&app).await;
        let driver = Driver::start().await;
        let admin = driver.browser().await;
        set_up_admin(&admin, &app).await;

        // A campaign link made in the web UI, for the page with the buttons.
        admin.goto(&app.url("/app/links/new")).await;
        admin
            .eval("document.querySelector('input[name=channel][value=whatsapp]').checked = true", vec![])
            .await;
        admin
            .submit(&[("url", &pages.article()), ("title", "The post"), ("new_campaign", "Spring Launch")])
            .await;
        admin.wait_for_path("/app/links/").await;
        let ui_url = admin.eval("return document.querySelector('.short-url').value", vec![]).await;
        let ui_code = ui_url.as_str().and_then(|u| code_in(&app, u)).expect("a short link").to_owned();
        // One made with the API key, in the same campaign.
        let api_link = app.create_link(&pages.article(), Some("spring-launch")).await;
        let api_code = app.create_share(api_link, "email", None).await["code"].as_str().unwrap().to_owned();
        // An event QR code, printed on a poster.
        admin.goto(&app.url("/app/events/new")).await;
        admin
            .submit(&[("event", "Open Day"), ("url", &pages.article()), ("placements", "Poster")])
            .await;
        admin
            .wait_for("the print sheet", "return location.pathname.endsWith('/qr') && document.querySelector('.qr-card .url')")
            .await;
        let qr_url = admin.eval("return document.querySelector('.qr-card .url').innerText", vec![]).await;
        let qr_code = qr_url.as_str().and_then(|u| code_in(&app, u.trim())).expect("a QR short link").to_owned();

        for (way_in, arrived) in [("web UI", &ui_code), ("API", &api_code), ("QR", &qr_code)] {
            let visitor = driver.browser().await;
            visitor.open_page(&app.url(&format!("/{arrived}"))).await;
            let reshare = visitor.share_on("whatsapp").await;
            visitor.client.find(fantoccini::Locator::Id("signup")).await.expect("sign-up").click().await.expect("click");
            assert_eq!(visitor.wait_for("the conversion", "return document.body.dataset.signup").await, "recorded");

            let marketer_share = share(&app, arrived).await;
            let reshared = share(&app, &reshare).await;
            assert_eq!(reshared["link_id"], marketer_share["link_id"], "{way_in}: the same link");
            assert_eq!(reshared["parent"], arrived.as_str(), "{way_in}: {reshared}");
            assert_eq!(reshared["depth"], 2, "{way_in}: {reshared}");
            let link = marketer_share["link_id"].as_i64().unwrap();
            let stats = app.stats(link).await;
            assert_eq!(stats["shares"]["total"], 2, "{way_in}: {stats}");
            assert_eq!(stats["conversions"]["total"], 1, "{way_in}: {stats}");
            // The visitor arrived through the marketer's share: it converts, depth 1.
            let channel = marketer_share["channel"].as_str().unwrap();
            assert_eq!(stats["conversions"]["by_channel"], json!({channel: 1}), "{way_in}: {stats}");
            assert_eq!(stats["conversions"]["by_depth"], json!([{"depth": 1, "conversions": 1}]), "{way_in}: {stats}");
        }

        // The campaign's page shows what its links brought about.
        admin.goto(&app.url("/app/campaigns")).await;
        let listed = admin
            .eval("return [...document.querySelectorAll('tr')].find(r => r.innerText.includes('Spring Launch')).querySelector('td[data-label=Conversions]').innerText", vec![])
            .await;
        assert!(listed.as_str().unwrap().starts_with('2'), "the campaign list counts its conversions: {listed}");
        let campaign = admin
            .eval("return [...document.querySelectorAll('a')].find(a => a.innerText.includes('Spring Launch')).href", vec![])
            .await;
        admin.goto(campaign.as_str().expect("the campaign's page")).await;
        let goals = admin.eval("return document.querySelector('#goal-table tbody').innerText", vec![]).await;
        assert!(goals.as_str().unwrap().contains("signup\t2"), "two sign-ups through its links: {goals}");
        assert_eq!(admin.eval("return document.getElementById('total-conversions').innerText", vec![]).await, "2");
        // Each sign-up is credited to the channel of the share that brought the visitor.
        let conversions_of = |channel: &'static str| {
            format!("return document.querySelector('#channel-table tr[data-channel={channel}] td[data-label=Conversions]').innerText")
        };
        assert_eq!(admin.eval(&conversions_of("whatsapp"), vec![]).await, "1", "the web UI's link");
        assert_eq!(admin.eval(&conversions_of("email"), vec![]).await, "1", "the API's link");
    }
}

#[tokio::test]
async fn a_cancelled_share_sheet_and_a_failed_copy_are_not_shares() {
    let app = spawn_app(Backend::Sqlite).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser
        .open_page(&format!("{}?refuse=1&channels=native,copy,slack", pages.article()))
        .await;
    browser.hover_every_button().await;

    for channel in ["native", "copy", "slack"] {
        let (code, _, status) = browser.click_share(channel).await;
        assert_eq!(status, "not sent", "{channel}");
        let response = app.get_api(&format!("/api/v1/shares/{code}")).await;
        assert_eq!(response.status(), 404, "{channel}: {code} is no share");
    }
    let toast = browser
        .wait_for("the fallback", "return document.querySelector('.st-toast').textContent")
        .await;
    assert!(toast.as_str().unwrap().starts_with("Copy this link: "), "{toast}");
    let links = app.db.strings("SELECT CAST(share_count AS TEXT) FROM links").await;
    assert_eq!(links, [Some("0".to_owned())], "the page's link counts no share");
}

async fn a_reservation_past_its_lifetime_is_gone_and_the_click_reserves_afresh(backend: Backend) {
    // A reservation lives two seconds here: the visitor hovers, then waits too long.
    let app = spawn_app_with(backend, |s| s.reservation_seconds = 2).await;
    let pages = serve_pages(&app).await;
    let driver = Driver::start().await;
    let browser = driver.browser().await;
    browser.open_page(&pages.article()).await;
    browser.hover_every_button().await;
    let reserved: Vec<String> = app
        .db
        .strings("SELECT code FROM shares")
        .await
        .into_iter()
        .flatten()
        .collect();
    assert_eq!(reserved.len(), PAGE_CHANNELS.len(), "{reserved:?}");
    eventually("the reservations to be deleted", || async {
        app.db.strings("SELECT code FROM shares").await.is_empty().then_some(())
    })
    .await;

    let (code, opened, status) = browser.click_share("whatsapp").await;

    assert_eq!(status, "sent");
    assert!(!reserved.contains(&code), "a fresh code, not the expired one");
    assert!(opened.contains(&code), "{opened}");
    for gone in &reserved {
        assert_eq!(app.follow(gone, BROWSER_UA).await.status(), 404, "{gone}");
    }
    let stats = app.stats(link_of(&app, &code).await).await;
    assert_eq!(stats["shares"]["total"], 1, "{stats}");
}

#[tokio::test]
async fn a_reservation_past_its_lifetime_is_gone_and_the_click_reserves_afresh_on_sqlite() {
    a_reservation_past_its_lifetime_is_gone_and_the_click_reserves_afresh(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_reservation_past_its_lifetime_is_gone_and_the_click_reserves_afresh_on_postgres() {
    a_reservation_past_its_lifetime_is_gone_and_the_click_reserves_afresh(Backend::Postgres).await;
}
