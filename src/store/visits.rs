//! The visit log and the rollups a batch of visits adds, as the store writes and reads them.
//!
//! A run is one batch's visits to one link, in arrival order, kept as one row whose `data` is a
//! JSON array with one array per visit. A row and an index entry per visit were most of what the
//! database did per redirect: on PostgreSQL two thirds of the visit writer's statement time under
//! load. A batch of thousands of visits touches a few hundred links, so a row per (link, batch)
//! stores the same facts with a hundredth of the rows, index entries and per-row overhead. Ids
//! stay one per visit: a batch takes a block of consecutive ids and each run's visits are
//! `first_id`, `first_id + 1`, … JSON keeps the log readable in SQL on both backends (the
//! `visits` view unpacks it).
//!
//! Rolling up in memory is what keeps stats cheap: a thousand visits become a few dozen counter
//! updates, and the stats endpoint reads counters instead of scanning raw visits. `ingest`
//! builds batches from the visits it queued; the store only writes them.

use super::{Backend, StoreResult, WriteOutcome};
use crate::domain::visit::{VisitKind, VisitorHash};
use async_trait::async_trait;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub clicks: i64,
    pub unfurls: i64,
    pub bots: i64,
}

impl Counts {
    pub fn add(&mut self, kind: VisitKind, n: i64) {
        match kind {
            VisitKind::Click => self.clicks += n,
            VisitKind::Unfurl => self.unfurls += n,
            VisitKind::Bot => self.bots += n,
        }
    }
}

/// Sorted maps, so every batch touches rows in the same order and concurrent writers on
/// PostgreSQL cannot deadlock on each other.
#[derive(Debug, Default)]
pub struct Rollups {
    pub shares: BTreeMap<i64, Counts>,
    pub links: BTreeMap<i64, Counts>,
    pub channel_clicks: BTreeMap<(i64, Arc<str>), i64>,
    pub depth_clicks: BTreeMap<(i64, i64), i64>,
    pub unfurl_apps: BTreeMap<(i64, &'static str), i64>,
    pub days: BTreeMap<(i64, String), Counts>,
    /// (link, visitor) pairs of human clicks, for the unique-visitor count.
    pub visitors: BTreeSet<(i64, VisitorHash)>,
    /// The first unfurl app seen for shares whose channel is still unknown.
    pub inferences: BTreeMap<i64, &'static str>,
    /// Visits per (link, day, channel, depth, kind, unfurl app or ""): the date-filterable rollup.
    pub breakdown: BTreeMap<BreakdownKey, i64>,
}

pub type BreakdownKey = (i64, String, Arc<str>, i64, &'static str, &'static str);

/// How long a batch's key is kept: far longer than the writer goes on retrying one batch.
pub const BATCH_KEY_RETENTION_MS: i64 = 3_600_000;

/// What a batch does with its shares' click, unfurl and bot counters.
///
/// A big batch touches thousands of shares, and on PostgreSQL each touched share is a new row
/// version: under heavy traffic that was a quarter of the database's work per visit. A batch
/// may instead park its share counters, in the same transaction as its visits, as one row of
/// `pending_share_counts`; the next batch that applies its counters folds every parked row in
/// with its own. Nothing is held only in memory, so a crash loses no count: the parked rows are
/// folded by the first batch after the restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareCounts {
    /// Add this batch's counters, and every parked batch's, to the shares now.
    Apply,
    /// Park this batch's counters for a later batch to apply.
    Park,
}

#[derive(Debug)]
pub struct VisitBatch {
    /// Unique per batch and the same on every attempt to write it (126 random bits): stored with
    /// the batch, it turns the retry of a batch that did land into a no-op.
    pub key: String,
    /// The visits as the log stores them: one run per link, in link order.
    pub runs: Vec<VisitRun>,
    /// How many visits the runs hold: the block of ids the batch takes.
    pub visits: i64,
    pub rollups: Rollups,
    pub share_counts: ShareCounts,
}

impl VisitBatch {
    /// This batch, parking its share counters instead of applying them.
    pub fn parking_share_counts(mut self) -> VisitBatch {
        self.share_counts = ShareCounts::Park;
        self
    }

