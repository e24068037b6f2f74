//! The figures of a link or a campaign over a period, computed from the facts themselves: each
//! visit, share, conversion and answer. One pass applies one set of filters to every figure, so
//! a headline, a chart and a table on the same page can never disagree.
//!
//! Two kinds of filter exist. Share filters (channel, link, placement, depth) narrow everything,
//! since visits, shares and conversions all hang from shares. Visitor filters (country, device,
//! browser, OS, referrer) narrow clicks only: a share or a conversion records none of those, so
//! under a visitor filter their figures are `None` ("not split that way"), never a guess.

use super::cascade;
use chrono::{DateTime, Days, NaiveDate, TimeZone};
use chrono_tz::Tz;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// The key of a visitor attribute the visit did not carry (no country, no referrer …).
pub const UNKNOWN: &str = "unknown";

#[derive(Debug, Clone, PartialEq)]
pub struct ShareFact {
    pub id: i64,
    pub link_id: i64,
    pub parent_id: Option<i64>,
    pub channel: String,
    pub depth: i64,
    /// The placement of a QR code or any labelled short link ("poster", "badge").
    pub label: Option<String>,
    /// The app a copied link was pasted into, as a link preview gave it away.
    pub inferred_channel: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitKind {
    Click,
    Unfurl,
    Bot,
}

impl VisitKind {
    pub fn parse(stored: &str) -> VisitKind {
        match stored {
            "click" => VisitKind::Click,
            "unfurl" => VisitKind::Unfurl,
            _ => VisitKind::Bot,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
/// A visit. Its text fields repeat across a million visits ("mobile", "Chrome", "DE"), so they
/// are shared rather than each visit's own copy.
pub struct VisitFact {
    pub share_id: i64,
    pub at: i64,
    pub kind: VisitKind,
    pub app: Option<Arc<str>>,
    /// Recognises a visitor within one UTC day only: the hash's salt changes daily.
    pub visitor: u128,
    pub referrer: Option<Arc<str>>,
    pub device: Arc<str>,
    pub browser: Option<Arc<str>>,
    pub os: Option<Arc<str>>,
    pub country: Option<Arc<str>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConversionFact {
    /// The share that brought the converting visitor, when the site knew it.
    pub share_id: Option<i64>,
    /// The goal: "signup", "purchase".
    pub name: String,
    pub at: i64,
    pub value: Option<f64>,
}

/// A "how did you hear about us?" answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerFact {
    pub share_id: Option<i64>,
    /// The channel the person named, or `UNKNOWN`.
    pub channel: String,
    pub at: i64,
}

/// Everything recorded about a scope's links that a period may need.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub shares: Vec<ShareFact>,
    pub visits: Vec<VisitFact>,
    pub conversions: Vec<ConversionFact>,
    pub answers: Vec<AnswerFact>,
}

/// The days a report covers, `from` to `to` inclusive, in the viewer's time zone.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub tz: Tz,
}

impl Period {
    pub fn days(&self) -> Vec<NaiveDate> {
        self.from.iter_days().take_while(|d| *d <= self.to).collect()
    }

    pub fn len_days(&self) -> u64 {
        (self.to - self.from).num_days().unsigned_abs() + 1
    }

    /// The period of the same length just before this one.
    pub fn previous(&self) -> Period {
        let to = self.from - Days::new(1);
        Period {
            from: to - Days::new(self.len_days() - 1),
            to,
            tz: self.tz,
        }
    }

    /// `[start, end)` in Unix milliseconds: local midnight of `from` to local midnight after `to`.
    pub fn millis(&self) -> (i64, i64) {
        (
            local_midnight(self.from, self.tz),
            local_midnight(self.to + Days::new(1), self.tz),
        )
    }

    pub fn contains(&self, at: i64) -> bool {
        let (start, end) = self.millis();
        (start..end).contains(&at)
    }

