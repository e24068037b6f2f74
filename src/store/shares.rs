//! Shares: minting them, the redirect's lookup, the trees they grow, and the custom channels
//! they may be tagged with.

use super::minting::{MintBatch, MintOutcome};
use super::models::{CustomChannelRecord, RedirectTarget, ShareRecord, ShareRow};
use super::{Backend, StoreError, StoreResult};
use crate::domain::code::Code;
use async_trait::async_trait;
use sqlx::AssertSqlSafe;

/// Every column of a `ShareRecord`, its parent's code joined in; a `WHERE` follows.
pub(super) const SHARE_RECORDS: &str = "SELECT s.id, s.link_id, s.code, s.channel, p.code AS parent_code, \
     s.depth, s.label, s.created_at, s.disabled_at, s.expires_at, s.inferred_channel, s.clicks, s.unfurls, s.bots \
     FROM shares s LEFT JOIN shares p ON p.id = s.parent_id";

const REDIRECT_TARGET: &str = "SELECT s.id AS share_id, s.link_id, s.code, s.channel, s.depth, s.label, \
     s.inferred_channel, s.disabled_at AS share_disabled_at, s.expires_at AS share_expires_at, l.url, l.campaign, \
     l.disabled_at AS link_disabled_at, l.expires_at AS link_expires_at, c.utm_medium AS custom_medium, \
     site.utm_enabled, s.reserved_until, l.clicks AS link_clicks, l.max_clicks, l.fallback_url, l.password_hash, \
     l.utm_source, l.utm_medium, l.utm_campaign, l.utm_term, l.utm_content \
     FROM shares s JOIN links l ON l.id = s.link_id LEFT JOIN custom_channels c ON c.name = s.channel \
     LEFT JOIN sites site ON site.id = l.site_id \
     WHERE s.code = $1 OR s.slug_key = $2 ORDER BY CASE WHEN s.code = $1 THEN 0 ELSE 1 END LIMIT 1";

const SHARE_ROW: &str = "SELECT id, parent_id, code, channel, depth, label, inferred_channel, clicks, \
     unfurls, subtree_size, created_at FROM shares";

#[async_trait]
pub trait ShareStore: Send + Sync {
    /// Mints new shares and reservations and sends reserved codes, in one transaction: each
    /// request is answered on its own (a taken slug fails that share, not the batch), and every
    /// share that counts from now on is added to its link's rollups. Other instances hear of
    /// the new codes as the transaction commits (`MintOutcome::announcements`); this one's
    /// lookup is the caller's to tell.
    async fn mint(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome>;
    /// Deletes reservations whose time ran out before anyone sent them. Returns how many.
    async fn sweep_reservations(&self, now: i64) -> StoreResult<u64>;
    /// Adds the share tallies mint batches parked to the links' figures (PostgreSQL; nothing to
    /// do on SQLite). Reads of those figures do it first; the minter does it in the background.
    async fn fold_share_tallies(&self) -> StoreResult<()>;
    /// A share that was sent; reservations are not shares.
    async fn get_share(&self, code: &Code) -> StoreResult<Option<ShareRecord>>;
    async fn share_children(&self, share_id: i64, limit: i64) -> StoreResult<Vec<ShareRecord>>;
    /// Everything the redirect needs for one code, exact code first, then a custom slug in any
    /// case. A reservation is returned too (`reserved_until`): opening it proves it was sent.
    async fn redirect_target(&self, code: &Code) -> StoreResult<Option<RedirectTarget>>;
    /// The codes of one link's shares (and reservations): what a change to the link changes.
    async fn codes_of_link(&self, link_id: i64) -> StoreResult<Vec<String>>;
    /// Every code and slug key, for the filter that keeps random-code scans off the database.
    async fn all_code_keys(&self) -> StoreResult<Vec<String>>;
    /// Shares of one link, top levels and biggest branches first.
    async fn link_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>>;
    /// The shares a marketer made for a link (depth 1), oldest first.
    async fn root_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>>;
    /// Sets a share's label and whether it is switched off. Returns false when no sent share
    /// has that id.
    async fn update_share(&self, id: i64, label: Option<&str>, disabled_at: Option<i64>) -> StoreResult<bool>;
    /// A page of a link's shares in the order they were made (so each after its parent), after
    /// share id `after`.
    async fn shares_page(&self, link_id: i64, after: i64, limit: i64) -> StoreResult<Vec<ShareRecord>>;

    async fn create_custom_channel(&self, name: &str, utm_medium: &str, now: i64) -> StoreResult<()>;
    async fn custom_channel_exists(&self, name: &str) -> StoreResult<bool>;
    async fn list_custom_channels(&self) -> StoreResult<Vec<CustomChannelRecord>>;
}

#[async_trait]
impl ShareStore for Backend {
    async fn mint(&self, batch: &MintBatch, now: i64) -> StoreResult<MintOutcome> {
        match self {
            Backend::Sqlite(store) => store.mint_batch(batch, now).await,
            Backend::Postgres(store) => store.mint_batch(batch, now).await,
        }
    }

