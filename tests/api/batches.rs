//! The visit writer's retries: a batch whose commit landed although its reply was lost is sent
//! again, and must not be stored twice.

use crate::helpers::*;
use crate::on_both_backends;
use sharetrail::clock::now_ms;
use sharetrail::domain::code::Code;
use sharetrail::ingest::{self, FoldPolicy};
use sharetrail::lookup::ShareLookup;
use sharetrail::metrics::Metrics;
use sharetrail::store::VisitBatch;
use std::sync::Arc;
use std::time::Duration;

on_both_backends! {
    async fn a_retried_visit_batch_is_stored_once(app) {
        let link_id = app.create_link("https://example.com/retry", None).await;
        let store = open_store(&app).await;
        let (share_id, _) = create_share_row(&app, store.as_ref(), link_id, "email").await;
        let click = |visitor| email_click(link_id, share_id, now_ms(), visitor);
        let batch = VisitBatch::new(&[click(1), click(2), click(2)]);

        let first = store.write_visits(&batch).await.expect("first attempt");
        let retry = store.write_visits(&batch).await.expect("the retry succeeds");
        let next = VisitBatch::new(&[click(3)]);
        let other = store.write_visits(&next).await.expect("a different batch");

        assert!(!first.already_stored, "the first attempt stores the batch");
        assert!(retry.already_stored, "the retry reports the batch as stored before");
        assert!(!other.already_stored, "another batch is not mistaken for the first");
        let stats = app.stats(link_id).await;
        assert_eq!(stats["clicks"]["total"], 4, "{stats}");
        assert_eq!(stats["unique_visitors"], 3, "{stats}");
        let visits = app.db.strings("SELECT CAST(COUNT(*) AS TEXT) FROM visits").await;
        assert_eq!(visits, [Some("4".to_owned())], "raw visits stored once each");
    }
}

/// Polls until `done` holds, for up to ten seconds.
async fn eventually(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !done().await {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

on_both_backends! {
    async fn parked_share_counts_are_applied_after_a_crash_when_idle_and_at_shutdown(app) {
        let link_id = app.create_link("https://example.com/parked", None).await;
        let store = open_store(&app).await;
        let (share_id, code) = create_share_row(&app, store.as_ref(), link_id, "email").await;
        let code = Code::parse(&code).expect("a valid code");
        let clicks_of_share = async || store.get_share(&code).await.expect("read").expect("exists").clicks;

        // The app's own writer applies leftovers once, when it starts (recording an empty batch):
        // after that, only the writer started below may apply what this test parks.
        eventually("the app's writer to start", async || {
            app.db.strings("SELECT CAST(COUNT(*) AS TEXT) FROM visit_batches").await != [Some("0".to_owned())]
        })
        .await;

        // A crash left one batch's counters parked: a writer applies them when it starts.
        let crashed = VisitBatch::new(&vec![email_click(link_id, share_id, now_ms(), 1); 3]).parking_share_counts();
        store.write_visits(&crashed).await.expect("park a batch");
        assert_eq!(clicks_of_share().await, 0, "parked, not applied");
        assert_eq!(app.stats(link_id).await["clicks"]["total"], 3, "the link's own counts are not parked");

        let metrics = Arc::new(Metrics::new());
        let lookup = Arc::new(
            ShareLookup::load(store.clone(), metrics.clone(), Default::default(), 100)
                .await
                .expect("load the lookup"),
        );
        let policy = FoldPolicy {
            park_from_visits: 10,
            fold_every: Duration::from_secs(3),
        };
        let (ingest, worker) = ingest::start(store.clone(), lookup, metrics.clone(), Default::default(), 1_000, 1_000, Duration::from_millis(50), policy);
        eventually("the crash's counts", async || clicks_of_share().await == 3).await;

        // A big batch parks its counters; the writer applies them once it has been idle a while.
        for _ in 0..20 {
            ingest.record(email_click(link_id, share_id, now_ms(), 2));
        }
        eventually("the batch to be written", async || metrics.visits_written.get() == 20).await;
        assert_eq!(clicks_of_share().await, 3, "the big batch parked its counts");
        assert_eq!(app.stats(link_id).await["clicks"]["total"], 23);
        eventually("the idle writer to apply them", async || clicks_of_share().await == 23).await;

        // Shutting down applies whatever is parked.
        for _ in 0..20 {
            ingest.record(email_click(link_id, share_id, now_ms(), 3));
        }
        eventually("the batch to be written", async || metrics.visits_written.get() == 40).await;
        assert_eq!(clicks_of_share().await, 23, "parked again");
        worker.shutdown(Duration::from_secs(5)).await;
        assert_eq!(clicks_of_share().await, 43, "applied at shutdown");
        let parked = app.db.strings("SELECT CAST(COUNT(*) AS TEXT) FROM pending_share_counts").await;
        assert_eq!(parked, [Some("0".to_owned())], "nothing left parked");
    }
}

on_both_backends! {
    async fn shares_reach_their_links_row_without_a_read_and_nothing_stays_parked(app) {
        let link_id = app.create_link("https://example.com/tallies", None).await;
        let root = app.share_code(link_id, "email").await;
        // Asked at once, so that the minter writes them in a few batches, each with a tally.
        let asked = (0..40).map(|i| {
            let channel = if i % 2 == 0 { "sms" } else { "slack" };
            app.create_share(link_id, channel, Some(root.as_str()))
        });
        futures_util::future::join_all(asked).await;

        // Not through the API, whose reads add parked tallies first: the row itself gets there.
        eventually("the link's own row to count every share", async || {
            app.db.strings("SELECT CAST(share_count AS TEXT) FROM links").await == [Some("41".to_owned())]
        })
        .await;
        let parked = app.db.strings("SELECT CAST(COUNT(*) AS TEXT) FROM pending_share_tallies").await;
        assert_eq!(parked, [Some("0".to_owned())]);
        let stats = app.stats(link_id).await;
        assert_eq!(stats["shares"]["total"], 41, "{stats}");
        assert_eq!(stats["shares"]["by_channel"]["sms"], 20, "{stats}");
        assert_eq!(stats["shares"]["by_channel"]["slack"], 20, "{stats}");
        assert_eq!(stats["cascade"]["max_depth"], 2, "{stats}");
    }
}
