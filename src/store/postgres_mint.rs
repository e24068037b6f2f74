//! PostgreSQL's statements of a share batch (see `minting::MintStatements`): each is one round
//! trip whatever the batch's size, its rows bound as arrays, so its text never changes and is
//! prepared once per connection.
//!
//! Every statement here joins a short array to a large table by a unique key, or a few keys:
//! the right plan is always to probe the index once per element. `BEGIN` says so for the
//! transaction, and asks for one generic plan per statement: planning anew for each batch cost
//! more than running most statements, and a plan made while a table was small (or its
//! statistics stale) hashed the whole table for every batch. A small table read whole (the
//! webhook endpoints) is then priced as if it were huge, and would be JIT-compiled for every
//! batch, 100 ms each: the batch's transaction turns JIT off.

use super::minting::{
    CountedShare, CountingNews, MintStatements, NewRow, ParentRow, ShareTally, SitePage, gains_by_parent,
};
use super::postgres::column;
use super::{ShareRecord, StoreResult, shares};
use crate::domain::webhook::EventType;
use sqlx::{Postgres, Transaction};

/// Opens a share batch's transaction: generic plans, index probes, no hashing of whole tables.
pub(super) const BEGIN: &str = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL jit = off; \
     SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off";

/// The same for a batch of reservations only, which commits without waiting for the disk (as
/// every SQLite commit does, and visit batches here): a reservation is no share, and one lost
/// to a database crash is minted again, under its code, by its click's report.
pub(super) const BEGIN_RESERVING: &str = "BEGIN; SET LOCAL synchronous_commit = off; \
     SET LOCAL plan_cache_mode = force_generic_plan; SET LOCAL jit = off; \
     SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; SET LOCAL enable_seqscan = off";

pub(super) struct PgMint<'a, 'c> {
    pub tx: &'a mut Transaction<'c, Postgres>,
}

/// A code of a send: a share now, and whether this statement made it one.
#[derive(sqlx::FromRow)]
struct SentRow {
    id: i64,
    code: String,
    link_id: i64,
    parent_id: Option<i64>,
    depth: i64,
    channel: String,
    now_sent: bool,
}

