//! `/api/v1/keys`: a key made through the API works at once, is listed by its prefix only, and
//! stops working the moment it is revoked.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends! {
    async fn a_key_made_through_the_api_works_and_stops_when_revoked(app) {
        let made = app.post_json("/api/v1/keys", &json!({"name": "CRM sync"})).await;
        assert_eq!(made.status(), 201);
        let made: Value = made.json().await.unwrap();
        let (id, key) = (made["id"].as_i64().unwrap(), made["key"].as_str().unwrap().to_owned());
        let with_new_key = || app.client.get(app.url("/api/v1/links")).bearer_auth(&key).send();
        assert_eq!(with_new_key().await.unwrap().status(), 200, "the new key works at once");

        let listed: Value = app.get_api("/api/v1/keys").await.json().await.unwrap();
        let row = listed["keys"].as_array().unwrap().iter().find(|k| k["id"] == id).expect("listed").clone();
        assert_eq!((&row["name"], &row["revoked"]), (&json!("CRM sync"), &json!(false)));
        assert!(key.starts_with(row["prefix"].as_str().unwrap()), "recognisable by its prefix");
        assert!(!listed.to_string().contains(&key), "the key itself is never shown again");

        let revoke = || app.client.delete(app.url(&format!("/api/v1/keys/{id}"))).bearer_auth(&app.api_key).send();
        assert_eq!(revoke().await.unwrap().status(), 204);
        assert_error(with_new_key().await.unwrap(), 401, "unauthorized", None).await;
        assert_eq!(revoke().await.unwrap().status(), 204, "revoking twice changes nothing");
        let gone = app.client.delete(app.url("/api/v1/keys/999999")).bearer_auth(&app.api_key).send().await.unwrap();
        assert_error(gone, 404, "not_found", None).await;
        for name in ["", "   ", &"x".repeat(121)] {
            assert_error(app.post_json("/api/v1/keys", &json!({"name": name})).await, 422, "invalid_value", Some("name")).await;
        }
        assert_eq!(app.get_api("/api/v1/links").await.status(), 200, "the test's own key is untouched");
    }
}
