//! What operators and first-time visitors see: health, metrics, the front page and 404 pages.

use crate::helpers::*;
use crate::on_both_backends;
use serde_json::Value;

/// Words that only an internal error, a stack trace or a storage detail would put in a page.
const INTERNAL_MARKERS: &[&str] = &[
    "sqlx",
    "sqlite",
    "postgres",
    "database",
    "panicked",
    "backtrace",
    "stack backtrace",
    "thread '",
    ".rs:",
    "src/",
    "actix",
    "tokio",
    "Error(",
    "error returned",
];

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(app.url(path)).send().await.expect("request")
}

fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

async fn metrics_text(app: &TestApp) -> String {
    let response = get(app, "/metrics").await;
    assert_eq!(response.status(), 200, "reading /metrics");
    response.text().await.expect("text")
}

/// The `sharetrail_http_requests_total` samples: each line with its labels and value.
fn request_counts(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|line| line.starts_with("sharetrail_http_requests_total{"))
        .collect()
}

/// The internal words a page body contains, ignoring case.
fn internal_markers_in(body: &str) -> Vec<&'static str> {
    let lower = body.to_lowercase();
    INTERNAL_MARKERS
        .iter()
        .copied()
        .filter(|marker| lower.contains(&marker.to_lowercase()))
        .collect()
}

