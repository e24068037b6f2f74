//! The analytics a page shows for a link or a campaign over a date range, built from rollup rows.

use crate::domain::channel::Channel;
use crate::store::{BreakdownRow, DayRange, DayRow, InferredRow, Scope, ShareCountRow, Store, StoreResult};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

/// The longest range a page reports on, so a typo cannot ask for a millennium of empty days.
pub const MAX_RANGE_DAYS: i64 = 366 * 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DateRange {
    /// The last `days` days up to and including `today`.
    pub fn last(days: i64, today: NaiveDate) -> DateRange {
        DateRange {
            from: today - Duration::days(days - 1),
            to: today,
        }
    }

    /// From query parameters; either side may be missing (then the default's side is kept).
    pub fn parse(from: Option<&str>, to: Option<&str>, default: DateRange) -> Result<DateRange, String> {
        let day = |raw: Option<&str>, fallback: NaiveDate, name: &str| match raw.map(str::trim) {
            None | Some("") => Ok(fallback),
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
                .map_err(|_| format!("'{raw}' is not a date: use YYYY-MM-DD for the {name} date")),
        };
        let range = DateRange {
            from: day(from, default.from, "start")?,
            to: day(to, default.to, "end")?,
        };
        if range.from > range.to {
            return Err("the start date is after the end date".into());
        }
        if (range.to - range.from).num_days() >= MAX_RANGE_DAYS {
            return Err(format!("a range is at most {MAX_RANGE_DAYS} days"));
        }
        Ok(range)
    }

    pub fn start_day(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }

    pub fn end_day(&self) -> String {
        self.to.format("%Y-%m-%d").to_string()
    }

    /// `[start, end)` in Unix milliseconds, UTC.
    pub fn millis(&self) -> (i64, i64) {
        let start = |d: NaiveDate| d.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp_millis());
        (start(self.from), start(self.to + Duration::days(1)))
    }

    pub fn days(&self) -> Vec<String> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelLine {
    pub channel: String,
    pub clicks: i64,
    pub shares: i64,
    pub dark: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepthLine {
    pub depth: i64,
    pub clicks: i64,
    pub shares: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayLine {
    pub day: String,
    pub clicks: i64,
    pub shares: i64,
    pub unfurls: i64,
    pub bots: i64,
}

/// Everything counted in the range. Bots are counted apart and never in clicks.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub clicks: i64,
    pub unfurls: i64,
    pub bots: i64,
    pub shares: i64,
    pub dark_clicks: i64,
    pub max_depth: i64,
    pub channels: Vec<ChannelLine>,
    pub depths: Vec<DepthLine>,
    pub apps: Vec<(String, i64)>,
    pub inferred: Vec<InferredRow>,
    pub days: Vec<DayLine>,
}

pub struct ReportInput<'a> {
    pub range: &'a DateRange,
    pub breakdown: Vec<BreakdownRow>,
    pub daily: Vec<DayRow>,
    pub shares: Vec<ShareCountRow>,
    pub inferred: Vec<InferredRow>,
    /// `utm_medium` of each custom channel, which decides whether it is dark.
    pub custom_mediums: &'a HashMap<String, String>,
}

