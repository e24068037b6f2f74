//! A new operator's first minutes: the front page points to the web UI, the demo and the setup
//! link; the demo links to its own analytics; events list their placements and scans; a site's
//! page says whether its snippet has been heard from, with its figures.

use crate::helpers::*;
use crate::on_both_backends;
use crate::public::{PAGE, code_of, create_site, mint, post_public, post_public_from};
use crate::web_ui::Visitor;
use serde_json::json;

async fn page(app: &TestApp, path: &str) -> String {
    let response = app.client.get(app.url(path)).send().await.expect("request");
    assert_eq!(response.status(), 200, "{path}");
    response.text().await.expect("text")
}

/// A figure on a page: the text of the element with `id`, up to the next tag.
fn figure(html: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\">");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no #{id}:\n{html}")) + marker.len();
    html[start..].split('<').next().unwrap().trim().to_owned()
}

on_both_backends! {
    async fn the_front_page_points_to_the_web_ui_the_demo_and_the_setup_link_until_an_account_exists(app) {
        let before = page(&app, "/").await;
        assert!(before.contains("href=\"/app\"") && before.contains("href=\"/demo\""), "{before}");
        assert!(before.contains("id=\"first-run\""), "the setup link is pointed to while no account exists");
        assert!(!before.contains("token="), "the setup link itself is never on a public page");
        Visitor::new(&app).set_up_admin().await;
        let after = page(&app, "/").await;
        assert!(!after.contains("id=\"first-run\""), "setup is done");
        assert!(after.contains("Sign in to the web UI"));
    }

    async fn the_demo_links_to_its_own_analytics_once_it_was_shared(app) {
        assert!(page(&app, "/demo").await.contains("after the first share"));
        let sites: serde_json::Value = app.get_api("/api/v1/sites").await.json().await.expect("json");
        let demo = sites.as_array().or(sites["sites"].as_array()).expect("sites")[0].clone();
        let body = json!({"site": demo["key"], "url": app.url("/demo"), "channel": "whatsapp"});
        let minted = post_public_from(&app, "shares", Some(&app.address), &body).await;
        assert_eq!(minted.status(), 201, "a share of the demo page");
        let minted: serde_json::Value = minted.json().await.expect("json");
        let link = minted["link_id"].as_i64().expect("the demo page's link");
        let html = page(&app, "/demo").await;
        assert!(html.contains(&format!("href=\"/app/links/{link}\" id=\"demo-analytics\"")), "{html}");
        assert!(html.contains(&format!("/api/v1/links/{link}/stats")), "the API address with the real id");
    }

    async fn events_list_their_placements_with_exact_scans(app) {
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let (_, empty) = marketer.get("/app/events").await;
        assert!(empty.contains("id=\"no-events\""), "{empty}");
        let csrf = marketer.csrf("/app/events/new").await;
        let made = marketer
            .post(
                "/app/events",
                &[("csrf", &csrf), ("url", "https://example.com/summit"), ("event", "Web Summit"), ("placements", "poster\nbadge"), ("campaign_id", "")],
            )
            .await;
        assert_eq!(made.status(), 303);
        let sheet = location(made.headers());
        let link_id: i64 = sheet.trim_end_matches("/qr").rsplit('/').next().unwrap().parse().expect("the event's link");
        let store = open_store(&app).await;
        let codes: Vec<(String, String)> = store
            .root_shares(link_id, 10)
            .await
            .expect("the event's codes")
            .into_iter()
            .map(|s| (s.label.unwrap_or_default(), s.code))
            .collect();
        let code = |label: &str| codes.iter().find(|(l, _)| l == label).expect("a placement").1.clone();
        for _ in 0..3 {
            assert_eq!(app.follow(&code("poster"), BROWSER_UA).await.status(), 302);
        }
        assert_eq!(app.follow(&code("badge"), BROWSER_UA).await.status(), 302);
        assert_eq!(app.follow(&code("badge"), GOOGLEBOT_UA).await.status(), 302);
        app.wait_for_visits(5).await;

        let (_, link_page) = marketer.get(&format!("/app/links/{link_id}")).await;
        assert!(link_page.contains("Print sheet of this link"), "an event's link has QR codes to print");
        let (_, html) = marketer.get("/app/events").await;
        let event = &html[html.find(&format!("data-link=\"{link_id}\"")).expect("the event is listed")..];
        assert!(event.contains("Web Summit") && event.contains("4 scans"), "3 + 1 scans, not the bot: {event}");
        let placements: Vec<&str> = event.split("data-label=\"Placement\">").skip(1).map(|c| c.split('<').next().unwrap()).collect();
        let scans: Vec<&str> = event.split("data-label=\"Scans\">").skip(1).map(|c| c.split('<').next().unwrap()).collect();
        assert_eq!((placements, scans), (vec!["poster", "badge"], vec!["3", "1"]));
    }

    async fn a_site_page_says_when_its_pages_were_last_heard_from(app) {
        let site = create_site(&app).await;
        let mut admin = Visitor::new(&app);
        admin.set_up_admin().await;
        let path = format!("/app/sites/{}", site.id);
        let (_, quiet) = admin.get(&path).await;
        assert!(figure(&quiet, "last-seen").starts_with("Nothing heard from your pages yet"), "{quiet}");

        let root = code_of(&mint(&app, &site, PAGE, "whatsapp", None).await);
        let child = code_of(&mint(&app, &site, PAGE, "email", Some(&root)).await);
        let converted = post_public(&app, "conversions", &json!({"site": site.key, "url": PAGE, "code": child, "name": "signup", "value": 5})).await;
        assert_eq!(converted.status(), 202);
        assert_eq!(app.follow(&child, BROWSER_UA).await.status(), 302);
        app.wait_for_visits(1).await;

        let (_, heard) = admin.get(&path).await;
        assert!(heard.contains("Last heard from your pages"), "{heard}");
        let figures: Vec<String> = ["site-pages", "site-shares", "site-clicks", "site-conversions"]
            .iter()
            .map(|id| figure(&heard, id))
            .collect();
        assert_eq!(figures, ["1", "2", "1", "1"], "one page, two shares, one click, one conversion");
        assert!(heard.contains("id=\"site-top-pages\""));
    }
}
