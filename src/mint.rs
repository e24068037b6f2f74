//! Minting: every request to mint a share, reserve a code or send a reservation joins the next
//! batch, and one task writes each batch in one transaction.
//!
//! A viral page reserves a code on every hover, thousands a second. Written one transaction
//! each, a share costs a dozen statements and a commit; the writer here takes everything queued
//! while the last batch was being written (group commit), so under load a share costs a fraction
//! of a statement, and an idle server still writes a lone request at once.

use crate::domain::code::Code;
use crate::health::{DatabaseHealth, Part};
use crate::lookup::ShareLookup;
use crate::metrics::Metrics;
use crate::store::{MintBatch, MintOutcome, MintRefusal, NewShare, ShareRecord, Store};
use crate::telemetry::cause_chain;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, oneshot};

/// Most requests in one transaction: big enough that a burst is a few batches, small enough
/// that its statements stay far below either backend's limit on bound parameters.
const MAX_BATCH: usize = 256;
/// Requests waiting for the writer; beyond this, callers wait for room (the HTTP server's own
/// limits bound how many can).
const QUEUE: usize = 4_096;
const WRITE_ATTEMPTS: u32 = 3;
/// Batches written at once on PostgreSQL: each holds a pooled connection while it writes.
const POSTGRES_WRITERS: usize = 2;
/// How long after a batch parks its tally the background fold waits for more: under load, one
/// fold takes many batches' tallies.
const FOLD_AFTER: Duration = Duration::from_millis(50);
/// How long a fold that failed waits before it tries again.
const FOLD_RETRY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum MintError {
    #[error(transparent)]
    Refused(#[from] MintRefusal),
    /// The database did not take the batch (logged once, with its cause).
    #[error("shares cannot be minted right now")]
    Unavailable,
}

enum Request {
    Create(Box<NewShare>),
    Send(Code),
}

struct Job {
    request: Request,
    reply: oneshot::Sender<Result<ShareRecord, MintError>>,
}

/// The handle every HTTP worker shares.
#[derive(Clone)]
pub struct Minter {
    queue: mpsc::Sender<Job>,
    reservation_lifetime: Duration,
}

impl Minter {
    /// Starts the writer task, and the sweeper that deletes reservations nobody sent once
    /// `reservation_lifetime` has passed.
    pub fn start(
        store: Arc<dyn Store>,
        lookup: Arc<ShareLookup>,
        metrics: Arc<Metrics>,
        health: Arc<DatabaseHealth>,
        reservation_lifetime: Duration,
    ) -> Minter {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let jobs = Arc::new(tokio::sync::Mutex::new(jobs));
        // PostgreSQL waits for the disk at every commit: batches written side by side share
        // those waits, and park their tallies for a fold so as not to queue on a link's row.
        // SQLite has one writer connection, so one task is all it can use, and it counts at once.
        let (writers, fold) = match store.backend() {
            "postgres" => {
                let fold = Arc::new(Notify::new());
                tokio::spawn(fold_in_background(store.clone(), health, fold.clone()));
                (POSTGRES_WRITERS, Some(fold))
            }
            _ => (1, None),
        };
        let writer = Arc::new(Writer {
            store: store.clone(),
            lookup,
            metrics: metrics.clone(),
            fold,
        });
        for _ in 0..writers {
            tokio::spawn(Arc::clone(&writer).run(Arc::clone(&jobs)));
        }
        tokio::spawn(sweep(store, metrics, reservation_lifetime));
        Minter {
            queue,
            reservation_lifetime,
        }
    }

    /// How long a reservation made now stays valid.
    pub fn reservation_lifetime(&self) -> Duration {
        self.reservation_lifetime
    }

    /// When a reservation made at `now` runs out.
    pub fn reservation_end(&self, now: i64) -> i64 {
        now.saturating_add(i64::try_from(self.reservation_lifetime.as_millis()).unwrap_or(i64::MAX))
    }

    /// Mints a share, or reserves a code when `share.reserved_until` is set.
    pub async fn create(&self, share: NewShare) -> Result<ShareRecord, MintError> {
        self.ask(Request::Create(Box::new(share))).await
    }

    /// Several at once, answered in order: what the web UI makes for one link.
    pub async fn create_all(&self, shares: Vec<NewShare>) -> Vec<Result<ShareRecord, MintError>> {
        let asked: Vec<_> = shares
            .into_iter()
            .map(|share| self.ask(Request::Create(Box::new(share))))
            .collect();
        futures_util::future::join_all(asked).await
    }

    /// Makes the reservation `code` a share: its button was clicked. Sending a share again
    /// changes nothing. A reservation that is gone (its row lost, or deleted at the end of its
    /// lifetime while the page stayed open) is minted as `lost`, under the same code: the
    /// channel was opened with that short link, and it must lead somewhere.
    pub async fn send(&self, code: Code, lost: Option<NewShare>) -> Result<ShareRecord, MintError> {
        match (self.ask(Request::Send(code)).await, lost) {
            (Err(MintError::Refused(MintRefusal::NotReserved)), Some(lost)) => match self.create(lost).await {
                Err(MintError::Refused(MintRefusal::CodeTaken)) => Err(MintRefusal::NotReserved.into()),
                minted => minted,
            },
            (sent, _) => sent,
        }
    }

    async fn ask(&self, request: Request) -> Result<ShareRecord, MintError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Job { request, reply })
            .await
            .map_err(|_| MintError::Unavailable)?;
        answer.await.unwrap_or(Err(MintError::Unavailable))
    }
}

