//! What the web UI keeps and reads: accounts, sessions, campaigns, analytics by date range and
//! exports. Part of the one storage interface (`Store` requires it); the SQL is shared by both
//! backends, as in `shared.rs`.

use super::visits::{StoredVisit, visits_of};
use super::{StoreResult, models::*};
use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap};

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

#[async_trait]
pub trait WorkspaceStore: Send + Sync {
    async fn count_users(&self) -> StoreResult<i64>;
    /// Creates the first admin; `None` when any user already exists.
    async fn create_first_user(&self, user: &NewUser, now: i64) -> StoreResult<Option<UserRecord>>;
    async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<UserRecord>;
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>>;
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;
    /// Disabling also ends every session of that user. False when no user has that id.
    async fn set_user_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool>;

    async fn create_session(&self, session: &NewSession) -> StoreResult<()>;
    async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>>;
    async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64>;

    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    async fn revoke_api_key(&self, id: i64, now: i64) -> StoreResult<bool>;
    async fn list_custom_channels(&self) -> StoreResult<Vec<CustomChannelRecord>>;

    async fn create_campaign(&self, slug: &str, name: &str, now: i64) -> StoreResult<CampaignRecord>;
    async fn get_campaign(&self, id: i64) -> StoreResult<Option<CampaignRecord>>;
    async fn campaign_by_slug(&self, slug: &str) -> StoreResult<Option<CampaignRecord>>;
    async fn rename_campaign(&self, id: i64, name: &str) -> StoreResult<bool>;
    async fn set_campaign_archived(&self, id: i64, archived_at: Option<i64>) -> StoreResult<bool>;
    async fn campaign_totals(&self, include_archived: bool) -> StoreResult<Vec<CampaignTotals>>;
    async fn campaign_channel_clicks(&self) -> StoreResult<Vec<CampaignChannelRow>>;
    async fn campaign_daily_clicks(&self, since_day: &str) -> StoreResult<Vec<CampaignDayRow>>;

    async fn list_links(&self, campaign: Option<&str>, limit: i64) -> StoreResult<Vec<LinkSummary>>;
    async fn link_summary(&self, id: i64) -> StoreResult<Option<LinkSummary>>;
    /// Shares of one link, top levels and biggest branches first.
    async fn link_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>>;
    /// The shares a marketer made for a link (depth 1), oldest first.
    async fn root_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>>;

