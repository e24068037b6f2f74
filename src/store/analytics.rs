//! The facts an analytics page computes its figures from: a scope's shares, and its visits,
//! conversions and answers of a time window, read in one snapshot.

use super::reports::scoped_query;
use super::{Backend, Scope, StoreResult};
use crate::domain::analytics::{AnswerFact, ConversionFact, Facts, ShareFact, VisitFact, VisitKind};
use async_trait::async_trait;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

#[derive(sqlx::FromRow)]
struct ShareFactRow {
    id: i64,
    link_id: i64,
    parent_id: Option<i64>,
    channel: String,
    depth: i64,
    label: Option<String>,
    inferred_channel: Option<String>,
    created_at: i64,
}

#[derive(sqlx::FromRow)]
struct RunData {
    first_id: i64,
    data: String,
}

#[derive(sqlx::FromRow)]
struct ConversionRow {
    share_id: Option<i64>,
    name: String,
    at: i64,
    value: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct AnswerRow {
    share_id: Option<i64>,
    channel: String,
    at: i64,
}

/// One visit of a run as stored (the visit log's columns, in order), its text borrowed from the
/// run where it needs no unescaping: a page reads a million of them.
#[derive(serde::Deserialize)]
struct LoggedVisit<'a> {
    share_id: i64,
    at: i64,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    app: Option<Cow<'a, str>>,
    #[serde(borrow)]
    visitor: Cow<'a, str>,
    #[serde(borrow)]
    referrer_host: Option<Cow<'a, str>>,
    #[serde(borrow)]
    device: Cow<'a, str>,
    #[serde(borrow)]
    browser: Option<Cow<'a, str>>,
    #[serde(borrow)]
    os: Option<Cow<'a, str>>,
    #[serde(borrow)]
    country: Option<Cow<'a, str>>,
}

/// Each distinct word of the visits once: their devices, browsers, countries and referrers
/// repeat across the whole log.
#[derive(Default)]
struct Words(HashSet<Arc<str>>);

impl Words {
    fn get(&mut self, word: &str) -> Arc<str> {
        if let Some(known) = self.0.get(word) {
            return known.clone();
        }
        let word: Arc<str> = Arc::from(word);
        self.0.insert(word.clone());
        word
    }
}

/// A visitor hash (32 hex digits) as a number: a page counts distinct ones by the million.
fn visitor_key(hex: &str) -> u128 {
    u128::from_str_radix(hex, 16).unwrap_or_else(|_| {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        u128::from(BuildHasherDefault::<DefaultHasher>::default().hash_one(hex))
    })
}

#[async_trait]
pub trait AnalyticsStore: Send + Sync {
    /// Every share of `scope` that was sent (reservations are not shares), and the visits,
    /// conversions and answers in `[from_ms, to_ms)`.
    async fn analytics_facts(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Facts>;
}

#[async_trait]
impl AnalyticsStore for Backend {
    async fn analytics_facts(&self, scope: &Scope, from_ms: i64, to_ms: i64) -> StoreResult<Facts> {
        let (shares, runs, conversions, answers) = with_pool!(self.reader(), |pool| {
            let mut tx = pool.begin().await?;
            let shares: Vec<ShareFactRow> = scoped_query!(
                "SELECT id, link_id, parent_id, channel, depth, label, inferred_channel, created_at FROM shares \
                 WHERE {scope} AND reserved_until IS NULL",
                scope,
                "link_id"
            )
            .fetch_all(&mut *tx)
            .await?;
            let runs: Vec<RunData> = scoped_query!(
                "SELECT first_id, data FROM visit_runs WHERE {scope} AND max_at >= $2 AND min_at < $3",
                scope,
                "link_id"
            )
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&mut *tx)
            .await?;
            let conversions: Vec<ConversionRow> = scoped_query!(
                "SELECT share_id, name, at, value FROM conversions WHERE {scope} AND at >= $2 AND at < $3",
                scope,
                "link_id"
            )
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&mut *tx)
            .await?;
            let answers: Vec<AnswerRow> = scoped_query!(
                "SELECT share_id, COALESCE(channel, 'unknown') AS channel, at FROM self_reports \
                 WHERE {scope} AND at >= $2 AND at < $3",
                scope,
                "link_id"
            )
            .bind(from_ms)
            .bind(to_ms)
            .fetch_all(&mut *tx)
            .await?;
            tx.commit().await?;
            (shares, runs, conversions, answers)
        });
        let mut visits = Vec::new();
        let mut words = Words::default();
        for run in runs {
            match serde_json::from_str::<Vec<LoggedVisit>>(&run.data) {
                Ok(logged) => visits.extend(
                    logged
                        .into_iter()
                        .filter(|v| (from_ms..to_ms).contains(&v.at))
                        .map(|v| VisitFact {
                            share_id: v.share_id,
                            at: v.at,
                            kind: VisitKind::parse(&v.kind),
                            app: v.app.map(|a| words.get(&a)),
                            visitor: visitor_key(&v.visitor),
                            referrer: v.referrer_host.map(|r| words.get(&r)),
                            device: words.get(&v.device),
                            browser: v.browser.map(|b| words.get(&b)),
                            os: v.os.map(|o| words.get(&o)),
                            country: v.country.map(|c| words.get(&c)),
                        }),
                ),
                // As the export does: one unreadable run must not take every page down with it.
                Err(err) => {
                    tracing::error!(first_id = run.first_id, error = %err, "skipped an unreadable run of the visit log")
                }
            }
        }
        Ok(Facts {
            shares: shares
                .into_iter()
                .map(|s| ShareFact {
                    id: s.id,
                    link_id: s.link_id,
                    parent_id: s.parent_id,
                    channel: s.channel,
                    depth: s.depth,
                    label: s.label,
                    inferred_channel: s.inferred_channel,
                    created_at: s.created_at,
                })
                .collect(),
            visits,
            conversions: conversions
                .into_iter()
                .map(|c| ConversionFact {
                    share_id: c.share_id,
                    name: c.name,
                    at: c.at,
                    value: c.value,
                })
                .collect(),
            answers: answers
                .into_iter()
                .map(|a| AnswerFact {
                    share_id: a.share_id,
                    channel: a.channel,
                    at: a.at,
                })
                .collect(),
        })
    }
}
