//! The SQL both backends run, written once.
//!
//! Each backend is a struct with `reader()` and `writer()` pools plus the few dialect-specific
//! methods (`run_migrations`, `notify`, `listen`, and `write_batch`, the visit writer, whose way of
//! moving many rows differs most between the two); this macro writes the rest of the
//! `Store` implementation for it. Placeholders are `$n`, which both SQLite and PostgreSQL take.

/// Exact code first, then a custom slug in any case; a reservation is not a share.
pub(super) const SHARE_BY_CODE: &str = "SELECT s.id, s.link_id, s.code, s.channel, p.code AS parent_code, \
     s.depth, s.label, s.created_at, s.disabled_at, s.expires_at, s.inferred_channel, s.clicks, s.unfurls, s.bots \
     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id \
     WHERE (s.code = $1 OR s.slug_key = $2) AND s.reserved_until IS NULL \
     ORDER BY CASE WHEN s.code = $1 THEN 0 ELSE 1 END LIMIT 1";

/// Every column of a `ShareRecord`, its parent's code joined in; a `WHERE` follows.
pub(super) const SHARE_RECORDS: &str = "SELECT s.id, s.link_id, s.code, s.channel, p.code AS parent_code, \
     s.depth, s.label, s.created_at, s.disabled_at, s.expires_at, s.inferred_channel, s.clicks, s.unfurls, s.bots \
     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id";

pub(super) const SHARE_BY_TOKEN: &str = "SELECT s.id, s.link_id, s.code, s.channel, p.code AS parent_code, \
     s.depth, s.label, s.created_at, s.disabled_at, s.expires_at, s.inferred_channel, s.clicks, s.unfurls, s.bots \
     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id WHERE s.link_id = $1 AND s.token = $2";

pub(super) const SHARE_CHILDREN: &str = "SELECT s.id, s.link_id, s.code, s.channel, p.code AS parent_code, \
     s.depth, s.label, s.created_at, s.disabled_at, s.expires_at, s.inferred_channel, s.clicks, s.unfurls, s.bots \
     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id WHERE s.parent_id = $1 AND s.reserved_until IS NULL \
     ORDER BY s.id LIMIT $2";

pub(super) const REDIRECT_TARGET: &str = "SELECT s.id AS share_id, s.link_id, s.code, s.channel, s.depth, s.label, \
     s.inferred_channel, s.disabled_at AS share_disabled_at, s.expires_at AS share_expires_at, l.url, l.campaign, \
     l.disabled_at AS link_disabled_at, l.expires_at AS link_expires_at, c.utm_medium AS custom_medium, \
     site.utm_enabled, s.reserved_until \
     FROM shares s JOIN links l ON l.id = s.link_id LEFT JOIN custom_channels c ON c.name = s.channel \
     LEFT JOIN sites site ON site.id = l.site_id \
     WHERE s.code = $1 OR s.slug_key = $2 ORDER BY CASE WHEN s.code = $1 THEN 0 ELSE 1 END LIMIT 1";

pub(super) const SITE_COLUMNS: &str = "SELECT id, name, public_key, domains, origins, utm_enabled, utm_campaign, is_demo, \
     created_at, disabled_at FROM sites";

/// The converting share and its ancestors; no chain is deeper than a cascade may be
/// (`MAX_DEPTH`), and the bound holds even for rows older than the cap.
pub(super) const CHAIN_CREDITS: &str = "WITH RECURSIVE chain(id, parent_id, link_id, hop) AS ( \
     SELECT id, parent_id, link_id, 0 FROM shares WHERE id = $2 \
     UNION ALL SELECT s.id, s.parent_id, s.link_id, c.hop + 1 FROM shares s JOIN chain c ON s.id = c.parent_id \
     WHERE c.hop < 63) \
     INSERT INTO conversion_credits (conversion_id, share_id, link_id, role) \
     SELECT $1, id, link_id, CASE WHEN hop = 0 THEN 'converting' ELSE 'assist' END FROM chain";

pub(super) const LINK_COLUMNS: &str =
    "SELECT id, url, title, campaign, created_at, disabled_at, expires_at, site_id FROM links WHERE id = $1";