    async fn breakdown(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<BreakdownRow>>;
    async fn daily(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<DayRow>>;
    async fn shares_created(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Vec<ShareCountRow>>;
    async fn inferred_channels(&self, scope: &Scope) -> StoreResult<Vec<InferredRow>>;
    /// Conversions and "how did you hear about us" answers of a scope, all time.
    async fn attribution(&self, scope: &Scope) -> StoreResult<AttributionRows>;

    /// One page of visits (oldest first, after visit id `after`) in `[from_ms, to_ms)`.
    async fn export_visits(
        &self,
        scope: &Scope,
        from_ms: i64,
        to_ms: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<VisitExportRow>>;
    async fn export_shares(&self, scope: &Scope, after: i64, limit: i64) -> StoreResult<Vec<ShareExportRow>>;
}

/// `{scope}` in `sql` becomes the condition on `column` for `scope`, always bound as `$1`.
pub(super) fn scoped(sql: &str, scope: &Scope, column: &str) -> String {
    let condition = match scope {
        Scope::Link(_) => format!("{column} = $1"),
        Scope::Campaign(_) => format!("{column} IN (SELECT id FROM links WHERE campaign = $1)"),
    };
    sql.replace("{scope}", &condition)
}

/// Ids bound in one `IN (…)` list: far below either backend's limit on bound parameters.
pub(super) const IDS_PER_STATEMENT: usize = 1000;

/// A run of the visit log as the export reads it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct RunRow {
    pub first_id: i64,
    pub link_id: i64,
    pub visits: i32,
    pub data: String,
}

/// What the export shows of a visit's share.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct ShareLabel {
    pub id: i64,
    pub code: String,
    pub channel: String,
    pub depth: i64,
}

/// One page of the visit export being gathered from runs: the visits with ids after `after` and
/// times in `[from_ms, to_ms)`, in id order, at most `limit`.
pub(super) struct ExportPage {
    after: i64,
    from_ms: i64,
    to_ms: i64,
    limit: usize,
    /// The last id of the last run read, once any was; `None` after the last run.
    read_to: Option<i64>,
    visits: Vec<(i64, i64, StoredVisit)>,
}

impl ExportPage {
    pub fn new(after: i64, from_ms: i64, to_ms: i64, limit: i64) -> ExportPage {
        ExportPage {
            after,
            from_ms,
            to_ms,
            limit: usize::try_from(limit).unwrap_or(0),
            read_to: Some(after),
            visits: Vec::new(),
        }
    }

    /// The id to read runs after, while the page is short and runs may remain.
    pub fn wants_more(&self) -> Option<i64> {
        self.read_to.filter(|_| self.visits.len() < self.limit)
    }

    /// Takes the next runs, in id order; none means there are no more.
    pub fn add_runs(&mut self, runs: &[RunRow]) {
        let Some(last) = runs.last() else {
            self.read_to = None;
            return;
        };
        self.read_to = Some(last.first_id + i64::from(last.visits) - 1);
        for run in runs {
            let visits = match visits_of(&run.data) {
                Ok(visits) => visits,
                Err(err) => {
                    // Failing here would fail every export that reaches this run.
                    tracing::error!(first_id = run.first_id, error = %err, "skipped an unreadable run of the visit log");
                    continue;
                }
            };
            let ids = run.first_id..;
            for (id, visit) in ids.zip(visits) {
                if id > self.after && (self.from_ms..self.to_ms).contains(&visit.at) {
                    self.visits.push((id, run.link_id, visit));
                }
            }
        }
        self.visits.truncate(self.limit);
    }

    /// The shares the page's visits came through, each once.
    pub fn share_ids(&self) -> Vec<i64> {
        let ids: BTreeSet<i64> = self.visits.iter().map(|(_, _, v)| v.share_id).collect();
        ids.into_iter().collect()
    }

    /// The page's rows; a visit whose share is not in `shares` is left out, as a join would.
    pub fn rows(self, shares: &HashMap<i64, ShareLabel>) -> Vec<VisitExportRow> {
        self.visits
            .into_iter()
            .filter_map(|(id, link_id, v)| {
                let share = shares.get(&v.share_id)?;
                Some(VisitExportRow {
                    id,
                    link_id,
                    at: v.at,
                    code: share.code.clone(),
                    channel: share.channel.clone(),
                    depth: share.depth,
                    kind: v.kind,
                    app: v.app,
                    referrer_host: v.referrer_host,
                    device: v.device,
                    browser: v.browser,
                    os: v.os,
                    country: v.country,
                })
            })
            .collect()
    }
}

pub(super) const SHARE_ROW: &str = "SELECT id, parent_id, code, channel, depth, label, inferred_channel, clicks, \
     unfurls, subtree_size, created_at FROM shares";

pub(super) const LINK_SUMMARY: &str = "SELECT id, url, title, campaign, created_at, disabled_at, site_id, \
     share_count, max_depth, clicks, unfurls FROM links";

/// Conversions credited to the shares of a scope, by channel, depth and role.
pub(super) const ATTRIBUTION_CREDITS: &str = "SELECT s.channel, s.depth, cc.role, COUNT(*) AS conversions, \
     COALESCE(SUM(c.value), 0.0) AS value FROM conversion_credits cc \
     JOIN conversions c ON c.id = cc.conversion_id JOIN shares s ON s.id = cc.share_id \
     WHERE {scope} GROUP BY s.channel, s.depth, cc.role ORDER BY s.channel, s.depth";

/// Conversions reported on a scope's links, by goal.
pub(super) const ATTRIBUTION_NAMES: &str = "SELECT name, COUNT(*) AS conversions, COALESCE(SUM(value), 0.0) AS value \
     FROM conversions WHERE {scope} GROUP BY name ORDER BY name";

/// "How did you hear about us?" answers on a scope's links, by the channel named.
pub(super) const ATTRIBUTION_SELF_REPORTS: &str = "SELECT COALESCE(channel, 'unknown') AS channel, COUNT(*) AS reports \
     FROM self_reports WHERE {scope} GROUP BY COALESCE(channel, 'unknown') ORDER BY 1";

pub(super) const CAMPAIGN_COLUMNS: &str = "SELECT id, slug, name, created_at, archived_at FROM campaigns";

pub(super) const SESSION_BY_HASH: &str = "SELECT s.token_hash, s.csrf_token, s.created_at, s.last_seen_at, \
     u.id AS user_id, u.email, u.name, u.role, u.disabled_at \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1";

pub(super) const USER_COLUMNS: &str = "SELECT id, email, name, role, created_at, disabled_at FROM users";

/// A `query_as` of `sql` with `{scope}` filled in for `column` and the scope bound as `$1`.
macro_rules! scoped_query {
    ($sql:expr, $scope:expr, $column:expr) => {{
        let query = sqlx::query_as(sqlx::AssertSqlSafe(workspace::scoped($sql, $scope, $column)));
        match $scope {
            Scope::Link(id) => query.bind(*id),
            Scope::Campaign(slug) => query.bind(slug.as_str()),
        }
    }};
}

macro_rules! impl_workspace_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::WorkspaceStore for $store {
            async fn count_users(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.reader()).await?)
            }

