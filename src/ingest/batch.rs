//! A batch of visits and the rollups it adds, computed in memory before one transaction.
//!
//! Rolling up here is what keeps stats cheap: a thousand visits become a few dozen counter
//! updates, and the stats endpoint reads counters instead of scanning raw visits.

use super::VisitRecord;
use crate::clock::day_of;
use crate::domain::visit::{VisitKind, VisitorHash};
use foldhash::{HashMap, HashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const MS_PER_DAY: i64 = 86_400_000;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub clicks: i64,
    pub unfurls: i64,
    pub bots: i64,
}

impl Counts {
    fn add(&mut self, kind: VisitKind) {
        match kind {
            VisitKind::Click => self.clicks += 1,
            VisitKind::Unfurl => self.unfurls += 1,
            VisitKind::Bot => self.bots += 1,
        }
    }
}

/// Sorted maps, so every batch touches rows in the same order and concurrent writers on
/// PostgreSQL cannot deadlock on each other.
#[derive(Debug, Default)]
pub struct Rollups {
    pub shares: BTreeMap<i64, Counts>,
    pub links: BTreeMap<i64, Counts>,
    pub channel_clicks: BTreeMap<(i64, Arc<str>), i64>,
    pub depth_clicks: BTreeMap<(i64, i64), i64>,
    pub unfurl_apps: BTreeMap<(i64, &'static str), i64>,
    pub days: BTreeMap<(i64, String), Counts>,
    /// (link, visitor) pairs of human clicks, for the unique-visitor count.
    pub visitors: BTreeSet<(i64, VisitorHash)>,
    /// The first unfurl app seen for shares whose channel is still unknown.
    pub inferences: BTreeMap<i64, &'static str>,
    /// Visits per (link, day, channel, depth, kind, unfurl app or ""): the date-filterable rollup.
    pub breakdown: BTreeMap<BreakdownKey, i64>,
}

pub type BreakdownKey = (i64, String, Arc<str>, i64, &'static str, &'static str);

/// How long a batch's key is kept: far longer than the writer goes on retrying one batch.
pub const BATCH_KEY_RETENTION_MS: i64 = 3_600_000;

#[derive(Debug)]
pub struct VisitBatch {
    /// Unique per batch and the same on every attempt to write it (126 random bits): stored with
    /// the batch, it turns the retry of a batch that did land into a no-op.
    pub key: String,
    pub visits: Vec<VisitRecord>,
    pub rollups: Rollups,
}

impl VisitBatch {
    pub fn new(visits: Vec<VisitRecord>) -> VisitBatch {
        // Per-visit work goes into hash maps that borrow from the batch; only the distinct keys
        // are copied and sorted at the end. A date string per visit, and a tree walk per visit
        // and rollup, showed up in the writer's profile.
        let mut shares: HashMap<i64, Counts> = HashMap::default();
        let mut links: HashMap<i64, Counts> = HashMap::default();
        let mut channel_clicks: HashMap<(i64, &str), i64> = HashMap::default();
        let mut depth_clicks: HashMap<(i64, i64), i64> = HashMap::default();
        let mut unfurl_apps: HashMap<(i64, &'static str), i64> = HashMap::default();
        let mut days: HashMap<(i64, i64), Counts> = HashMap::default();
        let mut visitors: HashSet<(i64, VisitorHash)> = HashSet::default();
        let mut inferences: HashMap<i64, &'static str> = HashMap::default();
        let mut breakdown: HashMap<(i64, i64, &str, i64, &'static str, &'static str), i64> = HashMap::default();
        for v in &visits {
            let day = v.at.div_euclid(MS_PER_DAY);
            let app = v.app.map_or("", |a| a.as_str());
            *breakdown
                .entry((v.link_id, day, &*v.channel, v.depth, v.kind.as_str(), app))
                .or_default() += 1;
            shares.entry(v.share_id).or_default().add(v.kind);
            links.entry(v.link_id).or_default().add(v.kind);
            days.entry((v.link_id, day)).or_default().add(v.kind);
            match (v.kind, v.app) {
                (VisitKind::Click, _) => {
                    *channel_clicks.entry((v.link_id, &*v.channel)).or_default() += 1;
                    *depth_clicks.entry((v.link_id, v.depth)).or_default() += 1;
                    visitors.insert((v.link_id, v.visitor));
                }
                (VisitKind::Unfurl, Some(app)) => {
                    *unfurl_apps.entry((v.link_id, app.as_str())).or_default() += 1;
                    if v.infers_channel {
                        inferences.entry(v.share_id).or_insert(app.as_str());
                    }
                }
                _ => {}
            }
        }
        let r = Rollups {
            shares: shares.into_iter().collect(),
            links: links.into_iter().collect(),
            channel_clicks: channel_clicks
                .into_iter()
                .map(|((link, channel), n)| ((link, Arc::from(channel)), n))
                .collect(),
            depth_clicks: depth_clicks.into_iter().collect(),
            unfurl_apps: unfurl_apps.into_iter().collect(),
            days: days
                .into_iter()
                .map(|((link, day), n)| ((link, day_of(day * MS_PER_DAY)), n))
                .collect(),
            visitors: visitors.into_iter().collect(),
            inferences: inferences.into_iter().collect(),
            breakdown: breakdown
                .into_iter()
                .map(|((link, day, channel, depth, kind, app), n)| {
                    (
                        (link, day_of(day * MS_PER_DAY), Arc::from(channel), depth, kind, app),
                        n,
                    )
                })
                .collect(),
        };
        VisitBatch {
            key: nanoid::nanoid!(),
            visits,
            rollups: r,
        }
    }

    pub fn len(&self) -> usize {
        self.visits.len()
    }

    pub fn is_empty(&self) -> bool {
        self.visits.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::App;
    use crate::domain::visit::DeviceClass;

    fn visit(share_id: i64, kind: VisitKind, app: Option<App>, visitor: u8) -> VisitRecord {
        VisitRecord {
            share_id,
            link_id: 1,
            channel: Arc::from(if share_id == 10 { "copy" } else { "whatsapp" }),
            depth: share_id / 10,
            at: 1_795_392_000_000,
            kind,
            app,
            visitor: VisitorHash::from_bytes([visitor; 16]),
            referrer_host: None,
            device: DeviceClass::Desktop,
            browser: None,
            os: None,
            country: None,
            infers_channel: share_id == 10,
        }
    }

    #[test]
    fn a_batch_rolls_up_clicks_unfurls_and_bots_per_share_link_channel_and_day() {
        let batch = VisitBatch::new(vec![
            visit(10, VisitKind::Unfurl, Some(App::Slack), 0),
            visit(10, VisitKind::Click, None, 1),
            visit(10, VisitKind::Click, None, 1),
            visit(20, VisitKind::Click, None, 2),
            visit(20, VisitKind::Bot, None, 3),
            visit(10, VisitKind::Unfurl, Some(App::Whatsapp), 4),
        ]);
        let r = &batch.rollups;
        assert_eq!(
            r.shares[&10],
            Counts {
                clicks: 2,
                unfurls: 2,
                bots: 0
            }
        );
        assert_eq!(
            r.links[&1],
            Counts {
                clicks: 3,
                unfurls: 2,
                bots: 1
            }
        );
        assert_eq!(r.channel_clicks[&(1, Arc::from("copy"))], 2);
        assert_eq!(r.depth_clicks[&(1, 2)], 1);
        assert_eq!(r.unfurl_apps[&(1, "slack")], 1);
        assert_eq!(r.days[&(1, "2026-11-23".to_string())].clicks, 3);
        assert_eq!(r.visitors.len(), 2, "the same visitor twice is one unique visitor");
        assert_eq!(r.inferences[&10], "slack", "the first unfurl names the channel");
        assert!(!r.inferences.contains_key(&20), "only copy-like shares are inferred");
    }
}