/// A campaign named only by links made through the API or a site gets a row, so the web UI
/// lists it; its slug doubles as its name until someone renames it.
pub(super) const ENSURE_CAMPAIGN: &str =
    "INSERT INTO campaigns (slug, name, created_at) VALUES ($1, $1, $2) ON CONFLICT (slug) DO NOTHING";

/// First in every visit batch's transaction: records the batch's key, or changes nothing when an
/// earlier attempt at the same batch already committed (then the batch must not be written again).
pub(super) const CLAIM_BATCH_KEY: &str =
    "INSERT INTO visit_batches (batch_key, written_at) VALUES ($1, $2) ON CONFLICT (batch_key) DO NOTHING";

/// Keys older than the retention cannot be retried any more; keeps the table at an hour of batches.
pub(super) const FORGET_OLD_BATCH_KEYS: &str = "DELETE FROM visit_batches WHERE written_at < $1";

/// A batch's share counters, parked for a later batch to apply (`ShareCounts::Park`).
pub(super) const PARK_SHARE_COUNTS: &str = "INSERT INTO pending_share_counts (counts) VALUES ($1)";

/// Every parked row, taken for applying. In PostgreSQL's default isolation a row another
/// instance is taking at the same moment is taken by one of the two, never both.
pub(super) const TAKE_PARKED_SHARE_COUNTS: &str = "DELETE FROM pending_share_counts RETURNING counts";

/// Takes a batch's block of `$1` visit ids and returns the first. The row stays locked until the
/// batch commits, so the blocks of instances writing at once never interleave.
pub(super) const TAKE_VISIT_IDS: &str = "UPDATE visit_ids SET next_id = next_id + $1 RETURNING next_id - $1";