            async fn create_first_user(&self, user: &NewUser, now: i64) -> StoreResult<Option<UserRecord>> {
                Ok(sqlx::query_as(
                    "INSERT INTO users (email, name, role, password_hash, created_at) \
                     SELECT $1, $2, $3, $4, $5 WHERE NOT EXISTS (SELECT 1 FROM users) \
                     RETURNING id, email, name, role, created_at, disabled_at",
                )
                .bind(user.email.as_str())
                .bind(user.name.as_str())
                .bind(user.role.as_str())
                .bind(&user.password_hash)
                .bind(now)
                .fetch_optional(self.writer())
                .await?)
            }

            async fn create_user(&self, user: &NewUser, now: i64) -> StoreResult<UserRecord> {
                let created: Option<UserRecord> = sqlx::query_as(
                    "INSERT INTO users (email, name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (email) DO NOTHING RETURNING id, email, name, role, created_at, disabled_at",
                )
                .bind(user.email.as_str())
                .bind(user.name.as_str())
                .bind(user.role.as_str())
                .bind(&user.password_hash)
                .bind(now)
                .fetch_optional(self.writer())
                .await?;
                created.ok_or(StoreError::EmailTaken)
            }

            async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
                Ok(sqlx::query_as("SELECT id, password_hash, disabled_at FROM users WHERE email = $1")
                    .bind(email)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("{} ORDER BY email", workspace::USER_COLUMNS)))
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn set_user_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool> {
                let mut tx = self.writer().begin().await?;
                let done = sqlx::query("UPDATE users SET disabled_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(disabled_at)
                    .execute(&mut *tx)
                    .await?;
                if disabled_at.is_some() {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(done.rows_affected() == 1)
            }

            async fn create_session(&self, session: &NewSession) -> StoreResult<()> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) \
                     VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(&session.token_hash)
                .bind(session.user_id)
                .bind(&session.csrf_token)
                .bind(session.now)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> StoreResult<Option<SessionRecord>> {
                // The writer: a session created a moment ago must be visible to the next request.
                Ok(sqlx::query_as(workspace::SESSION_BY_HASH)
                    .bind(token_hash)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn touch_session(&self, token_hash: &str, now: i64) -> StoreResult<()> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                    .bind(token_hash)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn purge_sessions(&self, idle_before: i64, created_before: i64) -> StoreResult<u64> {
                let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                    .bind(idle_before)
                    .bind(created_before)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn list_api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, name, prefix, created_at, revoked_at FROM api_keys ORDER BY revoked_at IS NOT NULL, id DESC",
                )
                .fetch_all(self.reader())
                .await?)
            }

            async fn revoke_api_key(&self, id: i64, now: i64) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(id)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn list_custom_channels(&self) -> StoreResult<Vec<CustomChannelRecord>> {
                Ok(sqlx::query_as("SELECT name, utm_medium FROM custom_channels ORDER BY name")
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn create_campaign(&self, slug: &str, name: &str, now: i64) -> StoreResult<CampaignRecord> {
                let created: Option<CampaignRecord> = sqlx::query_as(
                    "INSERT INTO campaigns (slug, name, created_at) VALUES ($1, $2, $3) ON CONFLICT (slug) DO NOTHING \
                     RETURNING id, slug, name, created_at, archived_at",
                )
                .bind(slug)
                .bind(name)
                .bind(now)
                .fetch_optional(self.writer())
                .await?;
                created.ok_or(StoreError::CampaignExists)
            }

            async fn get_campaign(&self, id: i64) -> StoreResult<Option<CampaignRecord>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("{} WHERE id = $1", workspace::CAMPAIGN_COLUMNS)))
                    .bind(id)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn campaign_by_slug(&self, slug: &str) -> StoreResult<Option<CampaignRecord>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("{} WHERE slug = $1", workspace::CAMPAIGN_COLUMNS)))
                    .bind(slug)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn rename_campaign(&self, id: i64, name: &str) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE campaigns SET name = $2 WHERE id = $1")
                    .bind(id)
                    .bind(name)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn set_campaign_archived(&self, id: i64, archived_at: Option<i64>) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE campaigns SET archived_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(archived_at)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn campaign_totals(&self, include_archived: bool) -> StoreResult<Vec<CampaignTotals>> {
                self.fold_parked_tallies().await?;
                Ok(sqlx::query_as(
                    "SELECT c.id, c.slug, c.name, c.created_at, c.archived_at, \
                     CAST(COUNT(l.id) AS BIGINT) AS links, CAST(COALESCE(SUM(l.clicks), 0) AS BIGINT) AS clicks, \
                     CAST(COALESCE(SUM(l.share_count), 0) AS BIGINT) AS shares, \
                     CAST(COALESCE(MAX(l.max_depth), 0) AS BIGINT) AS max_depth \
                     FROM campaigns c LEFT JOIN links l ON l.campaign = c.slug \
                     WHERE c.archived_at IS NULL OR $1 \
                     GROUP BY c.id, c.slug, c.name, c.created_at, c.archived_at \
                     ORDER BY CASE WHEN c.archived_at IS NULL THEN 0 ELSE 1 END, c.created_at DESC, c.id DESC",
                )
                .bind(include_archived)
                .fetch_all(self.reader())
                .await?)
            }

            async fn campaign_channel_clicks(&self) -> StoreResult<Vec<CampaignChannelRow>> {
                Ok(sqlx::query_as(
                    "SELECT c.id AS campaign_id, s.channel, CAST(SUM(s.clicks) AS BIGINT) AS clicks \
                     FROM campaigns c JOIN links l ON l.campaign = c.slug JOIN link_channel_stats s ON s.link_id = l.id \
                     GROUP BY c.id, s.channel",
                )
                .fetch_all(self.reader())
                .await?)
            }

            async fn campaign_daily_clicks(&self, since_day: &str) -> StoreResult<Vec<CampaignDayRow>> {
                Ok(sqlx::query_as(
                    "SELECT c.id AS campaign_id, d.day, CAST(SUM(d.clicks) AS BIGINT) AS clicks \
                     FROM campaigns c JOIN links l ON l.campaign = c.slug JOIN link_daily_stats d ON d.link_id = l.id \
                     WHERE d.day >= $1 GROUP BY c.id, d.day ORDER BY d.day",
                )
                .bind(since_day)
                .fetch_all(self.reader())
                .await?)
            }

            async fn list_links(&self, campaign: Option<&str>, limit: i64) -> StoreResult<Vec<LinkSummary>> {
                self.fold_parked_tallies().await?;
                let rows = match campaign {
                    Some(slug) => {
                        sqlx::query_as(sqlx::AssertSqlSafe(format!("{} WHERE campaign = $1 ORDER BY id DESC LIMIT $2", workspace::LINK_SUMMARY)))
                            .bind(slug)
                            .bind(limit)
                            .fetch_all(self.reader())
                            .await?
                    }
                    None => {
                        sqlx::query_as(sqlx::AssertSqlSafe(format!("{} ORDER BY id DESC LIMIT $1", workspace::LINK_SUMMARY)))
                            .bind(limit)
                            .fetch_all(self.reader())
                            .await?
                    }
                };
                Ok(rows)
            }

            async fn link_summary(&self, id: i64) -> StoreResult<Option<LinkSummary>> {
                self.fold_parked_tallies().await?;
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("{} WHERE id = $1", workspace::LINK_SUMMARY)))
                    .bind(id)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn link_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE link_id = $1 AND reserved_until IS NULL ORDER BY depth, subtree_size DESC, clicks DESC, id LIMIT $2",
                    workspace::SHARE_ROW
                )))
                .bind(link_id)
                .bind(limit)
                .fetch_all(self.reader())
                .await?)
            }

            async fn root_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE link_id = $1 AND parent_id IS NULL AND reserved_until IS NULL ORDER BY id LIMIT $2",
                    workspace::SHARE_ROW
                )))
                .bind(link_id)
                .bind(limit)
                .fetch_all(self.writer())
                .await?)
            }

            async fn breakdown(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<BreakdownRow>> {
                let query = workspace::scoped_query!("SELECT day, channel, depth, kind, app, CAST(SUM(visits) AS BIGINT) AS visits \
                     FROM link_daily_breakdown WHERE {scope} AND day >= $2 AND day <= $3 \
                     GROUP BY day, channel, depth, kind, app ORDER BY day, channel", scope, "link_id");
                Ok(query.bind(&days.from).bind(&days.to).fetch_all(self.reader()).await?)
            }

            async fn daily(&self, scope: &Scope, days: &DayRange) -> StoreResult<Vec<DayRow>> {
                self.fold_parked_tallies().await?;
                let query = workspace::scoped_query!("SELECT day, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(shares) AS BIGINT) AS shares, \
                     CAST(SUM(unfurls) AS BIGINT) AS unfurls, CAST(SUM(bots) AS BIGINT) AS bots \
                     FROM link_daily_stats WHERE {scope} AND day >= $2 AND day <= $3 GROUP BY day ORDER BY day", scope, "link_id");
                Ok(query.bind(&days.from).bind(&days.to).fetch_all(self.reader()).await?)
            }

            async fn shares_created(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Vec<ShareCountRow>> {
                let query = workspace::scoped_query!("SELECT channel, depth, CAST(COUNT(*) AS BIGINT) AS shares FROM shares \
                     WHERE {scope} AND reserved_until IS NULL AND created_at >= $2 AND created_at < $3 GROUP BY channel, depth", scope, "link_id");
                Ok(query.bind(from_ms).bind(to_ms).fetch_all(self.reader()).await?)
            }

            async fn inferred_channels(&self, scope: &Scope) -> StoreResult<Vec<InferredRow>> {
                let query = workspace::scoped_query!("SELECT channel, inferred_channel, CAST(COUNT(*) AS BIGINT) AS shares FROM shares \
                     WHERE {scope} AND inferred_channel IS NOT NULL AND reserved_until IS NULL GROUP BY channel, inferred_channel \
                     ORDER BY channel, inferred_channel", scope, "link_id");
                Ok(query.fetch_all(self.reader()).await?)
            }

            async fn attribution(&self, scope: &Scope) -> StoreResult<AttributionRows> {
                let mut tx = self.reader().begin().await?;
                let credits = workspace::scoped_query!(workspace::ATTRIBUTION_CREDITS, scope, "cc.link_id")
                    .fetch_all(&mut *tx)
                    .await?;
                let names = workspace::scoped_query!(workspace::ATTRIBUTION_NAMES, scope, "link_id")
                    .fetch_all(&mut *tx)
                    .await?;
                let self_reports = workspace::scoped_query!(workspace::ATTRIBUTION_SELF_REPORTS, scope, "link_id")
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(AttributionRows { credits, names, self_reports })
            }

            async fn export_visits(
                &self,
                scope: &Scope,
                from_ms: i64,
                to_ms: i64,
                after: i64,
                limit: i64,
            ) -> StoreResult<Vec<VisitExportRow>> {
                let mut page = workspace::ExportPage::new(after, from_ms, to_ms, limit);
                while let Some(cursor) = page.wants_more() {
                    // Every run holds at least one visit, so `limit` runs hold enough for a page
                    // unless the date range leaves some of their visits out: then read on.
                    let runs: Vec<workspace::RunRow> = workspace::scoped_query!(
                        "SELECT first_id, link_id, visits, data FROM visit_runs WHERE {scope} \
                         AND first_id > $2 AND first_id + visits - 1 > $3 AND max_at >= $4 AND min_at < $5 \
                         ORDER BY first_id LIMIT $6",
                        scope,
                        "link_id"
                    )
                    .bind(cursor - $crate::store::MAX_VISITS_PER_RUN as i64)
                    .bind(cursor)
                    .bind(from_ms)
                    .bind(to_ms)
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?;
                    page.add_runs(&runs);
                }
                let mut shares = std::collections::HashMap::new();
                for ids in page.share_ids().chunks(workspace::IDS_PER_STATEMENT) {
                    let mut query = sqlx::QueryBuilder::new("SELECT id, code, channel, depth FROM shares WHERE id IN (");
                    let mut list = query.separated(", ");
                    for id in ids {
                        list.push_bind(*id);
                    }
                    query.push(")");
                    let found: Vec<workspace::ShareLabel> = query.build_query_as().fetch_all(self.reader()).await?;
                    shares.extend(found.into_iter().map(|s| (s.id, s)));
                }
                Ok(page.rows(&shares))
            }

            async fn export_shares(&self, scope: &Scope, after: i64, limit: i64) -> StoreResult<Vec<ShareExportRow>> {
                let query = workspace::scoped_query!("SELECT s.id, s.link_id, s.code, p.code AS parent_code, s.channel, s.depth, s.label, \
                     s.inferred_channel, s.clicks, s.unfurls, s.bots, s.created_at \
                     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id \
                     WHERE {scope} AND s.reserved_until IS NULL AND s.id > $2 ORDER BY s.id LIMIT $3", scope, "s.link_id");
                Ok(query.bind(after).bind(limit).fetch_all(self.reader()).await?)
            }
        }
    };
}

