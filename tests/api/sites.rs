//! `/api/v1/sites` and the snippet a site embeds: `/share.js` and its pinned, SRI-hashed twin.

use crate::helpers::*;
use crate::on_both_backends;
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha384};

/// What `/share.js` may weigh on the wire, gzipped: the snippet's size budget.
const SNIPPET_BUDGET_BYTES: usize = 6 * 1024;

/// Creates a site through the API and returns its document.
async fn create_site(app: &TestApp, body: Value) -> Value {
    let response = app.post_json("/api/v1/sites", &body).await;
    assert_eq!(response.status(), 201, "creating a site");
    response.json().await.expect("json")
}

async fn patch_site(app: &TestApp, id: &Value, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/sites/{id}")))
        .bearer_auth(&app.api_key)
        .json(&body)
        .send()
        .await
        .expect("request")
}

async fn get(app: &TestApp, url: &str, accept_encoding: Option<&str>) -> reqwest::Response {
    let mut request = app.client.get(url);
    if let Some(encoding) = accept_encoding {
        request = request.header("accept-encoding", encoding);
    }
    request.send().await.expect("request")
}

/// The value of `name="…"` in an HTML tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let length = tag[start..].find('"')?;
    Some(&tag[start..start + length])
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn is_site_key(key: &str) -> bool {
    key.strip_prefix("pk_")
        .is_some_and(|secret| secret.len() == 24 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
}

on_both_backends! {
    async fn creating_a_site_returns_a_publishable_key_and_normalised_domains(app) {
        let body = json!({"name": "Blog", "domains": ["Example.COM", "https://Blog.Other.org/", "example.com"]});

        let response = app.post_json("/api/v1/sites", &body).await;

        assert_eq!(response.status(), 201);
        let site: Value = response.json().await.unwrap();
        assert!(is_site_key(site["key"].as_str().unwrap_or_default()), "{site}");
        assert_eq!(site["name"], "Blog");
        assert_eq!(site["domains"], json!(["blog.other.org", "example.com"]));
        assert_eq!(site["disabled"], false);
        assert_eq!(site["utm"]["enabled"], true);
    }

    async fn a_site_created_without_origins_allows_https_on_each_domain(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com", "shop.example.org"]})).await;

        assert_eq!(site["origins"], json!(["https://example.com", "https://shop.example.org"]));
    }

    async fn explicit_origins_are_normalised(app) {
        let body = json!({"name": "Blog", "domains": ["example.com"], "origins": ["https://Example.com/", "http://localhost:3000"]});

        let site = create_site(&app, body).await;

        assert_eq!(site["origins"], json!(["http://localhost:3000", "https://example.com"]));
    }

    async fn the_snippet_tag_loads_share_js_with_the_site_key(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;
        let tag = site["snippet"].as_str().unwrap();

        assert!(tag.starts_with("<script "), "{tag}");
        assert_eq!(attribute(tag, "src"), Some(app.url("/share.js").as_str()), "{tag}");
        assert_eq!(attribute(tag, "data-site"), site["key"].as_str(), "{tag}");
    }

    async fn the_pinned_snippet_serves_exactly_the_script_its_integrity_hash_names(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;
        let tag = site["snippet_pinned"].as_str().unwrap();
        let src = attribute(tag, "src").expect("a src").to_owned();
        let integrity = attribute(tag, "integrity").expect("an integrity attribute").to_owned();

        let response = get(&app, &src, None).await;

        assert!(src.starts_with(&app.url("/share.")) && src.ends_with(".js") && src != app.url("/share.js"), "{src}");
        assert_eq!(attribute(tag, "crossorigin"), Some("anonymous"), "{tag}");
        assert_eq!(attribute(tag, "data-site"), site["key"].as_str(), "{tag}");
        assert_eq!(response.status(), 200);
        let script = response.bytes().await.unwrap();
        let expected = format!("sha384-{}", base64::engine::general_purpose::STANDARD.encode(Sha384::digest(&script)));
        assert_eq!(integrity, expected);
    }

    async fn the_pinned_script_is_the_same_as_share_js(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;
        let pinned_src = attribute(site["snippet_pinned"].as_str().unwrap(), "src").unwrap().to_owned();

        let pinned = get(&app, &pinned_src, None).await.bytes().await.unwrap();
        let latest = get(&app, &app.url("/share.js"), None).await.bytes().await.unwrap();

        assert!(!latest.is_empty());
        assert_eq!(pinned, latest);
    }

    async fn sites_are_listed_and_shown(app) {
        let blog = create_site(&app, json!({"name": "Blog", "domains": ["blog.example.com"]})).await;
        let shop = create_site(&app, json!({"name": "Shop", "domains": ["shop.example.com"]})).await;

        let list: Value = app.get_api("/api/v1/sites").await.json().await.unwrap();
        let shown = app.get_api(&format!("/api/v1/sites/{}", shop["id"])).await;

        let keys: Vec<&Value> = list["sites"].as_array().expect("a list of sites").iter().map(|s| &s["key"]).collect();
        assert!(keys.contains(&&blog["key"]) && keys.contains(&&shop["key"]), "{list}");
        assert_eq!(shown.status(), 200);
        assert_eq!(shown.json::<Value>().await.unwrap(), shop);
    }

    async fn patching_a_site_changes_its_domains_origins_and_utm_profile(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;

        let response = patch_site(&app, &site["id"], json!({
            "domains": ["example.org", "Blog.Example.org"],
            "origins": ["https://www.example.org/"],
            "utm": {"enabled": false, "campaign": "Spring"},
        })).await;

        assert_eq!(response.status(), 200);
        let patched: Value = response.json().await.unwrap();
        assert_eq!(patched["domains"], json!(["blog.example.org", "example.org"]));
        assert_eq!(patched["origins"], json!(["https://www.example.org"]));
        assert_eq!(patched["utm"]["enabled"], false);
        assert_eq!(patched["utm"]["campaign"], "Spring");
        assert_eq!(patched["key"], site["key"], "the key stays");
        let shown: Value = app.get_api(&format!("/api/v1/sites/{}", site["id"])).await.json().await.unwrap();
        assert_eq!(shown, patched);
    }

    async fn patching_disabled_true_disables_a_site(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;

        let response = patch_site(&app, &site["id"], json!({"disabled": true})).await;

        assert_eq!(response.status(), 200);
        assert_eq!(response.json::<Value>().await.unwrap()["disabled"], true);
        let shown: Value = app.get_api(&format!("/api/v1/sites/{}", site["id"])).await.json().await.unwrap();
        assert_eq!(shown["disabled"], true);
        assert_eq!(shown["domains"], json!(["example.com"]), "nothing else changed");
    }

    async fn bad_domains_are_refused_naming_the_domains_field(app) {
        for domains in [json!(["*.example.com"]), json!(["exa mple.com"]), json!([])] {
            let response = app.post_json("/api/v1/sites", &json!({"name": "Blog", "domains": domains})).await;

            assert_error(response, 422, "invalid_value", Some("domains")).await;
        }
    }

    async fn bad_domains_in_a_patch_are_refused_and_change_nothing(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;

        let response = patch_site(&app, &site["id"], json!({"domains": ["*.example.com"]})).await;

        assert_error(response, 422, "invalid_value", Some("domains")).await;
        let shown: Value = app.get_api(&format!("/api/v1/sites/{}", site["id"])).await.json().await.unwrap();
        assert_eq!(shown["domains"], json!(["example.com"]));
    }

    async fn bad_origins_are_refused_naming_the_origins_field(app) {
        for origin in ["https://x.com/path", "ftp://x.com"] {
            let body = json!({"name": "Blog", "domains": ["x.com"], "origins": [origin]});

            let response = app.post_json("/api/v1/sites", &body).await;

            assert_error(response, 422, "invalid_value", Some("origins")).await;
        }
    }

    async fn the_sites_api_needs_an_api_key(app) {
        let site = create_site(&app, json!({"name": "Blog", "domains": ["example.com"]})).await;
        let body = json!({"name": "Blog", "domains": ["example.com"]});

        let create = app.client.post(app.url("/api/v1/sites")).json(&body).send().await.unwrap();
        let list = app.client.get(app.url("/api/v1/sites")).send().await.unwrap();
        let show = app.client.get(app.url(&format!("/api/v1/sites/{}", site["id"]))).send().await.unwrap();
        let patch = app.client.patch(app.url(&format!("/api/v1/sites/{}", site["id"])))
            .json(&json!({"disabled": true})).send().await.unwrap();

        assert_error(create, 401, "unauthorized", None).await;
        assert_error(list, 401, "unauthorized", None).await;
        assert_error(show, 401, "unauthorized", None).await;
        assert_error(patch, 401, "unauthorized", None).await;
        let shown: Value = app.get_api(&format!("/api/v1/sites/{}", site["id"])).await.json().await.unwrap();
        assert_eq!(shown["disabled"], false, "the unauthorised patch changed nothing");
    }

    async fn an_unknown_site_is_404(app) {
        let shown = app.get_api("/api/v1/sites/987654").await;
        let patched = patch_site(&app, &json!(987654), json!({"disabled": true})).await;

        assert_error(shown, 404, "not_found", None).await;
        assert_error(patched, 404, "not_found", None).await;
    }

    async fn share_js_is_cacheable_javascript_any_page_may_load(app) {
        let response = get(&app, &app.url("/share.js"), None).await;

        assert_eq!(response.status(), 200);
        assert!(header(&response, "content-type").starts_with("text/javascript"), "{:?}", response.headers());
        assert_eq!(header(&response, "access-control-allow-origin"), "*");
        let max_age = header(&response, "cache-control")
            .split(',')
            .find_map(|directive| directive.trim().strip_prefix("max-age="))
            .and_then(|seconds| seconds.parse::<u64>().ok());
        assert!(max_age.is_some_and(|seconds| seconds > 0), "{:?}", response.headers());
    }

    async fn share_js_is_gzipped_within_its_size_budget(app) {
        let response = get(&app, &app.url("/share.js"), Some("gzip")).await;

        assert_eq!(response.status(), 200);
        assert_eq!(header(&response, "content-encoding"), "gzip");
        let body = response.bytes().await.unwrap();
        assert!(body.starts_with(&[0x1f, 0x8b]), "the body is gzip data");
        assert!(
            body.len() <= SNIPPET_BUDGET_BYTES,
            "share.js is {} bytes gzipped, over its budget of {SNIPPET_BUDGET_BYTES}",
            body.len()
        );
    }

    async fn share_js_is_plain_for_clients_that_refuse_or_do_not_name_gzip(app) {
        for accept in [None, Some("gzip;q=0"), Some("br, deflate"), Some("identity"), Some("gzip;q=0, *;q=0.5")] {
            let response = get(&app, &app.url("/share.js"), accept).await;

            assert_eq!(response.status(), 200, "{accept:?}");
            assert!(response.headers().get("content-encoding").is_none(), "{accept:?}: {:?}", response.headers());
            let body = response.bytes().await.unwrap();
            assert!(body.starts_with(b"/*") || body.starts_with(b"(") || body.is_ascii(), "{accept:?}: plain text");
        }
        let weighted = get(&app, &app.url("/share.js"), Some("br;q=1, gzip;q=0.5")).await;
        assert_eq!(header(&weighted, "content-encoding"), "gzip", "gzip is what it has of those asked for");
    }

    async fn a_pinned_script_url_with_another_version_is_404(app) {
        let response = get(&app, &app.url("/share.0123456789ab.js"), None).await;

        assert_eq!(response.status(), 404);
    }
}
