//! SQLite's statements of a share batch (see `minting::MintStatements`), run in-process on the
//! transaction's own connection as the visit writer's are (`sqlite_batch`): a statement step
//! costs about a function call there, where each statement sent through sqlx's worker thread
//! costs two thread wake-ups, which were most of a batch's time.

use super::minting::{CountedShare, CountingNews, MintStatements, NewRow, ParentRow, ShareTally, SitePage, growth};
use super::sqlite_batch::execute_each;
use super::{ShareRecord, StoreResult, campaigns, shares, webhooks};
use crate::domain::webhook::EventType;
use rusqlite::{Connection, OptionalExtension, Row};
use std::collections::{BTreeSet, HashMap};

pub(super) struct SqliteMint<'a> {
    pub conn: &'a Connection,
}

fn parent_row(row: &Row) -> rusqlite::Result<ParentRow> {
    Ok(ParentRow {
        id: row.get(0)?,
        code: row.get(1)?,
        slug_key: row.get(2)?,
        link_id: row.get(3)?,
        depth: row.get(4)?,
        reserved_until: row.get(5)?,
        link_url: row.get(6)?,
        link_disabled_at: row.get(7)?,
        link_expires_at: row.get(8)?,
    })
}

fn share_record(row: &Row) -> rusqlite::Result<ShareRecord> {
    Ok(ShareRecord {
        id: row.get(0)?,
        link_id: row.get(1)?,
        code: row.get(2)?,
        channel: row.get(3)?,
        parent_code: row.get(4)?,
        depth: row.get(5)?,
        label: row.get(6)?,
        created_at: row.get(7)?,
        disabled_at: row.get(8)?,
        expires_at: row.get(9)?,
        inferred_channel: row.get(10)?,
        clicks: row.get(11)?,
        unfurls: row.get(12)?,
        bots: row.get(13)?,
    })
}

impl SqliteMint<'_> {
    /// Runs `sql` once per item of `keys` and gathers every row it yields.
    fn each<K: rusqlite::ToSql, T>(
        &self,
        sql: &str,
        keys: &[K],
        mut read: impl FnMut(&Row) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let mut statement = self.conn.prepare(sql)?;
        let mut out = Vec::new();
        for key in keys {
            let mut rows = statement.query([key])?;
            while let Some(row) = rows.next()? {
                out.push(read(row)?);
            }
        }
        Ok(out)
    }
}

