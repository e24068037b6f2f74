use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

on_both_backends! {
    async fn a_share_minted_from_a_share_is_one_level_deeper(app) {
        let link = app.create_link("https://example.com/", None).await;
        let root = app.create_share(link, "whatsapp", None).await;
        let root_code = root["code"].as_str().unwrap();

        let child = app.create_share(link, "email", Some(root_code)).await;

        assert_eq!(root["depth"], 1);
        assert_eq!(child["depth"], 2);
        assert_eq!(child["parent"], root_code);
        assert_eq!(child["channel"], "email");
        assert_eq!(child["short_url"], app.url(&format!("/{}", child["code"].as_str().unwrap())));
    }

    async fn a_share_document_lists_its_children_and_counts(app) {
        let link = app.create_link("https://example.com/", None).await;
        let root = app.share_code(link, "slack").await;
        let child = app.create_share(link, "sms", Some(&root)).await["code"].as_str().unwrap().to_owned();
        app.follow(&root, BROWSER_UA).await;
        app.wait_for_visits(1).await;

        let doc: serde_json::Value = app.get_api(&format!("/api/v1/shares/{root}")).await.json().await.unwrap();

        assert_eq!(doc["clicks"], 1);
        assert_eq!(doc["unfurls"], 0);
        assert_eq!(doc["inferred_channel"], serde_json::Value::Null);
        assert_eq!(doc["children"][0]["code"], child);
        assert_eq!(doc["children"].as_array().unwrap().len(), 1);
    }

    async fn a_parent_on_another_link_is_refused(app) {
        let first = app.create_link("https://example.com/a", None).await;
        let second = app.create_link("https://example.com/b", None).await;
        let parent = app.share_code(first, "whatsapp").await;

        let response = app.post_json("/api/v1/shares", &json!({"link_id": second, "channel": "sms", "parent": parent})).await;

        assert_error(response, 422, "invalid_value", Some("parent")).await;
    }

    async fn an_unknown_parent_is_refused(app) {
        let link = app.create_link("https://example.com/", None).await;
        let response = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "sms", "parent": "nope2345"})).await;
        assert_error(response, 422, "invalid_value", Some("parent")).await;
    }

    async fn unknown_channels_are_refused_until_defined(app) {
        let link = app.create_link("https://example.com/", None).await;

        let malformed = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "Carrier Pigeon"})).await;
        assert_error(malformed, 422, "invalid_value", Some("channel")).await;
        let undefined = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "newsletter"})).await;
        assert_error(undefined, 422, "invalid_value", Some("channel")).await;

        let defined = app.post_json("/api/v1/channels", &json!({"name": "newsletter", "medium": "email"})).await;
        assert_eq!(defined.status(), 201);
        let share = app.create_share(link, "newsletter", None).await;
        let response = app.follow(share["code"].as_str().unwrap(), BROWSER_UA).await;
        assert!(location(response.headers()).contains("utm_source=newsletter&utm_medium=email"));

        let listed: Value = app.get_api("/api/v1/channels").await.json().await.unwrap();
        let channels = listed["channels"].as_array().unwrap();
        assert_eq!(channels.len(), 19, "18 built-in and the custom one");
        let named = |name: &str| channels.iter().find(|c| c["name"] == name).unwrap().clone();
        assert_eq!(named("whatsapp"), json!({"name": "whatsapp", "medium": "social", "display_name": "WhatsApp", "builtin": true, "dark": true}));
        assert_eq!(named("qr")["dark"], false);
        assert_eq!(named("newsletter"), json!({"name": "newsletter", "medium": "email", "display_name": "newsletter", "builtin": false, "dark": true}));
    }

    async fn a_custom_slug_is_unique_ignoring_case(app) {
        let link = app.create_link("https://example.com/", None).await;
        let first = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "qr", "slug": "Spring-Poster"})).await;
        assert_eq!(first.status(), 201);

        let again = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "qr", "slug": "spring-poster"})).await;

        assert_error(again, 409, "conflict", Some("slug")).await;
    }

    async fn reserved_and_malformed_slugs_are_refused(app) {
        let link = app.create_link("https://example.com/", None).await;
        for slug in ["api", "Metrics", "share.js", "no spaces", "x", "ünïcode"] {
            let response = app.post_json("/api/v1/shares", &json!({"link_id": link, "channel": "qr", "slug": slug})).await;
            assert_error(response, 422, "invalid_value", Some("slug")).await;
        }
    }

    async fn a_share_for_a_missing_link_is_refused(app) {
        let response = app.post_json("/api/v1/shares", &json!({"link_id": 999_999, "channel": "sms"})).await;
        assert_error(response, 422, "invalid_value", Some("link_id")).await;
    }
}

