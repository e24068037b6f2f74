//! The database goes away for ten seconds under load: codes already cached keep redirecting,
//! the visits wait in memory and are all stored when it is back, `/healthz` says what is wrong
//! meanwhile, and the service recovers on its own.

#[path = "../support/cluster.rs"]
mod cluster;

use crate::helpers::*;
use serde_json::Value;
use std::time::{Duration, Instant};

const OUTAGE: Duration = Duration::from_secs(10);
/// Three codes clicked 60 times a second in all, as on a busy poster campaign.
const CLICKS_PER_SECOND: u64 = 60;

async fn healthz(app: &TestApp) -> Value {
    let response = app.client.get(app.url("/healthz")).send().await.expect("healthz");
    assert_eq!(response.status(), 200, "the process serves throughout");
    response.json().await.expect("json")
}

/// Three cached codes of one link: (link, codes).
async fn three_cached_codes(app: &TestApp) -> (i64, Vec<String>) {
    let link = app.create_link("https://example.com/poster", None).await;
    let mut codes = Vec::new();
    for channel in ["qr", "email", "whatsapp"] {
        let code = app.share_code(link, channel).await;
        assert_eq!(app.follow(&code, BROWSER_UA).await.status(), 302);
        codes.push(code);
    }
    app.wait_for_visits(3).await;
    (link, codes)
}

/// Clicks the codes in turn for `outage`, `CLICKS_PER_SECOND`; every answer must be a 302.
/// Checks `/healthz` on the way and returns the clicks and the health seen last.
async fn click_through(app: &TestApp, codes: &[String], outage: Duration) -> (u64, Value) {
    let started = Instant::now();
    let mut clicks = 0u64;
    let mut health = Value::Null;
    while started.elapsed() < outage {
        let code = &codes[clicks as usize % codes.len()];
        let response = app.follow(code, BROWSER_UA).await;
        assert_eq!(response.status(), 302, "click {clicks} at {:?}", started.elapsed());
        clicks += 1;
        if clicks.is_multiple_of(CLICKS_PER_SECOND) {
            health = healthz(app).await;
        }
        let due = Duration::from_millis(clicks * 1000 / CLICKS_PER_SECOND);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            tokio::time::sleep(wait).await;
        }
    }
    (clicks, health)
}

/// The health seen during the outage named the failing writes, and once the database is back
/// every click of the outage is stored and none was dropped.
async fn assert_every_click_stored(app: &TestApp, link: i64, clicks: u64, during: &Value) {
    assert_eq!(during["status"], "degraded", "{during}");
    assert!(
        during["reasons"].to_string().contains("storing visits fails"),
        "{during}"
    );
    app.wait_for_visits(3 + clicks).await;
    assert_eq!(
        app.stats(link).await["clicks"]["total"],
        3 + clicks,
        "every click stored"
    );
    assert_eq!(app.metric("sharetrail_visits_dropped_total").await, 0);
}

async fn wait_for_health(app: &TestApp, status: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let health = healthz(app).await;
        if health["status"] == status {
            return health;
        }
        assert!(Instant::now() < deadline, "healthz never said {status}: {health}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn postgres_stopping_for_ten_seconds_loses_no_redirect_and_no_visit() {
    let cluster = cluster::Cluster::start();
    let app = spawn_app_on(&cluster.url(), |_| {}).await;
    let (link, codes) = three_cached_codes(&app).await;
    let misses = app.metric("sharetrail_cache_misses_total").await;

    cluster.stop();
    let (clicks, during) = click_through(&app, &codes, OUTAGE).await;
    cluster.resume();

    assert!(during["visits_waiting"].as_u64() > Some(0), "{during}");
    assert_every_click_stored(&app, link, clicks, &during).await;
    assert_eq!(
        app.metric("sharetrail_cache_misses_total").await,
        misses,
        "the outage emptied no cache entry"
    );
    let after = wait_for_health(&app, "ok").await;
    assert_eq!(after["visits_waiting"], 0, "{after}");
    // A share minted now redirects: the instance works again without a restart.
    let fresh = app.share_code(link, "sms").await;
    assert_eq!(app.follow(&fresh, BROWSER_UA).await.status(), 302);
}

#[tokio::test]
async fn a_locked_sqlite_file_for_ten_seconds_loses_no_redirect_and_no_visit() {
    let app = spawn_app(Backend::Sqlite).await;
    let (link, codes) = three_cached_codes(&app).await;

    // Another process holds the write lock: every write waits its 5 s and fails, again and again.
    let blocker = hold_the_write_lock(&app.db).await;
    let (clicks, during) = click_through(&app, &codes, OUTAGE).await;
    drop(blocker);

    assert_every_click_stored(&app, link, clicks, &during).await;
    wait_for_health(&app, "ok").await;
}

/// What an operator reads: each failing part once when it starts failing and once when it
/// recovers, however many requests met the outage.
async fn an_outage_is_logged_once_not_per_request(backend: Backend) {
    let cluster = (backend == Backend::Postgres).then(cluster::Cluster::start);
    let db = match &cluster {
        Some(cluster) => TestDatabase::elsewhere(&cluster.url()),
        None => TestDatabase::new(Backend::Sqlite).await,
    };
    let key = create_api_key(&db.url).await;
    let server = crate::process::start_binary(&db, &key, &[]);
    let (link, codes) = three_cached_codes(&server.app).await;
    // The shares are in the link's figures before the outage (a read adds them), so what is
    // logged is what the clicks met.
    server.app.stats(link).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = server.logged("WARN").len() + server.logged("ERROR").len();

    let mut blocker = None;
    match &cluster {
        Some(cluster) => cluster.stop(),
        None => blocker = Some(hold_the_write_lock(&db).await),
    }
    // Longer than SQLite's 5 s wait for a lock, so that writes do fail.
    let (clicks, _) = click_through(&server.app, &codes, Duration::from_secs(7)).await;
    match &cluster {
        Some(cluster) => cluster.resume(),
        None => drop(blocker),
    }
    wait_for_health(&server.app, "ok").await;
    server.app.wait_for_visits(3 + clicks).await;
    assert_eq!(server.app.stats(link).await["clicks"]["total"], 3 + clicks);

    let mut trouble = server.logged("WARN");
    trouble.extend(server.logged("ERROR"));
    let during = &trouble[before..];
    assert!(clicks >= 100, "{clicks} clicks met the outage");
    // At most once per part that talks to the database: lookups, visit writes, notifications,
    // share tallies and the health check's ping.
    assert!(
        (1..=5).contains(&during.len()),
        "{} warnings for {clicks} clicks: {during:#?}",
        during.len()
    );
    assert!(during.iter().all(|m| m.starts_with("database trouble")), "{during:#?}");
    let recovered = server.logged("INFO");
    assert!(
        recovered.iter().any(|m| m.starts_with("database recovered")),
        "{recovered:#?}"
    );
    server.terminate();
}

/// Another connection holds SQLite's write lock until the returned connection is dropped.
async fn hold_the_write_lock(db: &TestDatabase) -> sqlx::SqliteConnection {
    let options: sqlx::sqlite::SqliteConnectOptions = db.url.parse().expect("a SQLite URL");
    let mut blocker = sqlx::ConnectOptions::connect(&options)
        .await
        .expect("a second connection");
    sqlx::raw_sql("BEGIN IMMEDIATE")
        .execute(&mut blocker)
        .await
        .expect("the write lock");
    blocker
}

mod an_outage_is_logged_once_not_per_request {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        an_outage_is_logged_once_not_per_request(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        an_outage_is_logged_once_not_per_request(Backend::Postgres).await;
    }
}
