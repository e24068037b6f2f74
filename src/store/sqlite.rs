//! The embedded default: one SQLite file in WAL mode, one writer connection and a read pool.

use super::sqlite_batch;
use super::sqlite_mint::SqliteMint;
use super::{MintBatch, MintOutcome, QUIET, StoreError, StoreResult, VisitBatch, WriteOutcome, minting};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

pub struct SqliteStore {
    /// SQLite allows one writer at a time; one connection makes writers queue in the pool
    /// instead of failing with SQLITE_BUSY.
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_readers: u32) -> StoreResult<Self> {
        let url = if url.starts_with("sqlite:") {
            url.to_owned()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // WAL with NORMAL survives process crashes; only an OS crash can lose the last commits.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true);
        // In-process connections need no ping before each use: that was a worker round trip
        // in front of every write.
        // A page cache that holds the indexes a write touches: random codes spread every batch
        // over the code index, and the default 2 MB made the writer read most of it back.
        let writer = SqlitePoolOptions::new()
            .acquire_slow_level(QUIET)
            .max_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone().pragma("cache_size", WRITER_CACHE_KIB))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .acquire_slow_level(QUIET)
            .max_connections(1)
            .test_before_acquire(false)
            .connect_lazy_with(options.clone());
        tokio::spawn(keep_checkpointing(checkpointer));
        let reader = SqlitePoolOptions::new()
            .acquire_slow_level(QUIET)
            .max_connections(max_readers.max(1))
            .test_before_acquire(false)
            .connect_lazy_with(options.read_only(true));
        Ok(SqliteStore { writer, reader })
    }

    pub(super) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub(super) fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    pub(super) async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.writer).await?;
        Ok(())
    }

    /// One batch in one transaction, written through prepared statements on sqlx's own
    /// connection (see `sqlite_batch`).
    pub(super) async fn write_batch(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome> {
        let mut tx = self.writer.begin().await?;
        let mut handle = tx.lock_handle().await?;
        let outcome = blocking(|| {
            // SAFETY: `handle` keeps sqlx's worker thread off this connection while it lives, and
            // the `Connection` made from it is dropped first; that one never closes the handle.
            let conn = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
            sqlite_batch::write_batch(&conn, batch, crate::clock::now_ms())
        })?;
        drop(handle);
        tx.commit().await?;
        Ok(outcome)
    }

    /// One share batch in one transaction, run in-process from `BEGIN` to `COMMIT` (see
    /// `sqlite_mint`): no statement, the transaction's included, goes through sqlx's worker.
    pub(super) async fn mint_batch(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome> {
        use futures_util::FutureExt;
        self.in_process_transaction(|conn| {
            let mut statements = SqliteMint { conn };
            // Every statement runs to completion when called: the flow never waits.
            let outcome = minting::mint_with(&mut statements, batch, now)
                .now_or_never()
                .unwrap_or(Err(StoreError::Stalled))?;
            Ok((outcome, true))
        })
        .await
    }

    /// Runs `work` on the writer's connection in one `BEGIN IMMEDIATE` transaction, committed
    /// when it answers `(_, true)` and rolled back when it fails or answers `(_, false)`.
    pub(super) async fn in_process_transaction<T>(
        &self,
        work: impl FnOnce(&rusqlite::Connection) -> StoreResult<(T, bool)>,
    ) -> StoreResult<T> {
        let mut conn = self.writer.acquire().await?;
        let mut handle = conn.lock_handle().await?;
        blocking(|| {
            // SAFETY: as in `write_batch`; the transaction ends (commit or rollback) before the
            // handle goes back to sqlx.
            let conn = unsafe { rusqlite::Connection::from_handle(handle.as_raw_handle().as_ptr()) }?;
            conn.execute_batch("BEGIN IMMEDIATE")?;
            match work(&conn) {
                Ok((answer, true)) => {
                    conn.execute_batch("COMMIT")?;
                    Ok(answer)
                }
                Ok((answer, false)) => {
                    conn.execute_batch("ROLLBACK")?;
                    Ok(answer)
                }
                Err(err) => {
                    if let Err(rollback) = conn.execute_batch("ROLLBACK") {
                        tracing::error!(error = %rollback, "could not roll back a transaction");
                    }
                    Err(err)
                }
            }
        })
    }
}

/// How soon the WAL is copied into the database file again after frames were copied, and after
/// there were none.
const CHECKPOINT_BUSY: Duration = Duration::from_millis(10);
const CHECKPOINT_IDLE: Duration = Duration::from_millis(250);
/// The writer's page cache, in KiB (SQLite's negative `cache_size`). 16 MB mints as fast as
/// 64 MB did in `scripts/bench-mint`; 64 MB filled up under the redirect benchmark's visits
/// and took the process to 122 MB resident, over its 100 MB budget.
const WRITER_CACHE_KIB: &str = "-16384";

/// Copies the WAL into the database file as it grows, on a connection of its own. The writer
/// still checkpoints every thousand pages (only a checkpoint between two of its transactions
/// can finish, and let the WAL start over), but finds nearly everything copied and synced
/// already: its checkpoints had stalled every write queued behind them for tens of
/// milliseconds. PASSIVE: this never waits for, nor blocks, the writer or a reader.
async fn keep_checkpointing(pool: SqlitePool) {
    let (mut failing, mut last_frames) = (false, 0);
    loop {
        let checkpoint: Result<(i64, i64, i64), sqlx::Error> =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await;
        let pause = match checkpoint {
            // The WAL's length: when it moved, something was written since the last look.
            Ok((_, frames, _)) => {
                failing = false;
                let written = frames != last_frames;
                last_frames = frames;
                if written { CHECKPOINT_BUSY } else { CHECKPOINT_IDLE }
            }
            Err(err) => {
                // Once per spell, not a hundred times a second.
                if !failing {
                    tracing::warn!(error = %crate::telemetry::cause_chain(&err), "could not checkpoint the SQLite WAL; retrying");
                }
                failing = true;
                CHECKPOINT_IDLE
            }
        };
        tokio::time::sleep(pause).await;
    }
}

/// Runs synchronous SQLite calls without stalling the other tasks of a multi-threaded runtime.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(rt) if rt.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}
