//! The single batch writer and its shutdown.

use super::{Ingest, VisitRecord};
use crate::health::{DatabaseHealth, Part};
use crate::lookup::ShareLookup;
use crate::metrics::Metrics;
use crate::store::{Invalidation, ShareCounts, Store, VisitBatch};
use crate::telemetry::cause_chain;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Attempts at a batch that fails for a reason other than the database being away.
const WRITE_ATTEMPTS: u32 = 3;
/// Between attempts: growing by this much each time, up to the most.
const RETRY_WAIT: Duration = Duration::from_millis(100);
const MAX_RETRY_WAIT: Duration = Duration::from_secs(1);

/// When a batch parks its share counters instead of applying them (see `ShareCounts`).
#[derive(Debug, Clone, Copy)]
pub struct FoldPolicy {
    /// Smaller batches apply their share counters at once: they touch few shares, and they are
    /// what a writer that keeps up writes, so stats stay exact while traffic is moderate.
    pub park_from_visits: usize,
    /// Parked counters are applied at least this often while batches come, and this long after
    /// the last application when the writer falls idle: how far a share's counts may lag its
    /// link's under heavy traffic.
    pub fold_every: Duration,
}

impl Default for FoldPolicy {
    fn default() -> Self {
        FoldPolicy {
            park_from_visits: 5_000,
            fold_every: Duration::from_secs(2),
        }
    }
}

impl FoldPolicy {
    fn share_counts(&self, batch_len: usize, since_fold: Duration) -> ShareCounts {
        if batch_len >= self.park_from_visits && since_fold < self.fold_every {
            ShareCounts::Park
        } else {
            ShareCounts::Apply
        }
    }
}

pub struct IngestWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Writer {
    store: Arc<dyn Store>,
    lookup: Arc<ShareLookup>,
    metrics: Arc<Metrics>,
    health: Arc<DatabaseHealth>,
    batch_size: usize,
    linger: Duration,
    fold: FoldPolicy,
}

/// Whether share counters are parked in storage, and since when they have not been applied.
struct Parked {
    /// Counters may be parked: a batch of this writer parked some, or an attempt to apply them
    /// failed (at start, an earlier run that crashed may have left some).
    any: bool,
    last_applied: tokio::time::Instant,
}

#[allow(clippy::too_many_arguments)]
pub fn start(
    store: Arc<dyn Store>,
    lookup: Arc<ShareLookup>,
    metrics: Arc<Metrics>,
    health: Arc<DatabaseHealth>,
    capacity: usize,
    batch_size: usize,
    linger: Duration,
    fold: FoldPolicy,
) -> (Ingest, IngestWorker) {
    let (queue, rx) = mpsc::channel(capacity.max(1));
    let (stop, stopped) = watch::channel(false);
    let writer = Writer {
        store,
        lookup,
        metrics: metrics.clone(),
        health,
        batch_size: batch_size.max(1),
        linger,
        fold,
    };
    let task = tokio::spawn(writer.run(rx, stopped));
    (Ingest { queue, metrics }, IngestWorker { stop, task })
}

impl IngestWorker {
    /// Stops taking new batches, writes everything still queued, and waits at most `deadline`.
    ///
    /// Called after the HTTP server has stopped, so no redirect can enqueue any more: what is in
    /// the queue now is all there will be.
    pub async fn shutdown(self, deadline: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(deadline, self.task).await.is_err() {
            tracing::error!("visit writer did not drain within {deadline:?}; queued visits are lost");
        }
    }
}

impl Writer {
    async fn run(self, mut rx: mpsc::Receiver<VisitRecord>, mut stopped: watch::Receiver<bool>) {
        let mut buffer = Vec::with_capacity(self.batch_size);
        let mut parked = Parked {
            any: true,
            last_applied: tokio::time::Instant::now(),
        };
        // Counters an earlier run parked and could not apply (it crashed) are applied first.
        self.write(&[], &mut parked).await;
        let mut stopping = false;
        while !stopping {
            tokio::select! {
                // recv_many is cancel-safe: nothing taken off the queue is lost if stop wins.
                received = rx.recv_many(&mut buffer, self.batch_size) => {
                    if received == 0 {
                        break;
                    }
                }
                // Idle with counters parked: apply them rather than wait for the next visit.
                _ = tokio::time::sleep_until(parked.last_applied + self.fold.fold_every), if parked.any => {
                    self.write(&[], &mut parked).await;
                    continue;
                }
                _ = stopped.changed() => break,
            }
            // Let the batch fill for up to `linger`, asleep: waiting on the queue instead would make
            // every redirect wake this task, a cross-thread wake-up per visit on the hot path.
            if buffer.len() < self.batch_size {
                tokio::select! {
                    _ = tokio::time::sleep(self.linger) => {}
                    _ = stopped.changed() => stopping = true,
                }
                while buffer.len() < self.batch_size {
                    match rx.try_recv() {
                        Ok(visit) => buffer.push(visit),
                        Err(_) => break,
                    }
                }
            }
            // The buffer is kept for the next batch: a fresh one of this size is mapped anew and
            // faulted in page by page.
            self.write(&buffer, &mut parked).await;
            buffer.clear();
        }
        rx.close();
        let started = Instant::now();
        let mut drained = 0;
        while rx.recv_many(&mut buffer, self.batch_size).await > 0 {
            drained += buffer.len();
            self.write(&buffer, &mut parked).await;
            buffer.clear();
        }
        if parked.any {
            // Parked counters are safe in storage, but the next start would apply them late.
            self.write(&[], &mut parked).await;
        }
        tracing::info!(
            drained,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "visit queue drained"
        );
    }

