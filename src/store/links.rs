//! Links: the destinations that shares point to, and their figures as the web UI lists them.

use super::campaigns::ENSURE_CAMPAIGN;
use super::models::{LinkLifecycle, LinkRecord, LinkSummary, NewLink};
use super::{Backend, StoreResult, webhooks};
use crate::domain::webhook::EventType;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

/// The columns a `LinkRecord` is read from, for every statement that reads or returns one.
macro_rules! link_record_columns {
    () => {
        "id, url, title, campaign, created_at, disabled_at, expires_at, site_id, clicks, max_clicks, \
         fallback_url, password_hash, utm_source, utm_medium, utm_campaign, utm_term, utm_content"
    };
}
pub(super) use link_record_columns;

/// Switches link `$id` off at `$at` in transaction `$tx` if it is on, not deleted and
/// `$condition` (more SQL) holds, and reports `link.disabled` in that transaction: only the
/// change from on to off is reported. Evaluates to whether it was switched off.
macro_rules! switch_off_reported {
    ($tx:ident, $id:expr, $at:expr, $condition:literal) => {{
        let switched_off: Option<LinkRecord> = sqlx::query_as(concat!(
            "UPDATE links SET disabled_at = $2 WHERE id = $1 AND disabled_at IS NULL AND deleted_at IS NULL",
            $condition,
            " RETURNING ",
            link_record_columns!()
        ))
        .bind($id)
        .bind($at)
        .fetch_optional(&mut *$tx)
        .await?;
        if let Some(link) = &switched_off {
            let event = EventType::LinkDisabled;
            sqlx::query(webhooks::ENQUEUE_EVENT)
                .bind(event.as_str())
                .bind(webhooks::link_disabled_data(link))
                .bind($at)
                .bind(event.subscribers_pattern())
                .execute(&mut *$tx)
                .await?;
        }
        switched_off.is_some()
    }};
}

/// A link that was deleted is found by no read: its row stays only to keep its codes taken.
const LINK_COLUMNS: &str = concat!(
    "SELECT ",
    link_record_columns!(),
    " FROM links WHERE id = $1 AND deleted_at IS NULL"
);

const LINK_SUMMARY: &str = "SELECT id, url, title, campaign, created_at, disabled_at, expires_at, site_id, \
     share_count, max_depth, clicks, unfurls, \
     max_clicks, fallback_url, password_hash, utm_source, utm_medium, utm_campaign, utm_term, utm_content \
     FROM links WHERE deleted_at IS NULL";

/// Sets every column of a `LinkLifecycle`, `$1` being the link's id.
const SET_LIFECYCLE: &str = "UPDATE links SET max_clicks = $2, fallback_url = $3, password_hash = $4, \
     utm_source = $5, utm_medium = $6, utm_campaign = $7, utm_term = $8, utm_content = $9 \
     WHERE id = $1 AND deleted_at IS NULL";

