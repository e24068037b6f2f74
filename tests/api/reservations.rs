//! A share exists once it was sent. The share buttons reserve a code on hover or focus; it
//! counts nowhere until the click sends it, or until someone opens it (which proves it was
//! sent), and it is gone when its lifetime ends unsent.

use crate::helpers::*;
use crate::on_both_backends;
use crate::public::{PAGE, Site, code_of, create_site, mint, post_public, share_document};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Reserves a code for `channel` as a share button does on hover.
async fn reserve(app: &TestApp, site: &Site, url: &str, channel: &str, parent: Option<&str>) -> Value {
    let body = json!({"site": site.key, "url": url, "channel": channel, "parent": parent, "reserve": true});
    let response = post_public(app, "shares", &body).await;
    assert_eq!(response.status(), 201, "reserving a {channel} code");
    let reserved: Value = response.json().await.expect("json");
    assert_eq!(reserved["status"], "reserved", "{reserved}");
    reserved
}

/// Sends a reservation as the button's click does, and returns the share.
async fn send(app: &TestApp, site: &Site, code: &str) -> Value {
    let response = post_public(app, "sent", &json!({"site": site.key, "code": code})).await;
    assert_eq!(response.status(), 200, "sending {code}");
    let sent: Value = response.json().await.expect("json");
    assert_eq!(sent["status"], "sent", "{sent}");
    sent
}

/// Reserves every channel of a row of buttons (the pointer passed over all of them).
async fn hover_the_row(app: &TestApp, site: &Site, url: &str, parent: Option<&str>) -> Vec<String> {
    let mut codes = Vec::new();
    for channel in ["whatsapp", "telegram", "sms", "email", "slack", "copy", "native"] {
        codes.push(code_of(&reserve(app, site, url, channel, parent).await));
    }
    codes
}

fn link_of(share: &Value) -> i64 {
    share["link_id"].as_i64().expect("a link id")
}

async fn share_status(app: &TestApp, code: &str) -> u16 {
    app.get_api(&format!("/api/v1/shares/{code}")).await.status().as_u16()
}

