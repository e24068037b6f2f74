//! Links: the destinations that shares point to, and their figures as the web UI lists them.

use super::campaigns::ENSURE_CAMPAIGN;
use super::models::{LinkRecord, LinkSummary, NewLink};
use super::{Backend, StoreResult};
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

const LINK_COLUMNS: &str =
    "SELECT id, url, title, campaign, created_at, disabled_at, expires_at, site_id FROM links WHERE id = $1";

const LINK_SUMMARY: &str = "SELECT id, url, title, campaign, created_at, disabled_at, site_id, \
     share_count, max_depth, clicks, unfurls FROM links";

#[async_trait]
pub trait LinkStore: Send + Sync {
    async fn create_link(&self, link: &NewLink, now: i64) -> StoreResult<LinkRecord>;
    async fn get_link(&self, id: i64) -> StoreResult<Option<LinkRecord>>;
    /// Returns false when no link has that id.
    async fn set_link_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool>;
    async fn list_links(&self, campaign: Option<&str>, limit: i64) -> StoreResult<Vec<LinkSummary>>;
    async fn link_summary(&self, id: i64) -> StoreResult<Option<LinkSummary>>;
}

#[async_trait]
impl LinkStore for Backend {
    async fn create_link(&self, link: &NewLink, now: i64) -> StoreResult<LinkRecord> {
        Ok(with_pool!(self.writer(), |pool| {
            let record = sqlx::query_as(
                "INSERT INTO links (url, title, campaign, created_at) VALUES ($1, $2, $3, $4) \
                 RETURNING id, url, title, campaign, created_at, disabled_at, expires_at, site_id",
            )
            .bind(link.url.as_str())
            .bind(&link.title)
            .bind(&link.campaign)
            .bind(now)
            .fetch_one(pool)
            .await?;
            if let Some(campaign) = &link.campaign {
                sqlx::query(ENSURE_CAMPAIGN)
                    .bind(campaign)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
            record
        }))
    }

    async fn get_link(&self, id: i64) -> StoreResult<Option<LinkRecord>> {
        self.reader().row(LINK_COLUMNS, id).await
    }

    async fn set_link_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool> {
        let sql = "UPDATE links SET disabled_at = $2 WHERE id = $1";
        self.writer().update_row(sql, id, disabled_at).await
    }

    async fn list_links(&self, campaign: Option<&str>, limit: i64) -> StoreResult<Vec<LinkSummary>> {
        self.fold_parked_tallies().await?;
        Ok(match campaign {
            Some(slug) => {
                let sql = AssertSqlSafe(format!("{LINK_SUMMARY} WHERE campaign = $1 ORDER BY id DESC LIMIT $2"));
                with_pool!(self.reader(), |pool| {
                    sqlx::query_as(sql).bind(slug).bind(limit).fetch_all(pool).await?
                })
            }
            None => {
                let sql = AssertSqlSafe(format!("{LINK_SUMMARY} ORDER BY id DESC LIMIT $1"));
                with_pool!(self.reader(), |pool| {
                    sqlx::query_as(sql).bind(limit).fetch_all(pool).await?
                })
            }
        })
    }

    async fn link_summary(&self, id: i64) -> StoreResult<Option<LinkSummary>> {
        self.fold_parked_tallies().await?;
        self.reader()
            .row(AssertSqlSafe(format!("{LINK_SUMMARY} WHERE id = $1")), id)
            .await
    }
}
