//! What the real binary logs about a request: each is answered in a span with its id, method,
//! route pattern, status and latency, and a server error names the id it was logged under.

use crate::helpers::*;
use crate::process::{RunningBinary, start_binary};
use serde_json::Value;
use std::time::{Duration, Instant};

/// The log lines written under the request `id`, waiting a little for the server's output.
async fn lines_of(server: &RunningBinary, id: &str, wanted: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let lines: Vec<Value> = server
            .log_entries()
            .into_iter()
            .filter(|entry| entry["span"]["request_id"] == id)
            .collect();
        if wanted(&lines) || Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The access line (`sharetrail::requests` at debug) of the request `id`.
fn answered(lines: &[Value]) -> Option<&Value> {
    lines.iter().find(|entry| entry["target"] == "sharetrail::requests")
}

#[tokio::test]
async fn a_server_error_is_logged_under_the_request_id_it_answers_with() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let key = create_api_key(&db.url).await;
    let server = start_binary(&db, &key, &[("SHARETRAIL_LOG", "info,sharetrail::requests=debug")]);
    let app = &server.app;
    let link = app.create_link("https://example.com/", None).await;
    // A table the stats read goes missing under the running server: its next stats are a 500.
    let pool = sqlx::SqlitePool::connect(&db.url).await.expect("connect");
    sqlx::raw_sql("ALTER TABLE self_reports RENAME TO self_reports_gone")
        .execute(&pool)
        .await
        .expect("rename");

    let failed = app.get_api(&format!("/api/v1/links/{link}/stats")).await;

    assert_eq!(failed.status(), 500);
    let id = failed
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a server error names its request")
        .to_owned();
    let lines = lines_of(&server, &id, |lines| {
        answered(lines).is_some() && lines.iter().any(|entry| entry["level"] == "ERROR")
    })
    .await;
    let error = lines
        .iter()
        .find(|entry| entry["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no error line under request {id}: {:#?}", server.log_entries()));
    assert_eq!(error["fields"]["message"], "request failed", "{error}");
    assert!(
        error["fields"]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("self_reports"),
        "{error}"
    );
    let access = answered(&lines).unwrap_or_else(|| panic!("no access line for {id}: {lines:#?}"));
    assert_eq!(access["span"]["method"], "GET", "{access}");
    assert_eq!(access["span"]["route"], "/api/v1/links/{id}/stats", "{access}");
    assert_eq!(access["span"]["status"], 500, "{access}");
    assert!(access["span"]["latency_us"].is_u64(), "{access}");
}

#[tokio::test]
async fn a_redirect_is_logged_under_its_route_pattern_outside_any_request_span() {
    let db = TestDatabase::new(Backend::Sqlite).await;
    let key = create_api_key(&db.url).await;
    let server = start_binary(&db, &key, &[("SHARETRAIL_LOG", "info,sharetrail::requests=debug")]);
    let app = &server.app;
    let link = app.create_link("https://example.com/", None).await;
    let code = app.share_code(link, "email").await;

    let redirect = app
        .client
        .get(app.url(&format!("/{code}")))
        .send()
        .await
        .expect("request");
    let unknown = app.client.get(app.url("/Zz99Zz99")).send().await.expect("request");

    assert_eq!(redirect.status(), 302);
    assert_eq!(unknown.status(), 404);
    for response in [&redirect, &unknown] {
        assert!(
            response.headers().get("x-request-id").is_none(),
            "{:?}",
            response.headers()
        );
    }
    // A redirect is answered before any request span (the hot path): its access line carries
    // the route pattern, never the code, and no request id.
    let deadline = Instant::now() + Duration::from_secs(10);
    let redirects = loop {
        let redirects: Vec<Value> = server
            .log_entries()
            .into_iter()
            .filter(|entry| entry["target"] == "sharetrail::requests" && entry["fields"]["route"] == "/{code}")
            .collect();
        if redirects.len() >= 2 || Instant::now() > deadline {
            break redirects;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let statuses: Vec<&Value> = redirects.iter().map(|entry| &entry["fields"]["status"]).collect();
    assert_eq!(statuses, [302, 404], "{redirects:#?}");
    for entry in &redirects {
        assert_eq!(entry["fields"]["method"], "GET", "{entry}");
        assert!(entry["fields"]["latency_us"].is_u64(), "{entry}");
        assert!(entry["span"]["request_id"].is_null(), "{entry}");
    }
    let logged = server.log_entries().iter().map(Value::to_string).collect::<String>();
    assert!(!logged.contains(&code), "a short code is never a label: {logged}");
}