impl MintStatements for PgMint<'_, '_> {
    async fn parents(&mut self, codes: &[&str], slug_keys: &[String]) -> StoreResult<Vec<ParentRow>> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.code, s.slug_key, s.link_id, s.depth, s.reserved_until, l.url AS link_url, \
             l.disabled_at AS link_disabled_at, l.expires_at AS link_expires_at \
             FROM unnest($1::text[]) AS c(code) JOIN shares s ON s.code = c.code JOIN links l ON l.id = s.link_id \
             UNION SELECT s.id, s.code, s.slug_key, s.link_id, s.depth, s.reserved_until, l.url, l.disabled_at, \
             l.expires_at FROM unnest($2::text[]) AS k(slug_key) JOIN shares s ON s.slug_key = k.slug_key \
             JOIN links l ON l.id = s.link_id",
        )
        .bind(codes)
        .bind(slug_keys)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    async fn existing_links(&mut self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT l.id FROM unnest($1::int8[]) AS v(id) JOIN links l ON l.id = v.id WHERE l.deleted_at IS NULL",
        )
        .bind(ids)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    async fn known_channels(&mut self, names: &[&str]) -> StoreResult<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT c.name FROM unnest($1::text[]) AS v(name) JOIN custom_channels c ON c.name = v.name",
        )
        .bind(names)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    async fn site_page_links(&mut self, pages: &[&SitePage], now: i64) -> StoreResult<Vec<(i64, i64, String)>> {
        // The links made here and those that were there already: the second SELECT sees the
        // table as it was when the statement began.
        Ok(sqlx::query_as(
            "WITH page AS (SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[]) \
                AS p(site_id, url, title, campaign)), \
             created AS (INSERT INTO links (url, title, campaign, created_at, site_id) \
                SELECT url, title, campaign, $5, site_id FROM page ON CONFLICT (site_id, url) DO NOTHING \
                RETURNING id, site_id, url, campaign), \
             campaigns AS (INSERT INTO campaigns (slug, name, created_at) \
                SELECT DISTINCT campaign, campaign, $5::int8 FROM created WHERE campaign IS NOT NULL \
                ON CONFLICT (slug) DO NOTHING) \
             SELECT id, site_id, url FROM created \
             UNION ALL SELECT l.id, l.site_id, l.url FROM links l JOIN page p ON l.site_id = p.site_id AND l.url = p.url",
        )
        .bind(column(pages, |p| p.site_id))
        .bind(column(pages, |p| p.page.as_str()))
        .bind(column(pages, |p| p.title.as_deref()))
        .bind(column(pages, |p| p.campaign.as_deref()))
        .bind(now)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    async fn send(&mut self, codes: &[&str], now: i64) -> StoreResult<(Vec<CountedShare>, Vec<(i64, String)>)> {
        // A share counts from the day it was sent, not the day it was reserved. The second
        // SELECT sees the shares sent before this statement; the first, those it sends.
        let rows: Vec<SentRow> = sqlx::query_as(
            "WITH sent AS (UPDATE shares SET reserved_until = NULL, created_at = $2 \
                FROM unnest($1::text[]) AS v(code) WHERE shares.code = v.code AND shares.reserved_until IS NOT NULL \
                RETURNING shares.id, shares.code, shares.link_id, shares.parent_id, shares.depth, shares.channel) \
             SELECT id, code, link_id, parent_id, depth, channel, TRUE AS now_sent FROM sent \
             UNION ALL SELECT s.id, s.code, s.link_id, s.parent_id, s.depth, s.channel, FALSE \
                FROM unnest($1::text[]) AS v(code) JOIN shares s ON s.code = v.code WHERE s.reserved_until IS NULL",
        )
        .bind(codes)
        .bind(now)
        .fetch_all(&mut **self.tx)
        .await?;
        let mut counted = Vec::new();
        let mut shares = Vec::with_capacity(rows.len());
        for SentRow {
            id,
            code,
            link_id,
            parent_id,
            depth,
            channel,
            now_sent,
        } in rows
        {
            if now_sent {
                counted.push(CountedShare {
                    id,
                    link_id,
                    parent_id,
                    depth,
                    channel,
                });
            }
            shares.push((id, code));
        }
        Ok((counted, shares))
    }

    async fn token_shares(&mut self, tokens: &[&str]) -> StoreResult<Vec<(i64, i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT s.id, s.link_id, s.token FROM unnest($1::text[]) AS v(token) \
             JOIN shares s ON s.token = v.token",
        )
        .bind(tokens)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    async fn insert_shares(&mut self, rows: &[NewRow<'_>], now: i64) -> StoreResult<Vec<(i64, String)>> {
        // DO NOTHING rather than catching the violation: PostgreSQL aborts a transaction on any
        // error, and the rest of the batch must go on.
        Ok(sqlx::query_as(
            "INSERT INTO shares (link_id, code, slug_key, channel, parent_id, depth, label, created_at, expires_at, \
             token, reserved_until) \
             SELECT l, c, k, ch, p, d, lb, $11, e, t, r FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], \
             $5::int8[], $6::int8[], $7::text[], $8::int8[], $9::text[], $10::int8[]) AS v(l, c, k, ch, p, d, lb, e, t, r) \
             ON CONFLICT DO NOTHING RETURNING id, code",
        )
        .bind(column(rows, |r| r.link_id))
        .bind(column(rows, |r| r.code))
        .bind(column(rows, |r| r.slug_key.as_deref()))
        .bind(column(rows, |r| r.channel))
        .bind(column(rows, |r| r.parent_id))
        .bind(column(rows, |r| r.depth))
        .bind(column(rows, |r| r.label))
        .bind(column(rows, |r| r.expires_at))
        .bind(column(rows, |r| r.token))
        .bind(column(rows, |r| r.reserved_until))
        .bind(now)
        .fetch_all(&mut **self.tx)
        .await?)
    }

    /// Grows every ancestor, parks the batch for a fold, raises the links' deepest levels and
    /// reads who listens, in one statement: applied here, every batch of a viral page's shares
    /// updated the same link row and waited, through its commit, for the batch before it; and
    /// each statement more is a round trip more per batch. Ancestors are grown in id order
    /// (`gains` is ordered), so instances growing the same ones at once queue behind each other
    /// rather than deadlock. A link's mark row is locked only when the batch goes deeper than
    /// the mark it reads: an upsert locks the row it meets even when it leaves it alone, and
    /// every batch of a viral page would then hold that one row through its commit.
    async fn count_shares(
        &mut self,
        counted: &[CountedShare],
        day: &str,
        marks: &[(i64, i64)],
    ) -> StoreResult<CountingNews> {
        let gains = gains_by_parent(counted);
        let counted = serde_json::to_string(counted).expect("shares of integers and strings serialise");
        let (risen, subscriptions): (Vec<i64>, Vec<String>) = sqlx::query_as(
            "WITH RECURSIVE \
             parents(id, n) AS (SELECT * FROM unnest($1::int8[], $2::int8[])), \
             chain(start, id, parent_id, hop) AS ( \
                SELECT s.id, s.id, s.parent_id, 0 FROM parents p JOIN shares s ON s.id = p.id \
                UNION ALL SELECT c.start, s.id, s.parent_id, c.hop + 1 FROM shares s JOIN chain c ON s.id = c.parent_id \
                WHERE c.hop < $3), \
             gains AS (SELECT c.id, sum(p.n)::int8 AS n FROM chain c JOIN parents p ON p.id = c.start \
                GROUP BY c.id ORDER BY c.id), \
             grown AS (UPDATE shares SET subtree_size = shares.subtree_size + gains.n FROM gains \
                WHERE shares.id = gains.id RETURNING shares.link_id, gains.n, shares.subtree_size), \
             parked AS (INSERT INTO pending_share_tallies (tally) SELECT json_build_object('day', $4::text, \
                'counted', $5::json, 'grown', \
                COALESCE((SELECT json_agg(json_build_array(link_id, n, subtree_size)) FROM grown), '[]'::json))::text), \
             risen AS (INSERT INTO webhook_depth_marks (link_id, depth) \
                SELECT m.link_id, m.depth FROM unnest($6::int8[], $7::int8[]) AS m(link_id, depth) \
                WHERE NOT EXISTS (SELECT 1 FROM webhook_depth_marks w WHERE w.link_id = m.link_id AND w.depth >= m.depth) \
                ORDER BY m.link_id \
                ON CONFLICT (link_id) DO UPDATE SET depth = excluded.depth \
                WHERE webhook_depth_marks.depth < excluded.depth RETURNING link_id) \
             SELECT COALESCE((SELECT array_agg(link_id) FROM risen), '{}'), \
                COALESCE((SELECT array_agg(events) FROM webhook_endpoints WHERE disabled_at IS NULL), '{}')",
        )
        .bind(column(&gains, |(id, _)| *id))
        .bind(column(&gains, |(_, n)| *n))
        .bind(crate::domain::cascade::MAX_DEPTH)
        .bind(day)
        .bind(counted)
        .bind(column(marks, |(link, _)| *link))
        .bind(column(marks, |(_, depth)| *depth))
        .fetch_one(&mut **self.tx)
        .await?;
        Ok(CountingNews { risen, subscriptions })
    }

    async fn share_records(&mut self, ids: &[i64]) -> StoreResult<Vec<ShareRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{} JOIN unnest($1::int8[]) AS v(id) ON s.id = v.id",
            shares::SHARE_RECORDS
        ));
        Ok(sqlx::query_as(sql).bind(ids).fetch_all(&mut **self.tx).await?)
    }

    async fn enqueue_webhooks(&mut self, events: &[(EventType, String)], now: i64) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO webhook_deliveries (endpoint_id, event_type, data, created_at) \
             SELECT e.id, v.t, v.d, $3 FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS v(t, d, n) \
             JOIN webhook_endpoints e ON e.disabled_at IS NULL AND e.events LIKE '%,' || v.t || ',%' \
             ORDER BY v.n, e.id",
        )
        .bind(column(events, |(event, _)| event.as_str()))
        .bind(column(events, |(_, data)| data.as_str()))
        .bind(now)
        .execute(&mut **self.tx)
        .await?;
        Ok(())
    }
}