on_both_backends! {
    async fn a_links_shares_are_listed_in_pages_each_after_its_parent(app) {
        let link = app.create_link("https://example.com/tree", None).await;
        let root = app.create_share(link, "whatsapp", None).await;
        let root_code = root["code"].as_str().unwrap().to_owned();
        let mut made = vec![root_code.clone()];
        for channel in ["email", "slack", "sms"] {
            let child = app.create_share(link, channel, Some(&root_code)).await;
            made.push(child["code"].as_str().unwrap().to_owned());
        }
        let other = app.create_link("https://example.com/other", None).await;
        app.create_share(other, "x", None).await;

        let mut seen: Vec<serde_json::Value> = Vec::new();
        let mut after = String::new();
        loop {
            let page: serde_json::Value = app
                .get_api(&format!("/api/v1/links/{link}/shares?limit=3&after={after}"))
                .await
                .json()
                .await
                .unwrap();
            seen.extend(page["shares"].as_array().unwrap().iter().cloned());
            match page["next"].as_str() {
                Some(next) => after = next.to_owned(),
                None => break,
            }
        }
        let codes: Vec<&str> = seen.iter().map(|s| s["code"].as_str().unwrap()).collect();
        assert_eq!(codes, made, "the link's shares only, each once, in the order they were made");
        assert!(seen[1..].iter().all(|s| s["parent"] == root_code.as_str() && s["depth"] == 2));

        for (query, field) in [("limit=0", "limit"), ("limit=501", "limit"), ("after=-1", "after"), ("after=x", "after")] {
            assert_error(app.get_api(&format!("/api/v1/links/{link}/shares?{query}")).await, 422, "invalid_value", Some(field)).await;
        }
        assert_error(app.get_api("/api/v1/links/999999/shares").await, 404, "not_found", None).await;
    }
}

on_both_backends! {
    async fn a_share_is_relabelled_and_switched_off_and_on_through_the_api(app) {
        let link = app.create_link("https://example.com/poster", None).await;
        let share = app.create_share(link, "qr", None).await;
        let code = share["code"].as_str().unwrap().to_owned();
        let other = app.share_code(link, "email").await;
        let patch = |body: serde_json::Value| {
            app.client.patch(app.url(&format!("/api/v1/shares/{code}"))).bearer_auth(&app.api_key).json(&body).send()
        };
        let labelled: serde_json::Value = patch(json!({"label": "Poster at the door"})).await.unwrap().json().await.unwrap();
        assert_eq!((&labelled["label"], &labelled["disabled"]), (&json!("Poster at the door"), &json!(false)));
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);

        let off: serde_json::Value = patch(json!({"disabled": true})).await.unwrap().json().await.unwrap();
        assert_eq!((&off["disabled"], &off["label"]), (&json!(true), &json!("Poster at the door")), "the label stays");
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 410, "switched off at once");
        assert_eq!(app.follow(&other, BROWSER_UA).await.status(), 302, "the link's other shares go on");
        patch(json!({"disabled": false, "label": ""})).await.unwrap();
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302, "on again");
        assert_eq!(share_label(&app, &code).await, serde_json::Value::Null, "\"\" clears the label");

        assert_error(patch(json!({"label": "x".repeat(201)})).await.unwrap(), 422, "invalid_value", Some("label")).await;
        let unknown = app.client.patch(app.url("/api/v1/shares/NoSuchCode1")).bearer_auth(&app.api_key).json(&json!({"disabled": true})).send().await.unwrap();
        assert_error(unknown, 404, "not_found", None).await;
    }
}

async fn share_label(app: &TestApp, code: &str) -> serde_json::Value {
    let doc: serde_json::Value = app
        .get_api(&format!("/api/v1/shares/{code}"))
        .await
        .json()
        .await
        .unwrap();
    doc["label"].clone()
}

on_both_backends! {
    async fn a_links_shares_in_tree_order_are_each_subtree_whole(app) {
        let link = app.create_link("https://example.com/cascade", None).await;
        let code = |share: &serde_json::Value| share["code"].as_str().unwrap().to_owned();
        let a = code(&app.create_share(link, "whatsapp", None).await);
        let b = code(&app.create_share(link, "email", Some(&a)).await);
        let c = code(&app.create_share(link, "slack", Some(&a)).await);
        let d = code(&app.create_share(link, "sms", Some(&b)).await);
        let (flat, _) = codes_page(&app, format!("/api/v1/links/{link}/shares")).await;
        assert_eq!(flat, [a.clone(), b.clone(), c.clone(), d.clone()], "flat: the order they were made");
        let (first, next) = codes_page(&app, format!("/api/v1/links/{link}/shares?order=tree&limit=2")).await;
        let next = next.expect("a second page");
        let (second, last) = codes_page(&app, format!("/api/v1/links/{link}/shares?order=tree&limit=2&after={next}")).await;
        assert_eq!([first, second].concat(), [a, b, d, c], "tree: B's reshare before A's second reshare");
        assert!(last.is_none());

        assert_error(app.get_api(&format!("/api/v1/links/{link}/shares?order=sideways")).await, 422, "invalid_value", Some("order")).await;
        assert_error(app.get_api(&format!("/api/v1/links/{link}/shares?order=tree&after=999999")).await, 422, "invalid_value", Some("after")).await;
    }
}

/// The codes of a page of shares, and its `next` cursor.
async fn codes_page(app: &TestApp, query: String) -> (Vec<String>, Option<String>) {
    let page: serde_json::Value = app.get_api(&query).await.json().await.unwrap();
    let codes = page["shares"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    (codes, page["next"].as_str().map(str::to_owned))
}
