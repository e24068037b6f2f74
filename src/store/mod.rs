//! Storage: one interface, a SQLite side and a PostgreSQL side.
//!
//! The backend is chosen from the database URL's scheme. Both sides share their SQL (written once
//! in `shared.rs`) except where the dialects differ: bulk visit inserts and change notification.

mod minting;
mod models;
mod postgres;
mod postgres_mint;
mod shared;
mod sqlite;
mod sqlite_batch;
mod sqlite_mint;
mod visits;
mod workspace;

pub use minting::{MintBatch, MintOutcome, MintRefusal, NewCode, NewShare, ShareLink, SitePage};
pub use models::*;
pub use postgres::PgStore;
pub use sqlite::SqliteStore;
pub use visits::{Counts, MAX_VISITS_PER_RUN, Rollups, ShareCounts, StoredVisit, VisitBatch, VisitRun, visits_of};
pub use workspace::{DayRange, Scope, WorkspaceStore};

use crate::domain::api_key::{KeyHash, NewApiKey};
use crate::domain::code::Code;
use crate::domain::destination::Destination;
use crate::domain::site::SiteKey;
use async_trait::async_trait;

/// sqlx's own warning for a slow pool acquire, kept out of the log: under load or while the
/// database is away it came once per request, and `crate::health` says it once per spell.
const QUIET: log::LevelFilter = log::LevelFilter::Debug;
use std::sync::Arc;

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

#[async_trait]
pub trait Store: WorkspaceStore + Send + Sync + 'static {
    fn backend(&self) -> &'static str;
    async fn migrate(&self) -> StoreResult<()>;
    async fn ping(&self) -> StoreResult<()>;

    async fn create_api_key(&self, name: &str, key: &NewApiKey, now: i64) -> StoreResult<i64>;
    async fn api_key_is_active(&self, hash: &KeyHash) -> StoreResult<bool>;

    async fn create_custom_channel(&self, name: &str, utm_medium: &str, now: i64) -> StoreResult<()>;
    async fn custom_channel_exists(&self, name: &str) -> StoreResult<bool>;

    async fn create_link(&self, link: &NewLink, now: i64) -> StoreResult<LinkRecord>;
    async fn get_link(&self, id: i64) -> StoreResult<Option<LinkRecord>>;
    /// Returns false when no link has that id.
    async fn set_link_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool>;

    /// Mints new shares and reservations and sends reserved codes, in one transaction: each
    /// request is answered on its own (a taken slug fails that share, not the batch), and every
    /// share that counts from now on is added to its link's rollups. Other instances hear of
    /// the new codes as the transaction commits (`MintOutcome::announcements`); this one's
    /// lookup is the caller's to tell.
    async fn mint(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome>;
    /// Deletes reservations whose time ran out before anyone sent them. Returns how many.
    async fn sweep_reservations(&self, now: i64) -> StoreResult<u64>;
    /// Adds the share tallies mint batches parked to the links' figures (PostgreSQL; nothing to
    /// do on SQLite). Reads of those figures do it first; the minter does it in the background.
    async fn fold_share_tallies(&self) -> StoreResult<()>;
    /// A share that was sent; reservations are not shares.
    async fn get_share(&self, code: &Code) -> StoreResult<Option<ShareRecord>>;
    async fn share_children(&self, share_id: i64, limit: i64) -> StoreResult<Vec<ShareRecord>>;
    /// Everything the redirect needs for one code, exact code first, then a custom slug in any
    /// case. A reservation is returned too (`reserved_until`): opening it proves it was sent.
    async fn redirect_target(&self, code: &Code) -> StoreResult<Option<RedirectTarget>>;
    /// The codes of one link's shares (and reservations): what a change to the link changes.
    async fn codes_of_link(&self, link_id: i64) -> StoreResult<Vec<String>>;
    /// Every code and slug key, for the filter that keeps random-code scans off the database.
    async fn all_code_keys(&self) -> StoreResult<Vec<String>>;

    async fn create_site(&self, site: &NewSite, now: i64) -> StoreResult<SiteRecord>;
    async fn list_sites(&self) -> StoreResult<Vec<SiteRecord>>;
    async fn get_site(&self, id: i64) -> StoreResult<Option<SiteRecord>>;
    async fn site_by_key(&self, key: &SiteKey) -> StoreResult<Option<SiteRecord>>;
    async fn update_site(&self, id: i64, update: &SiteUpdate, now: i64) -> StoreResult<Option<SiteRecord>>;
    async fn demo_site(&self) -> StoreResult<Option<SiteRecord>>;
    /// The link of a site's page, created on its first share and reused after.
    async fn site_page_link(
        &self,
        site: &SiteRecord,
        url: &Destination,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<LinkRecord>;
    async fn find_site_page_link(&self, site_id: i64, url: &Destination) -> StoreResult<Option<LinkRecord>>;
    async fn share_by_token(&self, link_id: i64, token: &str) -> StoreResult<Option<ShareRecord>>;
    async fn record_conversion(&self, conversion: &NewConversion) -> StoreResult<()>;
    async fn record_self_report(&self, report: &NewSelfReport) -> StoreResult<()>;

    /// Writes one batch of visits and their rollups in a single transaction, once: writing a
    /// batch whose key is already stored changes nothing and says so (`already_stored`).
    async fn write_visits(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome>;
    async fn link_stats(&self, link_id: i64) -> StoreResult<Option<LinkStatsRows>>;
    /// The visitor-hash salt of `day`, creating it from `candidate` if none exists yet; salts of
    /// earlier days are deleted, so yesterday's hashes can never be recomputed.
    async fn salt_for_day(&self, day: &str, candidate: &str) -> StoreResult<String>;

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
        Ok(Arc::new(PgStore::connect(url, max_connections).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url, max_connections).await?))
    }
}