macro_rules! impl_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                Self::BACKEND
            }

            async fn migrate(&self) -> StoreResult<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn create_api_key(&self, name: &str, key: &NewApiKey, now: i64) -> StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO api_keys (name, prefix, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(name)
                .bind(&key.display_prefix)
                .bind(key.hash.as_str())
                .bind(now)
                .fetch_one(self.writer())
                .await?;
                Ok(id)
            }

            async fn api_key_is_active(&self, hash: &KeyHash) -> StoreResult<bool> {
                let row: Option<(i64,)> =
                    sqlx::query_as("SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
                        .bind(hash.as_str())
                        .fetch_optional(self.reader())
                        .await?;
                Ok(row.is_some())
            }

            async fn create_custom_channel(&self, name: &str, utm_medium: &str, now: i64) -> StoreResult<()> {
                let inserted = sqlx::query(
                    "INSERT INTO custom_channels (name, utm_medium, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(name)
                .bind(utm_medium)
                .bind(now)
                .execute(self.writer())
                .await?;
                if inserted.rows_affected() == 0 {
                    return Err(StoreError::ChannelExists);
                }
                Ok(())
            }

            async fn custom_channel_exists(&self, name: &str) -> StoreResult<bool> {
                let row: Option<(String,)> = sqlx::query_as("SELECT name FROM custom_channels WHERE name = $1")
                    .bind(name)
                    .fetch_optional(self.reader())
                    .await?;
                Ok(row.is_some())
            }

            async fn create_link(&self, link: &NewLink, now: i64) -> StoreResult<LinkRecord> {
                let record = sqlx::query_as(
                    "INSERT INTO links (url, title, campaign, created_at) VALUES ($1, $2, $3, $4) \
                     RETURNING id, url, title, campaign, created_at, disabled_at, expires_at, site_id",
                )
                .bind(link.url.as_str())
                .bind(&link.title)
                .bind(&link.campaign)
                .bind(now)
                .fetch_one(self.writer())
                .await?;
                if let Some(campaign) = &link.campaign {
                    sqlx::query(shared::ENSURE_CAMPAIGN).bind(campaign).bind(now).execute(self.writer()).await?;
                }
                Ok(record)
            }

            async fn get_link(&self, id: i64) -> StoreResult<Option<LinkRecord>> {
                Ok(sqlx::query_as(shared::LINK_COLUMNS).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn set_link_disabled(&self, id: i64, disabled_at: Option<i64>) -> StoreResult<bool> {
                let done = sqlx::query("UPDATE links SET disabled_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(disabled_at)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn mint(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome> {
                self.mint_batch(batch, now).await
            }

            async fn fold_share_tallies(&self) -> StoreResult<()> {
                self.fold_parked_tallies().await
            }

            async fn sweep_reservations(&self, now: i64) -> StoreResult<u64> {
                let swept = sqlx::query("DELETE FROM shares WHERE reserved_until IS NOT NULL AND reserved_until <= $1")
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(swept.rows_affected())
            }

            async fn get_share(&self, code: &Code) -> StoreResult<Option<ShareRecord>> {
                Ok(sqlx::query_as(shared::SHARE_BY_CODE)
                    .bind(code.as_str())
                    .bind(code.slug_key())
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn share_children(&self, share_id: i64, limit: i64) -> StoreResult<Vec<ShareRecord>> {
                Ok(sqlx::query_as(shared::SHARE_CHILDREN)
                    .bind(share_id)
                    .bind(limit)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn redirect_target(&self, code: &Code) -> StoreResult<Option<RedirectTarget>> {
                Ok(sqlx::query_as(shared::REDIRECT_TARGET)
                    .bind(code.as_str())
                    .bind(code.slug_key())
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn codes_of_link(&self, link_id: i64) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT code FROM shares WHERE link_id = $1")
                    .bind(link_id)
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn all_code_keys(&self) -> StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT COALESCE(slug_key, code) FROM shares")
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn create_site(&self, site: &NewSite, now: i64) -> StoreResult<SiteRecord> {
                let record = sqlx::query_as(
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
                .fetch_one(self.writer())
                .await?;
                Ok(record)
            }

            async fn list_sites(&self) -> StoreResult<Vec<SiteRecord>> {
                let sql = sqlx::AssertSqlSafe(format!("{} ORDER BY id", shared::SITE_COLUMNS));
                Ok(sqlx::query_as(sql).fetch_all(self.reader()).await?)
            }

            async fn get_site(&self, id: i64) -> StoreResult<Option<SiteRecord>> {
                let sql = sqlx::AssertSqlSafe(format!("{} WHERE id = $1", shared::SITE_COLUMNS));
                Ok(sqlx::query_as(sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn site_by_key(&self, key: &SiteKey) -> StoreResult<Option<SiteRecord>> {
                let sql = sqlx::AssertSqlSafe(format!("{} WHERE public_key = $1", shared::SITE_COLUMNS));
                Ok(sqlx::query_as(sql).bind(key.as_str()).fetch_optional(self.reader()).await?)
            }

            async fn demo_site(&self) -> StoreResult<Option<SiteRecord>> {
                let sql = sqlx::AssertSqlSafe(format!("{} WHERE is_demo = 1 ORDER BY id LIMIT 1", shared::SITE_COLUMNS));
                Ok(sqlx::query_as(sql).fetch_optional(self.reader()).await?)
            }

            async fn update_site(&self, id: i64, update: &SiteUpdate, now: i64) -> StoreResult<Option<SiteRecord>> {
                let mut tx = self.writer().begin().await?;
                let sql = sqlx::AssertSqlSafe(format!("{} WHERE id = $1", shared::SITE_COLUMNS));
                let current: Option<SiteRecord> = sqlx::query_as(sql).bind(id).fetch_optional(&mut *tx).await?;
                let Some(mut site) = current else { return Ok(None) };
                if let Some(name) = &update.name {
                    site.name = name.clone();
                }
                if let Some(domains) = &update.domains {
                    site.domains = domains.to_stored();
                }
                if let Some(origins) = &update.origins {
                    site.origins = origins.to_stored();
                }
                if let Some(enabled) = update.utm_enabled {
                    site.utm_enabled = i64::from(enabled);
                }
                if let Some(campaign) = &update.utm_campaign {
                    site.utm_campaign = campaign.clone();
                }
                match update.disabled {
                    Some(true) => site.disabled_at = site.disabled_at.or(Some(now)),
                    Some(false) => site.disabled_at = None,
                    None => {}
                }
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
            }

            async fn site_page_link(
                &self,
                site: &SiteRecord,
                url: &Destination,
                title: Option<&str>,
                now: i64,
            ) -> StoreResult<LinkRecord> {
                let created: Option<LinkRecord> = sqlx::query_as(
                    "INSERT INTO links (url, title, campaign, created_at, site_id) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (site_id, url) DO NOTHING \
                     RETURNING id, url, title, campaign, created_at, disabled_at, expires_at, site_id",
                )
                .bind(url.as_str())
                .bind(title)
                .bind(&site.utm_campaign)
                .bind(now)
                .bind(site.id)
                .fetch_optional(self.writer())
                .await?;
                if let (Some(_), Some(campaign)) = (&created, &site.utm_campaign) {
                    sqlx::query(shared::ENSURE_CAMPAIGN).bind(campaign).bind(now).execute(self.writer()).await?;
                }
                match created {
                    Some(link) => Ok(link),
                    None => self.find_site_page_link(site.id, url).await?.ok_or(StoreError::LinkNotFound),
                }
            }

            async fn find_site_page_link(&self, site_id: i64, url: &Destination) -> StoreResult<Option<LinkRecord>> {
                Ok(sqlx::query_as(
                    "SELECT id, url, title, campaign, created_at, disabled_at, expires_at, site_id FROM links \
                     WHERE site_id = $1 AND url = $2",
                )
                .bind(site_id)
                .bind(url.as_str())
                .fetch_optional(self.writer())
                .await?)
            }

            async fn share_by_token(&self, link_id: i64, token: &str) -> StoreResult<Option<ShareRecord>> {
                Ok(sqlx::query_as(shared::SHARE_BY_TOKEN)
                    .bind(link_id)
                    .bind(token)
                    .fetch_optional(self.writer())
                    .await?)
            }

            async fn record_conversion(&self, conversion: &NewConversion) -> StoreResult<()> {
                let mut tx = self.writer().begin().await?;
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
                if let Some(share_id) = conversion.share_id {
                    sqlx::query(shared::CHAIN_CREDITS).bind(id).bind(share_id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn record_self_report(&self, report: &NewSelfReport) -> StoreResult<()> {
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
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn write_visits(&self, batch: &VisitBatch) -> StoreResult<WriteOutcome> {
                self.write_batch(batch).await
            }

            async fn link_stats(&self, link_id: i64) -> StoreResult<Option<LinkStatsRows>> {
                self.fold_parked_tallies().await?;
                // One read transaction: a consistent snapshot of the rollups on SQLite's WAL.
                let mut tx = self.reader().begin().await?;
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
                let depths = sqlx::query_as(
                    "SELECT depth, shares, clicks FROM link_depth_stats WHERE link_id = $1 ORDER BY depth",
                )
                .bind(link_id)
                .fetch_all(&mut *tx)
                .await?;
                let unfurl_apps = sqlx::query_as(
                    "SELECT app, unfurls FROM link_unfurl_stats WHERE link_id = $1 ORDER BY app",
                )
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
                let credits = workspace::scoped_query!(workspace::ATTRIBUTION_CREDITS, &scope, "cc.link_id")
                    .fetch_all(&mut *tx)
                    .await?;
                let names = workspace::scoped_query!(workspace::ATTRIBUTION_NAMES, &scope, "link_id")
                    .fetch_all(&mut *tx)
                    .await?;
                let self_reports = workspace::scoped_query!(workspace::ATTRIBUTION_SELF_REPORTS, &scope, "link_id")
                    .fetch_all(&mut *tx)
                    .await?;
                tx.commit().await?;
                let attribution = AttributionRows { credits, names, self_reports };
                Ok(Some(LinkStatsRows { totals, channels, depths, unfurl_apps, days, attribution }))
            }

            async fn salt_for_day(&self, day: &str, candidate: &str) -> StoreResult<String> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("INSERT INTO visitor_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING")
                    .bind(day)
                    .bind(candidate)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM visitor_salts WHERE day < $1").bind(day).execute(&mut *tx).await?;
                let salt: String = sqlx::query_scalar("SELECT salt FROM visitor_salts WHERE day = $1")
                    .bind(day)
                    .fetch_one(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(salt)
            }

            async fn announce_invalidation(&self, change: &Invalidation) -> StoreResult<()> {
                self.notify(change).await
            }

            async fn catch_up_with_other_instances(&self) -> StoreResult<()> {
                self.catch_up().await
            }

            async fn listen_for_invalidations(
                &self,
                sink: std::sync::Arc<dyn Fn(Notice) + Send + Sync>,
            ) -> StoreResult<()> {
                self.listen(sink).await
            }
        }
    };
}

pub(super) use impl_store;
