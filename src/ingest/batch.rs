//! A batch of queued visits turned into what the store writes: the visit log's runs and the
//! rollups they add (`crate::store::VisitBatch`), computed in memory before one transaction.

use super::VisitRecord;
use super::run::runs_of;
use crate::clock::day_of;
use crate::domain::app::App;
use crate::domain::visit::{VisitKind, VisitorHash};
use crate::store::{Counts, Rollups, ShareCounts, VisitBatch};
use foldhash::{HashMap, HashSet};
use std::sync::Arc;

const MS_PER_DAY: i64 = 86_400_000;

/// What a batch counts its visits by before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ShareDay {
    share_id: i64,
    day: i64,
    kind: VisitKind,
    app: Option<App>,
}

/// Built here, where the queued visits are known; the store only writes batches.
impl VisitBatch {
    pub fn new(visits: &[VisitRecord]) -> VisitBatch {
        // Grouped by link, in arrival order within each: each link's visits become one run, and
        // a link's ids follow the order its visits arrived in. Sorting (link, position) pairs, not
        // the records themselves, which are four times their size.
        let mut order: Vec<(i64, u32)> = (0u32..).zip(visits).map(|(i, v)| (v.share.link_id, i)).collect();
        order.sort_unstable();
        let grouped: Vec<&VisitRecord> = order.iter().map(|&(_, i)| &visits[i as usize]).collect();

        // Per visit, one count by share, day, kind and app (plus the visitor of a click): every
        // rollup is a sum over those few thousand keys, since a share has one link, channel and
        // depth. A map update per visit and rollup was most of the writer's own CPU.
        let mut by_share: HashMap<ShareDay, (i64, &VisitRecord)> = HashMap::default();
        let mut visitors: HashSet<(i64, VisitorHash)> = HashSet::default();
        let mut inferences: HashMap<i64, &'static str> = HashMap::default();
        for v in visits {
            let key = ShareDay {
                share_id: v.share.share_id,
                day: v.at.div_euclid(MS_PER_DAY),
                kind: v.kind,
                app: v.app,
            };
            by_share.entry(key).or_insert((0, v)).0 += 1;
            match (v.kind, v.app) {
                (VisitKind::Click, _) => {
                    visitors.insert((v.share.link_id, v.visitor));
                }
                (VisitKind::Unfurl, Some(app)) if v.share.infers_channel => {
                    inferences.entry(v.share.share_id).or_insert(app.as_str());
                }
                _ => {}
            }
        }
        let mut shares: HashMap<i64, Counts> = HashMap::default();
        let mut links: HashMap<i64, Counts> = HashMap::default();
        let mut channel_clicks: HashMap<(i64, &str), i64> = HashMap::default();
        let mut depth_clicks: HashMap<(i64, i64), i64> = HashMap::default();
        let mut unfurl_apps: HashMap<(i64, &'static str), i64> = HashMap::default();
        let mut days: HashMap<(i64, i64), Counts> = HashMap::default();
        let mut breakdown: HashMap<(i64, i64, &str, i64, &'static str, &'static str), i64> = HashMap::default();
        for (key, (n, v)) in &by_share {
            let (n, share, kind) = (*n, &v.share, key.kind);
            let link = share.link_id;
            let app = key.app.map_or("", |a| a.as_str());
            *breakdown
                .entry((link, key.day, &*share.channel, share.depth, kind.as_str(), app))
                .or_default() += n;
            shares.entry(key.share_id).or_default().add(kind, n);
            links.entry(link).or_default().add(kind, n);
            days.entry((link, key.day)).or_default().add(kind, n);
            match (kind, key.app) {
                (VisitKind::Click, _) => {
                    *channel_clicks.entry((link, &*share.channel)).or_default() += n;
                    *depth_clicks.entry((link, share.depth)).or_default() += n;
                }
                (VisitKind::Unfurl, Some(app)) => *unfurl_apps.entry((link, app.as_str())).or_default() += n,
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
            runs: runs_of(&grouped),
            visits: visits.len() as i64,
            rollups: r,
            share_counts: ShareCounts::Apply,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::App;
    use crate::domain::visit::DeviceClass;
    use crate::lookup::VisitTarget;

    fn visit(share_id: i64, kind: VisitKind, app: Option<App>, visitor: u8) -> VisitRecord {
        VisitRecord {
            share: Arc::new(VisitTarget {
                share_id,
                link_id: 1,
                channel: Arc::from(if share_id == 10 { "copy" } else { "whatsapp" }),
                depth: share_id / 10,
                infers_channel: share_id == 10,
            }),
            at: 1_795_392_000_000,
            kind,
            app,
            device: DeviceClass::Desktop,
            visitor: VisitorHash::from_bytes([visitor; 16]),
            referrer_host: None,
            software: None,
            country: None,
        }
    }

    #[test]
    fn a_batch_rolls_up_clicks_unfurls_and_bots_per_share_link_channel_and_day() {
        let batch = VisitBatch::new(&[
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