    /// Writes `visits` (none: just applies parked share counters), retrying a failed attempt.
    async fn write(&self, visits: &[VisitRecord], parked: &mut Parked) {
        let mut batch = VisitBatch::new(visits);
        if self.fold.share_counts(batch.len(), parked.last_applied.elapsed()) == ShareCounts::Park {
            batch = batch.parking_share_counts();
        }
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.store.write_visits(&batch).await {
                Ok(outcome) => {
                    self.health.answered(Part::VisitWrites);
                    if outcome.already_stored {
                        // The commit of an earlier attempt landed although its reply did not.
                        tracing::info!(
                            visits = batch.len(),
                            "visit batch was already stored by an earlier attempt"
                        );
                    }
                    match batch.share_counts {
                        ShareCounts::Park => parked.any = true,
                        ShareCounts::Apply => {
                            parked.any = false;
                            parked.last_applied = tokio::time::Instant::now();
                        }
                    }
                    if batch.is_empty() {
                        return;
                    }
                    self.settle_clicks(&batch);
                    self.metrics.visits_written.inc_by(batch.len() as u64);
                    self.metrics.visit_batches.inc();
                    self.metrics
                        .batch_write_seconds
                        .observe(started.elapsed().as_secs_f64());
                    if !outcome.newly_inferred.is_empty() {
                        self.lookup.forget(&outcome.newly_inferred);
                        let change = Invalidation::Codes(outcome.newly_inferred);
                        if let Err(err) = self.store.announce_invalidation(&change).await {
                            tracing::warn!(error = %cause_chain(&err), "could not announce inferred channels");
                        }
                    }
                    return;
                }
                // The database is away, busy or full: the batch waits (and the queue fills
                // behind it) until it is back. Only a full queue loses visits, and counts them.
                Err(err) if err.is_transient() => {
                    self.health.failed(Part::VisitWrites, &cause_chain(&err));
                    let wait = (RETRY_WAIT * attempt).min(MAX_RETRY_WAIT);
                    tokio::time::sleep(wait).await;
                }
                Err(err) if attempt < WRITE_ATTEMPTS => {
                    tracing::warn!(attempt, error = %cause_chain(&err), "visit batch write failed");
                    tokio::time::sleep(RETRY_WAIT * attempt).await;
                }
                Err(err) => {
                    if batch.is_empty() {
                        // Only parked counters to apply: they are safe in storage until the next try.
                        tracing::warn!(error = %cause_chain(&err),
                            "could not apply parked share counts; trying again in {:?}", self.fold.fold_every);
                        parked.last_applied = tokio::time::Instant::now();
                        return;
                    }
                    // Not the database's absence but the batch itself: it would fail forever.
                    tracing::error!(lost = batch.len(), error = %cause_chain(&err),
                        "visit batch dropped after {WRITE_ATTEMPTS} attempts");
                    self.metrics.visits_dropped.inc_by(batch.len() as u64);
                    self.settle_clicks(&batch);
                    return;
                }
            }
        }
    }
}

impl Writer {
    /// Click limits count what was redirected: stored clicks, and lost ones too.
    fn settle_clicks(&self, batch: &VisitBatch) {
        let clicks = batch.rollups.links.iter().map(|(&link, counts)| (link, counts.clicks));
        self.lookup.settle_clicks(clicks.filter(|&(_, n)| n > 0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_batches_park_share_counts_until_they_are_due_and_small_ones_apply_them() {
        let policy = FoldPolicy {
            park_from_visits: 100,
            fold_every: Duration::from_secs(2),
        };
        let soon = Duration::from_millis(500);
        let due = Duration::from_secs(2);
        assert_eq!(policy.share_counts(100, soon), ShareCounts::Park);
        assert_eq!(policy.share_counts(99, soon), ShareCounts::Apply, "a small batch");
        assert_eq!(policy.share_counts(100, due), ShareCounts::Apply, "parked long enough");
        assert_eq!(policy.share_counts(0, soon), ShareCounts::Apply, "an idle fold");
    }
}
