//! The scale-out path: any number of sharetrail instances share one PostgreSQL.
//!
//! Instances keep their lookup caches coherent through LISTEN/NOTIFY, so a link disabled on one
//! stops redirecting on all of them as soon as the notification lands (milliseconds).

use super::minting::ShareTally;
use super::postgres_mint::{self, PgMint};
use super::visits::{
    BATCH_KEY_RETENTION_MS, CLAIM_BATCH_KEY, Counts, FORGET_OLD_BATCH_KEYS, PARK_SHARE_COUNTS, Rollups, ShareCounts,
    TAKE_PARKED_SHARE_COUNTS, TAKE_VISIT_IDS, park_share_counts, with_parked_share_counts,
};
use super::{Invalidation, MintBatch, MintOutcome, Notice, QUIET, StoreError, StoreResult, VisitBatch, WriteOutcome};
use crate::domain::visit::VisitorHash;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::watch;

const INVALIDATION_CHANNEL: &str = "sharetrail_invalidate";
const EVERYTHING: &str = "*";
/// A payload starting so lists new codes; otherwise it lists changed ones.
const CREATED: &str = "+ ";
/// NOTIFY payloads must stay under 8,000 bytes.
const CODES_PER_NOTIFICATION: usize = 500;
/// A change's payload starts so, with the sending instance's name: PostgreSQL delivers a
/// notification to its sender too, and an instance applies its own changes before sending.
const FROM: &str = "@";
/// A payload starting so is an instance's own marker, sent to itself through the server.
const MARKER: &str = "~ ";
/// How long a lookup waits for its marker before answering from what it already knows.
const MARKER_WAIT: Duration = Duration::from_secs(1);

pub struct PgStore {
    pool: PgPool,
    /// The NOTIFY channel of this database schema's instances: instances of another schema
    /// on the same server (tests, staging beside production) do not hear them.
    channel: String,
    markers: Arc<Markers>,
}

