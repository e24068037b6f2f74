//! Deleting a link: it leaves every list, document and campaign figure, its short links answer
//! 410 Gone for good, and its codes and slugs are never handed out again.

use crate::helpers::*;
use crate::on_both_backends;
use crate::public::{create_site, mint};
use crate::web_ui::Visitor;
use serde_json::{Value, json};

async fn delete(app: &TestApp, id: i64) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/api/v1/links/{id}")))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap()
}

async fn campaign_totals(app: &TestApp, slug: &str) -> Value {
    let listed: Value = app.get_api("/api/v1/campaigns").await.json().await.unwrap();
    listed["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == slug)
        .expect("the campaign is listed")
        .clone()
}

on_both_backends! {
    async fn a_deleted_link_is_gone_everywhere_and_its_codes_are_never_reused(app) {
        let kept = app.create_link("https://example.com/kept", Some("spring")).await;
        let doomed = app.create_link("https://example.com/doomed", Some("spring")).await;
        let kept_code = app.share_code(kept, "email").await;
        let doomed_code = app.share_code(doomed, "whatsapp").await;
        let slugged = app.post_json("/api/v1/shares", &json!({"link_id": doomed, "channel": "sms", "slug": "spring-sale"})).await;
        assert_eq!(slugged.status(), 201);
        for code in [&kept_code, &doomed_code, &doomed_code, &"spring-sale".to_owned()] {
            assert_eq!(app.follow(code, BROWSER_UA).await.status(), 302);
        }
        app.wait_for_visits(4).await;
        let before = campaign_totals(&app, "spring").await;
        assert_eq!((&before["links"], &before["clicks"], &before["shares"]), (&json!(2), &json!(4), &json!(3)));

        assert_eq!(delete(&app, doomed).await.status(), 204);

        for code in [&doomed_code, &"spring-sale".to_owned()] {
            assert_eq!(app.follow(code, BROWSER_UA).await.status(), 410, "{code} is gone for good");
        }
        assert_eq!(app.follow(&kept_code, BROWSER_UA).await.status(), 302, "the other link still works");
        let after = campaign_totals(&app, "spring").await;
        assert_eq!(
            (&after["links"], &after["clicks"], &after["shares"]),
            (&json!(1), &json!(1), &json!(1)),
            "the campaign's figures are its remaining link's"
        );
        for path in [
            format!("/api/v1/links/{doomed}"),
            format!("/api/v1/links/{doomed}/stats"),
            format!("/api/v1/links/{doomed}/shares"),
            format!("/api/v1/shares/{doomed_code}"),
        ] {
            assert_error(app.get_api(&path).await, 404, "not_found", None).await;
        }
        let listed: Value = app.get_api("/api/v1/links").await.json().await.unwrap();
        let ids: Vec<i64> = listed["links"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, vec![kept]);
        let revive = app.client.patch(app.url(&format!("/api/v1/links/{doomed}"))).bearer_auth(&app.api_key)
            .json(&json!({"disabled": false})).send().await.unwrap();
        assert_error(revive, 404, "not_found", None).await;
        assert_eq!(app.follow(&doomed_code, BROWSER_UA).await.status(), 410, "no way back");
        let onto_deleted = app.post_json("/api/v1/shares", &json!({"link_id": doomed, "channel": "email"})).await;
        assert_error(onto_deleted, 422, "invalid_value", Some("link_id")).await;
        let reuse = app.post_json("/api/v1/shares", &json!({"link_id": kept, "channel": "sms", "slug": "spring-sale"})).await;
        assert_error(reuse, 409, "conflict", Some("slug")).await;
        assert_eq!(app.follow("spring-sale", BROWSER_UA).await.status(), 410, "the slug still answers gone");

        assert_error(delete(&app, doomed).await, 404, "not_found", None).await;
        assert_error(delete(&app, 999_999).await, 404, "not_found", None).await;
        let anonymous = app.client.delete(app.url(&format!("/api/v1/links/{kept}"))).send().await.unwrap();
        assert_error(anonymous, 401, "unauthorized", None).await;
        assert_eq!(app.follow(&kept_code, BROWSER_UA).await.status(), 302, "a refused delete deletes nothing");
    }

    async fn deleting_a_working_link_reports_it_disabled_once(app) {
        let store = open_store(&app).await;
        let events = sharetrail::domain::webhook::EventSet::parse(&["link.disabled"]).unwrap();
        let endpoint = store.create_endpoint("https://hooks.example.com/", "whsec_c2VjcmV0", &events, 1).await.unwrap();
        let working = app.create_link("https://example.com/working", Some("spring")).await;
        let off = app.create_link("https://example.com/off", None).await;
        let switch_off = app.client.patch(app.url(&format!("/api/v1/links/{off}"))).bearer_auth(&app.api_key)
            .json(&json!({"disabled": true})).send().await.unwrap();
        assert_eq!(switch_off.status(), 200);
        assert_eq!(store.deliveries(endpoint.id, None, 10).await.unwrap().len(), 1, "the switch-off");

        assert_eq!(delete(&app, working).await.status(), 204);
        assert_eq!(delete(&app, off).await.status(), 204);
        let queued = store.deliveries(endpoint.id, None, 10).await.unwrap();
        let types: Vec<&str> = queued.iter().map(|d| d.event_type.as_str()).collect();
        assert_eq!(types, vec!["link.disabled", "link.disabled"], "the working link's deletion, once; the switched-off one's, never again");
    }

    async fn a_sites_page_link_is_switched_off_not_deleted(app) {
        let site = create_site(&app).await;
        let share = mint(&app, &site, "http://localhost:9999/post", "email", None).await;
        let link = share["link_id"].as_i64().unwrap();
        assert_error(delete(&app, link).await, 409, "conflict", Some("id")).await;
        let document: Value = app.get_api(&format!("/api/v1/links/{link}")).await.json().await.unwrap();
        assert_eq!(document["id"], link, "still there");
    }

    async fn the_web_ui_deletes_a_link_once_its_box_is_ticked(app) {
        let link = app.create_link("https://example.com/flyer", Some("spring")).await;
        let code = app.share_code(link, "qr").await;
        let mut marketer = Visitor::new(&app);
        marketer.set_up_admin().await;
        let page = format!("/app/links/{link}");
        let csrf = marketer.csrf(&page).await;
        let (_, html) = marketer.get(&page).await;
        assert!(html.contains("id=\"delete-link\""), "the link page offers deletion");

        let unticked = marketer.post(&format!("{page}/delete"), &[("csrf", csrf.as_str())]).await;
        assert_eq!(unticked.status(), 400);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "nothing deleted without the box");
        let forged = marketer.post(&format!("{page}/delete"), &[("csrf", "forged"), ("confirm", "1")]).await;
        assert_eq!(forged.status(), 403);

        let deleted = marketer.post(&format!("{page}/delete"), &[("csrf", csrf.as_str()), ("confirm", "1")]).await;
        assert_eq!(deleted.status(), 303);
        assert_eq!(location(deleted.headers()), "/app/links");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410);
        assert_eq!(marketer.get(&page).await.0, 404);
        let (_, list) = marketer.get("/app/links").await;
        assert!(!list.contains(&format!("data-link=\"{link}\"")), "not listed");
        let (_, events) = marketer.get("/app/events").await;
        assert!(!events.contains(&code), "its QR placement is gone from the events");
    }
}
