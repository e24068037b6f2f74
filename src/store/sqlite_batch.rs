//! SQLite's visit writer: a batch and its rollups through prepared statements, bound row by row.
//!
//! SQLite runs in-process, so a statement step costs about as much as a function call. Binding
//! rows one at a time to statements prepared once per batch is far cheaper than shipping the
//! batch as text (JSON or a many-row `VALUES`) for SQLite to parse back, and it is the writer
//! that shares the CPU with the redirects. sqlx lends its connection handle for this; the
//! transaction around it is still sqlx's.

use super::WriteOutcome;
use super::visits::{
    BATCH_KEY_RETENTION_MS, CLAIM_BATCH_KEY, FORGET_OLD_BATCH_KEYS, PARK_SHARE_COUNTS, ShareCounts,
    TAKE_PARKED_SHARE_COUNTS, TAKE_VISIT_IDS, VisitBatch, park_share_counts, with_parked_share_counts,
};
use super::webhooks;
use crate::domain::visit::VisitorHex;
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, Params, ToSql};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Writes `batch` on `conn`, inside the transaction its caller has begun, unless an earlier
/// attempt already stored it.
pub(super) fn write_batch(conn: &Connection, batch: &VisitBatch, now: i64) -> rusqlite::Result<WriteOutcome> {
    conn.execute(FORGET_OLD_BATCH_KEYS, (now - BATCH_KEY_RETENTION_MS,))?;
    if conn.execute(CLAIM_BATCH_KEY, (&batch.key, now))? == 0 {
        return Ok(WriteOutcome::already_stored());
    }
    let r = &batch.rollups;
    let shares = match batch.share_counts {
        ShareCounts::Park => {
            conn.execute(PARK_SHARE_COUNTS, (park_share_counts(&r.shares),))?;
            Cow::Owned(BTreeMap::new())
        }
        ShareCounts::Apply => {
            let parked = conn
                .prepare(TAKE_PARKED_SHARE_COUNTS)?
                .query_map((), |row| row.get::<_, Vec<u8>>(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            with_parked_share_counts(&r.shares, &parked)
        }
    };
    let first_id: i64 = conn.query_row(TAKE_VISIT_IDS, (batch.visits,), |row| row.get(0))?;
    if r.links.values().any(|n| n.clicks > 0) {
        execute_each(
            conn,
            webhooks::ENQUEUE_CLICKS_SQLITE,
            webhooks::click_ranges(first_id, batch.visits)
                .into_iter()
                .map(|(first, last)| (first, last, now)),
        )?;
    }
    execute_each(
        conn,
        "INSERT INTO visit_runs (first_id, link_id, visits, min_at, max_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        batch
            .runs
            .iter()
            .map(|r| (first_id + r.offset, r.link_id, r.visits, r.min_at, r.max_at, &r.data)),
    )?;
    for (table, counts) in [("shares", &*shares), ("links", &r.links)] {
        execute_each(
            conn,
            &format!("UPDATE {table} SET clicks = clicks + ?2, unfurls = unfurls + ?3, bots = bots + ?4 WHERE id = ?1"),
            counts.iter().map(|(id, n)| (id, n.clicks, n.unfurls, n.bots)),
        )?;
    }
    execute_each(
        conn,
        "INSERT INTO link_channel_stats (link_id, channel, clicks) VALUES (?1, ?2, ?3) \
         ON CONFLICT (link_id, channel) DO UPDATE SET clicks = link_channel_stats.clicks + excluded.clicks",
        r.channel_clicks
            .iter()
            .map(|((link, channel), n)| (link, &**channel, n)),
    )?;
    execute_each(
        conn,
        "INSERT INTO link_depth_stats (link_id, depth, clicks) VALUES (?1, ?2, ?3) \
         ON CONFLICT (link_id, depth) DO UPDATE SET clicks = link_depth_stats.clicks + excluded.clicks",
        r.depth_clicks.iter().map(|((link, depth), n)| (link, depth, n)),
    )?;
    execute_each(
        conn,
        "INSERT INTO link_unfurl_stats (link_id, app, unfurls) VALUES (?1, ?2, ?3) \
         ON CONFLICT (link_id, app) DO UPDATE SET unfurls = link_unfurl_stats.unfurls + excluded.unfurls",
        r.unfurl_apps.iter().map(|((link, app), n)| (link, app, n)),
    )?;
    execute_each(
        conn,
        "INSERT INTO link_daily_stats (link_id, day, clicks, unfurls, bots) VALUES (?1, ?2, ?3, ?4, ?5) \
         ON CONFLICT (link_id, day) DO UPDATE SET clicks = link_daily_stats.clicks + excluded.clicks, \
         unfurls = link_daily_stats.unfurls + excluded.unfurls, bots = link_daily_stats.bots + excluded.bots",
        r.days
            .iter()
            .map(|((link, day), n)| (link, day, n.clicks, n.unfurls, n.bots)),
    )?;
    execute_each(
        conn,
        "INSERT INTO link_daily_breakdown (link_id, day, channel, depth, kind, app, visits) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (link_id, day, channel, depth, kind, app) \
         DO UPDATE SET visits = link_daily_breakdown.visits + excluded.visits",
        r.breakdown
            .iter()
            .map(|((link, day, channel, depth, kind, app), n)| (link, day, &**channel, depth, kind, app, n)),
    )?;

    // A visitor is new to a link when its row goes in; this is the only writer, so that is exact.
    let mut visitors = conn.prepare(
        "INSERT INTO link_visitors (link_id, visitor) VALUES (?1, ?2) ON CONFLICT (link_id, visitor) DO NOTHING",
    )?;
    let mut new_visitors: BTreeMap<i64, i64> = BTreeMap::new();
    for (link, visitor) in &r.visitors {
        if visitors.execute((link, visitor.hex()))? > 0 {
            *new_visitors.entry(*link).or_default() += 1;
        }
    }
    execute_each(
        conn,
        "UPDATE links SET unique_visitors = unique_visitors + ?2 WHERE id = ?1",
        new_visitors.iter(),
    )?;

    let mut outcome = WriteOutcome::default();
    let mut infer = conn
        .prepare("UPDATE shares SET inferred_channel = ?2 WHERE id = ?1 AND inferred_channel IS NULL RETURNING code")?;
    for (share, app) in &r.inferences {
        let code: Option<String> = infer.query_row((share, app), |row| row.get(0)).optional()?;
        outcome.newly_inferred.extend(code);
    }
    Ok(outcome)
}

/// Runs `sql`, prepared once, with each of `rows` as its parameters.
pub(super) fn execute_each<P: Params>(
    conn: &Connection,
    sql: &str,
    rows: impl IntoIterator<Item = P>,
) -> rusqlite::Result<()> {
    let mut statement = conn.prepare(sql)?;
    for row in rows {
        statement.execute(row)?;
    }
    Ok(())
}

impl ToSql for VisitorHex {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(self.as_str().as_bytes())))
    }
}