/// Adds a tally of shares to its links' counters and rollups, rows in key order (the maps are
/// sorted), as the visit writer updates them: the two queue rather than deadlock.
pub(super) async fn apply_share_tally(tx: &mut Transaction<'_, Postgres>, t: &ShareTally) -> StoreResult<()> {
    sqlx::query(
        "WITH \
         links_counted AS (UPDATE links SET share_count = links.share_count + v.n, \
            child_shares = links.child_shares + v.c, max_depth = GREATEST(links.max_depth, v.d), \
            sum_sizes = links.sum_sizes + v.s, sum_sq_sizes = links.sum_sq_sizes + v.q \
            FROM unnest($1::int8[], $2::int8[], $3::int8[], $4::int8[], $5::int8[], $6::int8[]) \
            AS v(id, n, c, d, s, q) WHERE links.id = v.id), \
         channels AS (INSERT INTO link_channel_stats (link_id, channel, shares) \
            SELECT * FROM unnest($7::int8[], $8::text[], $9::int8[]) \
            ON CONFLICT (link_id, channel) DO UPDATE SET shares = link_channel_stats.shares + excluded.shares), \
         depths AS (INSERT INTO link_depth_stats (link_id, depth, shares) \
            SELECT * FROM unnest($10::int8[], $11::int8[], $12::int8[]) \
            ON CONFLICT (link_id, depth) DO UPDATE SET shares = link_depth_stats.shares + excluded.shares), \
         days AS (INSERT INTO link_daily_stats (link_id, day, shares) \
            SELECT * FROM unnest($13::int8[], $14::text[], $15::int8[]) \
            ON CONFLICT (link_id, day) DO UPDATE SET shares = link_daily_stats.shares + excluded.shares) \
         SELECT 1",
    )
    .bind(column(&t.links, |(id, _)| *id))
    .bind(column(&t.links, |(_, n)| n.shares))
    .bind(column(&t.links, |(_, n)| n.child_shares))
    .bind(column(&t.links, |(_, n)| n.max_depth))
    .bind(column(&t.links, |(_, n)| n.sum_sizes))
    .bind(column(&t.links, |(_, n)| n.sum_sq_sizes))
    .bind(column(&t.channels, |((link, _), _)| *link))
    .bind(column(&t.channels, |((_, channel), _)| channel.as_str()))
    .bind(column(&t.channels, |(_, n)| *n))
    .bind(column(&t.depths, |((link, _), _)| *link))
    .bind(column(&t.depths, |((_, depth), _)| *depth))
    .bind(column(&t.depths, |(_, n)| *n))
    .bind(column(&t.days, |((link, _), _)| *link))
    .bind(column(&t.days, |((_, day), _)| day.as_str()))
    .bind(column(&t.days, |(_, n)| *n))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
