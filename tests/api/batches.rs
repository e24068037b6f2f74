//! The visit writer's retries: a batch whose commit landed although its reply was lost is sent
//! again, and must not be stored twice.

use crate::helpers::*;
use crate::on_both_backends;
use sharetrail::clock::now_ms;
use sharetrail::ingest::VisitBatch;

on_both_backends! {
    async fn a_retried_visit_batch_is_stored_once(app) {
        let link_id = app.create_link("https://example.com/retry", None).await;
        let store = open_store(&app).await;
        let (share_id, _) = create_share_row(&app, store.as_ref(), link_id, "email").await;
        let click = |visitor| email_click(link_id, share_id, now_ms(), visitor);
        let batch = VisitBatch::new(vec![click(1), click(2), click(2)]);

        let first = store.write_visits(&batch).await.expect("first attempt");
        let retry = store.write_visits(&batch).await.expect("the retry succeeds");
        let next = VisitBatch::new(vec![click(3)]);
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
