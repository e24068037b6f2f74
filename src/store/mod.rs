//! Storage: one interface, a SQLite side and a PostgreSQL side.
//!
//! The backend is chosen from the database URL's scheme, and `Backend` holds the one chosen.
//! SQL both dialects accept (placeholders are `$n` on both) is written once, as ordinary methods
//! of `Backend` in one file per area (links, shares, sites, accounts, campaigns, reports,
//! analytics, exports, visits), and `with_pool!` runs it on whichever pool the backend has. What truly
//! differs stays in `sqlite.rs` and `postgres.rs`: connecting, migrations, the visit writer,
//! minting, folding parked tallies and change notification.

/// Runs `body` with `pool` bound to the backend's pool that `$pool` picks (`backend.reader()`
/// or `backend.writer()`): written once, type-checked and compiled once per dialect. `body` is
/// an expression of the enclosing function, not a closure: `?`, `.await` and `return` in it act
/// on that function.
macro_rules! with_pool {
    ($pool:expr, |$name:ident| $body:expr) => {
        match $pool {
            $crate::store::Pool::Sqlite($name) => $body,
            $crate::store::Pool::Postgres($name) => $body,
        }
    };
}

mod accounts;
mod analytics;
mod campaigns;
mod export;
mod import_writes;
pub mod imports;
mod links;
mod minting;
mod models;
mod postgres;
mod postgres_mint;
mod previews;
mod reports;
mod shares;
mod sites;
mod sqlite;
mod sqlite_batch;
mod sqlite_mint;
mod visits;
mod webhooks;

pub use accounts::AccountStore;
pub use analytics::AnalyticsStore;
pub use campaigns::CampaignStore;
pub use export::ExportStore;
pub use links::{EventPlacementRow, LinkChange, LinkDeletion, LinkOrder, LinkQuery, LinkStore, SiteActivity};
pub use minting::{MintBatch, MintOutcome, MintRefusal, NewCode, NewShare, ShareLink, SitePage};
pub use models::*;
pub use previews::{PreviewCardRecord, PreviewStore, link_preview_cards};
pub use reports::{ReportStore, Scope};
pub use shares::ShareStore;
pub use sites::SiteStore;
pub use visits::{
    Counts, MAX_VISITS_PER_RUN, Rollups, ShareCounts, StoredVisit, VisitBatch, VisitRun, VisitStore, visits_of,
};
pub use webhooks::{
    AttemptResult, ClaimedEndpoint, ClickItem, DeliveryRecord, DeliveryStatus, EndpointChange, EndpointRecord,
    EndpointStatus, FixedMessage, MAX_CLICK_SPAN, QueuedDelivery, WebhookStore,
};

use async_trait::async_trait;
use postgres::PgStore;
use sqlite::SqliteStore;
use sqlx::postgres::{PgPool, PgRow};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Postgres, SqlSafeStr, Sqlite};
use std::sync::Arc;

/// sqlx's own warning for a slow pool acquire, kept out of the log: under load or while the
/// database is away it came once per request, and `crate::health` says it once per spell.
const QUIET: log::LevelFilter = log::LevelFilter::Debug;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("that code or slug is already taken")]
    CodeTaken,
    #[error("that custom channel already exists")]
    ChannelExists,
    #[error("no link has that id")]
    LinkNotFound,
    #[error("an account with that e-mail already exists")]
    EmailTaken,
    #[error("a campaign with that name already exists")]
    CampaignExists,
    #[error("database error")]
    Database(#[from] sqlx::Error),
    /// From the SQLite visit writer's prepared statements, which bypass sqlx.
    #[error("database error")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// SQLite's in-process statements never wait; one that did is a bug, not a lost batch.
    #[error("a SQLite batch stalled")]
    Stalled,
    #[error("the database did not answer in time")]
    TimedOut,
}

impl StoreError {
    /// Whether trying the same thing again later may work: the database was away, busy, locked
    /// or full, not the statement wrong. Visits wait in memory through the former; a batch that
    /// fails for another reason would fail forever.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::TimedOut => true,
            StoreError::Database(err) => match err {
                sqlx::Error::Io(_)
                | sqlx::Error::PoolTimedOut
                | sqlx::Error::PoolClosed
                | sqlx::Error::WorkerCrashed
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_) => true,
                sqlx::Error::Database(db) => match db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    Some(pg) => postgres_transient(pg.code()),
                    None => db.code().and_then(|c| c.parse().ok()).is_some_and(sqlite_transient),
                },
                _ => false,
            },
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(failure, _)) => sqlite_transient(failure.extended_code),
            _ => false,
        }
    }
}

/// SQLite's busy (5), locked (6), read-only (8), I/O (10), full (13) and cannot-open (14), in
/// any of their extended forms.
fn sqlite_transient(code: i32) -> bool {
    matches!(code & 0xff, 5 | 6 | 8 | 10 | 13 | 14)
}

/// PostgreSQL's connection exceptions (08…), shutdowns and startups (57P…), lack of resources
/// (53…) and lost races (serialization, deadlock).
fn postgres_transient(sqlstate: &str) -> bool {
    ["08", "57P", "53"].iter().any(|class| sqlstate.starts_with(class)) || matches!(sqlstate, "40001" | "40P01")
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything sharetrail keeps, behind one trait object: `Arc<dyn Store>` reaches every area's
/// methods without importing its trait.
#[async_trait]
pub trait Store:
    AccountStore
    + AnalyticsStore
    + CampaignStore
    + ExportStore
    + imports::ImportStore
    + LinkStore
    + PreviewStore
    + ReportStore
    + ShareStore
    + SiteStore
    + VisitStore
    + WebhookStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;

    /// Tells every other instance sharing this database about the change. A no-op on SQLite,
    /// which has a single instance.
    async fn announce_invalidation(&self, change: &Invalidation) -> StoreResult<()>;
    /// Starts forwarding other instances' invalidations, and the feed's own losses and
    /// recoveries, to `sink`, where the backend has such a feed.
    async fn listen_for_invalidations(&self, sink: Arc<dyn Fn(Notice) + Send + Sync>) -> StoreResult<()>;
    /// Returns once every change committed by any instance before the call has reached this
    /// one's `listen_for_invalidations` sink; at once where there is a single instance.
    async fn catch_up_with_other_instances(&self) -> StoreResult<()>;
}

