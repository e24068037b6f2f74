//! Reads of the figures: a link's stats, and the analytics of a link or a campaign by date range.

use super::models::{AttributionRows, LinkStatsRows, LinkTotals};
use super::{Backend, StoreResult};
use async_trait::async_trait;

/// Which links a report covers.
#[derive(Debug, Clone)]
pub enum Scope {
    Link(i64),
    /// Every link carrying this campaign slug.
    Campaign(String),
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
                 bots, unique_visitors FROM links WHERE id = $1 AND deleted_at IS NULL",
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
}