    /// The local day of an instant.
    pub fn day_of(&self, at: i64) -> Option<NaiveDate> {
        DateTime::from_timestamp_millis(at).map(|t| t.with_timezone(&self.tz).date_naive())
    }
}

/// The first instant of `day` in `tz`. A day that starts inside a DST gap starts at its first
/// existing instant; the search is bounded by the longest gap in the database (a few hours).
fn local_midnight(day: NaiveDate, tz: Tz) -> i64 {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..=24 * 4)
        .find_map(|quarter| {
            tz.from_local_datetime(&(midnight + chrono::Duration::minutes(15 * quarter)))
                .earliest()
        })
        .map_or_else(|| midnight.and_utc().timestamp_millis(), |t| t.timestamp_millis())
}

/// What a report is narrowed to. Every field left `None` is not filtered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub channel: Option<String>,
    pub link: Option<i64>,
    pub placement: Option<String>,
    pub depth: Option<i64>,
    pub country: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub referrer: Option<String>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    /// Whether a filter on who visited is set: shares and conversions cannot follow it.
    pub fn narrows_visitors(&self) -> bool {
        self.country.is_some()
            || self.device.is_some()
            || self.browser.is_some()
            || self.os.is_some()
            || self.referrer.is_some()
    }

    fn takes_share(&self, share: &ShareFact) -> bool {
        self.channel.as_ref().is_none_or(|c| *c == share.channel)
            && self.link.is_none_or(|l| l == share.link_id)
            && self.placement.as_ref().is_none_or(|p| Some(p) == share.label.as_ref())
            && self.depth.is_none_or(|d| d == share.depth)
    }

    fn takes_visit(&self, visit: &VisitFact) -> bool {
        let is = |filter: &Option<String>, value: Option<&str>| {
            filter.as_deref().is_none_or(|f| f == value.unwrap_or(UNKNOWN))
        };
        is(&self.country, visit.country.as_deref())
            && is(&self.device, Some(&visit.device))
            && is(&self.browser, visit.browser.as_deref())
            && is(&self.os, visit.os.as_deref())
            && is(&self.referrer, visit.referrer.as_deref())
    }

    /// Whether a fact hanging from `share` (a conversion, an answer) counts: one without a known
    /// share counts only while no share filter is set.
    fn takes_share_of(&self, share: Option<&ShareFact>) -> bool {
        match share {
            Some(share) => self.takes_share(share),
            None => self.channel.is_none() && self.link.is_none() && self.placement.is_none() && self.depth.is_none(),
        }
    }
}

/// One value of a dimension and what it carried. Share, reshare and conversion figures are
/// `None` where they cannot be split that way.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Line {
    pub key: String,
    pub clicks: i64,
    pub visitors: i64,
    pub shares: Option<i64>,
    pub reshares: Option<i64>,
    pub conversions: Option<i64>,
    pub value: Option<f64>,
    /// "How did you hear about us?" answers naming this value (channels only).
    pub said: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayFigures {
    pub day: NaiveDate,
    pub clicks: i64,
    pub shares: i64,
}

/// The headline figures of a period.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Headline {
    /// Human clicks: never bots, never link previews.
    pub clicks: i64,
    /// Distinct visitors among the clicks (a person is recognised within a UTC day).
    pub visitors: i64,
    pub unfurls: i64,
    pub bots: i64,
    /// Clicks through private channels: chats, e-mail, SMS, copied links.
    pub dark_clicks: i64,
    pub shares: Option<i64>,
    /// Shares made by people who arrived through a share of what is shown.
    pub reshares: Option<i64>,
    pub max_depth: i64,
    pub conversions: Option<i64>,
    pub value: Option<f64>,
}

impl Headline {
    /// Reshares per human click, as the stats API defines it.
    pub fn reshare_rate(&self) -> Option<f64> {
        self.reshares
            .map(|r| cascade::reshare_rate(r.unsigned_abs(), self.clicks.unsigned_abs()))
    }

    /// The part of clicks that came through private channels, 0–1; `None` without clicks.
    pub fn dark_share(&self) -> Option<f64> {
        (self.clicks > 0).then(|| self.dark_clicks as f64 / self.clicks as f64)
    }
}