/// Catching up with the other instances. PostgreSQL delivers notifications in commit order, so
/// once a marker this instance sent after a moment has come back, every change committed before
/// that moment has been heard and applied.
struct Markers {
    /// Names this instance's markers and changes: every instance of the schema hears them all.
    instance: String,
    next: AtomicU64,
    heard: watch::Sender<u64>,
    /// The last marker that did not come back in time, or could not be sent.
    failed: AtomicU64,
    /// One marker in flight at a time: everyone who arrived before it was sent shares it, so a
    /// scan of unknown codes costs one round trip at a time, not one each.
    round: tokio::sync::Mutex<()>,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .acquire_slow_level(QUIET)
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()").fetch_one(&pool).await?;
        Ok(PgStore {
            pool,
            channel: notification_channel(&schema),
            markers: Arc::new(Markers {
                instance: nanoid::nanoid!(12, &nanoid::alphabet::SAFE),
                next: AtomicU64::new(1),
                heard: watch::channel(0).0,
                failed: AtomicU64::new(0),
                round: tokio::sync::Mutex::new(()),
            }),
        })
    }

    /// Reads and writes alike: PostgreSQL takes writers side by side.
    pub(super) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub(super) async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
        Ok(())
    }

    /// One batch in one transaction: the visits, then the rollups they add.
    pub(super) async fn write_batch(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome> {
        // As durable as the SQLite side (WAL with `synchronous = NORMAL`): a crash of the database
        // server may lose the last fraction of a second of batches, each whole or not at all, and
        // never leaves one half written. The commit then returns without waiting for its WAL
        // flush, an fsync the writer otherwise sat through on every batch; the queue in memory
        // already holds far more visits than that window.
        let mut tx = self
            .pool
            .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
            .await?;
        let now = crate::clock::now_ms();
        sqlx::query(FORGET_OLD_BATCH_KEYS)
            .bind(now - BATCH_KEY_RETENTION_MS)
            .execute(&mut *tx)
            .await?;
        let claimed = sqlx::query(CLAIM_BATCH_KEY)
            .bind(&batch.key)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if claimed.rows_affected() == 0 {
            return Ok(WriteOutcome::already_stored());
        }
        Self::insert_runs(&mut tx, batch).await?;
        match batch.share_counts {
            ShareCounts::Park => {
                sqlx::query(PARK_SHARE_COUNTS)
                    .bind(park_share_counts(&batch.rollups.shares))
                    .execute(&mut *tx)
                    .await?;
            }
            ShareCounts::Apply => {
                let parked: Vec<Vec<u8>> = sqlx::query_scalar(TAKE_PARKED_SHARE_COUNTS).fetch_all(&mut *tx).await?;
                let shares = with_parked_share_counts(&batch.rollups.shares, &parked);
                Self::add_share_counts(&mut tx, &shares).await?;
            }
        }
        let outcome = Self::apply_rollups(&mut tx, &batch.rollups).await?;
        tx.commit().await?;
        Ok(outcome)
    }

    /// Applies every parked share tally (see `PgMint::add_shares_to_rollups`) and deletes it. It
    /// runs before each read of the figures they hold, so a read sees every share minted before
    /// it; one fold at a time per schema, across instances, so a read waits for a fold under way
    /// rather than reads its rows half applied.
    pub(super) async fn fold_parked_tallies(&self) -> StoreResult<()> {
        let pending: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pending_share_tallies)")
            .fetch_one(&self.pool)
            .await?;
        if !pending {
            return Ok(());
        }
        // Not the mint batch's planner settings: with sequential scans priced out, a DELETE
        // of the whole table cost enough to be JIT-compiled, 50-150 ms per fold.
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.pending_share_tallies'))")
            .execute(&mut *tx)
            .await?;
        let parked: Vec<String> = sqlx::query_scalar("DELETE FROM pending_share_tallies RETURNING tally")
            .fetch_all(&mut *tx)
            .await?;
        let mut tally = ShareTally::default();
        for text in &parked {
            match ShareTally::from_parked(text) {
                Ok(parked) => tally.absorb(parked),
                Err(err) => tracing::error!(error = %err, "skipped a parked share tally; its shares are not counted"),
            }
        }
        postgres_mint::apply_share_tally(&mut tx, &tally).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One share batch in one transaction, each statement one round trip (see `postgres_mint`).
    pub(super) async fn mint_batch(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome> {
        let reserving_only = batch.sends.is_empty() && batch.creates.iter().all(|s| s.reserved_until.is_some());
        let begin = match reserving_only {
            true => postgres_mint::BEGIN_RESERVING,
            false => postgres_mint::BEGIN,
        };
        let mut tx = self.pool.begin_with(begin).await?;
        let outcome = super::minting::mint_with(&mut PgMint { tx: &mut tx }, batch, now).await?;
        // Sent with the commit, not after it: one round trip fewer, and no new code goes
        // unannounced because a NOTIFY failed after the shares were stored.
        for change in outcome.announcements(batch) {
            self.notify_on(&mut tx, &change).await?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// The rollups of one batch in one statement, each table's rows as arrays: under load the
    /// writer waits for a core after every round trip, so statements are what it pays for most.
    /// Rows are touched in key order (the maps are sorted), so instances writing at once cannot
    /// deadlock on each other.
    async fn apply_rollups(tx: &mut Transaction<'_, Postgres>, r: &Rollups) -> StoreResult<WriteOutcome> {
        let mut outcome = WriteOutcome::default();
        sqlx::query(
            "WITH \
             links_counted AS (UPDATE links SET clicks = links.clicks + v.c, unfurls = links.unfurls + v.u, \
                bots = links.bots + v.b FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[]) AS v(id, c, u, b) \
                WHERE links.id = v.id), \
             channels AS (INSERT INTO link_channel_stats (link_id, channel, clicks) \
                SELECT * FROM unnest($5::int8[], $6::text[], $7::int8[]) \
                ON CONFLICT (link_id, channel) DO UPDATE SET clicks = link_channel_stats.clicks + excluded.clicks), \
             depths AS (INSERT INTO link_depth_stats (link_id, depth, clicks) \
                SELECT * FROM unnest($8::int8[], $9::int8[], $10::int8[]) \
                ON CONFLICT (link_id, depth) DO UPDATE SET clicks = link_depth_stats.clicks + excluded.clicks), \
             apps AS (INSERT INTO link_unfurl_stats (link_id, app, unfurls) \
                SELECT * FROM unnest($11::int8[], $12::text[], $13::int8[]) \
                ON CONFLICT (link_id, app) DO UPDATE SET unfurls = link_unfurl_stats.unfurls + excluded.unfurls), \
             days AS (INSERT INTO link_daily_stats (link_id, day, clicks, unfurls, bots) \
                SELECT * FROM unnest($14::int8[], $15::text[], $16::int8[], $17::int8[], $18::int8[]) \
                ON CONFLICT (link_id, day) DO UPDATE SET clicks = link_daily_stats.clicks + excluded.clicks, \
                unfurls = link_daily_stats.unfurls + excluded.unfurls, bots = link_daily_stats.bots + excluded.bots), \
             breakdown AS (INSERT INTO link_daily_breakdown (link_id, day, channel, depth, kind, app, visits) \
                SELECT * FROM unnest($19::int8[], $20::text[], $21::text[], $22::int8[], $23::text[], $24::text[], $25::int8[]) \
                ON CONFLICT (link_id, day, channel, depth, kind, app) \
                DO UPDATE SET visits = link_daily_breakdown.visits + excluded.visits) \
             SELECT 1",
        )
        .bind(column(&r.links, |(id, _)| *id))
        .bind(column(&r.links, |(_, n)| n.clicks))
        .bind(column(&r.links, |(_, n)| n.unfurls))
        .bind(column(&r.links, |(_, n)| n.bots))
        .bind(column(&r.channel_clicks, |((link, _), _)| *link))
        .bind(column(&r.channel_clicks, |((_, channel), _)| &**channel))
        .bind(column(&r.channel_clicks, |(_, n)| *n))
        .bind(column(&r.depth_clicks, |((link, _), _)| *link))
        .bind(column(&r.depth_clicks, |((_, depth), _)| *depth))
        .bind(column(&r.depth_clicks, |(_, n)| *n))
        .bind(column(&r.unfurl_apps, |((link, _), _)| *link))
        .bind(column(&r.unfurl_apps, |((_, app), _)| *app))
        .bind(column(&r.unfurl_apps, |(_, n)| *n))
        .bind(column(&r.days, |((link, _), _)| *link))
        .bind(column(&r.days, |((_, day), _)| day.as_str()))
        .bind(column(&r.days, |(_, n)| n.clicks))
        .bind(column(&r.days, |(_, n)| n.unfurls))
        .bind(column(&r.days, |(_, n)| n.bots))
        .bind(column(&r.breakdown, |((link, ..), _)| *link))
        .bind(column(&r.breakdown, |((_, day, ..), _)| day.as_str()))
        .bind(column(&r.breakdown, |((_, _, channel, ..), _)| &**channel))
        .bind(column(&r.breakdown, |((_, _, _, depth, ..), _)| *depth))
        .bind(column(&r.breakdown, |((.., kind, _), _)| *kind))
        .bind(column(&r.breakdown, |((.., app), _)| *app))
        .bind(column(&r.breakdown, |(_, n)| *n))
        .execute(&mut **tx)
        .await?;
        Self::add_unique_visitors(tx, &r.visitors).await?;
        if !r.inferences.is_empty() {
            outcome.newly_inferred = sqlx::query_scalar(
                "UPDATE shares SET inferred_channel = v.app FROM unnest($1::int8[], $2::text[]) AS v(id, app) \
                 WHERE shares.id = v.id AND shares.inferred_channel IS NULL RETURNING shares.code",
            )
            .bind(column(&r.inferences, |(id, _)| *id))
            .bind(column(&r.inferences, |(_, app)| *app))
            .fetch_all(&mut **tx)
            .await?;
        }
        Ok(outcome)
    }

    /// The batch's runs, with ids from a block taken now: one statement, columns as arrays.
    async fn insert_runs(tx: &mut Transaction<'_, Postgres>, batch: &VisitBatch) -> StoreResult<()> {
        let first_id: i64 = sqlx::query_scalar(TAKE_VISIT_IDS)
            .bind(batch.visits)
            .fetch_one(&mut **tx)
            .await?;
        let runs = &batch.runs;
        // Each range of the batch's ids with clicks in it goes to the endpoints that receive
        // clicks, in the same statement: nothing more to send while no endpoint exists.
        let click_ranges = match batch.rollups.links.values().any(|n| n.clicks > 0) {
            true => super::webhooks::click_ranges(first_id, batch.visits),
            false => Vec::new(),
        };
        sqlx::query(
            "WITH clicks AS (INSERT INTO webhook_deliveries (endpoint_id, event_type, first_visit, last_visit, created_at) \
                SELECT e.id, 'click', v.f, v.l, $9 FROM unnest($7::int8[], $8::int8[]) WITH ORDINALITY AS v(f, l, n) \
                JOIN webhook_endpoints e ON e.disabled_at IS NULL AND e.events LIKE '%,click,%' ORDER BY v.n, e.id) \
             INSERT INTO visit_runs (first_id, link_id, visits, min_at, max_at, data) \
             SELECT * FROM unnest($1::int8[], $2::int8[], $3::int4[], $4::int8[], $5::int8[], $6::text[])",
        )
        .bind(column(runs, |r| first_id + r.offset))
        .bind(column(runs, |r| r.link_id))
        .bind(column(runs, |r| r.visits))
        .bind(column(runs, |r| r.min_at))
        .bind(column(runs, |r| r.max_at))
        .bind(column(runs, |r| r.data.as_str()))
        .bind(column(&click_ranges, |(first, _)| *first))
        .bind(column(&click_ranges, |(_, last)| *last))
        .bind(crate::clock::now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Adds a batch's counts to its shares, one row per share touched, as arrays like the visits.
    async fn add_share_counts(tx: &mut Transaction<'_, Postgres>, shares: &BTreeMap<i64, Counts>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE shares SET clicks = shares.clicks + v.c, unfurls = shares.unfurls + v.u, bots = shares.bots + v.b \
             FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[]) AS v(id, c, u, b) WHERE shares.id = v.id",
        )
        .bind(column(shares, |(id, _)| *id))
        .bind(column(shares, |(_, n)| n.clicks))
        .bind(column(shares, |(_, n)| n.unfurls))
        .bind(column(shares, |(_, n)| n.bots))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Records the batch's visitors and adds those new to their link to its unique count.
    /// `RETURNING` yields exactly the rows inserted, so instances writing at once never count a
    /// visitor twice; the whole step is one statement.
    async fn add_unique_visitors(
        tx: &mut Transaction<'_, Postgres>,
        visitors: &BTreeSet<(i64, VisitorHash)>,
    ) -> StoreResult<()> {
        if visitors.is_empty() {
            return Ok(());
        }
        // The links were locked by this batch's click counts already: no new lock order to get wrong.
        sqlx::query(
            "WITH added AS (INSERT INTO link_visitors (link_id, visitor) SELECT * FROM unnest($1::int8[], $2::text[]) \
             ON CONFLICT (link_id, visitor) DO NOTHING RETURNING link_id), \
             fresh AS (SELECT link_id, COUNT(*) AS n FROM added GROUP BY link_id) \
             UPDATE links SET unique_visitors = links.unique_visitors + fresh.n FROM fresh WHERE links.id = fresh.link_id",
        )
        .bind(column(visitors, |(link, _)| *link))
        .bind(column(visitors, |(_, visitor)| visitor.to_string()))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    pub(super) async fn notify(&self, change: &Invalidation) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        self.notify_on(&mut conn, change).await
    }

    /// NOTIFY on `conn`: inside a transaction, delivered when it commits.
    pub(super) async fn notify_on(&self, conn: &mut sqlx::PgConnection, change: &Invalidation) -> StoreResult<()> {
        let (prefix, codes) = match change {
            Invalidation::Everything => ("", None),
            Invalidation::Codes(codes) => ("", Some(codes)),
            Invalidation::Created(codes) => (CREATED, Some(codes)),
        };
        let payloads: Vec<String> = match codes {
            None => vec![EVERYTHING.to_owned()],
            Some(codes) => codes
                .chunks(CODES_PER_NOTIFICATION)
                .map(|c| format!("{prefix}{}", c.join(" ")))
                .collect(),
        };
        for payload in payloads {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.channel)
                .bind(format!("{FROM}{} {payload}", self.markers.instance))
                .execute(&mut *conn)
                .await?;
        }
        Ok(())
    }

    /// Returns once every change committed on any instance before the call has been applied
    /// here, or fails when the feed cannot say so within `MARKER_WAIT`.
    pub(super) async fn catch_up(&self) -> StoreResult<()> {
        let markers = &self.markers;
        let arrived = markers.next.load(Ordering::SeqCst);
        let _round = markers.round.lock().await;
        if *markers.heard.borrow() >= arrived {
            return Ok(());
        }
        // A round sent since this call began has failed: one more would wait as long again,
        // and everyone queued behind it too.
        if markers.failed.load(Ordering::SeqCst) >= arrived {
            return Err(StoreError::TimedOut);
        }
        let marker = markers.next.fetch_add(1, Ordering::SeqCst);
        let mut heard = markers.heard.subscribe();
        let round = async {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(&self.channel)
                .bind(format!("{MARKER}{} {marker}", markers.instance))
                .execute(&self.pool)
                .await?;
            heard
                .wait_for(|&seen| seen >= marker)
                .await
                .map_err(|_| StoreError::TimedOut)?;
            Ok(())
        };
        let outcome = tokio::time::timeout(MARKER_WAIT, round)
            .await
            .unwrap_or(Err(StoreError::TimedOut));
        if outcome.is_err() {
            markers.failed.fetch_max(marker, Ordering::SeqCst);
        }
        outcome
    }

    pub(super) async fn listen(&self, sink: Arc<dyn Fn(Notice) + Send + Sync>) -> StoreResult<()> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        let channel = self.channel.clone();
        let markers = Arc::clone(&self.markers);
        listener.listen(&channel).await?;
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(note)) => {
                        if let Some(marker) = note.payload().strip_prefix(MARKER) {
                            markers.hear(marker);
                        } else if let Some(change) = markers.news(note.payload()) {
                            sink(Notice::Changed(change));
                        }
                    }
                    // The connection dropped (the server restarted, the network failed): what is
                    // cached stays and is served, and is re-checked once the feed is back.
                    Ok(None) | Err(_) => {
                        sink(Notice::Lost);
                        while listener.listen(&channel).await.is_err() {
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                        sink(Notice::Restored);
                    }
                }
            }
        });
        Ok(())
    }
}

