//! `/api/v1/public/*` called the way the snippet calls it: JSON posted as `text/plain` (no CORS
//! preflight) from a page on the site, with the page's `Origin` and the site's publishable key.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::{Value, json};

/// The page origin the test site allows.
pub(crate) const ORIGIN: &str = "http://localhost:9999";
/// A page on the test site's domain.
pub(crate) const PAGE: &str = "http://localhost:9999/post";

pub(crate) struct Site {
    pub id: i64,
    pub key: String,
}

/// A site on `localhost` whose pages are served from `ORIGIN`, created through the API.
pub(crate) async fn create_site(app: &TestApp) -> Site {
    let body = json!({"name": "Blog", "domains": ["localhost"], "origins": [ORIGIN]});
    let response = app.post_json("/api/v1/sites", &body).await;
    assert_eq!(response.status(), 201, "creating a site");
    let site: Value = response.json().await.expect("json");
    Site {
        id: site["id"].as_i64().expect("id"),
        key: site["key"].as_str().expect("key").to_owned(),
    }
}

async fn disable(app: &TestApp, site: &Site) {
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/sites/{}", site.id)))
        .bearer_auth(&app.api_key)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200, "disabling the site");
}

/// A POST to `/api/v1/public/{path}` as a browser sends it, from `origin` when there is one.
pub(crate) fn public_request(
    app: &TestApp,
    path: &str,
    origin: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> reqwest::RequestBuilder {
    let request = app
        .client
        .post(app.url(&format!("/api/v1/public/{path}")))
        .header("content-type", "text/plain;charset=UTF-8")
        .header("user-agent", BROWSER_UA)
        .body(body);
    match origin {
        Some(origin) => request.header("origin", origin),
        None => request,
    }
}

/// Posts a JSON body from the site's allowed origin.
pub(crate) async fn post_public(app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
    post_public_from(app, path, Some(ORIGIN), body).await
}

pub(crate) async fn post_public_from(
    app: &TestApp,
    path: &str,
    origin: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    public_request(app, path, origin, body.to_string())
        .send()
        .await
        .expect("request")
}

/// Mints a share of `url` as a share button does and returns the answer's document.
pub(crate) async fn mint(app: &TestApp, site: &Site, url: &str, channel: &str, parent: Option<&str>) -> Value {
    let body = json!({"site": site.key, "url": url, "channel": channel, "parent": parent});
    let response = post_public(app, "shares", &body).await;
    assert_eq!(response.status(), 201, "minting a {channel} share of {url}");
    response.json().await.expect("json")
}

pub(crate) fn code_of(share: &Value) -> String {
    share["code"].as_str().expect("a code").to_owned()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

pub(crate) async fn share_document(app: &TestApp, code: &str) -> Value {
    let response = app.get_api(&format!("/api/v1/shares/{code}")).await;
    assert_eq!(response.status(), 200, "reading share {code}");
    response.json().await.expect("json")
}

on_both_backends! {
    async fn minting_a_share_answers_201_with_the_share_and_cors_for_the_page(app) {
        let site = create_site(&app).await;

        let response = post_public(&app, "shares", &json!({"site": site.key, "url": PAGE, "channel": "whatsapp"})).await;

        assert_eq!(response.status(), 201);
        assert_eq!(header(&response, "access-control-allow-origin"), Some(ORIGIN));
        assert_eq!(header(&response, "vary"), Some("Origin"));
        assert_eq!(header(&response, "access-control-allow-credentials"), None);
        let share: Value = response.json().await.unwrap();
        let code = code_of(&share);
        assert_eq!(share["short_url"], app.url(&format!("/{code}")));
        assert_eq!(share["channel"], "whatsapp");
        assert_eq!(share["depth"], 1);
        assert_eq!(share["parent"], Value::Null);
        assert!(share["link_id"].as_i64().is_some(), "{share}");
    }

    async fn a_page_gets_its_link_on_first_share_and_keeps_it(app) {
        let site = create_site(&app).await;

        let first = mint(&app, &site, PAGE, "whatsapp", None).await;
        let again = mint(&app, &site, PAGE, "email", None).await;
        let other_page = mint(&app, &site, "http://localhost:9999/other", "whatsapp", None).await;

        assert_eq!(first["link_id"], again["link_id"]);
        assert_ne!(first["code"], again["code"], "each click is a new share");
        assert_ne!(first["link_id"], other_page["link_id"]);
        let stats = app.stats(first["link_id"].as_i64().unwrap()).await;
        assert_eq!(stats["shares"]["total"], 2);
    }

    async fn a_minted_share_redirects_to_the_page_with_utm_tags(app) {
        let site = create_site(&app).await;
        let code = code_of(&mint(&app, &site, PAGE, "whatsapp", None).await);

        let response = app.follow(&code, BROWSER_UA).await;

        assert_eq!(response.status(), 302);
        assert_eq!(
            location(response.headers()),
            format!("{PAGE}?utm_source=whatsapp&utm_medium=social&st={code}")
        );
    }

    async fn a_share_with_a_parent_on_the_same_page_is_one_level_deeper(app) {
        let site = create_site(&app).await;
        let root = code_of(&mint(&app, &site, PAGE, "whatsapp", None).await);

        let child = mint(&app, &site, PAGE, "email", Some(&root)).await;

        assert_eq!(child["depth"], 2);
        assert_eq!(child["parent"], root);
    }

    async fn a_parent_from_another_page_starts_a_new_cascade_instead_of_failing(app) {
        let site = create_site(&app).await;
        let elsewhere = code_of(&mint(&app, &site, "http://localhost:9999/other", "whatsapp", None).await);

        let share = mint(&app, &site, PAGE, "email", Some(&elsewhere)).await;

        assert_eq!(share["depth"], 1);
        assert_eq!(share["parent"], Value::Null);
    }

    async fn an_origin_the_site_does_not_allow_is_refused_without_cors(app) {
        let site = create_site(&app).await;
        let body = json!({"site": site.key, "url": PAGE, "channel": "whatsapp"});

        let response = post_public_from(&app, "shares", Some("https://evil.example"), &body).await;

        assert_eq!(header(&response, "access-control-allow-origin"), None);
        assert_error(response, 403, "forbidden", None).await;
    }

    async fn a_request_without_an_origin_is_refused(app) {
        let site = create_site(&app).await;
        let body = json!({"site": site.key, "url": PAGE, "channel": "whatsapp"});

        let response = post_public_from(&app, "shares", None, &body).await;

        assert_error(response, 403, "forbidden", None).await;
    }

    async fn unknown_and_malformed_site_keys_are_refused(app) {
        create_site(&app).await;

        for key in ["pk_AAAAAAAAAAAAAAAAAAAAAAAA", "pk_short", "not-a-key", ""] {
            let response = post_public(&app, "shares", &json!({"site": key, "url": PAGE, "channel": "whatsapp"})).await;

            assert_error(response, 403, "forbidden", None).await;
        }
    }

    async fn a_disabled_site_is_refused_at_once(app) {
        let site = create_site(&app).await;
        mint(&app, &site, PAGE, "whatsapp", None).await;

        disable(&app, &site).await;
        let response = post_public(&app, "shares", &json!({"site": site.key, "url": PAGE, "channel": "whatsapp"})).await;

        assert_error(response, 403, "forbidden", None).await;
    }

    async fn a_page_off_the_sites_domains_is_refused(app) {
        let site = create_site(&app).await;

        let response = post_public(&app, "shares", &json!({"site": site.key, "url": "https://evil.example/", "channel": "whatsapp"})).await;

        assert_eq!(header(&response, "access-control-allow-origin"), Some(ORIGIN), "the page may read why");
        assert_error(response, 422, "invalid_value", Some("url")).await;
    }

    async fn a_page_on_another_scheme_or_port_of_the_sites_host_is_refused(app) {
        let site = create_site(&app).await;

        for url in ["https://localhost:9999/post", "http://localhost:8080/post", "http://localhost/post"] {
            let response = post_public(&app, "shares", &json!({"site": site.key, "url": url, "channel": "whatsapp"})).await;
            assert_error(response, 422, "invalid_value", Some("url")).await;
        }
        let served = post_public(&app, "shares", &json!({"site": site.key, "url": PAGE, "channel": "whatsapp"})).await;
        assert_eq!(served.status(), 201, "the page on the site's own origin");
    }

    async fn a_javascript_url_is_refused(app) {
        let site = create_site(&app).await;

        let response = post_public(&app, "shares", &json!({"site": site.key, "url": "javascript:alert(1)", "channel": "whatsapp"})).await;

        assert_error(response, 422, "invalid_value", Some("url")).await;
    }

    async fn an_unknown_channel_is_refused(app) {
        let site = create_site(&app).await;

        for channel in ["Carrier Pigeon", "carrier-pigeon"] {
            let response = post_public(&app, "shares", &json!({"site": site.key, "url": PAGE, "channel": channel})).await;

            assert_error(response, 422, "invalid_value", Some("channel")).await;
        }
    }

    async fn malformed_json_is_400(app) {
        create_site(&app).await;

        let response = public_request(&app, "shares", Some(ORIGIN), "{\"site\": ").send().await.unwrap();

        assert_error(response, 400, "malformed_request", None).await;
    }

    async fn a_body_over_16_kib_is_413(app) {
        let site = create_site(&app).await;
        let body = json!({"site": site.key, "url": PAGE, "channel": "whatsapp", "title": "x".repeat(17 * 1024)});

        let response = post_public(&app, "shares", &body).await;

        assert_error(response, 413, "payload_too_large", None).await;
    }

    async fn a_preflight_from_an_allowed_origin_is_answered_with_cors(app) {
        create_site(&app).await;

        let response = app.client.request(reqwest::Method::OPTIONS, app.url("/api/v1/public/shares"))
            .header("origin", ORIGIN)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send().await.unwrap();

        assert_eq!(response.status(), 204);
        assert_eq!(header(&response, "access-control-allow-origin"), Some(ORIGIN));
        assert!(header(&response, "access-control-allow-methods").is_some_and(|m| m.contains("POST")), "{:?}", response.headers());
        assert!(
            header(&response, "access-control-allow-headers").is_some_and(|h| h.to_ascii_lowercase().contains("content-type")),
            "{:?}",
            response.headers()
        );
    }

    async fn a_preflight_from_another_origin_is_refused_without_cors(app) {
        create_site(&app).await;

        let response = app.client.request(reqwest::Method::OPTIONS, app.url("/api/v1/public/shares"))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .send().await.unwrap();

        assert_eq!(response.status(), 403);
        assert_eq!(header(&response, "access-control-allow-origin"), None);
    }

    async fn an_arrival_through_a_copied_address_is_an_address_bar_child_share(app) {
        let site = create_site(&app).await;
        let parent = code_of(&mint(&app, &site, PAGE, "whatsapp", None).await);

        let response = post_public(&app, "arrivals", &json!({"site": site.key, "url": PAGE, "token": "AbCdEfGh1234", "parent": parent})).await;

        assert_eq!(response.status(), 201);
        assert_eq!(header(&response, "access-control-allow-origin"), Some(ORIGIN));
        let share: Value = response.json().await.unwrap();
        assert_eq!(share["channel"], "address_bar");
        assert_eq!(share["parent"], parent);
        assert_eq!(share["depth"], 2);
    }

    async fn the_same_arrival_token_is_the_same_share_and_each_arrival_is_a_click(app) {
        let site = create_site(&app).await;
        let parent = code_of(&mint(&app, &site, PAGE, "whatsapp", None).await);
        let body = json!({"site": site.key, "url": PAGE, "token": "AbCdEfGh1234", "parent": parent});

        let first = post_public(&app, "arrivals", &body).await;
        let second = post_public(&app, "arrivals", &body).await;

        assert_eq!(first.status(), 201);
        assert_eq!(second.status(), 201);
        let first: Value = first.json().await.unwrap();
        let second: Value = second.json().await.unwrap();
        assert_eq!(first["code"], second["code"], "not a new share");
        app.wait_for_visits(2).await;
        let code = code_of(&first);
        assert_eq!(share_document(&app, &code).await["clicks"], 2);
        let parent_doc = share_document(&app, &parent).await;
        assert_eq!(parent_doc["children"].as_array().map(Vec::len), Some(1), "{parent_doc}");
    }

    async fn a_malformed_arrival_token_is_refused(app) {
        let site = create_site(&app).await;

        for token in ["short", "has spaces!!"] {
            let response = post_public(&app, "arrivals", &json!({"site": site.key, "url": PAGE, "token": token})).await;

            assert_error(response, 422, "invalid_value", Some("token")).await;
        }
    }

    async fn a_conversion_is_credited_to_the_share_that_brought_the_visitor_and_its_chain(app) {
        let site = create_site(&app).await;
        let root = mint(&app, &site, PAGE, "whatsapp", None).await;
        let child = code_of(&mint(&app, &site, PAGE, "email", Some(&code_of(&root))).await);

        let response = post_public(&app, "conversions", &json!({"site": site.key, "url": PAGE, "code": child, "name": "signup", "value": 10})).await;

        assert_eq!(response.status(), 202);
        assert_eq!(header(&response, "access-control-allow-origin"), Some(ORIGIN));
        let conversions = &app.stats(root["link_id"].as_i64().unwrap()).await["conversions"];
        assert_eq!(conversions["total"], 1);
        assert_eq!(conversions["value"], 10.0);
        assert_eq!(conversions["by_name"], json!({"signup": 1}));
        assert_eq!(conversions["by_channel"], json!({"email": 1}));
        assert_eq!(conversions["by_depth"], json!([{"depth": 2, "conversions": 1}]));
        assert_eq!(conversions["assists_by_channel"], json!({"whatsapp": 1}));
    }

    async fn a_conversion_with_a_bad_name_or_value_is_refused(app) {
        let site = create_site(&app).await;
        let code = code_of(&mint(&app, &site, PAGE, "whatsapp", None).await);

        let bad_name = post_public(&app, "conversions", &json!({"site": site.key, "url": PAGE, "code": code, "name": "sign up"})).await;
        let bad_value = post_public(&app, "conversions", &json!({"site": site.key, "url": PAGE, "code": code, "name": "signup", "value": -1})).await;

        assert_error(bad_name, 422, "invalid_value", Some("name")).await;
        assert_error(bad_value, 422, "invalid_value", Some("value")).await;
    }

    async fn a_heard_about_us_answer_is_counted_as_the_channel_it_names(app) {
        let site = create_site(&app).await;
        let share = mint(&app, &site, PAGE, "whatsapp", None).await;

        let response = post_public(&app, "heard", &json!({"site": site.key, "url": PAGE, "code": code_of(&share), "answer": "A colleague on Slack"})).await;

        assert_eq!(response.status(), 202);
        let attribution = &app.stats(share["link_id"].as_i64().unwrap()).await["attribution"];
        assert_eq!(attribution["self_reported"], json!({"slack": 1}));
        let slack = attribution["by_channel"].as_array().unwrap().iter().find(|row| row["channel"] == "slack");
        assert_eq!(slack.map(|row| &row["self_reported"]), Some(&json!(1)), "{attribution}");
    }

    async fn a_heard_about_us_answer_with_an_explicit_channel_is_counted_as_that_channel(app) {
        let site = create_site(&app).await;
        let share = mint(&app, &site, PAGE, "whatsapp", None).await;

        let response = post_public(&app, "heard", &json!({"site": site.key, "url": PAGE, "code": code_of(&share), "answer": "A colleague on Slack", "channel": "email"})).await;

        assert_eq!(response.status(), 202);
        let attribution = &app.stats(share["link_id"].as_i64().unwrap()).await["attribution"];
        assert_eq!(attribution["self_reported"], json!({"email": 1}));
    }

    async fn an_empty_heard_about_us_answer_is_refused(app) {
        let site = create_site(&app).await;

        let response = post_public(&app, "heard", &json!({"site": site.key, "url": PAGE, "answer": "   "})).await;

        assert_error(response, 422, "invalid_value", Some("answer")).await;
    }
}

/// The `Retry-After` of a 429, which must be a positive whole number of seconds.
fn retry_after(response: &reqwest::Response) -> Option<u64> {
    header(response, "retry-after")?.parse().ok().filter(|s| *s > 0)
}

async fn a_burst_from_one_address_is_throttled_with_retry_after(backend: Backend) {
    let app = spawn_app_with(backend, |settings| settings.public_rate_per_ip = 5).await;
    let site = create_site(&app).await;
    let body = json!({"site": site.key, "url": PAGE, "channel": "whatsapp"});
    let mut statuses = Vec::new();

    for _ in 0..5 {
        statuses.push(post_public(&app, "shares", &body).await.status().as_u16());
    }
    let throttled = post_public(&app, "shares", &body).await;

    assert_eq!(statuses, [201; 5], "the burst allowance");
    assert_eq!(throttled.status(), 429);
    assert!(retry_after(&throttled).is_some(), "{:?}", throttled.headers());
    assert_error(throttled, 429, "rate_limited", None).await;
}

async fn a_burst_on_one_site_is_throttled_whichever_addresses_it_comes_from(backend: Backend) {
    let app = spawn_app_with(backend, |settings| {
        settings.public_rate_per_site = 5;
        settings.trusted_proxies = "127.0.0.1".parse().unwrap();
    })
    .await;
    let busy = create_site(&app).await;
    let quiet = create_site(&app).await;
    let send = |site: &Site, client: u8| {
        let body = json!({"site": site.key, "url": PAGE, "channel": "whatsapp"}).to_string();
        public_request(&app, "shares", Some(ORIGIN), body)
            .header("x-forwarded-for", format!("198.51.100.{client}"))
            .send()
    };
    let mut statuses = Vec::new();

    for client in 1..=5 {
        statuses.push(send(&busy, client).await.unwrap().status().as_u16());
    }
    let throttled = send(&busy, 6).await.unwrap();
    let other_site = send(&quiet, 7).await.unwrap();

    assert_eq!(statuses, [201; 5], "the burst allowance");
    assert_eq!(throttled.status(), 429);
    assert!(retry_after(&throttled).is_some(), "{:?}", throttled.headers());
    assert_eq!(
        header(&throttled, "access-control-allow-origin"),
        Some(ORIGIN),
        "the page may read why"
    );
    assert_eq!(other_site.status(), 201, "another site has its own allowance");
}

mod a_burst_from_one_address_gets_429_with_retry_after {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        a_burst_from_one_address_is_throttled_with_retry_after(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        a_burst_from_one_address_is_throttled_with_retry_after(Backend::Postgres).await;
    }
}

mod a_burst_on_one_site_gets_429_even_from_many_addresses {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        a_burst_on_one_site_is_throttled_whichever_addresses_it_comes_from(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        a_burst_on_one_site_is_throttled_whichever_addresses_it_comes_from(Backend::Postgres).await;
    }
}

/// Generated bodies (the properties behind `scripts/fuzz`'s `public_api` target, a few dozen
/// cases on every test run): whatever arrives, the answer is never a 5xx, and a refusal is the
/// documented JSON error.
async fn generated_bodies_never_get_a_server_error(backend: Backend) {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;

    let app = spawn_app_with(backend, |settings| settings.public_rate_per_ip = 10_000).await;
    let site = create_site(&app).await;
    let first = mint(&app, &site, PAGE, "email", None).await;
    let code = first["code"].as_str().expect("code").to_owned();

    let text = prop_oneof![
        Just(Value::from(site.key.clone())),
        Just(Value::from(PAGE)),
        Just(Value::from(code)),
        prop::sample::select(vec!["whatsapp", "address_bar", "Ab3dEf9xYz12", "signup", "a friend"])
            .prop_map(Value::from),
        "\\PC{0,30}".prop_map(Value::from),
    ];
    let value = prop_oneof![
        4 => text,
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(Value::from),
        1 => prop::collection::vec("[a-z]{0,5}", 0..3).prop_map(Value::from),
    ];
    let field = prop::sample::select(vec![
        "site", "url", "channel", "parent", "title", "reserve", "code", "token", "name", "value", "answer",
    ]);
    let body = prop_oneof![
        4 => prop::collection::btree_map(field, value, 0..8)
            .prop_map(|fields| Value::Object(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).to_string()),
        1 => "\\PC{0,40}",
    ];
    let endpoint = prop::sample::select(vec!["shares", "sent", "arrivals", "conversions", "heard"]);

    let mut runner = TestRunner::deterministic();
    for _ in 0..48 {
        let (path, body) = (endpoint.clone(), body.clone())
            .new_tree(&mut runner)
            .expect("a case")
            .current();
        let response = public_request(&app, path, Some(ORIGIN), body.clone())
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        let answer: Value = response.json().await.expect("every answer is JSON");
        assert!(status < 500, "{path} {body}: {status} {answer}");
        if status >= 400 {
            assert!(answer["error"]["code"].is_string(), "{path} {body}: {status} {answer}");
            assert!(
                answer["error"]["message"].is_string(),
                "{path} {body}: {status} {answer}"
            );
        }
    }
}

mod generated_bodies_never_get_a_server_error {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        generated_bodies_never_get_a_server_error(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        generated_bodies_never_get_a_server_error(Backend::Postgres).await;
    }
}