on_both_backends! {
    async fn the_health_check_answers_ok(app) {
        let response = get(&app, "/healthz").await;

        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["status"], "ok", "{body}");
    }

    async fn metrics_expose_visit_cache_and_redirect_series_in_prometheus_text(app) {
        let response = get(&app, "/metrics").await;

        assert_eq!(response.status(), 200);
        let content_type = content_type(&response);
        assert!(
            content_type.starts_with("text/plain") || content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        let text = response.text().await.expect("text");
        for series in [
            "sharetrail_visits_queued_total",
            "sharetrail_visits_written_total",
            "sharetrail_visits_dropped_total",
            "sharetrail_cache_hits_total",
            "sharetrail_cache_misses_total",
            "sharetrail_redirect_seconds_bucket",
        ] {
            assert!(text.lines().any(|line| line.starts_with(series)), "no {series} in\n{text}");
        }
    }

    async fn a_redirect_is_counted_under_its_route_pattern_and_never_under_its_code(app) {
        let link = app.create_link("https://example.com/", None).await;
        let code = app.create_share(link, "email", None).await["code"].as_str().expect("code").to_owned();
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);

        let text = metrics_text(&app).await;

        let counted = request_counts(&text);
        assert!(
            counted.iter().any(|line| line.contains(r#"route="/{code}""#) && line.contains(r#"status="302""#)),
            "no 302 counted under route=\"/{{code}}\" in {counted:#?}"
        );
        assert!(!text.contains(&code), "the raw code {code} appears in the metrics:\n{text}");
    }

    async fn an_api_call_is_counted_under_its_own_route_pattern_and_a_redirect_never_is(app) {
        let link = app.create_link("https://example.com/", None).await;
        assert_eq!(app.get_api(&format!("/api/v1/links/{link}")).await.status(), 200);
        assert_eq!(get(&app, "/healthz").await.status(), 200);

        let text = metrics_text(&app).await;

        let counted = request_counts(&text);
        for route in [r#"route="/api/v1/links/{id}""#, r#"route="/healthz""#] {
            assert!(
                counted.iter().any(|line| line.contains(route) && line.contains(r#"status="200""#)),
                "no 200 counted under {route} in {counted:#?}"
            );
        }
        assert!(
            !counted.iter().any(|line| line.contains(r#"route="/{code}""#)),
            "nothing was redirected, yet {counted:#?} counts a redirect"
        );
    }

    async fn pages_at_the_root_are_never_taken_for_short_codes(app) {
        // Redirects are answered before routing; these names could be codes but are pages.
        for (path, content) in [("/healthz", "application/json"), ("/metrics", "application/openmetrics-text"), ("/demo", "text/html")] {
            let response = get(&app, path).await;
            assert_eq!(response.status(), 200, "{path}");
            assert!(content_type(&response).starts_with(content), "{path}: {}", content_type(&response));
        }
        let web_ui = app.client.get(app.url("/app")).send().await.expect("request");
        assert_eq!(web_ui.status(), 303, "/app sends a stranger to sign in");
        assert!(location(web_ui.headers()).contains("/app/"), "{:?}", web_ui.headers());
    }

    async fn the_front_page_is_an_html_page(app) {
        let response = get(&app, "/").await;

        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with("text/html"), "{}", content_type(&response));
        let body = response.text().await.expect("body");
        assert!(body.contains("<html"), "{body}");
    }

    async fn the_icon_is_served_where_browsers_ask_and_where_the_pages_name_it(app) {
        for path in ["/favicon.ico", "/static/favicon.svg"] {
            let response = get(&app, path).await;

            assert_eq!(response.status(), 200, "{path}");
            assert_eq!(content_type(&response), "image/svg+xml", "{path}");
            assert!(response.text().await.expect("body").starts_with("<svg"), "{path}");
        }
        let home = get(&app, "/").await.text().await.expect("body");
        assert!(home.contains(r#"<link rel="icon" href="/static/favicon.svg""#), "{home}");
    }

    async fn the_stylesheet_is_served_as_css(app) {
        let response = get(&app, "/static/sharetrail.css").await;

        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with("text/css"), "{}", content_type(&response));
        assert!(!response.text().await.expect("body").is_empty());
    }

    async fn an_unknown_path_of_several_segments_is_a_404_html_page(app) {
        let response = get(&app, "/a/b/Qx7unknownSegment").await;

        assert_eq!(response.status(), 404);
        assert!(content_type(&response).starts_with("text/html"), "{}", content_type(&response));
        let body = response.text().await.expect("body");
        assert!(body.contains("<html"), "{body}");
        assert_eq!(internal_markers_in(&body), Vec::<&str>::new(), "{body}");
        assert!(!body.contains("Qx7unknownSegment"), "the page echoes the path: {body}");
    }

    async fn a_404_for_a_short_code_never_leaks_internals(app) {
        let unknown = get(&app, "/Zz99Zz99").await;
        let malformed = get(&app, "/%3Cscript%3Ealert(1)%3C%2Fscript%3E").await;

        assert_eq!(unknown.status(), 404);
        assert_eq!(malformed.status(), 404);
        assert!(unknown.headers().get("server").is_none(), "{:?}", unknown.headers());
        assert!(malformed.headers().get("server").is_none(), "{:?}", malformed.headers());
        let unknown = unknown.text().await.expect("body");
        let malformed = malformed.text().await.expect("body");
        assert_eq!(internal_markers_in(&unknown), Vec::<&str>::new(), "{unknown}");
        assert_eq!(internal_markers_in(&malformed), Vec::<&str>::new(), "{malformed}");
        assert!(!unknown.contains("Zz99Zz99"), "the page echoes the code: {unknown}");
        assert!(echoes_of_the_path(&malformed).is_empty(), "the page echoes the path: {malformed}");
    }
}

/// The forms in which a page could echo `/%3Cscript%3Ealert(1)%3C%2Fscript%3E`: as sent,
/// decoded, or decoded and HTML-escaped. A page that echoes none of them has not echoed the
/// path, whether or not the echo would have been safe.
fn echoes_of_the_path(body: &str) -> Vec<&'static str> {
    let lower = body.to_lowercase();
    ["alert(1)", "%3cscript", "<script>alert", "&lt;script", "script%3e"]
        .into_iter()
        .filter(|form| lower.contains(form))
        .collect()
}

async fn site_count(app: &TestApp) -> usize {
    let sites: serde_json::Value = app.get_api("/api/v1/sites").await.json().await.expect("json");
    sites.as_array().or(sites["sites"].as_array()).map_or(0, Vec::len)
}

#[tokio::test]
async fn the_demo_page_changes_nothing_and_can_be_switched_off() {
    let on = spawn_app(Backend::Sqlite).await;
    let made = site_count(&on).await;
    assert_eq!(made, 1, "the demo's site, made at start on a loopback address");
    for _ in 0..2 {
        assert_eq!(get(&on, "/demo").await.status(), 200);
    }
    assert_eq!(site_count(&on).await, made, "reading the page made nothing");

    let off = spawn_app_with(Backend::Sqlite, |s| s.demo = sharetrail::config::DemoMode::Off).await;
    assert_eq!(site_count(&off).await, 0, "no demo site");
    for path in ["/demo", "/demo.js"] {
        assert_eq!(get(&off, path).await.status(), 404, "{path}");
    }
}

#[tokio::test]
async fn metrics_can_ask_for_a_bearer_token() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.metrics_token = Some("scrape-me-7Hq2".into())).await;

    let anonymous = get(&app, "/metrics").await;
    let wrong = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    let right = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-me-7Hq2")
        .send()
        .await
        .unwrap();

    assert_eq!(anonymous.status(), 401);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    assert_eq!(wrong.status(), 401);
    assert_eq!(right.status(), 200);
    assert!(right.text().await.unwrap().contains("sharetrail_http_requests"));
}