impl Markers {
    /// Another instance's change; `None` for this instance's own, applied before it was sent.
    fn news(&self, payload: &str) -> Option<Invalidation> {
        match payload.strip_prefix(FROM).and_then(|p| p.split_once(' ')) {
            Some((instance, _)) if instance == self.instance => None,
            Some((_, change)) => Some(parse_payload(change)),
            // From an instance older than the sender's name.
            None => Some(parse_payload(payload)),
        }
    }

    /// Notes a marker of this instance come back; the others' markers are not ours to count.
    fn hear(&self, marker: &str) {
        let Some((instance, sequence)) = marker.split_once(' ') else {
            return;
        };
        if let (true, Ok(sequence)) = (instance == self.instance, sequence.parse::<u64>()) {
            self.heard.send_if_modified(|heard| {
                let later = sequence > *heard;
                *heard = (*heard).max(sequence);
                later
            });
        }
    }
}

/// `sharetrail_invalidate` in the `public` schema (as before schemas were told apart), else with
/// the schema's name appended, in the characters a channel name may hold unquoted.
fn notification_channel(schema: &str) -> String {
    if schema == "public" {
        return INVALIDATION_CHANNEL.to_owned();
    }
    let suffix: String = schema
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    format!("{INVALIDATION_CHANNEL}_{suffix}")
}

