//! Whether the database is answering, as each part that talks to it found: told in the log once
//! when a part starts failing and once when it recovers, never per request, and shown by
//! `/healthz`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What failed, in words an operator can act on (never the driver's message, which may name
/// hosts or users).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Part {
    /// Looking codes up for redirects that were not cached.
    Lookups,
    /// Storing visits: they wait in memory meanwhile.
    VisitWrites,
    /// Instances' change notifications (PostgreSQL's LISTEN).
    Notifications,
    /// Adding the share tallies mint batches parked to their links' figures (PostgreSQL).
    ShareTallies,
    /// The webhook dispatcher's reads and writes of the outbox.
    Webhooks,
    /// The health check's own query.
    Ping,
}

impl Part {
    pub fn describe(self) -> &'static str {
        match self {
            Part::Lookups => "looking up short codes that are not cached fails; cached ones keep redirecting",
            Part::VisitWrites => "storing visits fails; they wait in memory and are written when the database is back",
            Part::Notifications => {
                "change notifications from other instances are not arriving; cached redirects are re-checked when they do"
            }
            Part::ShareTallies => {
                "adding new shares to their links' figures fails; reads add them, and so will this once it works"
            }
            Part::Webhooks => {
                "sending webhooks fails; events wait in the outbox and are sent when the database is back"
            }
            Part::Ping => "the database does not answer",
        }
    }
}

/// One part's failure: since when.
struct Failure {
    since: Instant,
}

#[derive(Default)]
pub struct DatabaseHealth {
    /// Set while any part is failing: the common case, all well, costs one load.
    any: AtomicBool,
    failing: Mutex<BTreeMap<Part, Failure>>,
}

impl DatabaseHealth {
    /// `part` failed with `cause`. Logged when the part starts failing, not again until it
    /// has recovered.
    pub fn failed(&self, part: Part, cause: &str) {
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if failing.contains_key(&part) {
            return;
        }
        failing.insert(part, Failure { since: Instant::now() });
        self.any.store(true, Ordering::Release);
        tracing::warn!(cause, "database trouble: {}", part.describe());
    }

    /// `part` worked. Logged when it had been failing.
    pub fn answered(&self, part: Part) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let mut failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(failure) = failing.remove(&part) {
            tracing::info!(
                after_ms = failure.since.elapsed().as_millis() as u64,
                "database recovered: {:?} work again",
                part
            );
        }
        self.any.store(!failing.is_empty(), Ordering::Release);
    }

    pub fn is_failing(&self, part: Part) -> bool {
        self.any.load(Ordering::Acquire)
            && self
                .failing
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&part)
    }

    /// Every part failing now, and for how long.
    pub fn failures(&self) -> Vec<(Part, Duration)> {
        if !self.any.load(Ordering::Acquire) {
            return Vec::new();
        }
        let failing = self.failing.lock().unwrap_or_else(|e| e.into_inner());
        failing.iter().map(|(part, f)| (*part, f.since.elapsed())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_fails_once_per_spell_and_recovers() {
        let health = DatabaseHealth::default();
        assert!(health.failures().is_empty());
        health.failed(Part::VisitWrites, "connection refused");
        health.failed(Part::VisitWrites, "connection refused");
        health.failed(Part::Lookups, "pool timed out");
        let parts: Vec<Part> = health.failures().into_iter().map(|(p, _)| p).collect();
        assert_eq!(parts, [Part::Lookups, Part::VisitWrites]);
        assert!(health.is_failing(Part::Lookups));
        health.answered(Part::Lookups);
        health.answered(Part::VisitWrites);
        assert!(health.failures().is_empty());
        assert!(!health.is_failing(Part::Lookups));
    }
}
