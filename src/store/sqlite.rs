//! The embedded default: one SQLite file in WAL mode, one writer connection and a read pool.

use super::shared::{self, impl_store};
use super::workspace::{self, impl_workspace_store};
use super::*;
use crate::domain::channel::Channel;
use crate::ingest::{Counts, VisitRecord};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};
use std::collections::{BTreeMap, BTreeSet};
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

    /// One statement, whatever the batch size: the rows travel as one JSON array, so the SQL text
    /// never changes (its prepared statement is reused) and nothing is bound per cell.
    async fn insert_visits(tx: &mut Transaction<'_, Sqlite>, visits: &[VisitRecord]) -> StoreResult<()> {
        let rows: Vec<_> = visits
            .iter()
            .map(|v| {
                (
                    v.share_id,
                    v.link_id,
                    v.at,
                    v.kind.as_str(),
                    v.app.map(|a| a.as_str()),
                    v.visitor.as_str(),
                    v.referrer_host.as_deref(),
                    v.device.as_str(),
                    v.browser.as_deref(),
                    v.os.as_deref(),
                    v.country.as_deref(),
                )
            })
            .collect();
        sqlx::query(
            "INSERT INTO visits (share_id, link_id, at, kind, app, visitor, referrer_host, device, browser, os, country) \
             SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, \
             value ->> 7, value ->> 8, value ->> 9, value ->> 10 FROM jsonb_each($1)",
        )
        .bind(json_rows(&rows)?)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Adds a batch's counts to its shares: one row per share touched, so as many rows as visits
    /// on a busy link with many shares. Sent as JSON for the same reason as the visits.
    async fn add_share_counts(tx: &mut Transaction<'_, Sqlite>, shares: &BTreeMap<i64, Counts>) -> StoreResult<()> {
        let rows: Vec<_> = shares.iter().map(|(id, n)| (id, n.clicks, n.unfurls, n.bots)).collect();
        sqlx::query(
            "UPDATE shares SET clicks = shares.clicks + v.c, unfurls = shares.unfurls + v.u, bots = shares.bots + v.b \
             FROM (SELECT value ->> 0 AS id, value ->> 1 AS c, value ->> 2 AS u, value ->> 3 AS b FROM jsonb_each($1)) AS v \
             WHERE shares.id = v.id",
        )
        .bind(json_rows(&rows)?)
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Counts the batch's visitors that are new to their link, then records them. Counting before
    /// inserting needs no row back per visitor; it is exact because this is the only writer.
    async fn add_unique_visitors(
        tx: &mut Transaction<'_, Sqlite>,
        visitors: &BTreeSet<(i64, String)>,
    ) -> StoreResult<()> {
        if visitors.is_empty() {
            return Ok(());
        }
        let rows = json_rows(&visitors.iter().collect::<Vec<_>>())?;
        sqlx::query(
            "WITH v AS (SELECT value ->> 0 AS link_id, value ->> 1 AS visitor FROM jsonb_each($1)), \
             fresh AS (SELECT link_id, COUNT(*) AS n FROM v WHERE NOT EXISTS \
             (SELECT 1 FROM link_visitors lv WHERE lv.link_id = v.link_id AND lv.visitor = v.visitor) GROUP BY link_id) \
             UPDATE links SET unique_visitors = links.unique_visitors + fresh.n FROM fresh WHERE links.id = fresh.link_id",
        )
        .bind(&rows)
        .execute(&mut **tx)
        .await?;
        // `WHERE true` keeps SQLite from reading ON CONFLICT as a join constraint.
        sqlx::query(
            "INSERT INTO link_visitors (link_id, visitor) SELECT value ->> 0, value ->> 1 FROM jsonb_each($1) WHERE true \
             ON CONFLICT (link_id, visitor) DO NOTHING",
        )
        .bind(&rows)
        .execute(&mut **tx)
        .await?;
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

/// A batch's rows as one JSON array of arrays, for `json_each`.
fn json_rows<T: serde::Serialize>(rows: &T) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(|err| StoreError::Database(sqlx::Error::Encode(Box::new(err))))
}

impl_store!(SqliteStore);
impl_workspace_store!(SqliteStore);