/// Everything a report page shows for one period and one set of filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Analysis {
    pub headline: Headline,
    pub channels: Vec<Line>,
    pub depths: Vec<Line>,
    pub links: Vec<Line>,
    pub placements: Vec<Line>,
    pub devices: Vec<Line>,
    pub browsers: Vec<Line>,
    pub systems: Vec<Line>,
    pub countries: Vec<Line>,
    pub referrers: Vec<Line>,
    /// Link previews by the app that fetched them.
    pub apps: Vec<Line>,
    /// Conversions by goal.
    pub goals: Vec<Line>,
    /// Copied links whose app a link preview gave away: (shared as, pasted into, shares).
    pub inferred: Vec<(String, String, i64)>,
    pub days: Vec<DayFigures>,
}

/// Which figures a period counted at all.
#[derive(Clone, Copy)]
struct Counted {
    shares: bool,
    answers: bool,
}

/// A dimension's lines while they are being counted. Looked up by borrowed keys, so a click
/// allocates nothing once its line exists: a page may count a million of them.
#[derive(Default)]
struct Tally {
    lines: HashMap<String, Line>,
    /// Each line's distinct visitors, for the dimensions whose tables show them.
    visitors: Option<HashMap<String, HashSet<u128>>>,
}

impl Tally {
    /// A tally that also counts each line's distinct visitors.
    fn with_visitors() -> Tally {
        Tally {
            lines: HashMap::new(),
            visitors: Some(HashMap::new()),
        }
    }

    fn line(&mut self, key: &str) -> &mut Line {
        if !self.lines.contains_key(key) {
            let line = Line {
                key: key.to_owned(),
                ..Line::default()
            };
            self.lines.insert(key.to_owned(), line);
        }
        self.lines.get_mut(key).expect("inserted above")
    }

    fn click(&mut self, key: &str, visitor: u128) {
        self.line(key).clicks += 1;
        if let Some(visitors) = &mut self.visitors {
            match visitors.get_mut(key) {
                Some(set) => {
                    set.insert(visitor);
                }
                None => {
                    visitors.insert(key.to_owned(), HashSet::from([visitor]));
                }
            }
        }
    }

    fn add(field: &mut Option<i64>, n: i64) {
        *field = Some(field.unwrap_or(0) + n);
    }

    /// The lines, most clicks first (then most shares, then by key, for a stable order). Where
    /// shares were counted, a line without any has 0 of them, not "not split"; answers likewise
    /// where any were given.
    fn finish(mut self, counted: Counted) -> Vec<Line> {
        for (key, visitors) in self.visitors.unwrap_or_default() {
            if let Some(line) = self.lines.get_mut(&key) {
                line.visitors = visitors.len() as i64;
            }
        }
        for line in self.lines.values_mut() {
            if counted.shares {
                line.shares.get_or_insert(0);
                line.reshares.get_or_insert(0);
                line.conversions.get_or_insert(0);
                line.value.get_or_insert(0.0);
            }
            if counted.answers {
                line.said.get_or_insert(0);
            }
        }
        let mut lines: Vec<Line> = self.lines.into_values().collect();
        lines.sort_by(|a, b| {
            b.clicks
                .cmp(&a.clicks)
                .then(b.shares.unwrap_or(0).cmp(&a.shares.unwrap_or(0)))
                .then(a.key.cmp(&b.key))
        });
        lines
    }
}

/// A share with what every click through it needs, worked out once per share, not per click.
struct ShareView<'a> {
    fact: &'a ShareFact,
    dark: bool,
    depth: String,
    link: String,
}

/// How much of an analysis to work out.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// The headline figures only, as the comparison with the period before needs.
    Headline,
    Everything,
}

impl Analysis {
    /// The figures of `period` under `filters`. `is_dark` says whether a channel is private.
    pub fn of(facts: &Facts, period: &Period, filters: &Filters, is_dark: &dyn Fn(&str) -> bool) -> Analysis {
        Self::work_out(facts, period, filters, is_dark, Detail::Everything)
    }

    /// The headline figures alone: what `of` gives as `headline`, in a fraction of the work.
    pub fn headline_of(facts: &Facts, period: &Period, filters: &Filters, is_dark: &dyn Fn(&str) -> bool) -> Headline {
        Self::work_out(facts, period, filters, is_dark, Detail::Headline).headline
    }