on_both_backends! {
    async fn a_reservation_counts_nowhere_until_its_click_sends_it(app) {
        let site = create_site(&app).await;
        let reserved = reserve(&app, &site, PAGE, "whatsapp", None).await;
        let code = code_of(&reserved);
        let link = link_of(&reserved);
        assert!(reserved["expires_in"].as_u64() > Some(0), "{reserved}");

        let stats = app.stats(link).await;
        assert_eq!(stats["shares"]["total"], 0, "{stats}");
        assert_eq!(stats["shares"]["by_channel"], json!({}), "{stats}");
        assert_eq!(stats["cascade"]["by_depth"], json!([]), "{stats}");
        assert_eq!(stats["daily"], json!([]), "{stats}");
        assert_eq!(share_status(&app, &code).await, 404, "a reservation is no share");

        let sent = send(&app, &site, &code).await;
        assert_eq!(sent["code"], code.as_str());
        let again = send(&app, &site, &code).await;
        assert_eq!(again["code"], code.as_str(), "a retried report changes nothing");

        let stats = app.stats(link).await;
        assert_eq!(stats["shares"]["total"], 1, "{stats}");
        assert_eq!(stats["shares"]["by_channel"], json!({"whatsapp": 1}), "{stats}");
        assert_eq!(stats["cascade"]["by_depth"], json!([{"depth": 1, "shares": 1, "clicks": 0}]), "{stats}");
        assert_eq!(stats["cascade"]["structural_virality"], 1.0, "{stats}");
        assert_eq!(stats["daily"][0]["shares"], 1, "{stats}");
        assert_eq!(share_document(&app, &code).await["depth"], 1);
    }

    async fn a_visit_to_a_reserved_code_whose_click_report_never_arrived_counts_the_share_and_the_click(app) {
        let site = create_site(&app).await;
        let reserved = reserve(&app, &site, PAGE, "slack", None).await;
        let code = code_of(&reserved);

        let response = app.follow(&code, BROWSER_UA).await;

        assert_eq!(response.status(), 302);
        assert!(location(response.headers()).ends_with(&format!("st={code}")));
        app.wait_for_visits(1).await;
        let stats = app.stats(link_of(&reserved)).await;
        assert_eq!(stats["shares"]["total"], 1, "{stats}");
        assert_eq!(stats["shares"]["by_channel"], json!({"slack": 1}), "{stats}");
        assert_eq!(stats["clicks"]["total"], 1, "{stats}");
        assert_eq!(stats["cascade"]["by_depth"], json!([{"depth": 1, "shares": 1, "clicks": 1}]), "{stats}");
        let share = share_document(&app, &code).await;
        assert_eq!(share["clicks"], 1, "{share}");
        // The click's report arriving late changes nothing.
        send(&app, &site, &code).await;
        assert_eq!(app.stats(link_of(&reserved)).await["shares"]["total"], 1);
    }

    async fn a_reservation_is_never_a_parent(app) {
        let site = create_site(&app).await;
        let reserved = code_of(&reserve(&app, &site, PAGE, "email", None).await);

        let button = mint(&app, &site, PAGE, "whatsapp", Some(&reserved)).await;
        assert_eq!(button["depth"], 1, "{button}");
        assert_eq!(button["parent"], Value::Null, "{button}");
        let api = app
            .post_json("/api/v1/shares", &json!({"link_id": link_of(&button), "channel": "sms", "parent": reserved}))
            .await;
        assert_error(api, 422, "invalid_value", Some("parent")).await;
        assert_eq!(app.stats(link_of(&button)).await["cascade"]["max_depth"], 1);
    }

    async fn a_visitor_who_hovers_every_button_and_clicks_one_leaves_one_share(app) {
        let site = create_site(&app).await;
        let root = mint(&app, &site, PAGE, "whatsapp", None).await;
        let landing = format!("{PAGE}?utm_source=whatsapp&utm_medium=social&st={}", code_of(&root));

        let row = hover_the_row(&app, &site, &landing, Some(&code_of(&root))).await;
        // Keyboard users tab through the row too: more reservations, no shares.
        hover_the_row(&app, &site, &landing, Some(&code_of(&root))).await;
        send(&app, &site, &row[3]).await;

        let stats = app.stats(link_of(&root)).await;
        assert_eq!(stats["shares"]["total"], 2, "the root and the e-mail: {stats}");
        assert_eq!(stats["shares"]["by_channel"], json!({"email": 1, "whatsapp": 1}), "{stats}");
        assert_eq!(stats["cascade"]["by_depth"][1], json!({"depth": 2, "shares": 1, "clicks": 0}), "{stats}");
        let children = &share_document(&app, &code_of(&root)).await["children"];
        let children: Vec<&str> = children.as_array().expect("children").iter().map(|c| c["code"].as_str().unwrap()).collect();
        assert_eq!(children, [row[3].as_str()], "the root's one child");
    }

    async fn a_cascade_played_through_the_buttons_gives_its_exact_figures(app) {
        // A shares on Slack and WhatsApp; B arrives through A's Slack link and e-mails it; C opens
        // the address B copied and shares on WhatsApp; D arrives through B's e-mail and signs up.
        // Everyone moves the pointer over every button first; Slack's preview fetcher and a
        // search bot open A's Slack link too; B's click is reported twice (a retry).
        let site = create_site(&app).await;
        let a_row = hover_the_row(&app, &site, PAGE, None).await;
        let (a_whatsapp, a_slack) = (a_row[0].clone(), a_row[4].clone());
        send(&app, &site, &a_slack).await;
        send(&app, &site, &a_whatsapp).await;
        let link = link_of(&share_document(&app, &a_slack).await);
        assert_eq!(app.follow(&a_slack, SLACK_UNFURL_UA).await.status(), 302);
        assert_eq!(app.follow(&a_slack, GOOGLEBOT_UA).await.status(), 302);

        assert_eq!(app.follow(&a_slack, BROWSER_UA).await.status(), 302);
        let b_row = hover_the_row(&app, &site, PAGE, Some(&a_slack)).await;
        let b_email = b_row[3].clone();
        send(&app, &site, &b_email).await;
        send(&app, &site, &b_email).await;

        let arrival = json!({"site": site.key, "url": PAGE, "token": "Tok3nOfB0b12", "parent": a_slack});
        let response = post_public(&app, "arrivals", &arrival).await;
        assert_eq!(response.status(), 201);
        let address_bar = code_of(&response.json::<Value>().await.unwrap());
        let c_row = hover_the_row(&app, &site, PAGE, Some(&address_bar)).await;
        send(&app, &site, &c_row[0]).await;

        assert_eq!(app.follow(&b_email, BROWSER_UA).await.status(), 302);
        let conversion = json!({"site": site.key, "url": PAGE, "code": b_email, "name": "signup"});
        assert_eq!(post_public(&app, "conversions", &conversion).await.status(), 202);
        // Visits: the unfurl, the bot, B, C (the arrival), D.
        app.wait_for_visits(5).await;

        let stats = app.stats(link).await;
        assert_four_visitor_cascade(&stats);
        assert_eq!(stats["unfurls"]["total"], 1, "{stats}");
        assert_eq!(stats["bots"], 1, "{stats}");
        let children = &share_document(&app, &a_slack).await["children"];
        let mut channels: Vec<&str> = children.as_array().unwrap().iter().map(|c| c["channel"].as_str().unwrap()).collect();
        channels.sort_unstable();
        assert_eq!(channels, ["address_bar", "email"], "A's Slack share's children");
    }

    async fn a_share_of_a_marketers_link_continues_its_cascade_through_the_buttons(app) {
        let site = create_site(&app).await;
        let campaign_link = app.create_link(PAGE, Some("Spring")).await;
        let whatsapp = app.create_share(campaign_link, "whatsapp", None).await;
        let arrived = whatsapp["code"].as_str().unwrap().to_owned();
        let landing = location(app.follow(&arrived, BROWSER_UA).await.headers());

        let email = code_of(&reserve(&app, &site, &landing, "email", Some(&arrived)).await);
        let reshare = send(&app, &site, &email).await;
        let conversion = json!({"site": site.key, "url": PAGE, "code": email, "name": "signup", "value": 49});
        assert_eq!(post_public(&app, "conversions", &conversion).await.status(), 202);

        assert_eq!(link_of(&reshare), campaign_link, "{reshare}");
        assert_eq!(reshare["depth"], 2, "{reshare}");
        assert_eq!(reshare["parent"], arrived.as_str(), "{reshare}");
        let stats = app.stats(campaign_link).await;
        assert_eq!(stats["shares"]["total"], 2, "{stats}");
        assert_eq!(stats["conversions"]["total"], 1, "{stats}");
        assert_eq!(stats["conversions"]["by_channel"], json!({"email": 1}), "{stats}");
        assert_eq!(stats["conversions"]["assists_by_channel"], json!({"whatsapp": 1}), "{stats}");
        // A share of another page of the site still starts that page's own link.
        let elsewhere = mint(&app, &site, "http://localhost:9999/other", "sms", Some(&arrived)).await;
        assert_ne!(link_of(&elsewhere), campaign_link);
        assert_eq!(elsewhere["depth"], 1);
    }

    async fn a_parent_64_levels_deep_is_refused(app) {
        let site = create_site(&app).await;
        let mut parent = mint(&app, &site, PAGE, "email", None).await;
        let link = link_of(&parent);
        for _ in 1..64 {
            parent = app.create_share(link, "email", parent["code"].as_str()).await;
        }
        assert_eq!(parent["depth"], 64);
        let deepest = code_of(&parent);

        let api = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "sms", "parent": deepest})).await;
        assert_error(api, 422, "invalid_value", Some("parent")).await;
        let body = json!({"site": site.key, "url": PAGE, "channel": "sms", "parent": deepest, "reserve": true});
        assert_error(post_public(&app, "shares", &body).await, 422, "invalid_value", Some("parent")).await;
        let stats = app.stats(link).await;
        assert_eq!(stats["shares"]["total"], 64, "{stats}");
        assert_eq!(stats["cascade"]["max_depth"], 64, "{stats}");
    }

    async fn sending_a_code_nobody_reserved_is_404(app) {
        let site = create_site(&app).await;
        for code in ["Nobody23", "not a code", ""] {
            let response = post_public(&app, "sent", &json!({"site": site.key, "code": code})).await;
            assert_error(response, 404, "not_found", None).await;
        }
        let response = post_public(&app, "sent", &json!({"site": site.key})).await;
        assert_eq!(response.status(), 422, "a body without a code");
    }
}