impl Report {
    pub fn build(input: ReportInput<'_>) -> Report {
        let mut report = Report::default();
        let mut channels: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        let mut depths: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
        let mut apps: BTreeMap<String, i64> = BTreeMap::new();
        for row in &input.breakdown {
            match row.kind.as_str() {
                "click" => {
                    report.clicks += row.visits;
                    channels.entry(row.channel.clone()).or_default().0 += row.visits;
                    depths.entry(row.depth).or_default().0 += row.visits;
                }
                "unfurl" => {
                    report.unfurls += row.visits;
                    if !row.app.is_empty() {
                        *apps.entry(row.app.clone()).or_default() += row.visits;
                    }
                }
                _ => report.bots += row.visits,
            }
        }
        for row in &input.shares {
            report.shares += row.shares;
            channels.entry(row.channel.clone()).or_default().1 += row.shares;
            depths.entry(row.depth).or_default().1 += row.shares;
        }
        report.channels = channels
            .into_iter()
            .map(|(channel, (clicks, shares))| {
                let dark = is_dark(&channel, input.custom_mediums);
                ChannelLine {
                    channel,
                    clicks,
                    shares,
                    dark,
                }
            })
            .collect();
        report
            .channels
            .sort_by(|a, b| b.clicks.cmp(&a.clicks).then(b.shares.cmp(&a.shares)));
        report.dark_clicks = report.channels.iter().filter(|c| c.dark).map(|c| c.clicks).sum();
        report.max_depth = depths.keys().copied().max().unwrap_or(0);
        report.depths = depths
            .into_iter()
            .map(|(depth, (clicks, shares))| DepthLine { depth, clicks, shares })
            .collect();
        let mut apps: Vec<_> = apps.into_iter().collect();
        apps.sort_by_key(|a| std::cmp::Reverse(a.1));
        report.apps = apps;
        report.inferred = input.inferred;
        let by_day: HashMap<&str, &DayRow> = input.daily.iter().map(|d| (d.day.as_str(), d)).collect();
        report.days = input
            .range
            .days()
            .into_iter()
            .map(|day| {
                let row = by_day.get(day.as_str());
                DayLine {
                    clicks: row.map_or(0, |r| r.clicks),
                    shares: row.map_or(0, |r| r.shares),
                    unfurls: row.map_or(0, |r| r.unfurls),
                    bots: row.map_or(0, |r| r.bots),
                    day,
                }
            })
            .collect();
        report
    }

    /// The part of clicks that came through private channels, as "63%" (or "–" without clicks).
    pub fn dark_share(&self) -> String {
        percent(self.dark_clicks, self.clicks)
    }

    pub fn channel_chart(&self) -> String {
        let bars: Vec<_> = self
            .channels
            .iter()
            .filter(|c| c.clicks > 0)
            .map(|c| (c.channel.clone(), c.clicks))
            .collect();
        super::charts::bars(&bars)
    }

    pub fn depth_chart(&self) -> String {
        let bars: Vec<_> = self
            .depths
            .iter()
            .map(|d| (format!("depth {}", d.depth), d.clicks))
            .collect();
        super::charts::bars(&bars)
    }

    pub fn app_chart(&self) -> String {
        super::charts::bars(&self.apps)
    }

    pub fn daily_chart(&self) -> String {
        if self.days.iter().all(|d| d.clicks == 0 && d.shares == 0) {
            return String::new();
        }
        let days: Vec<String> = self.days.iter().map(|d| d.day.clone()).collect();
        let clicks: Vec<i64> = self.days.iter().map(|d| d.clicks).collect();
        let shares: Vec<i64> = self.days.iter().map(|d| d.shares).collect();
        super::charts::daily(&days, &clicks, &shares)
    }
}

/// Whether clicks through the channel of this name are dark social (custom channels by medium).
pub fn is_dark(channel: &str, custom_mediums: &HashMap<String, String>) -> bool {
    Channel::parse(channel)
        .map(|c| c.is_dark(custom_mediums.get(channel).map(String::as_str)))
        .unwrap_or(false)
}

pub fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "–".into();
    }
    format!("{:.0}%", part as f64 * 100.0 / whole as f64)
}

/// The range a page was asked for in its query string (`?from=2026-11-01&to=2026-11-30`).
#[derive(Deserialize)]
pub struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl RangeQuery {
    /// The requested range, or the last 30 days and a message saying why not.
    pub fn range(&self) -> (DateRange, Option<String>) {
        let default = DateRange::last(30, chrono::Utc::now().date_naive());
        match DateRange::parse(self.from.as_deref(), self.to.as_deref(), default.clone()) {
            Ok(range) => (range, None),
            Err(message) => (default, Some(message)),
        }
    }
}

