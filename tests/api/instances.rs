//! Three `sharetrail serve` processes on one PostgreSQL schema, with no balancer in front: the
//! test talks to each. They must answer as one service.

use crate::helpers::*;
use crate::process::{RunningBinary, start_binary};
use serde_json::json;
use sharetrail::store::{Invalidation, Notice};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Follows `code` on every instance `times` times each; every answer must be `status`.
async fn follow_on_all(instances: &[RunningBinary], code: &str, times: u64, status: u16) -> u64 {
    for instance in instances {
        for _ in 0..times {
            assert_eq!(
                instance.app.follow(code, BROWSER_UA).await.status(),
                status,
                "{code} on {}",
                instance.app.address
            );
        }
    }
    times * instances.len() as u64
}

async fn wait_for_clicks(app: &TestApp, link: i64, clicks: u64) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = app.stats(link).await["clicks"]["total"].as_u64().unwrap_or(0);
        if seen == clicks {
            return;
        }
        assert!(
            seen < clicks,
            "{seen} clicks stored for {clicks} made: a visit counted twice"
        );
        assert!(Instant::now() < deadline, "{seen} of {clicks} clicks stored");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn three_instances_on_one_postgres_schema_answer_as_one() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let key = create_api_key(&db.url).await;
    let mut instances: Vec<RunningBinary> = (0..3).map(|_| start_binary(&db, &key, &[])).collect();
    let link = instances[0].app.create_link("https://example.com/launch", None).await;
    let mut clicks = 0;

    // A share minted on one redirects on all at once: no wait between the 201 and the clicks.
    for (minter, channel) in [(0, "whatsapp"), (1, "email"), (2, "sms")] {
        let code = instances[minter].app.share_code(link, channel).await;
        clicks += follow_on_all(&instances, &code, 5, 302).await;
    }
    let slug_share = instances[1]
        .app
        .post_json(
            "/api/v1/shares",
            &json!({"link_id": link, "channel": "qr", "slug": "Poster-Hall-B"}),
        )
        .await;
    let slug = slug_share.json::<serde_json::Value>().await.unwrap()["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    clicks += follow_on_all(&instances, &slug, 3, 302).await;
    clicks += follow_on_all(&instances, "poster-hall-b", 1, 302).await;

    // Every visit on every instance is counted once.
    wait_for_clicks(&instances[2].app, link, clicks).await;
    for instance in &instances {
        assert_eq!(instance.app.stats(link).await["clicks"]["total"], clicks);
    }

    // A link disabled through one answers 410 on all within a second.
    let disabled = Instant::now();
    let response = instances[1]
        .app
        .client
        .patch(instances[1].app.url(&format!("/api/v1/links/{link}")))
        .bearer_auth(&key)
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    for instance in &instances {
        while instance.app.follow(&slug, BROWSER_UA).await.status() != 410 {
            // A redirect answered before the news arrived is a click like any other.
            clicks += 1;
            assert!(
                disabled.elapsed() < Duration::from_secs(1),
                "{} still redirects a disabled link",
                instance.app.address
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    // A restarted instance catches up with what changed while it was away, and lost none of
    // the visits it had answered.
    let another = instances[0].app.create_link("https://example.com/after", None).await;
    let before = instances[2].app.share_code(another, "slack").await;
    let mut after_clicks = follow_on_all(&instances[2..], &before, 4, 302).await;
    let stopped = instances.pop().expect("three");
    stopped.terminate();
    let while_away = instances[0].app.share_code(another, "email").await;
    after_clicks += follow_on_all(&instances, &while_away, 2, 302).await;
    instances.push(start_binary(&db, &key, &[]));
    after_clicks += follow_on_all(&instances, &while_away, 2, 302).await;
    after_clicks += follow_on_all(&instances, &before, 1, 302).await;
    follow_on_all(&instances, &slug, 1, 410).await;
    wait_for_clicks(&instances[2].app, another, after_clicks).await;
    wait_for_clicks(&instances[0].app, link, clicks).await;

    for instance in instances {
        instance.terminate();
    }
}

/// What `store` hears from other instances, as it arrives.
async fn listening(store: &dyn sharetrail::store::Store) -> Arc<Mutex<Vec<Invalidation>>> {
    let heard = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&heard);
    store
        .listen_for_invalidations(Arc::new(move |notice| {
            if let Notice::Changed(change) = notice {
                sink.lock().unwrap().push(change);
            }
        }))
        .await
        .expect("listen");
    heard
}

/// Tests run in parallel, each on a schema of its own, and a staging schema may sit beside
/// production's: only instances of the same schema hear each other.
#[tokio::test]
async fn instances_of_another_schema_hear_nothing() {
    let (ours, theirs) = (
        TestDatabase::new(Backend::Postgres).await,
        TestDatabase::new(Backend::Postgres).await,
    );
    let connect = async |db: &TestDatabase| {
        let store = sharetrail::store::connect(&db.url, 2).await.expect("connect");
        store.migrate().await.expect("migrate");
        store
    };
    let (sender, neighbour, stranger) = (connect(&ours).await, connect(&ours).await, connect(&theirs).await);
    let (to_neighbour, to_stranger) = (listening(neighbour.as_ref()).await, listening(stranger.as_ref()).await);
    let to_sender = listening(sender.as_ref()).await;

    let change = Invalidation::Codes(vec!["Poster-Hall-B".to_owned()]);
    sender.announce_invalidation(&change).await.expect("notify");

    let deadline = Instant::now() + Duration::from_secs(5);
    while to_neighbour.lock().unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the same schema's instance never heard the change"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(*to_neighbour.lock().unwrap(), [change]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        to_stranger.lock().unwrap().is_empty(),
        "another schema's instance heard it"
    );
    assert!(
        to_sender.lock().unwrap().is_empty(),
        "the sender applied it before sending"
    );
}

/// With the notification feed down, catching up fails after one wait, not one wait per miss
/// queued behind it: a scan of unknown codes must not pile up seconds.
#[tokio::test]
async fn misses_do_not_queue_behind_a_feed_that_is_down() {
    let db = TestDatabase::new(Backend::Postgres).await;
    let store = sharetrail::store::connect(&db.url, 4).await.expect("connect");
    store.migrate().await.expect("migrate");
    // Nothing listens: no marker ever comes back.
    let started = Instant::now();
    let waits = (0..5).map(|_| store.catch_up_with_other_instances());
    let outcomes = futures_util::future::join_all(waits).await;
    assert!(outcomes.iter().all(Result::is_err), "nobody heard a marker");
    let took = started.elapsed();
    assert!(took < Duration::from_millis(2_500), "five misses took {took:?}");
}
