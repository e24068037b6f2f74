//! The real binary, stopped with SIGTERM: nothing recorded before the signal may be lost.

use crate::helpers::*;
use crate::process::start_binary;
use std::time::Duration;

/// Batches may wait a minute to fill, so nothing is written before SIGTERM: only the drain on
/// shutdown can store the visits.
const HOLD_VISITS: [(&str, &str); 1] = [("SHARETRAIL_VISIT_FLUSH_MS", "60000")];

async fn visits_survive_a_sigterm(backend: Backend) {
    let db = TestDatabase::new(backend).await;
    let api_key = create_api_key(&db.url).await;
    let server = start_binary(&db, &api_key, &HOLD_VISITS);
    let link = server.app.create_link("https://example.com/", None).await;
    let code = server.app.share_code(link, "whatsapp").await;
    const CLICKS: u64 = 300;
    for _ in 0..CLICKS {
        assert_eq!(server.app.follow(&code, BROWSER_UA).await.status(), 302);
    }
    assert_eq!(
        server.app.metric("sharetrail_visits_written_total").await,
        0,
        "visits are still queued"
    );

    let took = server.terminate();

    assert!(took < Duration::from_secs(5), "shutdown took {took:?}");
    let restarted = start_binary(&db, &api_key, &[]);
    assert_eq!(restarted.app.stats(link).await["clicks"]["total"], CLICKS);
    restarted.terminate();
}

mod every_visit_recorded_before_sigterm_is_there_after_a_restart {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        visits_survive_a_sigterm(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        visits_survive_a_sigterm(Backend::Postgres).await;
    }
}