#[async_trait]
pub trait LinkStore: Send + Sync {
    async fn create_link(&self, link: &NewLink, now: i64) -> StoreResult<LinkRecord> {
        self.create_link_with(link, &LinkLifecycle::default(), now).await
    }
    /// A new link that asks what `lifecycle` says of its visits from the start.
    async fn create_link_with(&self, link: &NewLink, lifecycle: &LinkLifecycle, now: i64) -> StoreResult<LinkRecord>;
    /// Replaces what a link asks of its visits. Returns false when no link has that id.
    async fn set_link_lifecycle(&self, id: i64, lifecycle: &LinkLifecycle) -> StoreResult<bool>;
    /// A link's human clicks as stored, if the link exists.
    async fn link_clicks(&self, id: i64) -> StoreResult<Option<i64>>;
    async fn get_link(&self, id: i64) -> StoreResult<Option<LinkRecord>>;
    /// Returns false when no link has that id.
    async fn set_link_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool>;
    /// When every short link of the link stops redirecting (410 Gone); `None` never. Returns
    /// false when no link has that id.
    async fn set_link_expiry(&self, id: i64, expires_at: Option<i64>) -> StoreResult<bool>;
    async fn list_links(&self, campaign: Option<&str>, limit: i64) -> StoreResult<Vec<LinkSummary>>;
    async fn link_summary(&self, id: i64) -> StoreResult<Option<LinkSummary>>;
    /// One page of the links `query` asks for, in its order, after its cursor.
    async fn find_links(&self, query: &LinkQuery) -> StoreResult<Vec<LinkSummary>>;
    /// Sets a link's title, campaign and destination. Returns false when no link has that id.
    async fn update_link(&self, id: i64, change: &LinkChange, now: i64) -> StoreResult<bool>;
    /// Deletes a link for good: it is listed and found nowhere again, leaves its campaign, and
    /// its codes answer 410 Gone and are never handed out again. A site's page link cannot be
    /// deleted: the page's buttons would find it again by its address.
    async fn delete_link(&self, id: i64, now: i64) -> StoreResult<LinkDeletion>;
    /// Events: links with QR codes of their own, newest first, each placement with its scans
    /// (most scanned first).
    async fn event_placements(&self, limit: i64) -> StoreResult<Vec<EventPlacementRow>>;
    /// What a site's snippet has done: its totals and when it was last heard from.
    async fn site_activity(&self, site_id: i64) -> StoreResult<SiteActivity>;
}

/// A site's figures, all time, and the last time its pages reported anything.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct SiteActivity {
    pub pages: i64,
    pub shares: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub conversion_value: f64,
    /// The newest of its shares, conversions and answers, in Unix milliseconds.
    pub last_seen_at: Option<i64>,
}

/// What `delete_link` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDeletion {
    Deleted,
    /// No link has that id, or it was deleted already.
    NotFound,
    /// The link stands for a page of a site; it can be switched off instead.
    SitePage,
}

/// One QR placement of an event, with the event's link.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventPlacementRow {
    pub link_id: i64,
    pub title: Option<String>,
    pub url: String,
    pub created_at: i64,
    pub label: Option<String>,
    pub code: String,
    /// Human clicks of the code: scans, never bots or previews.
    pub scans: i64,
}

/// How the web UI's list of links is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkOrder {
    Newest,
    MostClicks,
    MostShares,
    Deepest,
}

impl LinkOrder {
    fn column(self) -> &'static str {
        match self {
            LinkOrder::Newest => "id",
            LinkOrder::MostClicks => "clicks",
            LinkOrder::MostShares => "share_count",
            LinkOrder::Deepest => "max_depth",
        }
    }
}

/// Which links to list. `after` is the last row of the previous page: its value in the order's
/// column and its id (keyset pagination: a page is found directly, however deep).
#[derive(Debug, Clone)]
pub struct LinkQuery {
    /// Matched against the destination and the title, ignoring case.
    pub search: Option<String>,
    pub campaign: Option<String>,
    /// The links of one site's pages.
    pub site: Option<i64>,
    /// Links with at least one share of this channel.
    pub channel: Option<String>,
    /// `Some(true)`: switched-off links only; `Some(false)`: working ones only.
    pub disabled: Option<bool>,
    pub order: LinkOrder,
    pub after: Option<(i64, i64)>,
    pub limit: i64,
}

/// A link's fields that the web UI can change.
#[derive(Debug, Clone)]
pub struct LinkChange {
    pub title: Option<String>,
    pub campaign: Option<String>,
    pub url: crate::domain::destination::Destination,
}

