//! Campaigns: named groups of links, and their figures as the web UI lists them.

use super::models::{CampaignChannelRow, CampaignDayRow, CampaignRecord, CampaignTotals};
use super::{Backend, StoreError, StoreResult};
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

/// A campaign named only by links made through the API or a site gets a row, so the web UI
/// lists it; its slug doubles as its name until someone renames it.
pub(super) const ENSURE_CAMPAIGN: &str =
    "INSERT INTO campaigns (slug, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (slug) DO NOTHING";

const CAMPAIGN_COLUMNS: &str = "SELECT id, slug, name, created_at, archived_at FROM campaigns";

#[async_trait]
pub trait CampaignStore: Send + Sync {
    async fn create_campaign(&self, slug: &str, name: &str, now: i64) -> StoreResult<CampaignRecord>;
    async fn get_campaign(&self, id: i64) -> StoreResult<Option<CampaignRecord>>;
    async fn campaign_by_slug(&self, slug: &str) -> StoreResult<Option<CampaignRecord>>;
    async fn rename_campaign(&self, id: i64, name: &str) -> StoreResult<bool>;
    async fn set_campaign_archived(&self, id: i64, archived_at: Option<i64>) -> StoreResult<bool>;
    async fn campaign_totals(&self, include_archived: bool) -> StoreResult<Vec<CampaignTotals>>;
    /// The campaigns alone, for a form's choices: active first, newest first, as the list.
    async fn list_campaigns(&self, include_archived: bool) -> StoreResult<Vec<CampaignRecord>>;
    async fn campaign_channel_clicks(&self) -> StoreResult<Vec<CampaignChannelRow>>;
    async fn campaign_daily_clicks(&self, since_day: &str) -> StoreResult<Vec<CampaignDayRow>>;
}

#[async_trait]
impl CampaignStore for Backend {
    async fn create_campaign(&self, slug: &str, name: &str, now: i64) -> StoreResult<CampaignRecord> {
        let created: Option<CampaignRecord> = with_pool!(self.writer(), |pool| {
            sqlx::query_as(
                "INSERT INTO campaigns (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING \
                 RETURNING id, slug, name, created_at, archived_at",
            )
            .bind(slug)
            .bind(name)
            .bind(now)
            .fetch_optional(pool)
            .await?
        });
        created.ok_or(StoreError::CampaignExists)
    }

    async fn get_campaign(&self, id: i64) -> StoreResult<Option<CampaignRecord>> {
        self.reader()
            .row(AssertSqlSafe(format!("{CAMPAIGN_COLUMNS} WHERE id = $1")), id)
            .await
    }

    async fn campaign_by_slug(&self, slug: &str) -> StoreResult<Option<CampaignRecord>> {
        self.reader()
            .row(AssertSqlSafe(format!("{CAMPAIGN_COLUMNS} WHERE slug = $1")), slug)
            .await
    }

    async fn rename_campaign(&self, id: i64, name: &str) -> StoreResult<bool> {
        self.writer()
            .update_row("UPDATE campaigns SET name = $2 WHERE id = $1", id, name)
            .await
    }

    async fn set_campaign_archived(&self, id: i64, archived_at: Option<i64>) -> StoreResult<bool> {
        let sql = "UPDATE campaigns SET archived_at = $2 WHERE id = $1";
        self.writer().update_row(sql, id, archived_at).await
    }

    async fn list_campaigns(&self, include_archived: bool) -> StoreResult<Vec<CampaignRecord>> {
        let sql = AssertSqlSafe(format!(
            "{CAMPAIGN_COLUMNS} WHERE archived_at IS NULL OR $1 \
             ORDER BY CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC"
        ));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql).bind(include_archived).fetch_all(pool).await?
        }))
    }

    async fn campaign_totals(&self, include_archived: bool) -> StoreResult<Vec<CampaignTotals>> {
        self.fold_parked_tallies().await?;
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT c.id, c.slug, c.name, c.created_at, c.archived_at, \
                 CAST(COUNT(l.id) AS BIGINT) AS links, CAST(COALESCE(SUM(l.clicks), 0) AS BIGINT) AS clicks, \
                 CAST(COALESCE(SUM(l.share_count), 0) AS BIGINT) AS shares, \
                 CAST(COALESCE(MAX(l.max_depth), 0) AS BIGINT) AS max_depth, \
                 (SELECT CAST(COUNT(*) AS BIGINT) FROM conversions v JOIN links vl ON vl.id = v.link_id \
                    WHERE vl.campaign = c.slug) AS conversions, \
                 (SELECT CAST(COALESCE(SUM(v.value), 0) AS DOUBLE PRECISION) FROM conversions v \
                    JOIN links vl ON vl.id = v.link_id WHERE vl.campaign = c.slug) AS conversion_value \
                 FROM campaigns c LEFT JOIN links l ON l.campaign = c.slug \
                 WHERE c.archived_at IS NULL OR $1 \
                 GROUP BY c.id, c.slug, c.name, c.created_at, c.archived_at \
                 ORDER BY CASE WHEN c.archived_at IS NULL THEN 0 ELSE 1 END, c.created_at DESC, c.id DESC",
            )
            .bind(include_archived)
            .fetch_all(pool)
            .await?
        }))
    }

    async fn campaign_channel_clicks(&self) -> StoreResult<Vec<CampaignChannelRow>> {
        let sql = "SELECT c.id AS campaign_id, s.channel, CAST(SUM(s.clicks) AS BIGINT) AS clicks \
                   FROM campaigns c JOIN links l ON l.campaign = c.slug JOIN link_channel_stats s ON s.link_id = l.id \
                   GROUP BY c.id, s.channel";
        self.reader().rows(sql).await
    }

    async fn campaign_daily_clicks(&self, since_day: &str) -> StoreResult<Vec<CampaignDayRow>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT c.id AS campaign_id, d.day, CAST(SUM(d.clicks) AS BIGINT) AS clicks \
                 FROM campaigns c JOIN links l ON l.campaign = c.slug JOIN link_daily_stats d ON d.link_id = l.id \
                 WHERE d.day >= $1 GROUP BY c.id, d.day ORDER BY d.day",
            )
            .bind(since_day)
            .fetch_all(pool)
            .await?
        }))
    }
}