    fn work_out(
        facts: &Facts,
        period: &Period,
        filters: &Filters,
        is_dark: &dyn Fn(&str) -> bool,
        detail: Detail,
    ) -> Analysis {
        let shares: HashMap<i64, ShareView> = facts
            .shares
            .iter()
            .map(|s| {
                let view = ShareView {
                    fact: s,
                    dark: is_dark(&s.channel),
                    depth: s.depth.to_string(),
                    link: s.link_id.to_string(),
                };
                (s.id, view)
            })
            .collect();
        let (start, end) = period.millis();
        let within = |at: i64| (start..end).contains(&at);
        let splits_shares = !filters.narrows_visitors();
        let everything = detail == Detail::Everything;

        let mut headline = Headline::default();
        let mut answered = false;
        let mut pasted = Vec::new();
        let mut visitors = HashSet::new();
        let mut channels = Tally::with_visitors();
        let mut depths = Tally::default();
        let mut links = Tally::default();
        let mut placements = Tally::with_visitors();
        let mut devices = Tally::default();
        let mut browsers = Tally::default();
        let mut systems = Tally::default();
        let mut countries = Tally::default();
        let mut referrers = Tally::default();
        let mut apps = Tally::default();
        let mut goals = Tally::default();
        let mut days: BTreeMap<NaiveDate, DayFigures> = period
            .days()
            .into_iter()
            .map(|day| {
                (
                    day,
                    DayFigures {
                        day,
                        ..DayFigures::default()
                    },
                )
            })
            .collect();

        for visit in facts.visits.iter().filter(|v| within(v.at)) {
            // A visit of a share outside the scope (or still a reservation) is not this report's.
            let Some(view) = shares.get(&visit.share_id) else {
                continue;
            };
            let share = view.fact;
            if !filters.takes_share(share) || !filters.takes_visit(visit) {
                continue;
            }
            match visit.kind {
                VisitKind::Bot => headline.bots += 1,
                VisitKind::Unfurl => {
                    headline.unfurls += 1;
                    if let (true, Some(app)) = (everything, &visit.app) {
                        apps.line(app).clicks += 1;
                    }
                }
                VisitKind::Click => {
                    headline.clicks += 1;
                    if view.dark {
                        headline.dark_clicks += 1;
                    }
                    headline.max_depth = headline.max_depth.max(share.depth);
                    let who = visit.visitor;
                    visitors.insert(who);
                    if !everything {
                        continue;
                    }
                    channels.click(&share.channel, who);
                    depths.click(&view.depth, who);
                    links.click(&view.link, who);
                    if let Some(label) = &share.label {
                        placements.click(label, who);
                    }
                    devices.click(&visit.device, who);
                    browsers.click(visit.browser.as_deref().unwrap_or(UNKNOWN), who);
                    systems.click(visit.os.as_deref().unwrap_or(UNKNOWN), who);
                    countries.click(visit.country.as_deref().unwrap_or(UNKNOWN), who);
                    referrers.click(visit.referrer.as_deref().unwrap_or(UNKNOWN), who);
                    if let Some(day) = period.day_of(visit.at).and_then(|d| days.get_mut(&d)) {
                        day.clicks += 1;
                    }
                }
            }
        }
        headline.visitors = visitors.len() as i64;

        if splits_shares {
            let (mut total, mut reshared) = (0, 0);
            let mut inferred: BTreeMap<(String, String), i64> = BTreeMap::new();
            for share in facts.shares.iter().filter(|s| within(s.created_at)) {
                if filters.takes_share(share) {
                    total += 1;
                    headline.max_depth = headline.max_depth.max(share.depth);
                }
                if everything && filters.takes_share(share) {
                    Tally::add(&mut channels.line(&share.channel).shares, 1);
                    Tally::add(&mut depths.line(&share.depth.to_string()).shares, 1);
                    Tally::add(&mut links.line(&share.link_id.to_string()).shares, 1);
                    if let Some(label) = &share.label {
                        Tally::add(&mut placements.line(label).shares, 1);
                    }
                    if let Some(day) = period.day_of(share.created_at).and_then(|d| days.get_mut(&d)) {
                        day.shares += 1;
                    }
                    if let Some(app) = &share.inferred_channel {
                        *inferred.entry((share.channel.clone(), app.clone())).or_default() += 1;
                    }
                }
                // A reshare belongs to the share its sharer arrived through.
                let Some(parent) = share.parent_id.and_then(|p| shares.get(&p)).map(|v| v.fact) else {
                    continue;
                };
                if filters.takes_share(parent) {
                    reshared += 1;
                }
                if everything && filters.takes_share(parent) {
                    Tally::add(&mut channels.line(&parent.channel).reshares, 1);
                    Tally::add(&mut depths.line(&parent.depth.to_string()).reshares, 1);
                    Tally::add(&mut links.line(&parent.link_id.to_string()).reshares, 1);
                    if let Some(label) = &parent.label {
                        Tally::add(&mut placements.line(label).reshares, 1);
                    }
                }
            }
            pasted = inferred
                .into_iter()
                .map(|((shared, app), n)| (shared, app, n))
                .collect();
            headline.shares = Some(total);
            headline.reshares = Some(reshared);

            let (mut conversions, mut value) = (0, 0.0);
            for conversion in facts.conversions.iter().filter(|c| within(c.at)) {
                let share = conversion.share_id.and_then(|id| shares.get(&id)).map(|v| v.fact);
                if !filters.takes_share_of(share) {
                    continue;
                }
                conversions += 1;
                value += conversion.value.unwrap_or(0.0);
                if !everything {
                    continue;
                }
                let goal = goals.line(&conversion.name);
                Tally::add(&mut goal.conversions, 1);
                goal.value = Some(goal.value.unwrap_or(0.0) + conversion.value.unwrap_or(0.0));
                if let Some(share) = share {
                    for line in [
                        channels.line(&share.channel),
                        depths.line(&share.depth.to_string()),
                        links.line(&share.link_id.to_string()),
                    ] {
                        Tally::add(&mut line.conversions, 1);
                        line.value = Some(line.value.unwrap_or(0.0) + conversion.value.unwrap_or(0.0));
                    }
                }
            }
            headline.conversions = Some(conversions);
            // A sum of no values is 0, never -0.0.
            headline.value = Some(value + 0.0);

            for answer in facts.answers.iter().filter(|a| within(a.at)) {
                let share = answer.share_id.and_then(|id| shares.get(&id)).map(|v| v.fact);
                if filters.takes_share_of(share) {
                    answered = true;
                    Tally::add(&mut channels.line(&answer.channel).said, 1);
                }
            }
        }

        let counted = Counted {
            shares: splits_shares,
            answers: answered,
        };
        let visits_only = Counted {
            shares: false,
            answers: false,
        };
        Analysis {
            headline,
            channels: channels.finish(counted),
            depths: {
                let mut lines = depths.finish(counted);
                lines.sort_by_key(|l| l.key.parse::<i64>().unwrap_or(i64::MAX));
                lines
            },
            links: links.finish(counted),
            placements: placements.finish(counted),
            devices: devices.finish(visits_only),
            browsers: browsers.finish(visits_only),
            systems: systems.finish(visits_only),
            countries: countries.finish(visits_only),
            referrers: referrers.finish(visits_only),
            apps: apps.finish(visits_only),
            goals: {
                let mut lines = goals.finish(counted);
                lines.sort_by(|a, b| b.conversions.cmp(&a.conversions).then(a.key.cmp(&b.key)));
                lines
            },
            inferred: pasted,
            days: days.into_values().collect(),
        }
    }
}

