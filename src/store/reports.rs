//! Reads of the figures: a link's stats, and the analytics of a link or a campaign by date range.

use super::models::{AttributionRows, BreakdownRow, DayRow, InferredRow, LinkStatsRows, LinkTotals, ShareCountRow};
use super::{Backend, Row, StoreResult};
use async_trait::async_trait;

/// Which links a report covers.
#[derive(Debug, Clone)]
pub enum Scope {
    Link(i64),
    /// Every link carrying this campaign slug.
    Campaign(String),
}

/// An inclusive range of UTC days, `YYYY-MM-DD`.
#[derive(Debug, Clone)]
pub struct DayRange {
    pub from: String,
    pub to: String,
}

/// `{scope}` in `sql` becomes the condition on `column` for `scope`, always bound as `$1`.
pub(super) fn scoped(sql: &str, scope: &Scope, column: &str) -> String {
    let condition = match scope {
        Scope::Link(_) => format!("{column} = $1"),
        Scope::Campaign(_) => format!("{column} IN (SELECT id FROM links WHERE campaign = $1)"),
    };
    sql.replace("{scope}", &condition)
}

/// A `query_as` of `sql` with `{scope}` filled in for `column` and the scope bound as `$1`.
macro_rules! scoped_query {
    ($sql:expr, $scope:expr, $column:expr) => {{
        let query = sqlx::query_as(sqlx::AssertSqlSafe($crate::store::reports::scoped(
            $sql, $scope, $column,
        )));
        match $scope {
            $crate::store::Scope::Link(id) => query.bind(*id),
            $crate::store::Scope::Campaign(slug) => query.bind(slug.as_str()),
        }
    }};
}

pub(super) use scoped_query;

/// Conversions credited to the shares of a scope, by channel, depth and role.
const ATTRIBUTION_CREDITS: &str = "SELECT s.channel, s.depth, cc.role, COUNT(*) AS conversions, \
     COALESCE(SUM(c.value), 0.0) AS value FROM conversion_credits cc \
     JOIN conversions c ON c.id = cc.conversion_id JOIN shares s ON s.id = cc.share_id \
     WHERE {scope} GROUP BY s.channel, s.depth, cc.role ORDER BY s.channel, s.depth";

/// Conversions reported on a scope's links, by goal.
const ATTRIBUTION_NAMES: &str = "SELECT name, COUNT(*) AS conversions, COALESCE(SUM(value), 0.0) AS value \
     FROM conversions WHERE {scope} GROUP BY name ORDER BY name";

/// "How did you hear about us?" answers on a scope's links, by the channel named.
const ATTRIBUTION_SELF_REPORTS: &str = "SELECT COALESCE(channel, 'unknown') AS channel, COUNT(*) AS reports \
     FROM self_reports WHERE {scope} GROUP BY COALESCE(channel, 'unknown') ORDER BY 1";

/// The attribution of `scope`, read on `tx`: the one read transaction that `link_stats` and
/// `attribution` each take, for one consistent snapshot.
macro_rules! read_attribution {
    ($tx:expr, $scope:expr) => {
        AttributionRows {
            credits: scoped_query!(ATTRIBUTION_CREDITS, $scope, "cc.link_id")
                .fetch_all(&mut *$tx)
                .await?,
            names: scoped_query!(ATTRIBUTION_NAMES, $scope, "link_id")
                .fetch_all(&mut *$tx)
                .await?,
            self_reports: scoped_query!(ATTRIBUTION_SELF_REPORTS, $scope, "link_id")
                .fetch_all(&mut *$tx)
                .await?,
        }
    };
}

