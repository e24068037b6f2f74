//! The visit writer's retries: a batch whose commit landed although its reply was lost is sent
//! again, and must not be stored twice.

use crate::helpers::*;
use sharetrail::domain::code::Code;
use sharetrail::domain::visit::{DeviceClass, VisitKind, VisitorHash};
use sharetrail::ingest::{VisitBatch, VisitRecord};
use std::sync::Arc;

async fn a_batch_written_twice_is_stored_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let link_id = app.create_link("https://example.com/retry", None).await;
    let code = app.create_share(link_id, "email", None).await["code"]
        .as_str()
        .expect("code")
        .to_owned();
    let store = sharetrail::store::connect(&app.db.url, 1)
        .await
        .expect("open the store");
    let share = store
        .get_share(&Code::parse(&code).expect("a valid code"))
        .await
        .expect("read the share")
        .expect("the share exists");
    let click = |visitor: u8| VisitRecord {
        share_id: share.id,
        link_id,
        channel: Arc::from("email"),
        depth: 0,
        at: sharetrail::clock::now_ms(),
        kind: VisitKind::Click,
        app: None,
        visitor: VisitorHash::from_bytes([visitor; 16]),
        referrer_host: None,
        device: DeviceClass::Desktop,
        browser: None,
        os: None,
        country: None,
        infers_channel: false,
    };
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

mod a_retried_visit_batch_is_stored_once {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        a_batch_written_twice_is_stored_once(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        a_batch_written_twice_is_stored_once(Backend::Postgres).await;
    }
}