/// How a figure moved against the previous period.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    Same,
    /// Relative change, `0.25` for +25 %.
    By(f64),
    /// Something where there was nothing.
    New,
}

impl Change {
    pub fn between(previous: f64, now: f64) -> Change {
        if (now - previous).abs() < 1e-9 {
            Change::Same
        } else if previous.abs() < 1e-9 {
            Change::New
        } else {
            Change::By((now - previous) / previous.abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Europe, UTC};

    fn day(d: &str) -> NaiveDate {
        NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
    }

    /// Milliseconds of a UTC instant, "2026-11-20 23:30".
    fn at(t: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M")
            .unwrap()
            .and_utc()
            .timestamp_millis()
    }

    fn share(id: i64, parent: Option<i64>, channel: &str, depth: i64, created: &str) -> ShareFact {
        ShareFact {
            id,
            link_id: 1,
            parent_id: parent,
            channel: channel.into(),
            depth,
            label: None,
            inferred_channel: None,
            created_at: at(created),
        }
    }

    fn click(share_id: i64, when: &str, visitor: &str, country: Option<&str>) -> VisitFact {
        VisitFact {
            share_id,
            at: at(when),
            kind: VisitKind::Click,
            app: None,
            visitor: visitor.bytes().fold(0, |h, b| h * 31 + u128::from(b)),
            referrer: None,
            device: "mobile".into(),
            browser: Some("Chrome".into()),
            os: Some("Android".into()),
            country: country.map(Arc::from),
        }
    }

    fn dark(channel: &str) -> bool {
        matches!(channel, "whatsapp" | "email" | "copy")
    }

    fn period(from: &str, to: &str, tz: Tz) -> Period {
        Period {
            from: day(from),
            to: day(to),
            tz,
        }
    }

    /// A launch: a WhatsApp share and a LinkedIn share; a WhatsApp visitor reshares by e-mail;
    /// someone comes through that e-mail and converts.
    fn launch() -> Facts {
        let mut bot = click(1, "2026-11-20 10:05", "crawler", None);
        bot.kind = VisitKind::Bot;
        let mut preview = click(1, "2026-11-20 10:06", "slackbot", None);
        preview.kind = VisitKind::Unfurl;
        preview.app = Some("slack".into());
        Facts {
            shares: vec![
                share(1, None, "whatsapp", 1, "2026-11-20 10:00"),
                share(2, None, "linkedin", 1, "2026-11-20 10:01"),
                share(3, Some(1), "email", 2, "2026-11-21 09:00"),
            ],
            visits: vec![
                click(1, "2026-11-20 11:00", "ann", Some("DE")),
                click(1, "2026-11-20 11:30", "ann", Some("DE")),
                click(1, "2026-11-21 08:00", "bob", Some("FR")),
                click(2, "2026-11-21 12:00", "cat", None),
                click(3, "2026-11-22 23:30", "dan", Some("DE")),
                bot,
                preview,
            ],
            conversions: vec![ConversionFact {
                share_id: Some(3),
                name: "signup".into(),
                at: at("2026-11-22 23:40"),
                value: Some(20.0),
            }],
            answers: vec![AnswerFact {
                share_id: Some(3),
                channel: "email".into(),
                at: at("2026-11-22 23:41"),
            }],
        }
    }

    #[test]
    fn the_headline_counts_people_shares_reshares_and_conversions_exactly() {
        let a = Analysis::of(
            &launch(),
            &period("2026-11-20", "2026-11-22", UTC),
            &Filters::default(),
            &dark,
        );
        let h = &a.headline;
        assert_eq!((h.clicks, h.visitors, h.bots, h.unfurls), (5, 4, 1, 1));
        assert_eq!((h.shares, h.reshares, h.max_depth), (Some(3), Some(1), 2));
        assert_eq!((h.conversions, h.value), (Some(1), Some(20.0)));
        assert_eq!(h.dark_clicks, 4, "whatsapp and e-mail, not linkedin");
        assert_eq!(h.reshare_rate(), Some(0.2));
        let whatsapp = a.channels.iter().find(|l| l.key == "whatsapp").unwrap();
        assert_eq!(
            (whatsapp.clicks, whatsapp.visitors, whatsapp.shares, whatsapp.reshares),
            (3, 2, Some(1), Some(1))
        );
        let email = a.channels.iter().find(|l| l.key == "email").unwrap();
        assert_eq!((email.conversions, email.said), (Some(1), Some(1)));
        assert_eq!(a.apps[0].key, "slack");
        assert_eq!(
            (a.goals[0].key.as_str(), a.goals[0].conversions, a.goals[0].value),
            ("signup", Some(1), Some(20.0))
        );
        let daily: Vec<_> = a.days.iter().map(|d| (d.clicks, d.shares)).collect();
        assert_eq!(daily, [(2, 2), (2, 1), (1, 0)]);
    }

    #[test]
    fn a_share_filter_narrows_every_figure_the_same_way() {
        let filters = Filters {
            channel: Some("whatsapp".into()),
            ..Filters::default()
        };
        let a = Analysis::of(&launch(), &period("2026-11-20", "2026-11-22", UTC), &filters, &dark);
        let h = &a.headline;
        assert_eq!((h.clicks, h.visitors, h.shares, h.reshares), (3, 2, Some(1), Some(1)));
        assert_eq!(h.conversions, Some(0), "the conversion came through the e-mail share");
        assert_eq!(
            a.channels.iter().map(|l| l.key.as_str()).collect::<Vec<_>>(),
            ["whatsapp"]
        );
        assert_eq!(
            a.countries
                .iter()
                .map(|l| (l.key.as_str(), l.clicks))
                .collect::<Vec<_>>(),
            [("DE", 2), ("FR", 1)]
        );
    }

    #[test]
    fn a_visitor_filter_narrows_clicks_and_says_shares_cannot_follow() {
        let filters = Filters {
            country: Some("DE".into()),
            ..Filters::default()
        };
        let a = Analysis::of(&launch(), &period("2026-11-20", "2026-11-22", UTC), &filters, &dark);
        assert_eq!((a.headline.clicks, a.headline.visitors), (3, 2));
        assert_eq!(
            (a.headline.shares, a.headline.conversions, a.headline.reshare_rate()),
            (None, None, None)
        );
        let unknown = Filters {
            country: Some(UNKNOWN.into()),
            ..Filters::default()
        };
        let a = Analysis::of(&launch(), &period("2026-11-20", "2026-11-22", UTC), &unknown, &dark);
        assert_eq!(a.headline.clicks, 1, "the visit without a country");
    }

    #[test]
    fn days_are_the_viewers_days() {
        // 23:30 UTC on the 22nd is already the 23rd in Berlin, and still the 22nd in New York.
        let berlin = Analysis::of(
            &launch(),
            &period("2026-11-23", "2026-11-23", Europe::Berlin),
            &Filters::default(),
            &dark,
        );
        assert_eq!((berlin.headline.clicks, berlin.headline.conversions), (1, Some(1)));
        let utc = Analysis::of(
            &launch(),
            &period("2026-11-23", "2026-11-23", UTC),
            &Filters::default(),
            &dark,
        );
        assert_eq!(utc.headline.clicks, 0);
        let new_york = Analysis::of(
            &launch(),
            &period("2026-11-22", "2026-11-22", America::New_York),
            &Filters::default(),
            &dark,
        );
        assert_eq!(new_york.headline.clicks, 1);
        assert_eq!(new_york.days.len(), 1);
    }

    #[test]
    fn the_previous_period_is_as_long_and_ends_the_day_before() {
        let p = period("2026-11-20", "2026-11-26", UTC);
        assert_eq!(p.previous(), period("2026-11-13", "2026-11-19", UTC));
        assert_eq!(p.len_days(), 7);
        // A day with a DST change has 23 or 25 hours; periods still cover whole local days.
        let march = period("2026-03-29", "2026-03-29", Europe::Berlin);
        let (start, end) = march.millis();
        assert_eq!(end - start, 23 * 3_600_000);
    }

    #[test]
    fn reservations_and_other_scopes_visits_are_not_counted() {
        let mut facts = launch();
        facts.visits.push(click(99, "2026-11-20 12:00", "eve", None));
        let a = Analysis::of(
            &facts,
            &period("2026-11-20", "2026-11-22", UTC),
            &Filters::default(),
            &dark,
        );
        assert_eq!(a.headline.clicks, 5);
    }

    #[test]
    fn the_headline_alone_is_the_full_analysis_headline() {
        let facts = launch();
        let period = period("2026-11-20", "2026-11-22", UTC);
        for filters in [
            Filters::default(),
            Filters {
                channel: Some("whatsapp".into()),
                ..Filters::default()
            },
            Filters {
                country: Some("DE".into()),
                ..Filters::default()
            },
        ] {
            assert_eq!(
                Analysis::headline_of(&facts, &period, &filters, &dark),
                Analysis::of(&facts, &period, &filters, &dark).headline
            );
        }
    }

    #[test]
    fn changes_say_new_same_or_by_how_much() {
        assert_eq!(Change::between(0.0, 0.0), Change::Same);
        assert_eq!(Change::between(0.0, 3.0), Change::New);
        assert_eq!(Change::between(4.0, 5.0), Change::By(0.25));
        assert_eq!(Change::between(4.0, 2.0), Change::By(-0.5));
    }
}
