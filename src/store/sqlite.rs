//! The embedded default: one SQLite file in WAL mode, one writer connection and a read pool.

use super::shared::{self, impl_store};
use super::sqlite_batch;
use super::workspace::{self, impl_workspace_store};
use super::*;
use crate::domain::channel::Channel;
use crate::ingest::VisitBatch;
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
    const BACKEND: &'static str = "sqlite";

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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(max_readers.max(1))
            .connect_lazy_with(options.read_only(true));
        Ok(SqliteStore { writer, reader })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn run_migrations(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.writer).await?;
        Ok(())
    }

    /// One batch in one transaction, written through prepared statements on sqlx's own
    /// connection (see `sqlite_batch`).
    async fn write_batch(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome> {
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

    /// A SQLite file has one sharetrail instance: its own cache is the only one to clear.
    async fn notify(&self, _change: &Invalidation) -> StoreResult<()> {
        Ok(())
    }

    async fn listen(&self, _sink: Arc<dyn Fn(Invalidation) + Send + Sync>) -> StoreResult<()> {
        Ok(())
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

impl_store!(SqliteStore, sqlx::Sqlite);
impl_workspace_store!(SqliteStore);
