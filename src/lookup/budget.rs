//! Click limits, decided at redirect time without the database.
//!
//! A link's count is its stored human clicks (read with the link) plus the clicks this instance
//! admitted that the visit writer has not stored yet. A click is admitted only while that sum is
//! under the limit, under one lock, so one instance never admits more than the limit however
//! many requests race. The writer settles each batch: the clicks it stored move from pending to
//! stored, and clicks of the link made before its limit was set (not pending here) are added too.
//!
//! Several instances sharing a PostgreSQL database each count their own clicks and read the
//! stored count again at least every `recheck` while the link is clicked: together they may
//! admit what the others admitted within that time and a batch's flush beyond the limit, and
//! every click admitted anywhere is counted in the stats.

use std::collections::HashMap;
use std::sync::Mutex;
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
    checked: Option<Instant>,
    checking: bool,
}

impl Tally {
    fn used(&self) -> i64 {
        self.stored + self.pending
    }
}

/// One tally per link with a click limit that this instance has looked up: a few dozen bytes
/// each, kept for the life of the process, since forgetting one with clicks still pending would
/// let it admit them again.
pub struct ClickBudget {
    links: Mutex<HashMap<i64, Tally>>,
    recheck: Option<Duration>,
}

impl ClickBudget {
    /// `recheck`: how often the stored count is read again where other instances count too;
    /// `None` where this instance is the only one (SQLite).
    pub fn new(recheck: Option<Duration>) -> ClickBudget {
        ClickBudget {
            links: Mutex::new(HashMap::new()),
            recheck,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i64, Tally>> {
        self.links.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A read of the link's stored clicks. Counts only grow: a read that began before a batch
    /// this instance already settled is older than what it knows, and changes nothing.
    pub fn seed(&self, link_id: i64, stored: i64) {
        let mut links = self.lock();
        let tally = links.entry(link_id).or_default();
        tally.stored = tally.stored.max(stored);
        tally.checked = Some(Instant::now());
        tally.checking = false;
    }

    /// The recheck that `admit` asked for could not be made; the next click asks again.
    pub fn recheck_failed(&self, link_id: i64) {
        if let Some(tally) = self.lock().get_mut(&link_id) {
            tally.checking = false;
        }
    }

    /// Clicks counted against the link so far: stored and on their way.
    pub fn used(&self, link_id: i64) -> i64 {
        self.lock().get(&link_id).map_or(0, Tally::used)
    }

    pub fn is_used_up(&self, link_id: i64, max_clicks: i64) -> bool {
        self.used(link_id) >= max_clicks
    }

    /// Takes one click of the link's `max_clicks`, if one is left. The flag says the stored
    /// count is due to be read again (`seed`) by the caller, which this call has claimed.
    pub fn admit(&self, link_id: i64, max_clicks: i64) -> (Admission, bool) {
        let mut links = self.lock();
        let tally = links.entry(link_id).or_default();
        let recheck = match (self.recheck, tally.checked) {
            (Some(every), Some(at)) => !tally.checking && at.elapsed() >= every,
            (Some(_), None) => !tally.checking,
            (None, _) => false,
        };
        if recheck {
            tally.checking = true;
        }
        if tally.used() >= max_clicks {
            return (Admission::UsedUp, recheck);
        }
        tally.pending += 1;
        (Admission::Admitted, recheck)
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
        let budget = ClickBudget::new(None);
        budget.seed(7, 1);
        let admitted: Vec<Admission> = (0..4).map(|_| budget.admit(7, 3).0).collect();
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
        let budget = ClickBudget::new(None);
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
        let budget = ClickBudget::new(None);
        budget.seed(7, 4);
        budget.admit(7, 10);
        // Two clicks queued before the limit was set, and the one admitted since.
        budget.settle([(7, 3)]);
        assert_eq!(budget.used(7), 7);
    }

    #[test]
    fn a_refunded_click_is_given_back() {
        let budget = ClickBudget::new(None);
        budget.seed(7, 0);
        assert_eq!(budget.admit(7, 1).0, Admission::Admitted);
        budget.refund(7);
        assert_eq!(budget.admit(7, 1).0, Admission::Admitted);
        assert_eq!(budget.admit(7, 1).0, Admission::UsedUp);
    }

    #[test]
    fn where_others_count_too_the_stored_count_is_read_again_once_per_interval() {
        let budget = ClickBudget::new(Some(Duration::ZERO));
        budget.seed(7, 0);
        assert!(budget.admit(7, 10).1, "due, and claimed");
        assert!(!budget.admit(7, 10).1, "already being read");
        budget.seed(7, 3);
        assert!(budget.admit(7, 10).1);
        budget.recheck_failed(7);
        assert!(budget.admit(7, 10).1, "asked again after a failure");
        assert!(!ClickBudget::new(None).admit(7, 10).1, "one instance never reads again");
    }
}