    async fn sweep_reservations(&self, now: i64) -> StoreResult<u64> {
        Ok(with_pool!(self.writer(), |pool| {
            sqlx::query("DELETE FROM shares WHERE reserved_until IS NOT NULL AND reserved_until <= $1")
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        }))
    }

    async fn fold_share_tallies(&self) -> StoreResult<()> {
        self.fold_parked_tallies().await
    }

    async fn get_share(&self, code: &Code) -> StoreResult<Option<ShareRecord>> {
        // Exact code first, then a custom slug in any case; a reservation is not a share, and
        // a deleted link's shares are gone with it.
        let sql = AssertSqlSafe(format!(
            "{SHARE_RECORDS} WHERE (s.code = $1 OR s.slug_key = $2) AND s.reserved_until IS NULL \
             AND EXISTS (SELECT 1 FROM links l WHERE l.id = s.link_id AND l.deleted_at IS NULL) \
             ORDER BY CASE WHEN s.code = $1 THEN 0 ELSE 1 END LIMIT 1"
        ));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql)
                .bind(code.as_str())
                .bind(code.slug_key())
                .fetch_optional(pool)
                .await?
        }))
    }

    async fn share_children(&self, share_id: i64, limit: i64) -> StoreResult<Vec<ShareRecord>> {
        let sql = AssertSqlSafe(format!(
            "{SHARE_RECORDS} WHERE s.parent_id = $1 AND s.reserved_until IS NULL ORDER BY s.id LIMIT $2"
        ));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql).bind(share_id).bind(limit).fetch_all(pool).await?
        }))
    }

    async fn redirect_target(&self, code: &Code) -> StoreResult<Option<RedirectTarget>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(REDIRECT_TARGET)
                .bind(code.as_str())
                .bind(code.slug_key())
                .fetch_optional(pool)
                .await?
        }))
    }

    async fn codes_of_link(&self, link_id: i64) -> StoreResult<Vec<String>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_scalar("SELECT code FROM shares WHERE link_id = $1")
                .bind(link_id)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn all_code_keys(&self) -> StoreResult<Vec<String>> {
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_scalar("SELECT COALESCE(slug_key, code) FROM shares")
                .fetch_all(pool)
                .await?
        }))
    }

    async fn link_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>> {
        let sql = AssertSqlSafe(format!(
            "{SHARE_ROW} WHERE link_id = $1 AND reserved_until IS NULL \
             ORDER BY depth, subtree_size DESC, clicks DESC, id LIMIT $2"
        ));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql).bind(link_id).bind(limit).fetch_all(pool).await?
        }))
    }

    async fn root_shares(&self, link_id: i64, limit: i64) -> StoreResult<Vec<ShareRow>> {
        let sql = AssertSqlSafe(format!(
            "{SHARE_ROW} WHERE link_id = $1 AND parent_id IS NULL AND reserved_until IS NULL ORDER BY id LIMIT $2"
        ));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql).bind(link_id).bind(limit).fetch_all(pool).await?
        }))
    }

    async fn update_share(&self, id: i64, label: Option<&str>, disabled_at: Option<i64>) -> StoreResult<bool> {
        Ok(with_pool!(self.writer(), |pool| {
            sqlx::query("UPDATE shares SET label = $2, disabled_at = $3 WHERE id = $1 AND reserved_until IS NULL")
                .bind(id)
                .bind(label)
                .bind(disabled_at)
                .execute(pool)
                .await?
                .rows_affected()
                > 0
        }))
    }

    async fn shares_page(&self, link_id: i64, after: i64, limit: i64) -> StoreResult<Vec<ShareRecord>> {
        let sql = AssertSqlSafe(format!(
            "{SHARE_RECORDS} WHERE s.link_id = $1 AND s.reserved_until IS NULL AND s.id > $2 ORDER BY s.id LIMIT $3"
        ));
        Ok(with_pool!(self.reader(), |pool| {
            sqlx::query_as(sql)
                .bind(link_id)
                .bind(after)
                .bind(limit)
                .fetch_all(pool)
                .await?
        }))
    }

    async fn create_custom_channel(&self, name: &str, utm_medium: &str, now: i64) -> StoreResult<()> {
        let inserted = with_pool!(self.writer(), |pool| {
            sqlx::query(
                "INSERT INTO custom_channels (name, utm_medium, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(name)
            .bind(utm_medium)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::ChannelExists);
        }
        Ok(())
    }

    async fn custom_channel_exists(&self, name: &str) -> StoreResult<bool> {
        let sql = "SELECT name FROM custom_channels WHERE name = $1";
        let row: Option<(String,)> = self.reader().row(sql, name).await?;
        Ok(row.is_some())
    }

    async fn list_custom_channels(&self) -> StoreResult<Vec<CustomChannelRecord>> {
        self.reader()
            .rows("SELECT name, utm_medium FROM custom_channels ORDER BY name")
            .await
    }
}
