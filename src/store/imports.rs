//! Imports from other shorteners: the codes sharetrail has already, where each imported share
//! came from with the clicks counted there, and uploads waiting for an admin's confirmation.

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
    /// Records that these shares of `link_id` came from `source`, each with the clicks counted
    /// there: `(share id, clicks)`.
    async fn record_imported_shares(
        &self,
        link_id: i64,
        shares: &[(i64, i64)],
        source: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// What a link's imported codes bring: how many, and the clicks counted before the import.
    async fn imported_totals(&self, link_id: i64) -> StoreResult<ImportedTotals>;
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
}

#[async_trait]
impl ImportStore for Backend {
    async fn existing_codes(&self, codes: &[String]) -> StoreResult<Vec<ExistingCode>> {
        let mut found = Vec::new();
        for chunk in codes.chunks(CODES_PER_STATEMENT) {
            let rows: Vec<ExistingRow> = with_pool!(self.reader(), |pool| {
                let mut query = sqlx::QueryBuilder::new(
                    "SELECT s.code, s.slug_key, s.link_id, l.url FROM shares s JOIN links l ON l.id = s.link_id \
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
            }));
        }
        Ok(found)
    }

    async fn record_imported_shares(
        &self,
        link_id: i64,
        shares: &[(i64, i64)],
        source: &str,
        now: i64,
    ) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            for (share_id, clicks) in shares {
                sqlx::query(
                    "INSERT INTO imported_shares (share_id, link_id, source, clicks, imported_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(*share_id)
                .bind(link_id)
                .bind(source)
                .bind(*clicks)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn imported_totals(&self, link_id: i64) -> StoreResult<ImportedTotals> {
        let sql = "SELECT CAST(COUNT(*) AS BIGINT) AS codes, CAST(COALESCE(SUM(clicks), 0) AS BIGINT) AS clicks \
                   FROM imported_shares WHERE link_id = $1";
        Ok(self.reader().row(sql, link_id).await?.unwrap_or_default())
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