    pub fn len(&self) -> usize {
        self.visits as usize
    }

    pub fn is_empty(&self) -> bool {
        self.visits == 0
    }
}

/// A cap on one row's size (about 60 KB of JSON), so one busy link's burst never becomes a
/// single multi-megabyte value for the export to read whole.
pub const MAX_VISITS_PER_RUN: usize = 500;

/// A run ready to store, but for its ids: those come from the transaction that stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitRun {
    pub link_id: i64,
    /// Where this run starts in its batch: its first visit's id is the batch's first id plus this.
    pub offset: i64,
    pub visits: i32,
    pub min_at: i64,
    pub max_at: i64,
    pub data: String,
}

/// One visit as read back from a run: the columns of the visit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct StoredVisit {
    pub share_id: i64,
    pub at: i64,
    pub kind: String,
    pub app: Option<String>,
    pub visitor: String,
    pub referrer_host: Option<String>,
    pub device: String,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub country: Option<String>,
}

/// The visits of a stored run, in id order.
pub fn visits_of(data: &str) -> Result<Vec<StoredVisit>, serde_json::Error> {
    serde_json::from_str(data)
}

/// One parked row's bytes: per share, its id and its click, unfurl and bot counts, as
/// little-endian `i64`s. The layout is the storage format of `pending_share_counts.counts`.
const PARKED_SHARE_BYTES: usize = 4 * 8;

/// The stored form of a batch's share counters.
pub fn park_share_counts(shares: &BTreeMap<i64, Counts>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(shares.len() * PARKED_SHARE_BYTES);
    for (id, n) in shares {
        for value in [*id, n.clicks, n.unfurls, n.bots] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    bytes
}

/// A parked row whose length is not a whole number of shares: written by something else.
#[derive(Debug, thiserror::Error)]
#[error("a parked share-count row of {0} bytes is not a whole number of {PARKED_SHARE_BYTES}-byte shares")]
struct MalformedParkedCounts(usize);

/// A batch's share counters plus those of the parked rows `parked`, for a batch that applies
/// them (`ShareCounts::Apply`).
///
/// A malformed row is skipped, and its counts lost, with an error in the log: failing the batch
/// instead would fail every batch after it on the same row, and lose their visits.
pub fn with_parked_share_counts<'a>(
    batch_shares: &'a BTreeMap<i64, Counts>,
    parked: &[Vec<u8>],
) -> Cow<'a, BTreeMap<i64, Counts>> {
    if parked.is_empty() {
        return Cow::Borrowed(batch_shares);
    }
    let mut shares = batch_shares.clone();
    for bytes in parked {
        if let Err(err) = unpark_share_counts(&mut shares, bytes) {
            tracing::error!(error = %err, "skipped a parked share-count row; its counts are lost");
        }
    }
    Cow::Owned(shares)
}

/// Adds a parked row's counters to `shares`; nothing if the row is malformed.
fn unpark_share_counts(shares: &mut BTreeMap<i64, Counts>, bytes: &[u8]) -> Result<(), MalformedParkedCounts> {
    if !bytes.len().is_multiple_of(PARKED_SHARE_BYTES) {
        return Err(MalformedParkedCounts(bytes.len()));
    }
    for share in bytes.chunks_exact(PARKED_SHARE_BYTES) {
        let mut values = share
            .chunks_exact(8)
            .map(|v| i64::from_le_bytes(v.try_into().expect("chunks of eight bytes")));
        let mut next = || values.next().expect("four values per share");
        let counts = shares.entry(next()).or_default();
        counts.clicks += next();
        counts.unfurls += next();
        counts.bots += next();
    }
    Ok(())
}

/// First in every visit batch's transaction: records the batch's key, or changes nothing when an
/// earlier attempt at the same batch already committed (then the batch must not be written again).
pub(super) const CLAIM_BATCH_KEY: &str =
    "INSERT INTO visit_batches (batch_key, written_at) VALUES ($1, $2) ON CONFLICT (batch_key) DO NOTHING";