impl MintStatements for SqliteMint<'_> {
    async fn parents(&mut self, codes: &[&str], slug_keys: &[String]) -> StoreResult<Vec<ParentRow>> {
        let mut statement = self.conn.prepare(
            "SELECT s.id, s.code, s.slug_key, s.link_id, s.depth, s.reserved_until, l.url, l.disabled_at, \
             l.expires_at FROM shares s JOIN links l ON l.id = s.link_id WHERE s.code = ?1 OR s.slug_key = ?2",
        )?;
        let mut seen = BTreeSet::new();
        let mut parents = Vec::new();
        for (code, key) in codes.iter().zip(slug_keys) {
            for parent in statement.query_map((code, key), parent_row)? {
                let parent = parent?;
                if seen.insert(parent.id) {
                    parents.push(parent);
                }
            }
        }
        Ok(parents)
    }

    async fn existing_links(&mut self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        self.each(
            "SELECT id FROM links WHERE id = ?1 AND deleted_at IS NULL",
            ids,
            |row| row.get(0),
        )
    }

    async fn known_channels(&mut self, names: &[&str]) -> StoreResult<Vec<String>> {
        self.each("SELECT name FROM custom_channels WHERE name = ?1", names, |row| {
            row.get(0)
        })
    }

    async fn site_page_links(&mut self, pages: &[&SitePage], now: i64) -> StoreResult<Vec<(i64, i64, String)>> {
        let mut create = self.conn.prepare(
            "INSERT INTO links (url, title, campaign, created_at, site_id) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (site_id, url) DO NOTHING RETURNING campaign",
        )?;
        let mut ensure_campaign = self.conn.prepare(campaigns::ENSURE_CAMPAIGN)?;
        let mut find = self
            .conn
            .prepare("SELECT id FROM links WHERE site_id = ?1 AND url = ?2")?;
        let mut links = Vec::with_capacity(pages.len());
        for page in pages {
            let url = page.page.as_str();
            let created: Option<Option<String>> = create
                .query_row((url, &page.title, &page.campaign, now, page.site_id), |row| row.get(0))
                .optional()?;
            if let Some(Some(campaign)) = created {
                ensure_campaign.execute((campaign, now))?;
            }
            if let Some(id) = find.query_row((page.site_id, url), |row| row.get(0)).optional()? {
                links.push((id, page.site_id, url.to_owned()));
            }
        }
        Ok(links)
    }

    async fn send(&mut self, codes: &[&str], now: i64) -> StoreResult<(Vec<CountedShare>, Vec<(i64, String)>)> {
        // A share counts from the day it was sent, not the day it was reserved.
        let mut send = self.conn.prepare(
            "UPDATE shares SET reserved_until = NULL, created_at = ?2 WHERE code = ?1 AND reserved_until IS NOT NULL \
             RETURNING link_id, parent_id, depth, channel, id",
        )?;
        let mut sent = self
            .conn
            .prepare("SELECT id FROM shares WHERE code = ?1 AND reserved_until IS NULL")?;
        let mut counted = Vec::new();
        let mut shares = Vec::new();
        for code in codes {
            let now_sent = send
                .query_row((code, now), |row| {
                    Ok(CountedShare {
                        id: row.get(4)?,
                        link_id: row.get(0)?,
                        parent_id: row.get(1)?,
                        depth: row.get(2)?,
                        channel: row.get(3)?,
                    })
                })
                .optional()?;
            counted.extend(now_sent);
            if let Some(id) = sent.query_row([code], |row| row.get(0)).optional()? {
                shares.push((id, (*code).to_owned()));
            }
        }
        Ok((counted, shares))
    }

    async fn token_shares(&mut self, tokens: &[&str]) -> StoreResult<Vec<(i64, i64, String)>> {
        self.each(
            "SELECT id, link_id, token FROM shares WHERE token = ?1",
            tokens,
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
    }

    async fn insert_shares(&mut self, rows: &[NewRow<'_>], now: i64) -> StoreResult<Vec<(i64, String)>> {
        let mut insert = self.conn.prepare(
            "INSERT INTO shares (link_id, code, slug_key, channel, parent_id, depth, label, created_at, expires_at, \
             token, reserved_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT DO NOTHING RETURNING id",
        )?;
        let mut inserted = Vec::with_capacity(rows.len());
        for r in rows {
            let id: Option<i64> = insert
                .query_row(
                    rusqlite::params![
                        r.link_id,
                        r.code,
                        r.slug_key,
                        r.channel,
                        r.parent_id,
                        r.depth,
                        r.label,
                        now,
                        r.expires_at,
                        r.token,
                        r.reserved_until
                    ],
                    |row| row.get(0),
                )
                .optional()?;
            inserted.extend(id.map(|id| (id, r.code.to_owned())));
        }
        Ok(inserted)
    }

    async fn count_shares(
        &mut self,
        counted: &[CountedShare],
        day: &str,
        marks: &[(i64, i64)],
    ) -> StoreResult<CountingNews> {
        let mut grown: Vec<(i64, u64, u64)> = Vec::new();
        let parents: BTreeSet<i64> = counted.iter().filter_map(|c| c.parent_id).collect();
        if !parents.is_empty() {
            let chains = self.ancestor_chains(&parents)?;
            let grows = growth(counted, &chains);
            let mut grow = self
                .conn
                .prepare("UPDATE shares SET subtree_size = subtree_size + ?2 WHERE id = ?1 RETURNING subtree_size")?;
            for (id, (link_id, gained)) in grows {
                let after: Option<i64> = grow
                    .query_row((id, i64::try_from(gained).unwrap_or(i64::MAX)), |row| row.get(0))
                    .optional()?;
                grown.extend(after.map(|after| (link_id, gained, u64::try_from(after).unwrap_or_default())));
            }
        }
        self.add_shares_to_rollups(&ShareTally::new(counted, &grown, day))?;
        let mut raise = self.conn.prepare(&webhooks::RAISE_DEPTH_MARK.replace('$', "?"))?;
        let mut risen = Vec::new();
        for mark in marks {
            risen.extend(raise.query_row(*mark, |row| row.get::<_, i64>(0)).optional()?);
        }
        let mut statement = self.conn.prepare(webhooks::SUBSCRIPTIONS)?;
        let subscriptions = statement
            .query_map((), |row| row.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(CountingNews { risen, subscriptions })
    }

    async fn share_records(&mut self, ids: &[i64]) -> StoreResult<Vec<ShareRecord>> {
        let sql = format!("{} WHERE s.id = ?1", shares::SHARE_RECORDS);
        self.each(&sql, ids, share_record)
    }

    async fn enqueue_webhooks(&mut self, events: &[(EventType, String)], now: i64) -> StoreResult<()> {
        execute_each(
            self.conn,
            webhooks::ENQUEUE_EVENT_SQLITE,
            events
                .iter()
                .map(|(event, data)| (event.as_str(), data, now, event.subscribers_pattern())),
        )?;
        Ok(())
    }
}

impl SqliteMint<'_> {
    /// Each parent with itself and its ancestors, at most a cascade's depth.
    fn ancestor_chains(&mut self, parents: &BTreeSet<i64>) -> StoreResult<HashMap<i64, Vec<i64>>> {
        let mut statement = self.conn.prepare(
            "WITH RECURSIVE chain(id, parent_id, hop) AS ( \
             SELECT id, parent_id, 0 FROM shares WHERE id = ?1 \
             UNION ALL SELECT s.id, s.parent_id, c.hop + 1 FROM shares s JOIN chain c ON s.id = c.parent_id \
             WHERE c.hop < ?2) SELECT id FROM chain",
        )?;
        let mut chains: HashMap<i64, Vec<i64>> = HashMap::new();
        for start in parents {
            for ancestor in statement.query_map((start, crate::domain::cascade::MAX_DEPTH), |row| row.get(0))? {
                chains.entry(*start).or_default().push(ancestor?);
            }
        }
        Ok(chains)
    }

    fn add_shares_to_rollups(&mut self, t: &ShareTally) -> StoreResult<()> {
        execute_each(
            self.conn,
            "UPDATE links SET share_count = share_count + ?2, child_shares = child_shares + ?3, \
             max_depth = MAX(max_depth, ?4), sum_sizes = sum_sizes + ?5, sum_sq_sizes = sum_sq_sizes + ?6 WHERE id = ?1",
            t.links
                .iter()
                .map(|(id, n)| (id, n.shares, n.child_shares, n.max_depth, n.sum_sizes, n.sum_sq_sizes)),
        )?;
        execute_each(
            self.conn,
            "INSERT INTO link_channel_stats (link_id, channel, shares) VALUES (?1, ?2, ?3) \
             ON CONFLICT (link_id, channel) DO UPDATE SET shares = link_channel_stats.shares + excluded.shares",
            t.channels.iter().map(|((link, channel), n)| (link, channel, n)),
        )?;
        execute_each(
            self.conn,
            "INSERT INTO link_depth_stats (link_id, depth, shares) VALUES (?1, ?2, ?3) \
             ON CONFLICT (link_id, depth) DO UPDATE SET shares = link_depth_stats.shares + excluded.shares",
            t.depths.iter().map(|((link, depth), n)| (link, depth, n)),
        )?;
        execute_each(
            self.conn,
            "INSERT INTO link_daily_stats (link_id, day, shares) VALUES (?1, ?2, ?3) \
             ON CONFLICT (link_id, day) DO UPDATE SET shares = link_daily_stats.shares + excluded.shares",
            t.days.iter().map(|((link, day), n)| (link, day, n)),
        )?;
        Ok(())
    }
}
