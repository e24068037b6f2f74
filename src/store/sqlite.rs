//! The embedded default: one SQLite file in WAL mode, one writer connection and a read pool.

use super::shared::{self, impl_store};
use super::workspace::{self, impl_workspace_store};
use super::*;
use crate::domain::channel::Channel;
use crate::ingest::VisitRecord;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
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

    async fn insert_visits(tx: &mut Transaction<'_, Sqlite>, visits: &[VisitRecord]) -> StoreResult<()> {
        // Binds borrow from the batch: no string is copied on its way into SQLite.
        for chunk in visits.chunks(shared::ROWS_PER_STATEMENT) {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO visits (share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country) ",
            );
            q.push_values(chunk, |mut row, v| {
                row.push_bind(v.share_id)
                    .push_bind(v.link_id)
                    .push_bind(v.at)
                    .push_bind(v.kind.as_str())
                    .push_bind(v.app.map(|a| a.as_str()))
                    .push_bind(v.visitor.as_str())
                    .push_bind(v.referrer_host.as_deref())
                    .push_bind(v.device.as_str())
                    .push_bind(v.browser.as_deref())
                    .push_bind(v.os.as_deref())
                    .push_bind(v.country.as_deref());
            });
            q.build().execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// A SQLite file has one sharetrail instance: its own cache is the only one to clear.
    async fn notify(&self, _codes: Option<&[String]>) -> StoreResult<()> {
        Ok(())
    }

    async fn listen(&self, _sink: Arc<dyn Fn(Invalidation) + Send + Sync>) -> StoreResult<()> {
        Ok(())
    }
}

impl_store!(SqliteStore);
impl_workspace_store!(SqliteStore);
