//! Sites that embed the share snippet: their settings, their pages' links, and the conversions
//! and "how did you hear about us" answers their snippets report.

use super::campaigns::ENSURE_CAMPAIGN;
use super::models::{LinkRecord, NewConversion, NewSelfReport, NewSite, SiteRecord, SiteUpdate};
use super::{Backend, StoreError, StoreResult, webhooks};
use crate::domain::destination::Destination;
use crate::domain::site::SiteKey;
use crate::domain::webhook::EventType;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

const SITE_COLUMNS: &str = "SELECT id, name, public_key, domains, origins, utm_enabled, utm_campaign, is_demo, \
     created_at, disabled_at FROM sites";

/// The converting share and its ancestors; no chain is deeper than a cascade may be
/// (`MAX_DEPTH`), and the bound holds even for rows older than the cap.
const CHAIN_CREDITS: &str = "WITH RECURSIVE chain(id, parent_id, link_id, hop) AS ( \
     SELECT id, parent_id, link_id, 0 FROM shares WHERE id = $2 \
     UNION ALL SELECT s.id, s.parent_id, s.link_id, c.hop + 1 FROM shares s JOIN chain c ON s.id = c.parent_id \
     WHERE c.hop < 63) \
     INSERT INTO conversion_credits (conversion_id, share_id, link_id, role) \
     SELECT $1, id, link_id, CASE WHEN hop = 0 THEN 'converting' ELSE 'assist' END FROM chain";

#[async_trait]
pub trait SiteStore: Send + Sync {
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
    async fn record_conversion(&self, conversion: &NewConversion) -> StoreResult<()>;
    async fn record_self_report(&self, report: &NewSelfReport) -> StoreResult<()>;
}

#[async_trait]
impl SiteStore for Backend {
    async fn create_site(&self, site: &NewSite, now: i64) -> StoreResult<SiteRecord> {
        Ok(with_pool!(self.writer(), |pool| {
            sqlx::query_as(
                "INSERT INTO sites (name, public_key, domains, origins, utm_enabled, utm_campaign, is_demo, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id, name, public_key, domains, origins, \
                 utm_enabled, utm_campaign, is_demo, created_at, disabled_at",
            )
            .bind(&site.name)
            .bind(site.key.as_str())
            .bind(site.domains.to_stored())
            .bind(site.origins.to_stored())
            .bind(i64::from(site.utm_enabled))
            .bind(&site.utm_campaign)
            .bind(i64::from(site.is_demo))
            .bind(now)
            .fetch_one(pool)
            .await?
        }))
    }

    async fn list_sites(&self) -> StoreResult<Vec<SiteRecord>> {
        self.reader()
            .rows(AssertSqlSafe(format!("{SITE_COLUMNS} ORDER BY id")))
            .await
    }

    async fn get_site(&self, id: i64) -> StoreResult<Option<SiteRecord>> {
        self.reader()
            .row(AssertSqlSafe(format!("{SITE_COLUMNS} WHERE id = $1")), id)
            .await
    }

    async fn site_by_key(&self, key: &SiteKey) -> StoreResult<Option<SiteRecord>> {
        let sql = AssertSqlSafe(format!("{SITE_COLUMNS} WHERE public_key = $1"));
        self.reader().row(sql, key.as_str()).await
    }

    async fn demo_site(&self) -> StoreResult<Option<SiteRecord>> {
        let sql = AssertSqlSafe(format!("{SITE_COLUMNS} WHERE is_demo = 1 ORDER BY id LIMIT 1"));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql).fetch_optional(pool).await?
        }))
    }

    async fn update_site(&self, id: i64, update: &SiteUpdate, now: i64) -> StoreResult<Option<SiteRecord>> {
        let sql = AssertSqlSafe(format!("{SITE_COLUMNS} WHERE id = $1"));
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            // Read in the update's own transaction, on the writer: no other change lands between.
            let current: Option<SiteRecord> = sqlx::query_as(sql).bind(id).fetch_optional(&mut *tx).await?;
            let Some(mut site) = current else { return Ok(None) };
            update.apply_to(&mut site, now);
            sqlx::query(
                "UPDATE sites SET name = $2, domains = $3, origins = $4, utm_enabled = $5, utm_campaign = $6, \
                 disabled_at = $7 WHERE id = $1",
            )
            .bind(id)
            .bind(&site.name)
            .bind(&site.domains)
            .bind(&site.origins)
            .bind(site.utm_enabled)
            .bind(&site.utm_campaign)
            .bind(site.disabled_at)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(Some(site))
        })
    }

    async fn site_page_link(
        &self,
        site: &SiteRecord,
        url: &Destination,
        title: Option<&str>,
        now: i64,
    ) -> StoreResult<LinkRecord> {
        let created: Option<LinkRecord> = with_pool!(self.writer(), |pool| {
            let created = sqlx::query_as(
                "INSERT INTO links (url, title, campaign, created_at, site_id) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (site_id, url) DO NOTHING \
                 RETURNING id, url, title, campaign, created_at, disabled_at, expires_at, site_id",
            )
            .bind(url.as_str())
            .bind(title)
            .bind(&site.utm_campaign)
            .bind(now)
            .bind(site.id)
            .fetch_optional(pool)
            .await?;
            if let (Some(_), Some(campaign)) = (&created, &site.utm_campaign) {
                sqlx::query(ENSURE_CAMPAIGN)
                    .bind(campaign)
                    .bind(now)
                    .execute(pool)
                    .await?;
            }
            created
        });
        match created {
            Some(link) => Ok(link),
            None => self
                .find_site_page_link(site.id, url)
                .await?
                .ok_or(StoreError::LinkNotFound),
        }
    }

    async fn find_site_page_link(&self, site_id: i64, url: &Destination) -> StoreResult<Option<LinkRecord>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(concat!(
                "SELECT ",
                super::links::link_record_columns!(),
                " FROM links WHERE site_id = $1 AND url = $2"
            ))
            .bind(site_id)
            .bind(url.as_str())
            .fetch_optional(pool)
            .await?
        }))
    }

    async fn record_conversion(&self, conversion: &NewConversion) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO conversions (site_id, link_id, share_id, name, value, at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(conversion.site_id)
            .bind(conversion.link_id)
            .bind(conversion.share_id)
            .bind(&conversion.name)
            .bind(conversion.value)
            .bind(conversion.at)
            .fetch_one(&mut *tx)
            .await?;
            let mut code: Option<String> = None;
            if let Some(share_id) = conversion.share_id {
                sqlx::query(CHAIN_CREDITS)
                    .bind(id)
                    .bind(share_id)
                    .execute(&mut *tx)
                    .await?;
                code = sqlx::query_scalar("SELECT code FROM shares WHERE id = $1")
                    .bind(share_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            }
            let event = EventType::ConversionCreated;
            sqlx::query(webhooks::ENQUEUE_EVENT)
                .bind(event.as_str())
                .bind(webhooks::conversion_data(id, conversion, code.as_deref()))
                .bind(conversion.at)
                .bind(event.subscribers_pattern())
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    async fn record_self_report(&self, report: &NewSelfReport) -> StoreResult<()> {
        with_pool!(self.writer(), |pool| {
            sqlx::query(
                "INSERT INTO self_reports (site_id, link_id, share_id, answer, channel, at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(report.site_id)
            .bind(report.link_id)
            .bind(report.share_id)
            .bind(&report.answer)
            .bind(&report.channel)
            .bind(report.at)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
