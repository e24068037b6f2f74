//! What the web UI keeps and reads: accounts, sessions, campaigns, analytics by date range and
//! exports. Part of the one storage interface (`Store` requires it); the SQL is shared by both
//! backends, as in `shared.rs`.

use super::{StoreResult, models::*};
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

pub(super) const SHARE_ROW: &str = "SELECT id, parent_id, code, channel, depth, label, inferred_channel, clicks, \
     unfurls, subtree_size, created_at FROM shares";

pub(super) const LINK_SUMMARY: &str = "SELECT id, url, title, campaign, created_at, disabled_at, site_id, \
     share_count, max_depth, clicks, unfurls FROM links";

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
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("{} WHERE id = $1", workspace::LINK_SUMMARY)))
                    .bind(id)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn link_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE link_id = $1 ORDER BY depth, subtree_size DESC, clicks DESC, id LIMIT $2",
                    workspace::SHARE_ROW
                )))
                .bind(link_id)
                .bind(limit)
                .fetch_all(self.reader())
                .await?)
            }

            async fn root_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>> {
                Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{} WHERE link_id = $1 AND parent_id IS NULL ORDER BY id LIMIT $2",
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
                let query = workspace::scoped_query!("SELECT day, CAST(SUM(clicks) AS BIGINT) AS clicks, CAST(SUM(shares) AS BIGINT) AS shares, \
                     CAST(SUM(unfurls) AS BIGINT) AS unfurls, CAST(SUM(bots) AS BIGINT) AS bots \
                     FROM link_daily_stats WHERE {scope} AND day >= $2 AND day <= $3 GROUP BY day ORDER BY day", scope, "link_id");
                Ok(query.bind(&days.from).bind(&days.to).fetch_all(self.reader()).await?)
            }

            async fn shares_created(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Vec<ShareCountRow>> {
                let query = workspace::scoped_query!("SELECT channel, depth, CAST(COUNT(*) AS BIGINT) AS shares FROM shares \
                     WHERE {scope} AND created_at >= $2 AND created_at < $3 GROUP BY channel, depth", scope, "link_id");
                Ok(query.bind(from_ms).bind(to_ms).fetch_all(self.reader()).await?)
            }

            async fn inferred_channels(&self, scope: &Scope) -> StoreResult<Vec<InferredRow>> {
                let query = workspace::scoped_query!("SELECT channel, inferred_channel, CAST(COUNT(*) AS BIGINT) AS shares FROM shares \
                     WHERE {scope} AND inferred_channel IS NOT NULL GROUP BY channel, inferred_channel \
                     ORDER BY channel, inferred_channel", scope, "link_id");
                Ok(query.fetch_all(self.reader()).await?)
            }

            async fn export_visits(
                &self,
                scope: &Scope,
                from_ms: i64,
                to_ms: i64,
                after: i64,
                limit: i64,
            ) -> StoreResult<Vec<VisitExportRow>> {
                let query = workspace::scoped_query!("SELECT v.id, v.link_id, v.at, s.code, s.channel, s.depth, v.kind, v.app, v.referrer_host, \
                     v.device, v.browser, v.os, v.country FROM visits v JOIN shares s ON s.id = v.share_id \
                     WHERE {scope} AND v.at >= $2 AND v.at < $3 AND v.id > $4 ORDER BY v.id LIMIT $5", scope, "v.link_id");
                Ok(query.bind(from_ms).bind(to_ms).bind(after).bind(limit).fetch_all(self.reader()).await?)
            }

            async fn export_shares(&self, scope: &Scope, after: i64, limit: i64) -> StoreResult<Vec<ShareExportRow>> {
                let query = workspace::scoped_query!("SELECT s.id, s.link_id, s.code, p.code AS parent_code, s.channel, s.depth, s.label, \
                     s.inferred_channel, s.clicks, s.unfurls, s.bots, s.created_at \
                     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id \
                     WHERE {scope} AND s.id > $2 ORDER BY s.id LIMIT $3", scope, "s.link_id");
                Ok(query.bind(after).bind(limit).fetch_all(self.reader()).await?)
            }
        }
    };
}

pub(super) use impl_workspace_store;
pub(super) use scoped_query;