pub(super) use impl_workspace_store;
pub(super) use scoped_query;

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of `ats.len()` visits of share 7, the first with id `first_id`.
    fn run(first_id: i64, ats: &[i64]) -> RunRow {
        let visits: Vec<String> = ats
            .iter()
            .map(|at| format!(r#"[7,{at},"click",null,"00","example.com","desktop","Firefox","Linux","DE"]"#))
            .collect();
        RunRow {
            first_id,
            link_id: 3,
            visits: ats.len() as i32,
            data: format!("[{}]", visits.join(",")),
        }
    }

    fn ids(page: &ExportPage) -> Vec<i64> {
        page.visits.iter().map(|(id, _, _)| *id).collect()
    }

    #[test]
    fn a_page_takes_visits_after_the_cursor_and_in_the_range_up_to_the_limit() {
        let mut page = ExportPage::new(11, 100, 200, 3);
        assert_eq!(page.wants_more(), Some(11));
        page.add_runs(&[run(10, &[150, 150, 150]), run(20, &[50, 199, 200, 150])]);
        assert_eq!(ids(&page), [12, 21, 23], "after id 11, at in [100, 200)");
        assert_eq!(page.wants_more(), None, "the page is full");
    }

    #[test]
    fn a_short_page_reads_on_from_the_last_run_and_stops_when_none_are_left() {
        let mut page = ExportPage::new(0, 0, 1_000, 10);
        page.add_runs(&[run(1, &[5, 6])]);
        assert_eq!(page.wants_more(), Some(2), "the next runs start after the last id read");
        page.add_runs(&[]);
        assert_eq!(page.wants_more(), None, "no runs left");
        assert_eq!(ids(&page), [1, 2]);
    }

    #[test]
    fn an_unreadable_run_is_skipped_and_a_visit_without_its_share_is_left_out() {
        let mut page = ExportPage::new(0, 0, 1_000, 10);
        let broken = RunRow {
            data: "[[".into(),
            ..run(1, &[5])
        };
        page.add_runs(&[broken, run(2, &[5])]);
        assert_eq!(page.share_ids(), [7]);
        let label = ShareLabel {
            id: 7,
            code: "abcdefgh".into(),
            channel: "email".into(),
            depth: 1,
        };
        let rows = page.rows(&HashMap::from([(7, label)]));
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].id, rows[0].link_id, rows[0].code.as_str()), (2, 3, "abcdefgh"));
        assert_eq!(rows[0].country.as_deref(), Some("DE"));
        let mut orphan = ExportPage::new(0, 0, 1_000, 10);
        orphan.add_runs(&[run(5, &[5])]);
        assert!(orphan.rows(&HashMap::new()).is_empty());
    }
}
