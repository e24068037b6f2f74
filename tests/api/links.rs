use crate::helpers::*;
use crate::on_both_backends;
use serde_json::json;

on_both_backends! {
    async fn disabling_a_link_stops_its_codes_and_leaves_other_links_cached(app) {
        let (a, b) = (app.create_link("https://example.com/a", None).await, app.create_link("https://example.com/b", None).await);
        let a_code = app.share_code(a, "email").await;
        let b_code = app.share_code(b, "email").await;
        for code in [&a_code, &b_code] {
            assert_eq!(app.follow(code, BROWSER_UA).await.status(), 302, "cached now");
        }
        let misses = app.metric("sharetrail_cache_misses_total").await;

        let response = app.client.patch(app.url(&format!("/api/v1/links/{a}"))).bearer_auth(&app.api_key)
            .json(&json!({"disabled": true})).send().await.unwrap();
        assert_eq!(response.status(), 200);

        assert_eq!(app.follow(&b_code, BROWSER_UA).await.status(), 302);
        assert_eq!(app.metric("sharetrail_cache_misses_total").await, misses, "the other link's code is still cached");
        assert_eq!(app.follow(&a_code, BROWSER_UA).await.status(), 410);
    }

    async fn creating_a_link_returns_201_and_the_link(app) {
        let response = app.post_json("/api/v1/links", &json!({"url": "https://example.com/a", "title": "A", "campaign": "launch"})).await;

        assert_eq!(response.status(), 201);
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["id"].as_i64().is_some());
        assert_eq!(body["url"], "https://example.com/a");
        assert_eq!(body["campaign"], "launch");
        assert_eq!(body["disabled"], false);
    }

    async fn destinations_that_are_not_plain_web_pages_are_refused(app) {
        let too_long = format!("https://example.com/{}", "a".repeat(2100));
        for url in ["javascript:alert(1)", "ftp://example.com/x", "https://user:pw@example.com/", "example.com", "https://", too_long.as_str()] {
            let response = app.post_json("/api/v1/links", &json!({"url": url})).await;
            assert_error(response, 422, "invalid_value", Some("url")).await;
        }
    }

    async fn requests_without_a_valid_api_key_are_refused(app) {
        let none = app.client.post(app.url("/api/v1/links")).json(&json!({"url": "https://example.com/"})).send().await.unwrap();
        assert_eq!(none.headers()["www-authenticate"], "Bearer");
        assert_error(none, 401, "unauthorized", None).await;

        let forged = format!("stk_{}", "A".repeat(32));
        let wrong = app.client.get(app.url("/api/v1/links/1/stats")).bearer_auth(forged).send().await.unwrap();
        assert_error(wrong, 401, "unauthorized", None).await;
    }

    async fn malformed_bodies_get_400_and_wrong_shapes_422(app) {
        let broken = app.client.post(app.url("/api/v1/links")).bearer_auth(&app.api_key)
            .header("content-type", "application/json").body("{\"url\": ").send().await.unwrap();
        assert_error(broken, 400, "malformed_request", None).await;

        let not_json = app.client.post(app.url("/api/v1/links")).bearer_auth(&app.api_key)
            .header("content-type", "text/plain").body("https://example.com").send().await.unwrap();
        assert_error(not_json, 400, "malformed_request", None).await;

        let missing_url = app.post_json("/api/v1/links", &json!({"title": "no url"})).await;
        assert_error(missing_url, 422, "invalid_value", Some("body")).await;
    }

    async fn an_oversized_body_gets_413(app) {
        let huge = json!({"url": "https://example.com/", "title": "x".repeat(64 * 1024)});
        let response = app.post_json("/api/v1/links", &huge).await;
        assert_error(response, 413, "payload_too_large", None).await;
    }

    async fn unknown_links_are_404(app) {
        assert_error(app.get_api("/api/v1/links/424242").await, 404, "not_found", None).await;
        assert_error(app.get_api("/api/v1/links/not-a-number/stats").await, 404, "not_found", None).await;
        assert_error(app.get_api("/api/v1/nothing-here").await, 404, "not_found", None).await;
    }
}