/// The store behind `Arc<dyn Store>`: one of the two databases.
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// One backend's pool, for SQL both dialects run as written (see `with_pool!`).
enum Pool<'a> {
    Sqlite(&'a SqlitePool),
    Postgres(&'a PgPool),
}

/// A value both backends bind as a parameter.
trait Param:
    for<'t> sqlx::Encode<'t, Sqlite> + sqlx::Type<Sqlite> + for<'t> sqlx::Encode<'t, Postgres> + sqlx::Type<Postgres> + Send
{
}

impl<T> Param for T where
    T: for<'t> sqlx::Encode<'t, Sqlite>
        + sqlx::Type<Sqlite>
        + for<'t> sqlx::Encode<'t, Postgres>
        + sqlx::Type<Postgres>
        + Send
{
}

/// A row both backends read into.
trait Row: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}

impl<T> Row for T where T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}

/// The statements most reads and updates are: one row by a key, every row, one row changed.
impl Pool<'_> {
    /// The row `sql` finds with `key` bound as `$1`, if any.
    async fn row<T: Row>(self, sql: impl SqlSafeStr + Send, key: impl Param) -> StoreResult<Option<T>> {
        Ok(with_pool!(self, |pool| {
            sqlx::query_as(sql).bind(key).fetch_optional(pool).await?
        }))
    }

    /// Every row of `sql`, which binds nothing.
    async fn rows<T: Row>(self, sql: impl SqlSafeStr + Send) -> StoreResult<Vec<T>> {
        Ok(with_pool!(self, |pool| sqlx::query_as(sql).fetch_all(pool).await?))
    }

    /// Runs `sql`, an `UPDATE` of the row whose id is `$1` that sets `$2` to `value`: true when a
    /// row changed.
    async fn update_row(self, sql: &'static str, id: i64, value: impl Param) -> StoreResult<bool> {
        let changed = with_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(id)
                .bind(value)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }
}

impl Backend {
    /// Where reads go: SQLite's read pool, PostgreSQL's one pool. A read there sees every commit
    /// that finished before it began, a moment-old session or link included: in WAL mode each
    /// statement reads the latest commit, and sqlx resets a statement before it hands back the
    /// row, so no pooled reader is left holding an older snapshot.
    fn reader(&self) -> Pool<'_> {
        match self {
            Backend::Sqlite(store) => Pool::Sqlite(store.reader()),
            Backend::Postgres(store) => Pool::Postgres(store.pool()),
        }
    }

    /// Where writes go: SQLite's single writer connection, PostgreSQL's one pool.
    fn writer(&self) -> Pool<'_> {
        match self {
            Backend::Sqlite(store) => Pool::Sqlite(store.writer()),
            Backend::Postgres(store) => Pool::Postgres(store.pool()),
        }
    }

    /// Adds the share tallies mint batches parked to the links' figures; reads of those figures
    /// do it first. Nothing is ever parked on SQLite.
    async fn fold_parked_tallies(&self) -> StoreResult<()> {
        match self {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(store) => store.fold_parked_tallies().await,
        }
    }
}

#[async_trait]
impl Store for Backend {
    fn backend(&self) -> &'static str {
        match self {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    async fn migrate(&self) -> StoreResult<()> {
        match self {
            Backend::Sqlite(store) => store.run_migrations().await,
            Backend::Postgres(store) => store.run_migrations().await,
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        with_pool!(self.reader(), |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    async fn announce_invalidation(&self, change: &Invalidation) -> StoreResult<()> {
        match self {
            // A SQLite file has one sharetrail instance: its own cache is the only one to clear.
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(store) => store.notify(change).await,
        }
    }

    async fn listen_for_invalidations(&self, sink: Arc<dyn Fn(Notice) + Send + Sync>) -> StoreResult<()> {
        match self {
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(store) => store.listen(sink).await,
        }
    }

    async fn catch_up_with_other_instances(&self) -> StoreResult<()> {
        match self {
            // Every change of a single instance is applied before it is answered.
            Backend::Sqlite(_) => Ok(()),
            Backend::Postgres(store) => store.catch_up().await,
        }
    }
}

/// One share minted on its own, outside the minter's batches: for tools that seed a database.
pub async fn mint_one(store: &dyn Store, share: NewShare, now: i64) -> StoreResult<Result<ShareRecord, MintRefusal>> {
    let batch = MintBatch {
        creates: vec![share],
        sends: Vec::new(),
    };
    let outcome = store.mint(&batch, now).await?;
    Ok(outcome
        .created
        .into_iter()
        .next()
        .unwrap_or(Err(MintRefusal::LinkNotFound)))
}

/// Opens the store the URL names: `postgres://` or `postgresql://` for PostgreSQL, anything else
/// (`sqlite://file.db`, `sqlite::memory:`, or a bare path) for SQLite.
pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(Backend::Postgres(
            PgStore::connect(url, max_connections).await?,
        )))
    } else {
        Ok(Arc::new(Backend::Sqlite(
            SqliteStore::connect(url, max_connections).await?,
        )))
    }
}