/// Keys older than the retention cannot be retried any more; keeps the table at an hour of batches.
pub(super) const FORGET_OLD_BATCH_KEYS: &str = "DELETE FROM visit_batches WHERE written_at < $1";

/// A batch's share counters, parked for a later batch to apply (`ShareCounts::Park`).
pub(super) const PARK_SHARE_COUNTS: &str = "INSERT INTO pending_share_counts (counts) VALUES ($1)";

/// Every parked row, taken for applying. In PostgreSQL's default isolation a row another
/// instance is taking at the same moment is taken by one of the two, never both.
pub(super) const TAKE_PARKED_SHARE_COUNTS: &str = "DELETE FROM pending_share_counts RETURNING counts";

/// Takes a batch's block of `$1` visit ids and returns the first. The row stays locked until the
/// batch commits, so the blocks of instances writing at once never interleave.
pub(super) const TAKE_VISIT_IDS: &str = "UPDATE visit_ids SET next_id = next_id + $1 RETURNING next_id - $1";

/// Writing visits, and the salt their visitors are hashed with.
#[async_trait]
pub trait VisitStore: Send + Sync {
    /// Writes one batch of visits and their rollups in a single transaction, once: writing a
    /// batch whose key is already stored changes nothing and says so (`already_stored`).
    async fn write_visits(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome>;
    /// The visitor-hash salt of `day`, creating it from `candidate` if none exists yet; salts of
    /// earlier days are deleted, so yesterday's hashes can never be recomputed.
    async fn salt_for_day(&self, day: &str, candidate: &str) -> StoreResult<String>;
}

#[async_trait]
impl VisitStore for Backend {
    /// Each backend's own writer: the way of moving many rows differs most between the two.
    async fn write_visits(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome> {
        match self {
            Backend::Sqlite(store) => store.write_batch(batch).await,
            Backend::Postgres(store) => store.write_batch(batch).await,
        }
    }

    async fn salt_for_day(&self, day: &str, candidate: &str) -> StoreResult<String> {
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO visitor_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
                .bind(day)
                .bind(candidate)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM visitor_salts WHERE day < $1")
                .bind(day)
                .execute(&mut *tx)
                .await?;
            // In the transaction that may have just inserted it: the writer's to read.
            let salt: String = sqlx::query_scalar("SELECT salt FROM visitor_salts WHERE day = $1")
                .bind(day)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(salt)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parked_share_counts_add_up_with_other_batches_when_unparked() {
        let first = BTreeMap::from([
            (
                7,
                Counts {
                    clicks: 3,
                    unfurls: 1,
                    bots: 0,
                },
            ),
            (
                i64::MAX,
                Counts {
                    clicks: 1,
                    unfurls: 0,
                    bots: 2,
                },
            ),
        ]);
        let second = BTreeMap::from([(
            7,
            Counts {
                clicks: 2,
                unfurls: 0,
                bots: 5,
            },
        )]);
        let parked = [park_share_counts(&first), Vec::new()];
        let total = with_parked_share_counts(&second, &parked);
        assert_eq!(
            total[&7],
            Counts {
                clicks: 5,
                unfurls: 1,
                bots: 5
            }
        );
        assert_eq!(total[&i64::MAX], first[&i64::MAX]);
        assert_eq!(total.len(), 2, "an empty parked row adds no share");
        let alone = with_parked_share_counts(&second, &[]);
        assert!(
            matches!(alone, Cow::Borrowed(_)),
            "nothing parked: the batch's own counters"
        );
    }

    #[test]
    fn a_parked_row_of_the_wrong_length_is_skipped_and_the_others_still_count() {
        let one_click = BTreeMap::from([(
            1,
            Counts {
                clicks: 1,
                unfurls: 0,
                bots: 0,
            },
        )]);
        let mut malformed = park_share_counts(&one_click);
        malformed.push(0);
        let parked = [malformed, park_share_counts(&one_click)];
        let total = with_parked_share_counts(&one_click, &parked);
        assert_eq!(total[&1].clicks, 2, "the batch's click and the well-formed row's");
    }
}
