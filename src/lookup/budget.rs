//! Click limits, decided at redirect time without the database.
//!
//! A link's count is its stored human clicks (read with the link) plus the clicks this instance
//! admitted that the visit writer has not stored yet. A click is admitted only while that sum is
//! under the limit, under one lock, so one instance never admits more than the limit however
//! many requests race. The writer settles each batch: the clicks it stored move from pending to
//! stored, and clicks of the link made before its limit was set (not pending here) are added too.
//!
//! Several instances sharing a PostgreSQL database each count their own clicks, and every second
//! read again the stored counts of the limited links clicked here in the last ten minutes
//! (`refresh`): together they may admit beyond the limit what the others admitted within that
//! second and a batch's flush, never more once the counts have met, and every click admitted
//! anywhere is counted in the stats.

use crate::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// The limit is reached: the click is refused and the link behaves as expired.
    UsedUp,
}

#[derive(Debug, Default)]
struct Tally {
    /// Clicks in the database, as last read or settled.
    stored: i64,
    /// Clicks admitted here, on their way to the database.
    pending: i64,
    last_click: Option<Instant>,
}

impl Tally {
    fn used(&self) -> i64 {
        self.stored + self.pending
    }
}

/// One tally per link with a click limit that this instance has looked up: a few dozen bytes
/// each, kept for the life of the process, since forgetting one with clicks still pending would
/// let it admit them again.
#[derive(Default)]
pub struct ClickBudget {
    links: Mutex<HashMap<i64, Tally>>,
}

/// Links clicked within this long have their stored counts read again by `refresh`.
const RECENT: Duration = Duration::from_secs(600);

impl ClickBudget {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Tally>> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A read of the link's stored clicks. Counts only grow: a read that began before a batch
    /// this instance already settled is older than what it knows, and changes nothing.
    pub fn seed(&self, link_id: i64, stored: i64) {
        let mut links = self.lock();
        let tally = links.entry(link_id).or_default();
        tally.stored = tally.stored.max(stored);
    }

    fn recently_clicked(&self) -> Vec<i64> {
        self.lock()
            .iter()
            .filter(|(_, t)| t.last_click.is_some_and(|at| at.elapsed() < RECENT))
            .map(|(&id, _)| id)
            .collect()
    }

    /// Where other instances count too: reads the stored counts of the links clicked here
    /// lately, every `every`, for as long as anything else holds the budget.
    pub async fn refresh(self: Arc<Self>, store: Arc<dyn Store>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while Arc::strong_count(&self) > 1 {
            tick.tick().await;
            for link_id in self.recently_clicked() {
                // A failed read leaves the count as it was: the next tick tries again.
                if let Ok(Some(stored)) = store.link_clicks(link_id).await {
                    self.seed(link_id, stored);
                }
            }
        }
    }

    /// Clicks counted against the link so far: stored and on their way.
    pub fn used(&self, link_id: i64) -> i64 {
        self.lock().get(&link_id).map_or(0, Tally::used)
    }

    pub fn is_used_up(&self, link_id: i64, max_clicks: i64) -> bool {
        self.used(link_id) >= max_clicks
    }

    /// Takes one click of the link's `max_clicks`, if one is left.
    pub fn admit(&self, link_id: i64, max_clicks: i64) -> Admission {
        let mut links = self.lock();
        let tally = links.entry(link_id).or_default();
        tally.last_click = Some(Instant::now());
        if tally.used() >= max_clicks {
            return Admission::UsedUp;
        }
        tally.pending += 1;
        Admission::Admitted
    }

    /// An admitted click that could not be queued: it never happened.
    pub fn refund(&self, link_id: i64) {
        if let Some(tally) = self.lock().get_mut(&link_id) {
            tally.pending = (tally.pending - 1).max(0);
        }
    }

    /// A batch of visits is stored, or lost for good: `clicks` of each link in it are now in the
    /// database (or never will be, yet were redirected: they still count against the limit).
    pub fn settle(&self, clicks: impl IntoIterator<Item = (i64, i64)>) {
        let mut links = self.lock();
        if links.is_empty() {
            return;
        }
        for (link_id, n) in clicks {
            if let Some(tally) = links.get_mut(&link_id) {
                tally.pending = (tally.pending - n).max(0);
                tally.stored += n;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_admits_exactly_its_clicks_counting_the_stored_ones() {
        let budget = ClickBudget::default();
        budget.seed(7, 1);
        let admitted: Vec<Admission> = (0..4).map(|_| budget.admit(7, 3)).collect();
        assert_eq!(
            admitted,
            [
                Admission::Admitted,
                Admission::Admitted,
                Admission::UsedUp,
                Admission::UsedUp
            ]
        );
        assert!(budget.is_used_up(7, 3));
        assert!(!budget.is_used_up(7, 4), "a raised limit has room again");
    }

    #[test]
    fn settling_moves_clicks_from_pending_to_stored_and_stale_reads_change_nothing() {
        let budget = ClickBudget::default();
        budget.seed(7, 0);
        budget.admit(7, 10);
        budget.admit(7, 10);
        budget.settle([(7, 2), (8, 5)]);
        assert_eq!(budget.used(7), 2);
        budget.seed(7, 0);
        assert_eq!(budget.used(7), 2, "a read from before the batch");
        budget.seed(7, 5);
        assert_eq!(budget.used(7), 5, "clicks another instance stored");
        assert_eq!(budget.used(8), 0, "links without a limit are not tracked");
    }

    #[test]
    fn clicks_from_before_the_limit_are_counted_when_their_batch_settles() {
        let budget = ClickBudget::default();
        budget.seed(7, 4);
        budget.admit(7, 10);
        // Two clicks queued before the limit was set, and the one admitted since.
        budget.settle([(7, 3)]);
        assert_eq!(budget.used(7), 7);
    }

    #[test]
    fn a_refunded_click_is_given_back() {
        let budget = ClickBudget::default();
        budget.seed(7, 0);
        assert_eq!(budget.admit(7, 1), Admission::Admitted);
        budget.refund(7);
        assert_eq!(budget.admit(7, 1), Admission::Admitted);
        assert_eq!(budget.admit(7, 1), Admission::UsedUp);
    }

    #[test]
    fn only_links_clicked_lately_are_read_again() {
        let budget = ClickBudget::default();
        budget.seed(7, 0);
        budget.seed(8, 0);
        budget.admit(8, 10);
        assert_eq!(budget.recently_clicked(), [8]);
    }
}
