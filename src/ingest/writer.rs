//! The single batch writer and its shutdown.

use super::{Ingest, VisitBatch, VisitRecord};
use crate::error::cause_chain;
use crate::lookup::ShareLookup;
use crate::metrics::Metrics;
use crate::store::Store;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

const WRITE_ATTEMPTS: u32 = 3;

pub struct IngestWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

struct Writer {
    store: Arc<dyn Store>,
    lookup: Arc<ShareLookup>,
    metrics: Arc<Metrics>,
    batch_size: usize,
    linger: Duration,
}

pub fn start(
    store: Arc<dyn Store>,
    lookup: Arc<ShareLookup>,
    metrics: Arc<Metrics>,
    capacity: usize,
    batch_size: usize,
    linger: Duration,
) -> (Ingest, IngestWorker) {
    let (queue, rx) = mpsc::channel(capacity.max(1));
    let (stop, stopped) = watch::channel(false);
    let writer = Writer {
        store,
        lookup,
        metrics: metrics.clone(),
        batch_size: batch_size.max(1),
        linger,
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
        let mut stopping = false;
        while !stopping {
            tokio::select! {
                // recv_many is cancel-safe: nothing taken off the queue is lost if stop wins.
                received = rx.recv_many(&mut buffer, self.batch_size) => {
                    if received == 0 {
                        break;
                    }
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
            self.write(std::mem::replace(&mut buffer, Vec::with_capacity(self.batch_size)))
                .await;
        }
        rx.close();
        let started = Instant::now();
        let mut drained = 0;
        while rx.recv_many(&mut buffer, self.batch_size).await > 0 {
            drained += buffer.len();
            self.write(std::mem::take(&mut buffer)).await;
        }
        tracing::info!(
            drained,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "visit queue drained"
        );
    }

    async fn write(&self, visits: Vec<VisitRecord>) {
        let batch = VisitBatch::new(visits);
        let started = Instant::now();
        for attempt in 1..=WRITE_ATTEMPTS {
            match self.store.write_visits(&batch).await {
                Ok(outcome) => {
                    if outcome.already_stored {
                        // The commit of an earlier attempt landed although its reply did not.
                        tracing::info!(
                            visits = batch.len(),
                            "visit batch was already stored by an earlier attempt"
                        );
                    }
                    self.metrics.visits_written.inc_by(batch.len() as u64);
                    self.metrics.visit_batches.inc();
                    self.metrics
                        .batch_write_seconds
                        .observe(started.elapsed().as_secs_f64());
                    if !outcome.newly_inferred.is_empty() {
                        self.lookup.forget(&outcome.newly_inferred);
                        if let Err(err) = self.store.announce_invalidation(Some(&outcome.newly_inferred)).await {
                            tracing::warn!(error = %cause_chain(&err), "could not announce inferred channels");
                        }
                    }
                    return;
                }
                Err(err) => {
                    tracing::warn!(attempt, error = %cause_chain(&err), "visit batch write failed");
                    tokio::time::sleep(Duration::from_millis(100 * u64::from(attempt))).await;
                }
            }
        }
        tracing::error!(
            lost = batch.len(),
            "visit batch dropped after {WRITE_ATTEMPTS} attempts"
        );
        self.metrics.visits_dropped.inc_by(batch.len() as u64);
    }
}
