//! The API described: the OpenAPI document names exactly the routes the app serves, is an
//! OpenAPI 3.1 document whose references all resolve, agrees with what the routes answer, and
//! has a page people can read without anything fetched from elsewhere.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::Value;
use sharetrail::routes::API_ROUTES;
use std::collections::BTreeSet;

async fn document(app: &TestApp) -> Value {
    let response = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200, "served without a key");
    assert_eq!(response.headers()["content-type"], "application/json");
    response.json().await.unwrap()
}

/// Every `$ref` in `value`.
fn references<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(reference)) = map.get("$ref") {
                found.push(reference);
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}

/// A path of the document with its parameters filled in: ids and codes nothing has.
fn concrete(path: &str) -> String {
    path.replace("{id}", "999999")
        .replace("{code}", "zzzzzzzz")
        .replace("{path}", "shares")
}

on_both_backends! {
    async fn the_document_names_every_route_and_only_real_ones(app) {
        let doc = document(&app).await;
        let served: BTreeSet<(String, String)> =
            API_ROUTES.iter().map(|(method, path)| (method.to_string(), path.to_string())).collect();
        let described: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
            .collect();
        let undocumented: Vec<_> = served.difference(&described).collect();
        assert!(undocumented.is_empty(), "routes missing from the document: {undocumented:?}");
        let invented: Vec<_> = described.difference(&served).collect();
        assert!(invented.is_empty(), "the document describes routes nobody serves: {invented:?}");
        assert!(served.len() >= 28, "the table holds the whole API: {}", served.len());
    }

    async fn the_document_is_openapi_3_1_and_every_reference_resolves(app) {
        let doc = document(&app).await;
        let text = doc.to_string();
        let spec = oas3::from_json(&text).expect("an OpenAPI 3.1 document");
        assert!(spec.openapi.starts_with("3.1."), "{}", spec.openapi);
        let mut found = Vec::new();
        references(&doc, &mut found);
        assert!(!found.is_empty());
        for reference in found {
            let pointer = reference.strip_prefix('#').unwrap_or_else(|| panic!("{reference} points outside the document"));
            assert!(doc.pointer(pointer).is_some(), "{reference} resolves to nothing");
        }
        let mut ids = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, operation) in item.as_object().unwrap() {
                let id = operation["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path} has no operationId"));
                assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
                assert!(!operation["summary"].as_str().unwrap_or_default().is_empty(), "{method} {path} has no summary");
                assert!(operation["responses"].as_object().is_some_and(|r| r.keys().any(|s| s.starts_with('2'))), "{method} {path} documents no success");
            }
        }
    }

    async fn every_keyed_route_refuses_a_missing_key_as_documented(app) {
        let doc = document(&app).await;
        let mut checked = 0;
        for (method, path) in API_ROUTES {
            let operation = &doc["paths"][*path][*method];
            let public = operation["security"].as_array().is_some_and(|s| s.iter().all(|r| r.as_object().is_some_and(|o| o.is_empty())));
            if public {
                assert!(path.starts_with("/api/v1/public/"), "{method} {path} is public but not under /public");
                continue;
            }
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app.client.request(method.clone(), app.url(&concrete(path))).json(&serde_json::json!({})).send().await.unwrap();
            assert!(operation["responses"]["401"].is_object(), "{method} {path} documents its 401");
            assert_error(response, 401, "unauthorized", None).await;
            checked += 1;
        }
        assert!(checked >= 20, "{checked}");
    }

    async fn the_reference_page_shows_every_operation_and_fetches_nothing_elsewhere(app) {
        let response = app.client.get(app.url("/api/docs")).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        for (method, path) in API_ROUTES {
            let heading = format!("<code>{} {}</code>", method.to_uppercase(), path);
            assert!(html.contains(&heading), "{heading} is on the page");
        }
        assert!(html.contains("href=\"/api/v1/openapi.json\""));
        assert!(html.contains("id=\"schema-LinkDocument\""), "schemas are listed");
        for outside in ["src=\"http", "src=\"//", "href=\"http", "@import"] {
            assert!(!html.contains(outside), "the page loads nothing from elsewhere ({outside})");
        }
    }
}
