//! A batch of visits and the rollups it adds, computed in memory before one transaction.
//!
//! Rolling up here is what keeps stats cheap: a thousand visits become a few dozen counter
//! updates, and the stats endpoint reads counters instead of scanning raw visits.

use super::VisitRecord;
use super::run::{VisitRun, runs_of};
use crate::clock::day_of;
use crate::domain::app::App;
use crate::domain::visit::{VisitKind, VisitorHash};
use foldhash::{HashMap, HashSet};
use std::borrow::Cow;
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
    fn add(&mut self, kind: VisitKind, n: i64) {
        match kind {
            VisitKind::Click => self.clicks += n,
            VisitKind::Unfurl => self.unfurls += n,
            VisitKind::Bot => self.bots += n,
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

/// What a batch does with its shares' click, unfurl and bot counters.
///
/// A big batch touches thousands of shares, and on PostgreSQL each touched share is a new row
/// version: under heavy traffic that was a quarter of the database's work per visit. A batch
/// may instead park its share counters, in the same transaction as its visits, as one row of
/// `pending_share_counts`; the next batch that applies its counters folds every parked row in
/// with its own. Nothing is held only in memory, so a crash loses no count: the parked rows are
/// folded by the first batch after the restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareCounts {
    /// Add this batch's counters, and every parked batch's, to the shares now.
    Apply,
    /// Park this batch's counters for a later batch to apply.
    Park,
}

/// What a batch counts its visits by before anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ShareDay {
    share_id: i64,
    day: i64,
    kind: VisitKind,
    app: Option<App>,
}

#[derive(Debug)]
pub struct VisitBatch {
    /// Unique per batch and the same on every attempt to write it (126 random bits): stored with
    /// the batch, it turns the retry of a batch that did land into a no-op.
    pub key: String,
    /// The visits as the log stores them: one run per link, in link order.
    pub runs: Vec<VisitRun>,
    /// How many visits the runs hold: the block of ids the batch takes.
    pub visits: i64,
    pub rollups: Rollups,
    pub share_counts: ShareCounts,
}

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

    /// This batch, parking its share counters instead of applying them.
    pub fn parking_share_counts(mut self) -> VisitBatch {
        self.share_counts = ShareCounts::Park;
        self
    }

    pub fn len(&self) -> usize {
        self.visits as usize
    }

    pub fn is_empty(&self) -> bool {
        self.visits == 0
    }
}

/// One parked row's bytes: per share, its id and its click, unfurl and bot counts, as
/// little-endian `i64`s. The layout is the storage format of `pending_share_counts.counts`.
const PARKED_SHARE_BYTES: usize = 4 * 8;

/// The stored form of a batch's share counters.
pub fn park_share_counts(shares: &BTreeMap<i64, Counts>) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(shares.len() * PARKED_SHARE_BYTES);
    for (id, n) in shares {
        for value in [*id, n.clicks, n.unfurls, n.bots] {
            bytes.extend_from_slice(&value.to_le_bytes());
        }
    }
    bytes
}

/// A parked row whose length is not a whole number of shares: written by something else.
#[derive(Debug, thiserror::Error)]
#[error("a parked share-count row of {0} bytes is not a whole number of {PARKED_SHARE_BYTES}-byte shares")]
struct MalformedParkedCounts(usize);

/// A batch's share counters plus those of the parked rows `parked`, for a batch that applies
/// them (`ShareCounts::Apply`).
///
/// A malformed row is skipped, and its counts lost, with an error in the log: failing the batch
/// instead would fail every batch after it on the same row, and lose their visits.
pub fn with_parked_share_counts<'a>(
    batch_shares: &'a BTreeMap<i64, Counts>,
    parked: &[Vec<u8>],
) -> Cow<'a, BTreeMap<i64, Counts>> {
    if parked.is_empty() {
        return Cow::Borrowed(batch_shares);
    }
    let mut shares = batch_shares.clone();
    for bytes in parked {
        if let Err(err) = unpark_share_counts(&mut shares, bytes) {
            tracing::error!(error = %err, "skipped a parked share-count row; its counts are lost");
        }
    }
    Cow::Owned(shares)
}

/// Adds a parked row's counters to `shares`; nothing if the row is malformed.
fn unpark_share_counts(shares: &mut BTreeMap<i64, Counts>, bytes: &[u8]) -> Result<(), MalformedParkedCounts> {
    if !bytes.len().is_multiple_of(PARKED_SHARE_BYTES) {
        return Err(MalformedParkedCounts(bytes.len()));
    }
    for share in bytes.chunks_exact(PARKED_SHARE_BYTES) {
        let mut values = share
            .chunks_exact(8)
            .map(|v| i64::from_le_bytes(v.try_into().expect("chunks of eight bytes")));
        let mut next = || values.next().expect("four values per share");
        let counts = shares.entry(next()).or_default();
        counts.clicks += next();
        counts.unfurls += next();
        counts.bots += next();
    }
    Ok(())
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

    #[test]
    fn parked_share_counts_add_up_with_other_batches_when_unparked() {
        let first = BTreeMap::from([
            (
                7,
                Counts {
                    clicks: 3,
                    unfurls: 1,
                    bots: 0,
                },
            ),
            (
                i64::MAX,
                Counts {
                    clicks: 1,
                    unfurls: 0,
                    bots: 2,
                },
            ),
        ]);
        let second = BTreeMap::from([(
            7,
            Counts {
                clicks: 2,
                unfurls: 0,
                bots: 5,
            },
        )]);
        let parked = [park_share_counts(&first), Vec::new()];
        let total = with_parked_share_counts(&second, &parked);
        assert_eq!(
            total[&7],
            Counts {
                clicks: 5,
                unfurls: 1,
                bots: 5
            }
        );
        assert_eq!(total[&i64::MAX], first[&i64::MAX]);
        assert_eq!(total.len(), 2, "an empty parked row adds no share");
        let alone = with_parked_share_counts(&second, &[]);
        assert!(
            matches!(alone, Cow::Borrowed(_)),
            "nothing parked: the batch's own counters"
        );
    }

    #[test]
    fn a_parked_row_of_the_wrong_length_is_skipped_and_the_others_still_count() {
        let one_click = BTreeMap::from([(
            1,
            Counts {
                clicks: 1,
                unfurls: 0,
                bots: 0,
            },
        )]);
        let mut malformed = park_share_counts(&one_click);
        malformed.push(0);
        let parked = [malformed, park_share_counts(&one_click)];
        let total = with_parked_share_counts(&one_click, &parked);
        assert_eq!(total[&1].clicks, 2, "the batch's click and the well-formed row's");
    }
}
