//! Exports: a scope's visits and shares, page by page, for CSV downloads.

use super::models::{ShareExportRow, VisitExportRow};
use super::reports::scoped_query;
use super::visits::{MAX_VISITS_PER_RUN, StoredVisit, visits_of};
use super::{Backend, Scope, StoreResult};
use async_trait::async_trait;
use std::collections::{BTreeSet, HashMap};

/// Ids bound in one `IN (…)` list: far below either backend's limit on bound parameters.
const IDS_PER_STATEMENT: usize = 1000;

/// A run of the visit log as the export reads it.
#[derive(Debug, sqlx::FromRow)]
struct RunRow {
    pub first_id: i64,
    pub link_id: i64,
    pub visits: i32,
    pub data: String,
}

/// What the export shows of a visit's share.
#[derive(Debug, sqlx::FromRow)]
struct ShareLabel {
    pub id: i64,
    pub code: String,
    pub channel: String,
    pub depth: i64,
}

/// One page of the visit export being gathered from runs: the visits with ids after `after` and
/// times in `[from_ms, to_ms)`, in id order, at most `limit`.
struct ExportPage {
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

#[async_trait]
pub trait ExportStore: Send + Sync {
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

#[async_trait]
impl ExportStore for Backend {
    async fn export_visits(
        &self,
        scope: &Scope,
        from_ms: i64,
        to_ms: i64,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<VisitExportRow>> {
        let mut page = ExportPage::new(after, from_ms, to_ms, limit);
        while let Some(cursor) = page.wants_more() {
            // Every run holds at least one visit, so `limit` runs hold enough for a page
            // unless the date range leaves some of their visits out: then read on.
            let runs: Vec<RunRow> = with_pool!(self.reader(), |pool| {
                scoped_query!(
                    "SELECT first_id, link_id, visits, data FROM visit_runs WHERE {scope} \
                     AND first_id > $2 AND first_id + visits - 1 > $3 AND max_at >= $4 AND min_at < $5 \
                     ORDER BY first_id LIMIT $6",
                    scope,
                    "link_id"
                )
                .bind(cursor - MAX_VISITS_PER_RUN as i64)
                .bind(cursor)
                .bind(from_ms)
                .bind(to_ms)
                .bind(limit)
                .fetch_all(pool)
                .await?
            });
            page.add_runs(&runs);
        }
        let mut shares = HashMap::new();
        for ids in page.share_ids().chunks(IDS_PER_STATEMENT) {
            let found: Vec<ShareLabel> = with_pool!(self.reader(), |pool| {
                let mut query = sqlx::QueryBuilder::new("SELECT id, code, channel, depth FROM shares WHERE id IN (");
                let mut list = query.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                query.push(")");
                query.build_query_as().fetch_all(pool).await?
            });
            shares.extend(found.into_iter().map(|s| (s.id, s)));
        }
        Ok(page.rows(&shares))
    }

    async fn export_shares(&self, scope: &Scope, after: i64, limit: i64) -> StoreResult<Vec<ShareExportRow>> {
        Ok(with_pool!(self.reader(), |pool| {
            scoped_query!(
                "SELECT s.id, s.link_id, s.code, p.code AS parent_code, s.channel, s.depth, s.label, \
                 s.inferred_channel, s.clicks, s.unfurls, s.bots, s.created_at \
                 FROM shares s LEFT JOIN shares p ON p.id = s.parent_id \
                 WHERE {scope} AND s.reserved_until IS NULL AND s.id > $2 ORDER BY s.id LIMIT $3",
                scope,
                "s.link_id"
            )
            .bind(after)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }))
    }
}

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