struct Writer {
    store: Arc<dyn Store>,
    lookup: Arc<ShareLookup>,
    metrics: Arc<Metrics>,
    /// Wakes the background fold of parked share tallies (PostgreSQL).
    fold: Option<Arc<Notify>>,
}

impl Writer {
    /// Takes whatever is queued (at least one request: no waiting for a batch to fill) and
    /// writes it; with several writers, the next one takes what queues meanwhile.
    async fn run(self: Arc<Self>, jobs: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
        let mut taken = Vec::with_capacity(MAX_BATCH);
        loop {
            let received = jobs.lock().await.recv_many(&mut taken, MAX_BATCH).await;
            if received == 0 {
                return;
            }
            self.write(std::mem::take(&mut taken)).await;
        }
    }

    async fn write(&self, jobs: Vec<Job>) {
        let mut batch = MintBatch::default();
        let mut replies = Vec::with_capacity(jobs.len());
        for job in jobs {
            match job.request {
                Request::Create(share) => {
                    replies.push((Slot::Created(batch.creates.len()), job.reply));
                    batch.creates.push(*share);
                }
                Request::Send(code) => {
                    replies.push((Slot::Sent(batch.sends.len()), job.reply));
                    batch.sends.push(code);
                }
            }
        }
        let started = Instant::now();
        let Some(mut outcome) = self.write_with_retries(&batch).await else {
            for (_, reply) in replies {
                let _ = reply.send(Err(MintError::Unavailable));
            }
            return;
        };
        self.metrics.mint_batches.inc();
        self.metrics.mint_batch_seconds.observe(started.elapsed().as_secs_f64());
        if self.count(&batch, &outcome) > 0
            && let Some(fold) = &self.fold
        {
            fold.notify_one();
        }
        // Known here and on every instance before anyone is told the code.
        self.announce(&batch, &outcome);
        for (slot, reply) in replies {
            let result = match slot {
                Slot::Created(i) => take(&mut outcome.created, i),
                Slot::Sent(i) => take(&mut outcome.sent, i),
            };
            let _ = reply.send(result.map_err(MintError::from));
        }
    }

    async fn write_with_retries(&self, batch: &MintBatch) -> Option<MintOutcome> {
        for attempt in 1..=WRITE_ATTEMPTS {
            // Each attempt is one transaction: a failed one left nothing behind.
            match self.store.mint(batch, crate::clock::now_ms()).await {
                Ok(outcome) => return Some(outcome),
                // PostgreSQL may pick this batch to break a deadlock with another instance's.
                Err(err) if attempt < WRITE_ATTEMPTS => {
                    tracing::warn!(attempt, error = %cause_chain(&err), "share batch write failed; retrying");
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
                Err(err) => {
                    tracing::error!(requests = batch.creates.len() + batch.sends.len(), error = %cause_chain(&err),
                        "share batch write failed; its requests were refused");
                }
            }
        }
        None
    }

    /// Counts the batch in the metrics; returns how many shares it minted or sent.
    fn count(&self, batch: &MintBatch, outcome: &MintOutcome) -> u64 {
        let mut shares = 0;
        for (share, result) in batch.creates.iter().zip(&outcome.created) {
            if result.is_ok() {
                match share.reserved_until {
                    Some(_) => self.metrics.reservations_made.inc(),
                    None => shares += 1,
                };
            }
        }
        self.metrics.shares_minted.inc_by(shares);
        let sent = outcome.sent.iter().filter(|r| r.is_ok()).count() as u64;
        self.metrics.reservations_sent.inc_by(sent);
        shares + sent
    }

    /// Lets the lookup here know the new codes; the store told the other instances as the
    /// batch committed.
    fn announce(&self, batch: &MintBatch, outcome: &MintOutcome) {
        for change in outcome.announcements(batch) {
            self.lookup.apply(change);
        }
    }
}

/// Where a request's answer is in the outcome.
enum Slot {
    Created(usize),
    Sent(usize),
}

fn take(results: &mut [Result<ShareRecord, MintRefusal>], i: usize) -> Result<ShareRecord, MintRefusal> {
    results
        .get_mut(i)
        .map(|r| std::mem::replace(r, Err(MintRefusal::NotReserved)))
        .unwrap_or(Err(MintRefusal::NotReserved))
}

/// Folds the share tallies that batches park (see `Store::fold_share_tallies`) soon after they
/// do, and once at start for those a stopped instance left. Reads fold before they read, so
/// this keeps the parked rows few rather than the figures exact.
async fn fold_in_background(store: Arc<dyn Store>, health: Arc<DatabaseHealth>, wake: Arc<Notify>) {
    wake.notify_one();
    loop {
        wake.notified().await;
        tokio::time::sleep(FOLD_AFTER).await;
        match store.fold_share_tallies().await {
            Ok(()) => health.answered(Part::ShareTallies),
            Err(err) => {
                health.failed(Part::ShareTallies, &cause_chain(&err));
                wake.notify_one();
                tokio::time::sleep(FOLD_RETRY).await;
            }
        }
    }
}

/// Deletes reservations nobody sent, a few times per lifetime: they never count, and a stale
/// one must not linger as a share-to-be.
async fn sweep(store: Arc<dyn Store>, metrics: Arc<Metrics>, lifetime: Duration) {
    let every = (lifetime / 4).clamp(Duration::from_millis(250), Duration::from_secs(600));
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match store.sweep_reservations(crate::clock::now_ms()).await {
            Ok(swept) => metrics.reservations_expired.inc_by(swept),
            Err(err) => tracing::warn!(error = %cause_chain(&err), "could not delete expired reservations"),
        }
    }
}