/// `text` for a LIKE pattern that matches it anywhere, its wildcards taken literally.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[async_trait]
impl LinkStore for Backend {
    async fn create_link_with(&self, link: &NewLink, lifecycle: &LinkLifecycle, now: i64) -> StoreResult<LinkRecord> {
        let l = lifecycle;
        Ok(with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let record = sqlx::query_as(concat!(
                "INSERT INTO links (url, title, campaign, created_at, max_clicks, fallback_url, password_hash, \
                     utm_source, utm_medium, utm_campaign, utm_term, utm_content) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ",
                link_record_columns!()
            ))
            .bind(link.url.as_str())
            .bind(&link.title)
            .bind(&link.campaign)
            .bind(now)
            .bind(l.max_clicks)
            .bind(&l.fallback_url)
            .bind(&l.password_hash)
            .bind(&l.utm_source)
            .bind(&l.utm_medium)
            .bind(&l.utm_campaign)
            .bind(&l.utm_term)
            .bind(&l.utm_content)
            .fetch_one(&mut *tx)
            .await?;
            if let Some(campaign) = &link.campaign {
                sqlx::query(ENSURE_CAMPAIGN)
                    .bind(campaign)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            record
        }))
    }

    async fn set_link_lifecycle(&self, id: i64, lifecycle: &LinkLifecycle) -> StoreResult<bool> {
        let l = lifecycle;
        let changed = with_pool!(self.writer(), |pool| {
            sqlx::query(SET_LIFECYCLE)
                .bind(id)
                .bind(l.max_clicks)
                .bind(&l.fallback_url)
                .bind(&l.password_hash)
                .bind(&l.utm_source)
                .bind(&l.utm_medium)
                .bind(&l.utm_campaign)
                .bind(&l.utm_term)
                .bind(&l.utm_content)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    async fn link_clicks(&self, id: i64) -> StoreResult<Option<i64>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_scalar("SELECT clicks FROM links WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await?
        }))
    }

    async fn get_link(&self, id: i64) -> StoreResult<Option<LinkRecord>> {
        self.reader().row(LINK_COLUMNS, id).await
    }

    async fn set_link_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool> {
        let sql = "UPDATE links SET disabled_at = $2 WHERE id = $1 AND deleted_at IS NULL";
        let Some(at) = disabled_at else {
            return self.writer().update_row(sql, id, disabled_at).await;
        };
        with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let found = switch_off_reported!(tx, id, at, "")
                || sqlx::query(sql)
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
            tx.commit().await?;
            Ok(found)
        })
    }

    async fn set_link_expiry(&self, id: i64, expires_at: Option<i64>) -> StoreResult<bool> {
        let sql = "UPDATE links SET expires_at = $2 WHERE id = $1 AND deleted_at IS NULL";
        self.writer().update_row(sql, id, expires_at).await
    }

    async fn list_links(&self, campaign: Option<&str>, limit: i64) -> StoreResult<Vec<LinkSummary>> {
        self.fold_parked_tallies().await?;
        Ok(match campaign {
            Some(slug) => {
                let sql = AssertSqlSafe(format!("{LINK_SUMMARY} AND campaign = $1 ORDER BY id DESC LIMIT $2"));
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
            .row(AssertSqlSafe(format!("{LINK_SUMMARY} AND id = $1")), id)
            .await
    }

    async fn find_links(&self, query: &LinkQuery) -> StoreResult<Vec<LinkSummary>> {
        self.fold_parked_tallies().await?;
        let column = query.order.column();
        Ok(with_pool!(self.reader(), |pool| {
            let mut sql = sqlx::QueryBuilder::new(LINK_SUMMARY);
            if let Some(search) = &query.search {
                let pattern = contains_pattern(search);
                sql.push(" AND (LOWER(url) LIKE ")
                    .push_bind(pattern.clone())
                    .push(" ESCAPE '\\' OR LOWER(COALESCE(title, '')) LIKE ")
                    .push_bind(pattern)
                    .push(" ESCAPE '\\')");
            }
            if let Some(campaign) = &query.campaign {
                sql.push(" AND campaign = ").push_bind(campaign.clone());
            }
            if let Some(site) = query.site {
                sql.push(" AND site_id = ").push_bind(site);
            }
            if let Some(channel) = &query.channel {
                sql.push(" AND EXISTS (SELECT 1 FROM shares s WHERE s.link_id = links.id AND s.channel = ")
                    .push_bind(channel.clone())
                    .push(" AND s.reserved_until IS NULL)");
            }
            match query.disabled {
                Some(true) => {
                    sql.push(" AND disabled_at IS NOT NULL");
                }
                Some(false) => {
                    sql.push(" AND disabled_at IS NULL");
                }
                None => {}
            }
            if let Some((value, id)) = query.after {
                sql.push(format_args!(" AND ({column} < "))
                    .push_bind(value)
                    .push(format_args!(" OR ({column} = "))
                    .push_bind(value)
                    .push(" AND id < ")
                    .push_bind(id)
                    .push("))");
            }
            sql.push(format_args!(" ORDER BY {column} DESC, id DESC LIMIT "))
                .push_bind(query.limit);
            sql.build_query_as().fetch_all(pool).await?
        }))
    }

    async fn delete_link(&self, id: i64, now: i64) -> StoreResult<LinkDeletion> {
        let deleted = with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            // A link that was working stops here: reported as a switch-off is, with the campaign
            // it had.
            let _reported = switch_off_reported!(tx, id, now, " AND site_id IS NULL");
            let deleted = sqlx::query(
                "UPDATE links SET deleted_at = $2, disabled_at = COALESCE(disabled_at, $2), campaign = NULL \
                 WHERE id = $1 AND deleted_at IS NULL AND site_id IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            deleted
        });
        Ok(match (deleted, self.get_link(id).await?) {
            (1, _) => LinkDeletion::Deleted,
            (_, Some(link)) if link.site_id.is_some() => LinkDeletion::SitePage,
            _ => LinkDeletion::NotFound,
        })
    }

    async fn event_placements(&self, limit: i64) -> StoreResult<Vec<EventPlacementRow>> {
        self.fold_parked_tallies().await?;
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT l.id AS link_id, l.title, l.url, l.created_at, s.label, s.code, s.clicks AS scans \
                 FROM links l JOIN shares s ON s.link_id = l.id \
                 WHERE s.channel = 'qr' AND s.parent_id IS NULL AND s.reserved_until IS NULL AND l.deleted_at IS NULL \
                 ORDER BY l.id DESC, s.clicks DESC, s.label LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }

    async fn site_activity(&self, site_id: i64) -> StoreResult<SiteActivity> {
        self.fold_parked_tallies().await?;
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(
                "SELECT \
                 (SELECT CAST(COUNT(*) AS BIGINT) FROM links WHERE site_id = $1) AS pages, \
                 (SELECT CAST(COALESCE(SUM(share_count), 0) AS BIGINT) FROM links WHERE site_id = $1) AS shares, \
                 (SELECT CAST(COALESCE(SUM(clicks), 0) AS BIGINT) FROM links WHERE site_id = $1) AS clicks, \
                 (SELECT CAST(COUNT(*) AS BIGINT) FROM conversions WHERE site_id = $1) AS conversions, \
                 (SELECT CAST(COALESCE(SUM(value), 0) AS DOUBLE PRECISION) FROM conversions WHERE site_id = $1) \
                    AS conversion_value, \
                 (SELECT MAX(at) FROM (\
                    SELECT MAX(s.created_at) AS at FROM shares s JOIN links l ON l.id = s.link_id \
                      WHERE l.site_id = $1 AND s.reserved_until IS NULL \
                    UNION ALL SELECT MAX(at) FROM conversions WHERE site_id = $1 \
                    UNION ALL SELECT MAX(at) FROM self_reports WHERE site_id = $1) AS seen) AS last_seen_at",
            )
            .bind(site_id)
            .fetch_one(pool)
            .await?
        }))
    }

    async fn update_link(&self, id: i64, change: &LinkChange, now: i64) -> StoreResult<bool> {
        Ok(with_pool!(self.writer(), |pool| {
            let mut tx = pool.begin().await?;
            let updated = sqlx::query(
                "UPDATE links SET title = $2, campaign = $3, url = $4 WHERE id = $1 AND deleted_at IS NULL",
            )
            .bind(id)
            .bind(&change.title)
            .bind(&change.campaign)
            .bind(change.url.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0;
            if let Some(campaign) = &change.campaign {
                sqlx::query(ENSURE_CAMPAIGN)
                    .bind(campaign)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            updated
        }))
    }
}