fn parse_payload(payload: &str) -> Invalidation {
    let codes = |list: &str| list.split(' ').filter(|c| !c.is_empty()).map(str::to_owned).collect();
    if payload == EVERYTHING {
        Invalidation::Everything
    } else if let Some(created) = payload.strip_prefix(CREATED) {
        Invalidation::Created(codes(created))
    } else {
        Invalidation::Codes(codes(payload))
    }
}

/// One column of rows, as an array for `unnest`: every batch statement sends its rows so.
pub(super) fn column<I: IntoIterator, T>(rows: I, f: impl FnMut(I::Item) -> T) -> Vec<T> {
    rows.into_iter().map(f).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn markers_of(instance: &str) -> Markers {
        Markers {
            instance: instance.to_owned(),
            next: AtomicU64::new(1),
            heard: watch::channel(0).0,
            failed: AtomicU64::new(0),
            round: tokio::sync::Mutex::new(()),
        }
    }

    #[test]
    fn an_instance_skips_its_own_changes_and_applies_the_others() {
        let markers = markers_of("me");
        assert!(markers.news("@me + a b").is_none());
        assert!(matches!(markers.news("@you + a b"), Some(Invalidation::Created(c)) if c == ["a", "b"]));
        assert!(matches!(markers.news("@you a"), Some(Invalidation::Codes(c)) if c == ["a"]));
        assert!(matches!(markers.news("@you *"), Some(Invalidation::Everything)));
        // From an instance of a version that did not sign its changes.
        assert!(matches!(markers.news("+ a"), Some(Invalidation::Created(c)) if c == ["a"]));
    }

    #[test]
    fn only_this_instances_markers_move_what_it_has_heard() {
        let markers = markers_of("me");
        markers.hear("you 7");
        assert_eq!(*markers.heard.borrow(), 0);
        markers.hear("me 3");
        markers.hear("me 2");
        assert_eq!(*markers.heard.borrow(), 3, "a late marker does not go back");
    }
}
