//! Imports from other shorteners: the codes sharetrail has already, each imported link written
//! whole (`import_writes`), what its codes brought (clicks and visit history counted there), and
//! uploads waiting for an admin's confirmation.

pub use super::import_writes::{ImportTarget, ImportWrite, ImportWritten, ImportedCodeWrite, NewImportedLink};
use super::{Backend, StoreResult};
use crate::domain::import::plan::ExistingCode;
use async_trait::async_trait;

/// Codes per statement when looking codes up: well under either backend's bind limit.
const CODES_PER_STATEMENT: usize = 400;

/// An upload's time to be confirmed before it is deleted.
pub const UPLOAD_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

#[async_trait]
pub trait ImportStore: Send + Sync {
    /// The shares that answer any of `codes`: by exact code, or a custom slug in any case.
    /// Reservations too, as their codes are taken.
    async fn existing_codes(&self, codes: &[String]) -> StoreResult<Vec<ExistingCode>>;
    /// Writes one imported link whole, or nothing of it (see `import_writes`).
    async fn import_link(&self, write: &ImportWrite, now: i64) -> StoreResult<ImportWritten>;
    /// What a link's imported codes bring: how many, and the clicks counted before the import.
    async fn imported_totals(&self, link_id: i64) -> StoreResult<ImportedTotals>;
    /// The visit history a link's imported codes brought, by day and by country.
    async fn imported_history(&self, link_id: i64) -> StoreResult<ImportedHistory>;
    /// Keeps an upload for its confirmation, and deletes uploads nobody confirmed in time.
    async fn save_import_upload(&self, upload: &ImportUpload) -> StoreResult<()>;
    /// The upload `token` names, when `user_id` made it and it has not expired.
    async fn import_upload(&self, token: &str, user_id: i64, now: i64) -> StoreResult<Option<ImportUpload>>;
    async fn delete_import_upload(&self, token: &str) -> StoreResult<()>;
}

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportedTotals {
    pub codes: i64,
    pub clicks: i64,
}

/// Visits another tool logged on a link's imported codes: people (`clicks`) and bots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedHistory {
    /// By UTC day, oldest first.
    pub days: Vec<ImportedVisits>,
    /// By country code (`unknown` where the tool could not tell), most visits by people first.
    pub countries: Vec<ImportedVisits>,
}

impl ImportedHistory {
    pub fn clicks(&self) -> i64 {
        self.days.iter().map(|d| d.clicks).sum()
    }

    pub fn bots(&self) -> i64 {
        self.days.iter().map(|d| d.bots).sum()
    }
}

/// One day's or one country's imported visits.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ImportedVisits {
    /// A day (`YYYY-MM-DD`) or a country code.
    pub key: String,
    pub clicks: i64,
    pub bots: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ImportUpload {
    pub token: String,
    pub user_id: i64,
    pub format: String,
    pub file_name: String,
    pub body: String,
    pub created_at: i64,
}

#[derive(sqlx::FromRow)]
struct ExistingRow {
    code: String,
    slug_key: Option<String>,
    link_id: i64,
    url: String,
    deleted_at: Option<i64>,
}

#[async_trait]
impl ImportStore for Backend {
    async fn existing_codes(&self, codes: &[String]) -> StoreResult<Vec<ExistingCode>> {
        let mut found = Vec::new();
        for chunk in codes.chunks(CODES_PER_STATEMENT) {
            let rows: Vec<ExistingRow> = with_pool!(self.reader(), |pool| {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT s.code, s.slug_key, s.link_id, l.url, l.deleted_at FROM shares s JOIN links l ON l.id = s.link_id \
                     WHERE s.code IN (",
                );
                let mut list = query.separated(", ");
                for code in chunk {
                    list.push_bind(code.clone());
                }
                query.push(") OR s.slug_key IN (");
                let mut list = query.separated(", ");
                for code in chunk {
                    list.push_bind(code.to_ascii_lowercase());
                }
                query.push(")");
                query.build_query_as().fetch_all(pool).await?
            });
            found.extend(rows.into_iter().map(|r| ExistingCode {
                code: r.code,
                slug_key: r.slug_key,
                link_id: r.link_id,
                url: r.url,
                deleted: r.deleted_at.is_some(),
            }));
        }
        Ok(found)
    }

    async fn import_link(&self, write: &ImportWrite, now: i64) -> StoreResult<ImportWritten> {
        match self {
            Backend::Sqlite(store) => store.write_import(write, now).await,
            Backend::Postgres(store) => store.write_import(write, now).await,
        }
    }

    async fn imported_totals(&self, link_id: i64) -> StoreResult<ImportedTotals> {
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) AS codes, CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS clicks \
                   FROM imported_shares WHERE link_id = $1";
        Ok(self.reader().row(sql, link_id).await?.unwrap_or_default())
    }

    async fn imported_history(&self, link_id: i64) -> StoreResult<ImportedHistory> {
        let (days, countries) = with_pool!(self.reader(), |pool| {
            let days: Vec<ImportedVisits> = sqlx::query_as(
                "SELECT day AS key, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(bots) AS BIGINT) AS bots \
                 FROM imported_visits WHERE link_id = $1 GROUP BY day ORDER BY day",
            )
            .bind(link_id)
            .fetch_all(pool)
            .await?;
            let countries: Vec<ImportedVisits> = sqlx::query_as(
                "SELECT country AS key, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(bots) AS BIGINT) AS bots \
                 FROM imported_visits WHERE link_id = $1 GROUP BY country ORDER BY SUM(clicks) DESC, country",
            )
            .bind(link_id)
            .fetch_all(pool)
            .await?;
            (days, countries)
        });
        Ok(ImportedHistory { days, countries })
    }

    async fn save_import_upload(&self, upload: &ImportUpload) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM import_uploads WHERE created_at < $1")
                .bind(upload.created_at - UPLOAD_LIFETIME_MS)
                .execute(pool)
                .await?;
            sqlx::query(
                "INSERT INTO import_uploads (token, user_id, format, file_name, body, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&upload.token)
            .bind(upload.user_id)
            .bind(&upload.format)
            .bind(&upload.file_name)
            .bind(&upload.body)
            .bind(upload.created_at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    async fn import_upload(&self, token: &str, user_id: i64, now: i64) -> StoreResult<Option<ImportUpload>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT token, user_id, format, file_name, body, created_at FROM import_uploads \
                 WHERE token = $1 AND user_id = $2 AND created_at >= $3",
            )
            .bind(token)
            .bind(user_id)
            .bind(now - UPLOAD_LIFETIME_MS)
            .fetch_optional(pool)
            .await?
        }))
    }

    async fn delete_import_upload(&self, token: &str) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM import_uploads WHERE token = $1")
                .bind(token)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
