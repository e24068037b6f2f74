use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

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

        // serde reads a struct from an array too: `[null, null]` must not pass as "change nothing".
        let link = app.create_link("https://example.com/kept", Some("kept")).await;
        for body in [json!([null, null]), json!(["https://example.com/x"]), json!("text"), json!(7)] {
            let patch = app.client.patch(app.url(&format!("/api/v1/links/{link}"))).bearer_auth(&app.api_key)
                .json(&body).send().await.unwrap();
            assert_error(patch, 422, "invalid_value", Some("body")).await;
            assert_error(app.post_json("/api/v1/links", &body).await, 422, "invalid_value", Some("body")).await;
        }
        let listed: Value = app.get_api("/api/v1/links").await.json().await.unwrap();
        assert_eq!(listed["links"].as_array().unwrap().len(), 1, "nothing was made");
    }

    async fn a_method_a_path_does_not_answer_gets_405_with_allow(app) {
        let response = app.client.put(app.url("/api/v1/links/1")).bearer_auth(&app.api_key).send().await.unwrap();
        assert_eq!(response.headers()["allow"], "GET, PATCH, DELETE");
        assert_error(response, 405, "method_not_allowed", None).await;
        let public = app.client.get(app.url("/api/v1/public/shares")).send().await.unwrap();
        assert_eq!(public.headers()["allow"], "POST, OPTIONS");
        assert_error(public, 405, "method_not_allowed", None).await;
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

on_both_backends! {
    async fn the_list_of_links_pages_with_a_cursor_and_filters_like_the_web_ui(app) {
        let mut made = Vec::new();
        for n in 0..5 {
            let campaign = (n % 2 == 0).then_some("even");
            made.push(app.create_link(&format!("https://example.com/post-{n}"), campaign).await);
        }
        made.reverse();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        let mut pages = 0;
        loop {
            let query = match &after {
                Some(cursor) => format!("/api/v1/links?limit=2&after={cursor}"),
                None => "/api/v1/links?limit=2".to_owned(),
            };
            let page: Value = app.get_api(&query).await.json().await.expect("json");
            let links = page["links"].as_array().expect("links");
            assert!(links.len() <= 2, "{page}");
            seen.extend(links.iter().map(|l| l["id"].as_i64().expect("id")));
            pages += 1;
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
        }
        assert_eq!((seen, pages), (made.clone(), 3), "every link once, newest first, in pages of 2, 2 and 1");

        let even: Value = app.get_api("/api/v1/links?campaign=even").await.json().await.unwrap();
        let ids: Vec<i64> = even["links"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, [made[0], made[2], made[4]]);
        assert_eq!(even["next"], Value::Null);
        let one: Value = app.get_api("/api/v1/links?q=POST-3").await.json().await.unwrap();
        assert_eq!(one["links"][0]["url"], "https://example.com/post-3");
        assert_eq!((one["links"][0]["clicks"].as_i64(), one["links"][0]["shares"].as_i64()), (Some(0), Some(0)));

        for (query, field) in [
            ("limit=0", "limit"),
            ("limit=201", "limit"),
            ("limit=ten", "limit"),
            ("sort=loudest", "sort"),
            ("status=maybe", "status"),
            ("channel=Not%20one", "channel"),
            ("after=garbage", "after"),
        ] {
            assert_error(app.get_api(&format!("/api/v1/links?{query}")).await, 422, "invalid_value", Some(field)).await;
        }
        let anonymous = app.client.get(app.url("/api/v1/links")).send().await.unwrap();
        assert_error(anonymous, 401, "unauthorized", None).await;
    }
}

on_both_backends! {
    async fn a_link_is_changed_through_the_api_and_its_short_links_follow(app) {
        let link = app.create_link("https://example.com/old", Some("spring")).await;
        let code = app.share_code(link, "email").await;
        let patch = |body: Value| {
            app.client
                .patch(app.url(&format!("/api/v1/links/{link}")))
                .bearer_auth(&app.api_key)
                .json(&body)
                .send()
        };
        let changed = patch(json!({"title": "New home", "url": "https://example.com/new"})).await.unwrap();
        assert_eq!(changed.status(), 200);
        let changed: Value = changed.json().await.unwrap();
        assert_eq!((&changed["title"], &changed["url"], &changed["campaign"]), (&json!("New home"), &json!("https://example.com/new"), &json!("spring")), "what was not given stays");
        assert!(location(app.follow(&code, BROWSER_UA).await.headers()).starts_with("https://example.com/new"));

        let cleared: Value = patch(json!({"campaign": ""})).await.unwrap().json().await.unwrap();
        assert_eq!(cleared["campaign"], Value::Null);
        assert_eq!(cleared["title"], "New home");

        assert_error(patch(json!({"url": "javascript:alert(1)"})).await.unwrap(), 422, "invalid_value", Some("url")).await;
        assert_error(patch(json!({"title": "a\u{7}b"})).await.unwrap(), 422, "invalid_value", Some("title")).await;
        assert!(location(app.follow(&code, BROWSER_UA).await.headers()).starts_with("https://example.com/new"), "a refused change changes nothing");
        let missing = app.client.patch(app.url("/api/v1/links/999999")).bearer_auth(&app.api_key).json(&json!({"title": "x"})).send().await.unwrap();
        assert_error(missing, 404, "not_found", None).await;
    }
}

on_both_backends! {
    async fn a_link_expires_when_the_api_says_and_comes_back_when_told(app) {
        let link = app.create_link("https://example.com/offer", None).await;
        let code = app.share_code(link, "sms").await;
        let patch = |body: Value| {
            app.client.patch(app.url(&format!("/api/v1/links/{link}"))).bearer_auth(&app.api_key).json(&body).send()
        };
        let later: Value = patch(json!({"expires_at": "2099-12-31T23:59:59Z"})).await.unwrap().json().await.unwrap();
        assert_eq!(later["expires_at"], "2099-12-31T23:59:59.000Z");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "not yet");
        let past: Value = patch(json!({"expires_at": "2020-01-01T00:00:00+02:00"})).await.unwrap().json().await.unwrap();
        assert_eq!(past["expires_at"], "2019-12-31T22:00:00.000Z");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410, "expired");
        let title_only: Value = patch(json!({"title": "Offer"})).await.unwrap().json().await.unwrap();
        assert_eq!(title_only["expires_at"], "2019-12-31T22:00:00.000Z", "left out, the expiry stays");
        let cleared: Value = patch(json!({"expires_at": null})).await.unwrap().json().await.unwrap();
        assert_eq!(cleared["expires_at"], Value::Null);
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "no expiry any more");

        let refused = patch(json!({"expires_at": "next tuesday", "title": "Changed"})).await.unwrap();
        assert_error(refused, 422, "invalid_value", Some("expires_at")).await;
        let link_doc: Value = app.get_api(&format!("/api/v1/links/{link}")).await.json().await.unwrap();
        assert_eq!(link_doc["title"], "Offer", "a refused change changes nothing");
    }
}
