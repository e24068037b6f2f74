//! `kill -9` under load, on both backends: every link and share that was answered with a 201
//! is there after the restart, the visits lost are at most those answered in the last batch
//! window before the kill, and the rollups agree with the raw visits.
//!
//! Run with `--no-capture` to see the measured loss; docs/OPERATIONS.md records it.

use crate::helpers::*;
use crate::process::start_binary;
use serde_json::Value;
use std::time::{Duration, Instant};

const LOAD: Duration = Duration::from_secs(2);
const CLICKERS: usize = 6;
/// The default `SHARETRAIL_VISIT_FLUSH_MS`: a visit waits at most this long for its batch.
const BATCH_WINDOW: Duration = Duration::from_millis(200);

/// Mints links and shares until the server is gone; returns what was acknowledged.
async fn mint_until_killed(app: TestApp) -> Vec<(i64, String)> {
    let mut acknowledged = Vec::new();
    loop {
        let Ok(response) = app
            .client
            .post(app.url("/api/v1/links"))
            .bearer_auth(&app.api_key)
            .json(&serde_json::json!({"url": "https://example.com/crash"}))
            .send()
            .await
        else {
            return acknowledged;
        };
        let Ok(link) = response.json::<Value>().await else {
            return acknowledged;
        };
        let link = link["id"].as_i64().expect("a 201 with an id");
        let Ok(response) = app
            .client
            .post(app.url("/api/v1/shares"))
            .bearer_auth(&app.api_key)
            .json(&serde_json::json!({"link_id": link, "channel": "email"}))
            .send()
            .await
        else {
            return acknowledged;
        };
        let Ok(share) = response.json::<Value>().await else {
            return acknowledged;
        };
        acknowledged.push((link, share["code"].as_str().expect("a code").to_owned()));
    }
}

/// Clicks `code` until the server is gone; returns when each redirect was answered.
async fn click_until_killed(app: TestApp, code: String) -> Vec<Instant> {
    let mut answered = Vec::new();
    while let Ok(response) = app
        .client
        .get(app.url(&format!("/{code}")))
        .header("user-agent", BROWSER_UA)
        .send()
        .await
    {
        assert_eq!(response.status(), 302);
        answered.push(Instant::now());
    }
    answered
}

async fn count(db: &TestDatabase, sql: &'static str) -> u64 {
    db.strings(sql).await[0]
        .as_deref()
        .expect("a count")
        .parse()
        .expect("a number")
}

async fn kill_under_load(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let key = create_api_key(&db.url).await;
    let server = start_binary(&db, &key, &[]);
    let link = server.app.create_link("https://example.com/poster", None).await;
    let mut codes = Vec::new();
    for channel in ["whatsapp", "email", "sms"] {
        codes.push(server.app.share_code(link, channel).await);
    }
    let client_of = || TestApp::client_of(server.app.address.clone(), &key, db.shared());
    let minter = tokio::spawn(mint_until_killed(client_of()));
    let clickers: Vec<_> = (0..CLICKERS)
        .map(|i| tokio::spawn(click_until_killed(client_of(), codes[i % codes.len()].clone())))
        .collect();
    tokio::time::sleep(LOAD).await;

    let killed_at = Instant::now();
    server.kill();

    let minted = minter.await.unwrap();
    let mut answered: Vec<Instant> = Vec::new();
    for clicker in clickers {
        answered.extend(clicker.await.unwrap());
    }
    answered.sort();
    let restarted = start_binary(&db, &key, &[]);
    let app = &restarted.app;

    // The rollups agree with the raw visits, and with the shares' own counters.
    let raw = count(&db, "SELECT CAST(COUNT(*) AS TEXT) FROM visits").await;
    let stored = app.stats(link).await["clicks"]["total"].as_u64().unwrap();
    assert_eq!(stored, raw, "the link's rollup equals its raw visits");
    let mut by_share = 0;
    for code in &codes {
        let share = app.get_api(&format!("/api/v1/shares/{code}")).await;
        by_share += share.json::<Value>().await.unwrap()["clicks"].as_u64().unwrap();
    }
    assert_eq!(by_share, raw, "the shares' counters equal the raw visits");

    // Visits lost: at most those answered within a batch window (and its write) of the kill.
    let lost = answered.len() as u64 - stored;
    let late = answered
        .iter()
        .filter(|at| killed_at.duration_since(**at) <= 2 * BATCH_WINDOW)
        .count() as u64;
    // Were the lost ones the latest, their oldest was answered this long before the kill.
    let oldest_lost = answered
        .len()
        .checked_sub(lost as usize)
        .and_then(|first| answered.get(first))
        .map_or(Duration::ZERO, |at| killed_at.duration_since(*at));
    eprintln!(
        "{backend:?}: {} redirects answered in {LOAD:?}, {stored} stored, {lost} lost \
         (the last {oldest_lost:?} before the kill); {late} answered in the last {:?}; \
         {} links with a share minted, none lost",
        answered.len(),
        2 * BATCH_WINDOW,
        minted.len()
    );
    assert!(stored <= answered.len() as u64, "no visit made up");
    assert!(
        lost <= late,
        "{lost} visits lost, more than the {late} of the last batch window"
    );

    // No link or share that was answered with a 201 is lost.
    assert!(minted.len() > 10, "the minting went on under load: {}", minted.len());
    for (link, code) in &minted {
        assert_eq!(app.get_api(&format!("/api/v1/links/{link}")).await.status(), 200);
        assert_eq!(app.follow(code, BROWSER_UA).await.status(), 302, "{code}");
    }
    restarted.terminate();
}

mod kill_9_under_load_loses_no_link_or_share_and_at_most_a_batch_window_of_visits {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        kill_under_load(Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        kill_under_load(Backend::Postgres).await;
    }
}