async fn a_reservation_past_its_lifetime_is_gone(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.reservation_seconds = 1).await;
    let site = create_site(&app).await;
    let reserved = reserve(&app, &site, PAGE, "whatsapp", None).await;
    let code = code_of(&reserved);
    assert_eq!(reserved["expires_in"], 1);

    let deadline = Instant::now() + Duration::from_secs(15);
    while !app.db.strings("SELECT code FROM shares").await.is_empty() {
        assert!(Instant::now() < deadline, "the reservation was not deleted in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 404);
    let response = post_public(&app, "sent", &json!({"site": site.key, "code": code})).await;
    assert_error(response, 404, "not_found", None).await;
    assert_eq!(app.stats(link_of(&reserved)).await["shares"]["total"], 0);
    assert!(app.metric("sharetrail_reservations_expired_total").await >= 1);

    // The page stayed open a day and its button was clicked: the click's report, which says
    // what the code was reserved for, mints the share under that code, which the channel got.
    let report = json!({"site": site.key, "code": code, "url": PAGE, "channel": "whatsapp", "parent": null});
    let response = post_public(&app, "sent", &report).await;
    assert_eq!(response.status(), 200, "the late click's report");
    assert_eq!(share_document(&app, &code).await["channel"], "whatsapp");
    assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
    assert_eq!(app.stats(link_of(&reserved)).await["shares"]["total"], 1);
    // Only a code of the generated shape comes back so: nobody picks a word this way.
    let word = json!({"site": site.key, "code": "our-launch", "url": PAGE, "channel": "whatsapp"});
    assert_error(post_public(&app, "sent", &word).await, 404, "not_found", None).await;
}

#[tokio::test]
async fn a_reservation_past_its_lifetime_is_gone_on_sqlite() {
    a_reservation_past_its_lifetime_is_gone(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_reservation_past_its_lifetime_is_gone_on_postgres() {
    a_reservation_past_its_lifetime_is_gone(Backend::Postgres).await;
}
