//! Queued visits as the visit log stores them: a run per link and batch (see `crate::store::VisitRun`).

use super::VisitRecord;
use crate::domain::visit::{Country, VisitorHex};
use crate::store::{MAX_VISITS_PER_RUN, VisitRun};
use serde::Serialize;

/// One stored visit as a JSON array, in the order the `visits` views of the migrations read.
#[derive(Serialize)]
struct StoredForm<'a>(
    i64,
    i64,
    &'static str,
    Option<&'static str>,
    &'a str,
    Option<&'a str>,
    &'static str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
);

/// The runs of `visits`, which must be grouped by link (a batch orders them so).
pub fn runs_of(visits: &[&VisitRecord]) -> Vec<VisitRun> {
    let mut runs = Vec::new();
    let mut start = 0;
    while start < visits.len() {
        let link_id = visits[start].share.link_id;
        let len = visits[start..]
            .iter()
            .take(MAX_VISITS_PER_RUN)
            .take_while(|v| v.share.link_id == link_id)
            .count();
        let run = &visits[start..start + len];
        let hexes: Vec<VisitorHex> = run.iter().map(|v| v.visitor.hex()).collect();
        let rows: Vec<StoredForm<'_>> = run
            .iter()
            .zip(&hexes)
            .map(|(v, hex)| {
                StoredForm(
                    v.share.share_id,
                    v.at,
                    v.kind.as_str(),
                    v.app.map(|a| a.as_str()),
                    hex.as_str(),
                    v.referrer_host.as_deref(),
                    v.device.as_str(),
                    v.software.as_ref().and_then(|s| s.browser.as_deref()),
                    v.software.as_ref().and_then(|s| s.os.as_deref()),
                    v.country.as_ref().map(Country::as_str),
                )
            })
            .collect();
        runs.push(VisitRun {
            link_id,
            offset: start as i64,
            visits: len as i32,
            min_at: run.iter().map(|v| v.at).min().unwrap_or_default(),
            max_at: run.iter().map(|v| v.at).max().unwrap_or_default(),
            // Serializing plain strings and numbers into a String cannot fail.
            data: serde_json::to_string(&rows).unwrap_or_default(),
        });
        start += len;
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::app::App;
    use crate::domain::visit::{DeviceClass, Software, VisitKind, VisitorHash};
    use crate::lookup::VisitTarget;
    use crate::store::{StoredVisit, visits_of};
    use std::sync::Arc;

    fn visit(link_id: i64, at: i64) -> VisitRecord {
        VisitRecord {
            share: Arc::new(VisitTarget {
                share_id: link_id * 100,
                link_id,
                channel: Arc::from("slack"),
                depth: 0,
                infers_channel: false,
            }),
            at,
            kind: VisitKind::Unfurl,
            app: Some(App::Slack),
            device: DeviceClass::Bot,
            visitor: VisitorHash::from_bytes([7; 16]),
            referrer_host: Some("news.example".into()),
            software: Some(Arc::new(Software {
                browser: Some("Slackbot \"link\" ✓".into()),
                os: None,
            })),
            country: Country::parse("NZ"),
        }
    }

    #[test]
    fn runs_split_at_each_new_link_and_give_each_its_place_in_the_batch() {
        let visits = [visit(1, 30), visit(1, 10), visit(2, 20), visit(5, 50)];
        let runs = runs_of(&visits.iter().collect::<Vec<_>>());
        let shape: Vec<_> = runs
            .iter()
            .map(|r| (r.link_id, r.offset, r.visits, r.min_at, r.max_at))
            .collect();
        assert_eq!(shape, [(1, 0, 2, 10, 30), (2, 2, 1, 20, 20), (5, 3, 1, 50, 50)]);
    }

    #[test]
    fn a_run_reads_back_every_field_in_order_even_quotes_and_non_ascii() {
        let runs = runs_of(&[&visit(3, 1_795_392_000_123), &visit(3, 1_795_392_000_456)]);
        let read = visits_of(&runs[0].data).expect("a run we wrote reads back");
        assert_eq!(read.len(), 2);
        assert_eq!(
            read[0],
            StoredVisit {
                share_id: 300,
                at: 1_795_392_000_123,
                kind: "unfurl".into(),
                app: Some("slack".into()),
                visitor: "07070707070707070707070707070707".into(),
                referrer_host: Some("news.example".into()),
                device: "bot".into(),
                browser: Some("Slackbot \"link\" ✓".into()),
                os: None,
                country: Some("NZ".into()),
            }
        );
        assert_eq!(read[1].at, 1_795_392_000_456);
    }

    #[test]
    fn a_busy_link_is_cut_into_runs_of_at_most_the_cap() {
        let visits: Vec<_> = (0..MAX_VISITS_PER_RUN as i64 * 2 + 1).map(|i| visit(9, i)).collect();
        let runs = runs_of(&visits.iter().collect::<Vec<_>>());
        let sizes: Vec<_> = runs.iter().map(|r| (r.offset, r.visits)).collect();
        let cap = MAX_VISITS_PER_RUN as i32;
        assert_eq!(sizes, [(0, cap), (i64::from(cap), cap), (i64::from(cap) * 2, 1)]);
        assert_eq!(visits_of(&runs[2].data).unwrap()[0].at, i64::from(cap) * 2);
    }

    #[test]
    fn no_visits_no_runs_and_a_foreign_value_is_an_error_not_a_panic() {
        assert!(runs_of(&[]).is_empty());
        assert!(visits_of("[[1, 2]]").is_err());
        assert!(visits_of("not json").is_err());
    }
}
