//! The visit export pages through a scope's raw visits by id: every visit in the range once, in
//! the order it was stored, whatever the page size and however links' visits interleave.

use crate::helpers::*;
use crate::on_both_backends;
use sharetrail::store::{Scope, VisitBatch};

on_both_backends! {
    async fn the_visit_export_pages_by_id(app) {
        let store = open_store(&app).await;
        let mut shares = Vec::new();
        for (url, campaign) in [("https://example.com/a", "spring"), ("https://example.com/b", "autumn")] {
            let link_id = app.create_link(url, Some(campaign)).await;
            let (share_id, _) = create_share_row(&app, store.as_ref(), link_id, "email").await;
            shares.push((link_id, share_id));
        }
        // Two batches of the two links' visits interleaved, at times 1_000..=1_013; the range
        // below takes 1_002..1_012.
        let mut at = 1_000;
        for _ in 0..2 {
            let mut visits = Vec::new();
            for _ in 0..7 {
                let (link_id, share_id) = shares[(at % 2) as usize];
                visits.push(email_click(link_id, share_id, at, 7));
                at += 1;
            }
            store.write_visits(&VisitBatch::new(&visits)).await.expect("write a batch");
        }
        let (link_a, _) = shares[0];

        let mut seen = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .export_visits(&Scope::Link(link_a), 1_002, 1_012, after, 2)
                .await
                .expect("a page of the export");
            let Some(last) = page.last() else { break };
            after = last.id;
            assert!(page.len() <= 2, "a page holds at most the limit: {page:?}");
            seen.extend(page.into_iter().map(|row| (row.id, row.link_id, row.at)));
        }

        let times: Vec<i64> = seen.iter().map(|&(_, _, at)| at).collect();
        assert_eq!(times, [1_002, 1_004, 1_006, 1_008, 1_010], "link A's visits in the range, once each");
        assert!(seen.iter().all(|&(_, link, _)| link == link_a), "only link A: {seen:?}");
        assert!(seen.windows(2).all(|pair| pair[0].0 < pair[1].0), "in id order: {seen:?}");

        let campaign = store
            .export_visits(&Scope::Campaign("autumn".into()), 0, i64::MAX, 0, 100)
            .await
            .expect("the campaign's export");
        let times: Vec<i64> = campaign.iter().map(|row| row.at).collect();
        assert_eq!(times, [1_001, 1_003, 1_005, 1_007, 1_009, 1_011, 1_013], "every visit of link B");
    }
}