/// Each custom channel's `utm_medium`, which decides whether its clicks are dark.
pub async fn custom_mediums(store: &dyn Store) -> StoreResult<HashMap<String, String>> {
    Ok(store
        .list_custom_channels()
        .await?
        .into_iter()
        .map(|c| (c.name, c.utm_medium))
        .collect())
}

/// The report of a link or a campaign over `range`, read from the store's rollups.
pub async fn build_report(store: &dyn Store, scope: &Scope, range: &DateRange) -> StoreResult<Report> {
    let days = DayRange {
        from: range.start_day(),
        to: range.end_day(),
    };
    let (from_ms, to_ms) = range.millis();
    let mediums = custom_mediums(store).await?;
    Ok(Report::build(ReportInput {
        range,
        breakdown: store.breakdown(scope, &days).await?,
        daily: store.daily(scope, &days).await?,
        shares: store.shares_created(scope, from_ms, to_ms).await?,
        inferred: store.inferred_channels(scope).await?,
        custom_mediums: &mediums,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
    }

    fn visits(channel: &str, depth: i64, kind: &str, app: &str, n: i64) -> BreakdownRow {
        BreakdownRow {
            day: "2026-11-20".into(),
            channel: channel.into(),
            depth,
            kind: kind.into(),
            app: app.into(),
            visits: n,
        }
    }

    #[test]
    fn clicks_unfurls_and_bots_are_counted_apart_and_dark_share_follows_channels() {
        let range = DateRange::last(7, day("2026-11-23"));
        let mediums = HashMap::from([("newsletter".to_owned(), "email".to_owned())]);
        let report = Report::build(ReportInput {
            range: &range,
            breakdown: vec![
                visits("whatsapp", 1, "click", "", 6),
                visits("whatsapp", 2, "click", "", 2),
                visits("linkedin", 1, "click", "", 1),
                visits("newsletter", 1, "click", "", 1),
                visits("copy", 1, "unfurl", "slack", 3),
                visits("whatsapp", 1, "bot", "", 9),
            ],
            daily: vec![],
            shares: vec![ShareCountRow {
                channel: "whatsapp".into(),
                depth: 2,
                shares: 4,
            }],
            inferred: vec![],
            custom_mediums: &mediums,
        });
        assert_eq!(
            (report.clicks, report.unfurls, report.bots, report.shares),
            (10, 3, 9, 4)
        );
        assert_eq!(
            report.dark_clicks, 9,
            "whatsapp and the e-mail newsletter, not linkedin"
        );
        assert_eq!(report.dark_share(), "90%");
        assert_eq!(report.max_depth, 2);
        assert_eq!(report.channels[0].channel, "whatsapp");
        assert_eq!(report.apps, vec![("slack".to_owned(), 3)]);
        assert_eq!(report.days.len(), 7, "every day of the range, with zeros");
    }

    #[test]
    fn ranges_parse_and_refuse_nonsense() {
        let default = DateRange::last(30, day("2026-11-23"));
        assert_eq!(default.start_day(), "2026-10-25");
        let r = DateRange::parse(Some("2026-11-01"), Some("2026-11-03"), default.clone()).unwrap();
        assert_eq!(r.days(), ["2026-11-01", "2026-11-02", "2026-11-03"]);
        assert_eq!(r.millis().1 - r.millis().0, 3 * 86_400_000);
        assert_eq!(DateRange::parse(None, Some(""), default.clone()).unwrap(), default);
        assert!(
            DateRange::parse(Some("yesterday"), None, default.clone())
                .unwrap_err()
                .contains("YYYY-MM-DD")
        );
        assert!(DateRange::parse(Some("2026-11-05"), Some("2026-11-01"), default.clone()).is_err());
        assert!(DateRange::parse(Some("1900-01-01"), None, default).is_err());
    }

    #[test]
    fn percent_has_no_division_by_zero() {
        assert_eq!(percent(1, 0), "–");
        assert_eq!(percent(1, 3), "33%");
    }
}