#[async_trait]
pub trait ReportStore: Send + Sync {
    async fn link_stats(&self, link_id: i64) -> StoreResult<Option<LinkStatsRows>>;
    async fn breakdown(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<BreakdownRow>>;
    async fn daily(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<DayRow>>;
    async fn shares_created(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Vec<ShareCountRow>>;
    async fn inferred_channels(&self, scope: &Scope) -> StoreResult<Vec<InferredRow>>;
    /// Conversions and "how did you hear about us" answers of a scope, all time.
    async fn attribution(&self, scope: &Scope) -> StoreResult<AttributionRows>;
}

#[async_trait]
impl ReportStore for Backend {
    async fn link_stats(&self, link_id: i64) -> StoreResult<Option<LinkStatsRows>> {
        self.fold_parked_tallies().await?;
        with_pool!(self.reader(), |pool| {
            // One read transaction: a consistent snapshot of the rollups on SQLite's WAL.
            let mut tx = pool.begin().await?;
            let totals: Option<LinkTotals> = sqlx::query_as(
                "SELECT id, share_count, child_shares, max_depth, sum_sizes, sum_sq_sizes, clicks, unfurls, \
                 bots, unique_visitors FROM links WHERE id = $1",
            )
            .bind(link_id)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(totals) = totals else { return Ok(None) };
            let channels = sqlx::query_as(
                "SELECT channel, shares, clicks FROM link_channel_stats WHERE link_id = $1 ORDER BY channel",
            )
            .bind(link_id)
            .fetch_all(&mut *tx)
            .await?;
            let depths =
                sqlx::query_as("SELECT depth, shares, clicks FROM link_depth_stats WHERE link_id = $1 ORDER BY depth")
                    .bind(link_id)
                    .fetch_all(&mut *tx)
                    .await?;
            let unfurl_apps =
                sqlx::query_as("SELECT app, unfurls FROM link_unfurl_stats WHERE link_id = $1 ORDER BY app")
                    .bind(link_id)
                    .fetch_all(&mut *tx)
                    .await?;
            let days = sqlx::query_as(
                "SELECT day, clicks, shares, unfurls, bots FROM link_daily_stats WHERE link_id = $1 ORDER BY day",
            )
            .bind(link_id)
            .fetch_all(&mut *tx)
            .await?;
            let scope = Scope::Link(link_id);
            let attribution = read_attribution!(tx, &scope);
            tx.commit().await?;
            Ok(Some(LinkStatsRows {
                totals,
                channels,
                depths,
                unfurl_apps,
                days,
                attribution,
            }))
        })
    }

    async fn breakdown(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<BreakdownRow>> {
        let sql = "SELECT day, channel, depth, kind, app, CAST(SUM(visits) AS BIGINT) AS visits \
                   FROM link_daily_breakdown WHERE {scope} AND day >= $2 AND day <= $3 \
                   GROUP BY day, channel, depth, kind, app ORDER BY day, channel";
        self.rows_in_days(sql, scope, days).await
    }

    async fn daily(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<DayRow>> {
        self.fold_parked_tallies().await?;
        let sql = "SELECT day, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(shares) AS BIGINT) AS shares, \
                   CAST(SUM(unfurls) AS BIGINT) AS unfurls, CAST(SUM(bots) AS BIGINT) AS bots \
                   FROM link_daily_stats WHERE {scope} AND day >= $2 AND day <= $3 GROUP BY day ORDER BY day";
        self.rows_in_days(sql, scope, days).await
    }

    async fn shares_created(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Vec<ShareCountRow>> {
        Ok(with_pool!(self.reader(), |pool| {
            scoped_query!(
                "SELECT channel, depth, CAST(COUNT(*) AS BIGINT) AS shares FROM shares \
                 WHERE {scope} AND reserved_until IS NULL AND created_at >= $2 AND created_at < $3 \
                 GROUP BY channel, depth",
                scope,
                "link_id"
            )
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(pool)
            .await?
        }))
    }

    async fn inferred_channels(&self, scope: &Scope) -> StoreResult<Vec<InferredRow>> {
        Ok(with_pool!(self.reader(), |pool| {
            scoped_query!(
                "SELECT channel, inferred_channel, CAST(COUNT(*) AS BIGINT) AS shares FROM shares \
                 WHERE {scope} AND inferred_channel IS NOT NULL AND reserved_until IS NULL \
                 GROUP BY channel, inferred_channel ORDER BY channel, inferred_channel",
                scope,
                "link_id"
            )
            .fetch_all(pool)
            .await?
        }))
    }

    async fn attribution(&self, scope: &Scope) -> StoreResult<AttributionRows> {
        with_pool!(self.reader(), |pool| {
            let mut tx = pool.begin().await?;
            let attribution = read_attribution!(tx, scope);
            tx.commit().await?;
            Ok(attribution)
        })
    }
}

impl Backend {
    /// The rows of `sql` for `scope` (`{scope}`, `$1`) and the days of `days` (`$2` to `$3`).
    async fn rows_in_days<T: Row>(&self, sql: &str, scope: &Scope, days: &DayRange) -> StoreResult<Vec<T>> {
        Ok(with_pool!(self.reader(), |pool| {
            scoped_query!(sql, scope, "link_id")
                .bind(&days.from)
                .bind(&days.to)
                .fetch_all(pool)
                .await?
        }))
    }
}
