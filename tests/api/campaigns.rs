//! `/api/v1/campaigns`: list (with the links' totals), create, rename and archive, and the
//! errors each can give.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends! {
    async fn campaigns_are_listed_created_renamed_and_archived_through_the_api(app) {
        let created = app.post_json("/api/v1/campaigns", &json!({"name": "Spring Launch"})).await;
        assert_eq!(created.status(), 201);
        let at = location(created.headers());
        let spring: Value = created.json().await.unwrap();
        assert_eq!((&spring["slug"], &spring["archived"]), (&json!("spring-launch"), &json!(false)));
        let id = spring["id"].as_i64().unwrap();
        assert_eq!(at, format!("/api/v1/campaigns/{id}"));

        let link = app.create_link("https://example.com/launch", Some("spring-launch")).await;
        let code = app.share_code(link, "whatsapp").await;
        for _ in 0..2 {
            assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
        }
        app.wait_for_visits(2).await;
        let list: Value = app.get_api("/api/v1/campaigns").await.json().await.unwrap();
        let row = list["campaigns"].as_array().unwrap().iter().find(|c| c["id"] == id).expect("listed").clone();
        assert_eq!(
            (&row["links"], &row["clicks"], &row["shares"], &row["conversions"]),
            (&json!(1), &json!(2), &json!(1), &json!(0)),
            "{row}"
        );

        let patch = |body: Value| {
            app.client.patch(app.url(&format!("/api/v1/campaigns/{id}"))).bearer_auth(&app.api_key).json(&body).send()
        };
        let renamed: Value = patch(json!({"name": "Spring Launch 2027"})).await.unwrap().json().await.unwrap();
        assert_eq!((&renamed["name"], &renamed["slug"]), (&json!("Spring Launch 2027"), &json!("spring-launch")), "the slug stays");
        let archived: Value = patch(json!({"archived": true})).await.unwrap().json().await.unwrap();
        assert_eq!(archived["archived"], true);
        let active: Value = app.get_api("/api/v1/campaigns").await.json().await.unwrap();
        assert!(active["campaigns"].as_array().unwrap().iter().all(|c| c["id"] != id), "archived leaves the list");
        let all: Value = app.get_api("/api/v1/campaigns?archived=true").await.json().await.unwrap();
        assert!(all["campaigns"].as_array().unwrap().iter().any(|c| c["id"] == id));
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "its links keep working");

        let taken = app.post_json("/api/v1/campaigns", &json!({"name": "spring launch"})).await;
        assert_error(taken, 409, "conflict", Some("name")).await;
        let blank = app.post_json("/api/v1/campaigns", &json!({"name": "  "})).await;
        assert_error(blank, 422, "invalid_value", Some("name")).await;
        assert_error(patch(json!({"name": ""})).await.unwrap(), 422, "invalid_value", Some("name")).await;
        let missing = app.client.patch(app.url("/api/v1/campaigns/999999")).bearer_auth(&app.api_key).json(&json!({"archived": true})).send().await.unwrap();
        assert_error(missing, 404, "not_found", None).await;
        assert_error(app.get_api("/api/v1/campaigns/999999").await, 404, "not_found", None).await;
        let anonymous = app.client.get(app.url("/api/v1/campaigns")).send().await.unwrap();
        assert_error(anonymous, 401, "unauthorized", None).await;
    }
}
