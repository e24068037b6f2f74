//! The visit pipeline: redirects enqueue, one background writer stores.
//!
//! A redirect never waits for the database. It pushes a `VisitRecord` into a bounded queue and
//! answers; a single writer task drains the queue in batches, one transaction per batch. When the
//! queue is full the visit is dropped and counted: a slow database must never slow a redirect.

mod batch;
mod run;
mod writer;

pub use writer::{FoldPolicy, IngestWorker, start};

use crate::domain::app::App;
use crate::domain::visit::{Country, DeviceClass, Software, VisitKind, VisitorHash};
use crate::lookup::VisitTarget;
use crate::metrics::Metrics;
use std::sync::Arc;
use tokio::sync::mpsc;

/// One visit as the writer stores it. Never holds an IP address: only the salted visitor hash.
///
/// Kept small, since the queue's memory is what bounds how long a stalled database can be
/// waited out: the share is the lookup cache's own `Arc`, not a copy of its fields.
#[derive(Debug, Clone)]
pub struct VisitRecord {
    pub share: Arc<VisitTarget>,
    pub at: i64,
    pub kind: VisitKind,
    pub app: Option<App>,
    pub device: DeviceClass,
    pub visitor: VisitorHash,
    pub referrer_host: Option<Box<str>>,
    pub software: Option<Arc<Software>>,
    pub country: Option<Country>,
}

/// 64 bytes rather than the 152 of a record with the share's fields and its own strings: more
/// than twice the visits fit in the same queue memory.
const _: () = assert!(std::mem::size_of::<VisitRecord>() <= 64);

/// The redirect's handle on the queue. Cloned into every worker.
#[derive(Clone)]
pub struct Ingest {
    queue: mpsc::Sender<VisitRecord>,
    metrics: Arc<Metrics>,
}

impl Ingest {
    /// Never blocks: a full or closed queue drops the visit and counts it.
    pub fn record(&self, visit: VisitRecord) {
        self.try_record(visit);
    }

    /// Like `record`, and says whether the visit was queued: a click that counts against a
    /// limit is only redirected when it will be counted.
    pub fn try_record(&self, visit: VisitRecord) -> bool {
        match self.queue.try_send(visit) {
            Ok(()) => {
                self.metrics.visits_queued.inc();
                true
            }
            Err(_) => {
                self.metrics.visits_dropped.inc();
                false
            }
        }
    }
}
