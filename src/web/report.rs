//! An analytics page's controls and figures. The period (a preset or custom days, in the
//! viewer's time zone), the comparison with the period before, and the filters all live in the
//! query string, so a view can be bookmarked and shared; stored data stays UTC.

use crate::domain::analytics::{Analysis, Change, Facts, Filters, Headline, Line, Period, UNKNOWN};
use crate::domain::channel::Channel;
use crate::store::{Scope, Store, StoreResult};
use crate::web::charts::{self, Bar};
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::HashMap;

/// The longest range a page reports on, so a typo cannot ask for a millennium of empty days.
pub const MAX_RANGE_DAYS: u64 = 366 * 3;
/// The cookie the page's script sets to the browser's time zone (`Intl`), used when the address
/// names none.
pub const TIME_ZONE_COOKIE: &str = "sharetrail-tz";
const PRESETS: [(&str, &str, u64); 3] = [("7d", "7 days", 7), ("30d", "30 days", 30), ("90d", "90 days", 90)];
const DEFAULT_PRESET: &str = "30d";

/// The query string of an analytics page (and of its CSV export, which follows the same view).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReportQuery {
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub tz: Option<String>,
    pub channel: Option<String>,
    pub link: Option<String>,
    pub placement: Option<String>,
    pub depth: Option<String>,
    pub country: Option<String>,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub os: Option<String>,
    pub referrer: Option<String>,
}

/// Where the page's time zone came from: the script reloads a page shown in the default one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    Address,
    Cookie,
    Default,
}

/// What a page was asked to show, parsed: every part the query got wrong is said in `problems`
/// and replaced by its default, so a bad link still shows a page.
#[derive(Debug, Clone)]
pub struct View {
    pub period: Period,
    /// "7d", "30d", "90d", "all" or "custom".
    pub preset: String,
    pub zone_source: ZoneSource,
    pub filters: Filters,
    pub problems: Vec<String>,
    /// The parameters the view was built from, to build links that change one of them.
    params: Vec<(&'static str, String)>,
}

fn clean(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl View {
    /// `today` is now; `born` is when the scope's first link was made ("all time" starts there).
    pub fn parse(query: &ReportQuery, zone_cookie: Option<&str>, now: DateTime<Utc>, born: i64) -> View {
        let mut problems = Vec::new();
        let (tz, zone_source) = match (clean(&query.tz), zone_cookie.map(str::trim).filter(|s| !s.is_empty())) {
            (Some(name), _) => match name.parse::<Tz>() {
                Ok(tz) => (tz, ZoneSource::Address),
                Err(_) => {
                    problems.push(format!("'{name}' is not a time zone (try Europe/Berlin); showing UTC"));
                    (Tz::UTC, ZoneSource::Address)
                }
            },
            (None, Some(name)) => match name.parse::<Tz>() {
                Ok(tz) => (tz, ZoneSource::Cookie),
                Err(_) => (Tz::UTC, ZoneSource::Default),
            },
            (None, None) => (Tz::UTC, ZoneSource::Default),
        };
        let today = now.with_timezone(&tz).date_naive();
        let born_day = DateTime::from_timestamp_millis(born)
            .map_or(today, |t| t.with_timezone(&tz).date_naive())
            .min(today);
        let last = |days: u64| Period {
            from: today - Days::new(days - 1),
            to: today,
            tz,
        };
        let custom = clean(&query.from).is_some() || clean(&query.to).is_some();
        let asked = clean(&query.range).unwrap_or(if custom { "custom" } else { DEFAULT_PRESET });
        let (period, preset) = match asked {
            "all" => (
                Period {
                    from: born_day,
                    to: today,
                    tz,
                },
                "all",
            ),
            "custom" => match custom_period(query, today, tz) {
                Ok(period) => (period, "custom"),
                Err(problem) => {
                    problems.push(format!("{problem}; showing the last 30 days"));
                    (last(30), DEFAULT_PRESET)
                }
            },
            preset => match PRESETS.iter().find(|(key, _, _)| *key == preset) {
                Some((key, _, days)) => (last(*days), *key),
                None => {
                    problems.push(format!(
                        "'{preset}' is not a range (use 7d, 30d, 90d, all or custom dates)"
                    ));
                    (last(30), DEFAULT_PRESET)
                }
            },
        };
        let mut number = |name: &str, raw: &Option<String>| {
            clean(raw).and_then(|v| match v.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    problems.push(format!("the {name} filter '{v}' is not a number; it is ignored"));
                    None
                }
            })
        };
        let text = |raw: &Option<String>| clean(raw).map(str::to_owned);
        let filters = Filters {
            channel: text(&query.channel),
            link: number("link", &query.link),
            placement: text(&query.placement),
            depth: number("depth", &query.depth),
            country: text(&query.country),
            device: text(&query.device),
            browser: text(&query.browser),
            os: text(&query.os),
            referrer: text(&query.referrer),
        };
        let mut view = View {
            period,
            preset: preset.to_owned(),
            zone_source,
            filters,
            problems,
            params: Vec::new(),
        };
        view.params = view.own_params(zone_source == ZoneSource::Address);
        view
    }

    fn own_params(&self, with_zone: bool) -> Vec<(&'static str, String)> {
        let mut params = vec![("range", self.preset.clone())];
        if self.preset == "custom" {
            params.push(("from", self.period.from.to_string()));
            params.push(("to", self.period.to.to_string()));
        }
        if with_zone {
            params.push(("tz", self.period.tz.name().to_owned()));
        }
        let f = &self.filters;
        let mut add = |name: &'static str, value: Option<String>| {
            if let Some(value) = value {
                params.push((name, value));
            }
        };
        add("channel", f.channel.clone());
        add("link", f.link.map(|l| l.to_string()));
        add("placement", f.placement.clone());
        add("depth", f.depth.map(|d| d.to_string()));
        add("country", f.country.clone());
        add("device", f.device.clone());
        add("browser", f.browser.clone());
        add("os", f.os.clone());
        add("referrer", f.referrer.clone());
        params
    }

    /// This view's address with `changes` applied (`None` removes a parameter).
    pub fn href(&self, changes: &[(&str, Option<&str>)]) -> String {
        let mut params: Vec<(&str, String)> = self
            .params
            .iter()
            .filter(|(name, _)| !changes.iter().any(|(changed, _)| changed == name))
            .map(|(n, v)| (*n, v.clone()))
            .collect();
        for (name, value) in changes {
            if let Some(value) = value {
                params.push((name, (*value).to_owned()));
            }
        }
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in &params {
            query.append_pair(name, value);
        }
        format!("?{}", query.finish())
    }

    /// The query string for a CSV export of the same period and time zone.
    pub fn export_query(&self) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("range", "custom");
        query.append_pair("from", &self.period.from.to_string());
        query.append_pair("to", &self.period.to.to_string());
        query.append_pair("tz", self.period.tz.name());
        query.finish()
    }

    /// The period compared against: none for "all time", which has nothing before it.
    pub fn previous(&self) -> Option<Period> {
        (self.preset != "all").then(|| self.period.previous())
    }

    pub fn describe_period(&self) -> String {
        match self.preset.as_str() {
            "all" => "all time".to_owned(),
            "custom" => format!("{} – {}", self.period.from, self.period.to),
            preset => PRESETS
                .iter()
                .find(|(key, _, _)| *key == preset)
                .map_or_else(String::new, |(_, name, _)| format!("last {name}")),
        }
    }
}

fn custom_period(query: &ReportQuery, today: NaiveDate, tz: Tz) -> Result<Period, String> {
    let day = |raw: &Option<String>, fallback: NaiveDate, name: &str| match clean(raw) {
        None => Ok(fallback),
        Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| format!("'{raw}' is not a date: use YYYY-MM-DD for the {name} date")),
    };
    let to = day(&query.to, today, "end")?;
    let from = day(&query.from, to - Days::new(29), "start")?;
    if from > to {
        return Err("the start date is after the end date".into());
    }
    if (to - from).num_days().unsigned_abs() >= MAX_RANGE_DAYS {
        return Err(format!("a range is at most {MAX_RANGE_DAYS} days"));
    }
    Ok(Period { from, to, tz })
}

/// A channel as people know it: "WhatsApp", "Address bar", "QR code"; a custom one by its name.
pub fn channel_name(channel: &str) -> String {
    match Channel::parse(channel) {
        Ok(Channel::Builtin(builtin)) => builtin.display_name().to_owned(),
        _ => channel.to_owned(),
    }
}

/// The colour of a channel in every chart; the same hues as the `.ch-*` classes in the
/// stylesheet. Custom channels take one of a few spare colours, always the same for a name.
pub fn channel_colour(channel: &str) -> &'static str {
    match channel {
        "whatsapp" => "#128c7e",
        "telegram" => "#1b7fb8",
        "messenger" => "#7b3fe4",
        "signal" => "#3a5fcd",
        "sms" => "#4d7c0f",
        "email" => "#b45309",
        "slack" => "#611f69",
        "teams" => "#4b53bc",
        "discord" => "#5865f2",
        "linkedin" => "#0a66c2",
        "x" => "#1f2328",
        "facebook" => "#1559c9",
        "reddit" => "#c2410c",
        "copy" => "#0f766e",
        "address_bar" => "#475569",
        "native" => "#9333ea",
        "qr" => "#a16207",
        "direct" => "#64748b",
        custom => SPARE_COLOURS[spare_slot(custom)],
    }
}

const SPARE_COLOURS: [&str; 4] = ["#be185d", "#15803d", "#6d28d9", "#0e7490"];

fn spare_slot(name: &str) -> usize {
    name.bytes()
        .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize))
        % SPARE_COLOURS.len()
}

/// The stylesheet class giving a channel's tag its colour.
pub fn channel_class(channel: &str) -> String {
    match Channel::parse(channel) {
        Ok(Channel::Builtin(builtin)) => format!("ch-{}", builtin.as_str().replace('_', "-")),
        _ => format!("ch-spare-{}", spare_slot(channel)),
    }
}

/// A headline figure with its change against the previous period.
#[derive(Debug, Clone)]
pub struct Tile {
    pub id: &'static str,
    pub label: &'static str,
    pub value: String,
    /// "+25 % vs previous 30 days"; `None` without a comparison.
    pub change: Option<String>,
    /// "up", "down" or "same", for the stylesheet.
    pub trend: &'static str,
    pub hint: &'static str,
}

/// One row of a breakdown table, with the address that filters the page to it.
#[derive(Debug, Clone)]
pub struct Row {
    pub key: String,
    pub name: String,
    pub class: String,
    pub filter_href: String,
    pub clicks: i64,
    pub visitors: i64,
    pub shares: String,
    pub reshares: String,
    pub conversions: String,
    pub value: String,
    pub said: String,
    /// This row's part of all clicks shown, "42%".
    pub part: String,
}

/// A breakdown of clicks by one visitor attribute.
#[derive(Debug, Clone)]
pub struct Breakdown {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
}

/// A filter in force, with the address that lifts it.
#[derive(Debug, Clone)]
pub struct Chip {
    pub label: String,
    pub remove_href: String,
}

/// A preset's link, marked when it is the one shown.
#[derive(Debug, Clone)]
pub struct PresetLink {
    pub label: &'static str,
    pub href: String,
    pub current: bool,
}

/// Everything the analytics part of a link or campaign page shows.
pub struct Report {
    pub view: View,
    pub now: Analysis,
    /// The headline of the period before, for the changes.
    pub before: Option<Headline>,
    /// Names of the scope's links, for the breakdown by link.
    pub link_names: HashMap<i64, String>,
    /// Whether the page covers several links (a campaign): then links are a breakdown.
    pub many_links: bool,
}

fn figure(value: Option<i64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| v.to_string())
}

fn money(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.2}", v + 0.0))
}

fn share_of(part: f64) -> String {
    format!("{:.0}%", part * 100.0)
}

/// `part` of `whole` as "63%" (or "–" when there is no whole).
pub fn percent(part: i64, whole: i64) -> String {
    match whole > 0 {
        true => share_of(part as f64 / whole as f64),
        false => "–".into(),
    }
}

fn ratio(value: Option<f64>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

const NOT_SPLIT: &str = "Shares and conversions record no visitor's country, device, browser or referrer";

impl Report {
    pub fn empty(&self) -> bool {
        let h = &self.now.headline;
        h.clicks == 0 && h.shares.unwrap_or(0) == 0 && h.unfurls == 0 && h.conversions.unwrap_or(0) == 0
    }

    /// Whether the period shown ends before today: its emptiness means nothing happened then,
    /// not "not yet".
    pub fn in_the_past(&self) -> bool {
        let today = Utc::now().with_timezone(&self.view.period.tz).date_naive();
        self.view.period.to < today
    }

    pub fn tiles(&self) -> Vec<Tile> {
        let now = &self.now.headline;
        let before = self.before.as_ref();
        let count_change = |get: fn(&Headline) -> Option<f64>| -> (Option<String>, &'static str) {
            let (Some(before), Some(now_value)) = (before.and_then(get), get(now)) else {
                return (None, "same");
            };
            match Change::between(before, now_value) {
                Change::Same => (Some("no change".to_owned()), "same"),
                Change::New => (Some("new".to_owned()), "up"),
                Change::By(by) => (
                    Some(format!("{:+.0}%", by * 100.0)),
                    if by > 0.0 { "up" } else { "down" },
                ),
            }
        };
        let point_change =
            |get: fn(&Headline) -> Option<f64>, scale: f64, unit: &str| -> (Option<String>, &'static str) {
                let (Some(before), Some(now_value)) = (before.and_then(get), get(now)) else {
                    return (None, "same");
                };
                let by = (now_value - before) * scale;
                if by.abs() < 0.005 {
                    return (Some("no change".to_owned()), "same");
                }
                (Some(format!("{by:+.2}{unit}")), if by > 0.0 { "up" } else { "down" })
            };
        let tile = |id, label, value: String, (change, trend): (Option<String>, &'static str), hint| Tile {
            id,
            label,
            value,
            change,
            trend,
            hint,
        };
        let split = |hint: &'static str| if now.shares.is_none() { NOT_SPLIT } else { hint };
        vec![
            tile(
                "total-clicks",
                "Clicks",
                now.clicks.to_string(),
                count_change(|h| Some(h.clicks as f64)),
                "People who opened a short link: never bots or link previews",
            ),
            tile(
                "total-visitors",
                "Unique visitors",
                now.visitors.to_string(),
                count_change(|h| Some(h.visitors as f64)),
                "Different people among the clicks; a person is recognised within a day, never across days",
            ),
            tile(
                "total-shares",
                "Shares",
                figure(now.shares),
                count_change(|h| h.shares.map(|s| s as f64)),
                split("Short links sent: a share button clicked, or a link made here"),
            ),
            tile(
                "reshare-rate",
                "Reshare rate",
                ratio(now.reshare_rate()),
                point_change(Headline::reshare_rate, 1.0, ""),
                split("Shares made by visitors, per click"),
            ),
            tile(
                "deepest",
                "Deepest cascade",
                now.max_depth.to_string(),
                count_change(|h| Some(h.max_depth as f64)),
                "How many hand-overs the furthest click or share was from you",
            ),
            tile(
                "dark-share",
                "Dark share",
                now.dark_share().map_or_else(|| "–".to_owned(), share_of),
                point_change(Headline::dark_share, 100.0, " pts"),
                "Clicks through private channels: chats, e-mail, SMS, copied links",
            ),
            tile(
                "total-conversions",
                "Conversions",
                figure(now.conversions),
                count_change(|h| h.conversions.map(|c| c as f64)),
                split("Goals your site reported for visitors who came through a share"),
            ),
            tile(
                "total-value",
                "Value",
                money(now.value),
                count_change(|h| h.value),
                split("The sum of the conversions' values"),
            ),
        ]
    }

    /// What the changes under the figures are against: "the previous 7 days (Nov 10 – Nov 16)".
    pub fn comparison(&self) -> Option<String> {
        let before = self.view.previous()?;
        let days = match before.len_days() {
            1 => "day".to_owned(),
            n => format!("{n} days"),
        };
        let day = |d: NaiveDate| d.format("%b %-d").to_string();
        Some(format!(
            "the previous {days} ({} – {})",
            day(before.from),
            day(before.to)
        ))
    }

    pub fn presets(&self) -> Vec<PresetLink> {
        let mut links: Vec<PresetLink> = PRESETS
            .iter()
            .map(|(key, label, _)| PresetLink {
                label,
                href: self.view.href(&[("range", Some(key)), ("from", None), ("to", None)]),
                current: self.view.preset == *key,
            })
            .collect();
        links.push(PresetLink {
            label: "All time",
            href: self.view.href(&[("range", Some("all")), ("from", None), ("to", None)]),
            current: self.view.preset == "all",
        });
        links
    }

    /// The hidden fields the custom range form carries, so it keeps the zone and filters.
    pub fn kept_fields(&self) -> Vec<(&'static str, String)> {
        self.view
            .params
            .iter()
            .filter(|(name, _)| !matches!(*name, "range" | "from" | "to"))
            .cloned()
            .collect()
    }

    pub fn chips(&self) -> Vec<Chip> {
        let f = &self.view.filters;
        let mut chips = Vec::new();
        let mut chip = |param: &'static str, label: String| {
            chips.push(Chip {
                label,
                remove_href: self.view.href(&[(param, None)]),
            })
        };
        if let Some(c) = &f.channel {
            chip("channel", format!("Channel: {}", channel_name(c)));
        }
        if let Some(l) = f.link {
            chip("link", format!("Link: {}", self.link_name(l)));
        }
        if let Some(p) = &f.placement {
            chip("placement", format!("Placement: {p}"));
        }
        if let Some(d) = f.depth {
            chip("depth", format!("Depth: {d}"));
        }
        if let Some(c) = &f.country {
            chip("country", format!("Country: {c}"));
        }
        if let Some(d) = &f.device {
            chip("device", format!("Device: {d}"));
        }
        if let Some(b) = &f.browser {
            chip("browser", format!("Browser: {b}"));
        }
        if let Some(o) = &f.os {
            chip("os", format!("OS: {o}"));
        }
        if let Some(r) = &f.referrer {
            chip("referrer", format!("Referrer: {r}"));
        }
        chips
    }

    pub fn clear_filters_href(&self) -> String {
        let all: Vec<(&str, Option<&str>)> = [
            "channel",
            "link",
            "placement",
            "depth",
            "country",
            "device",
            "browser",
            "os",
            "referrer",
        ]
        .iter()
        .map(|name| (*name, None))
        .collect();
        self.view.href(&all)
    }

    fn link_name(&self, id: i64) -> String {
        self.link_names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("link {id}"))
    }

    fn rows(
        &self,
        lines: &[Line],
        param: &'static str,
        name: impl Fn(&str) -> String,
        class: impl Fn(&str) -> String,
    ) -> Vec<Row> {
        let clicks = self.now.headline.clicks;
        lines
            .iter()
            .map(|line| Row {
                key: line.key.clone(),
                name: name(&line.key),
                class: class(&line.key),
                filter_href: self.view.href(&[(param, Some(&line.key))]),
                clicks: line.clicks,
                visitors: line.visitors,
                shares: figure(line.shares),
                reshares: figure(line.reshares),
                conversions: figure(line.conversions),
                value: money(line.value),
                said: figure(line.said),
                part: percent(line.clicks, clicks),
            })
            .collect()
    }

    pub fn channels(&self) -> Vec<Row> {
        self.rows(&self.now.channels, "channel", channel_name, channel_class)
    }

    pub fn depths(&self) -> Vec<Row> {
        self.rows(&self.now.depths, "depth", |d| format!("depth {d}"), |_| String::new())
    }

    pub fn links(&self) -> Vec<Row> {
        match self.many_links {
            true => self.rows(
                &self.now.links,
                "link",
                |id| id.parse().map_or_else(|_| id.to_owned(), |id| self.link_name(id)),
                |_| String::new(),
            ),
            false => Vec::new(),
        }
    }

    pub fn goals(&self) -> Vec<Row> {
        self.rows(&self.now.goals, "goal", str::to_owned, |_| String::new())
    }

    /// Copied links and the apps they were pasted into, by name: (shared as, pasted into, shares).
    pub fn pasted(&self) -> Vec<(String, String, i64)> {
        self.now
            .inferred
            .iter()
            .map(|(shared, app, n)| (channel_name(shared), channel_name(app), *n))
            .collect()
    }

    pub fn placements(&self) -> Vec<Row> {
        self.rows(&self.now.placements, "placement", str::to_owned, |_| String::new())
    }

    pub fn breakdowns(&self) -> Vec<Breakdown> {
        fn readable(key: &str) -> String {
            match key {
                UNKNOWN => "Unknown".to_owned(),
                other => other.to_owned(),
            }
        }
        fn referrer(key: &str) -> String {
            match key {
                UNKNOWN => "None (typed, an app, or hidden)".to_owned(),
                other => other.to_owned(),
            }
        }
        /// A breakdown's id, title, query parameter, lines, and how its keys read.
        type Dimension<'a> = (&'static str, &'static str, &'static str, &'a [Line], fn(&str) -> String);
        let now = &self.now;
        let dimensions: [Dimension; 5] = [
            ("by-device", "Devices", "device", &now.devices, readable),
            ("by-browser", "Browsers", "browser", &now.browsers, readable),
            ("by-os", "Operating systems", "os", &now.systems, readable),
            ("by-country", "Countries", "country", &now.countries, readable),
            ("by-referrer", "Referrers", "referrer", &now.referrers, referrer),
        ];
        dimensions
            .into_iter()
            .map(|(id, title, param, lines, name)| Breakdown {
                id,
                title,
                rows: self.rows(lines, param, name, |_| String::new()),
            })
            .collect()
    }

    pub fn channel_chart(&self) -> String {
        let bars: Vec<Bar> = self
            .now
            .channels
            .iter()
            .filter(|c| c.clicks > 0)
            .map(|c| Bar {
                label: channel_name(&c.key),
                value: c.clicks,
                colour: channel_colour(&c.key).to_owned(),
                href: Some(self.view.href(&[("channel", Some(&c.key))])),
                unit: "clicks",
            })
            .collect();
        charts::bars("Clicks per channel", &bars)
    }

    pub fn depth_chart(&self) -> String {
        let bars: Vec<Bar> = self
            .now
            .depths
            .iter()
            .filter(|d| d.clicks > 0)
            .map(|d| Bar {
                label: format!("depth {}", d.key),
                value: d.clicks,
                colour: "#0a58ca".to_owned(),
                href: Some(self.view.href(&[("depth", Some(&d.key))])),
                unit: "clicks",
            })
            .collect();
        charts::bars("Clicks per depth", &bars)
    }

    pub fn app_chart(&self) -> String {
        let bars: Vec<Bar> = self
            .now
            .apps
            .iter()
            .map(|a| Bar {
                label: a.key.clone(),
                value: a.clicks,
                colour: "#57606a".to_owned(),
                href: None,
                unit: "previews",
            })
            .collect();
        charts::bars("Link previews by app", &bars)
    }

    pub fn daily_chart(&self) -> String {
        let days: Vec<charts::Day> = self
            .now
            .days
            .iter()
            .map(|d| charts::Day {
                label: d.day.format("%b %-d").to_string(),
                clicks: d.clicks,
                shares: d.shares,
            })
            .collect();
        charts::daily("Clicks and shares per day", &days)
    }

    pub fn zone_name(&self) -> &'static str {
        self.view.period.tz.name()
    }

    pub fn zone_source(&self) -> &'static str {
        match self.view.zone_source {
            ZoneSource::Address => "address",
            ZoneSource::Cookie => "cookie",
            ZoneSource::Default => "default",
        }
    }
}

/// Whether clicks through the channel of this name are dark social (custom channels by medium).
pub fn is_dark(channel: &str, custom_mediums: &HashMap<String, String>) -> bool {
    Channel::parse(channel)
        .map(|c| c.is_dark(custom_mediums.get(channel).map(String::as_str)))
        .unwrap_or(false)
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

/// The report of `scope` for `view`: this period and the one before, read in one go.
pub async fn build_report(
    store: &dyn Store,
    scope: &Scope,
    view: View,
    link_names: HashMap<i64, String>,
) -> StoreResult<Report> {
    let previous = view.previous();
    let (start, end) = view.period.millis();
    let from = previous.as_ref().map_or(start, |p| p.millis().0);
    let facts: Facts = store.analytics_facts(scope, from, end).await?;
    let mediums = custom_mediums(store).await?;
    let dark = |channel: &str| is_dark(channel, &mediums);
    let now = Analysis::of(&facts, &view.period, &view.filters, &dark);
    let before = previous.map(|p| Analysis::headline_of(&facts, &p, &view.filters, &dark));
    Ok(Report {
        now,
        before,
        many_links: matches!(scope, Scope::Campaign(_)),
        link_names,
        view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-23T23:30:00Z").unwrap().to_utc()
    }

    fn query(pairs: &str) -> ReportQuery {
        actix_web::web::Query::<ReportQuery>::from_query(pairs)
            .unwrap()
            .into_inner()
    }

    #[test]
    fn presets_count_back_from_today_in_the_viewers_zone() {
        let view = View::parse(&query("range=7d&tz=Europe/Berlin"), None, now(), 0);
        // 23:30 UTC on the 23rd is the 24th in Berlin.
        assert_eq!(view.period.to.to_string(), "2026-11-24");
        assert_eq!(view.period.from.to_string(), "2026-11-18");
        assert_eq!(view.describe_period(), "last 7 days");
        let utc = View::parse(&query(""), None, now(), 0);
        assert_eq!((utc.preset.as_str(), utc.period.len_days()), ("30d", 30));
        assert_eq!(utc.zone_source, ZoneSource::Default);
    }

    #[test]
    fn the_address_beats_the_cookie_and_bad_zones_say_so() {
        let view = View::parse(&query("tz=Asia/Tokyo"), Some("Europe/Berlin"), now(), 0);
        assert_eq!(view.period.tz, Tz::Asia__Tokyo);
        let cookie = View::parse(&query(""), Some("Europe/Berlin"), now(), 0);
        assert_eq!(
            (cookie.period.tz, cookie.zone_source),
            (Tz::Europe__Berlin, ZoneSource::Cookie)
        );
        let bad = View::parse(&query("tz=Mars/Olympus"), None, now(), 0);
        assert_eq!(bad.period.tz, Tz::UTC);
        assert!(bad.problems[0].contains("not a time zone"));
    }

    #[test]
    fn custom_ranges_parse_and_refuse_nonsense() {
        let view = View::parse(&query("from=2026-11-01&to=2026-11-03"), None, now(), 0);
        assert_eq!((view.preset.as_str(), view.period.len_days()), ("custom", 3));
        let backwards = View::parse(&query("from=2026-11-05&to=2026-11-01"), None, now(), 0);
        assert!(backwards.problems[0].contains("after the end"));
        assert_eq!(backwards.preset, "30d");
        let words = View::parse(&query("from=yesterday"), None, now(), 0);
        assert!(words.problems[0].contains("YYYY-MM-DD"));
        assert!(
            !View::parse(&query("from=1900-01-01&to=2026-01-01"), None, now(), 0)
                .problems
                .is_empty()
        );
        assert!(View::parse(&query("range=fortnight"), None, now(), 0).problems[0].contains("not a range"));
    }

    #[test]
    fn all_time_starts_when_the_scope_began_and_has_nothing_to_compare_with() {
        let born = DateTime::parse_from_rfc3339("2026-10-01T12:00:00Z")
            .unwrap()
            .timestamp_millis();
        let view = View::parse(&query("range=all"), None, now(), born);
        assert_eq!(view.period.from.to_string(), "2026-10-01");
        assert!(view.previous().is_none());
    }

    #[test]
    fn filter_links_keep_the_rest_of_the_view() {
        let view = View::parse(&query("range=7d&tz=Europe/Berlin&country=DE&depth=x"), None, now(), 0);
        assert!(view.problems[0].contains("depth filter"));
        let href = view.href(&[("channel", Some("whatsapp"))]);
        assert_eq!(href, "?range=7d&tz=Europe%2FBerlin&country=DE&channel=whatsapp");
        assert_eq!(view.href(&[("country", None)]), "?range=7d&tz=Europe%2FBerlin");
        assert_eq!(
            view.export_query(),
            "range=custom&from=2026-11-18&to=2026-11-24&tz=Europe%2FBerlin"
        );
    }

    #[test]
    fn channels_have_one_name_and_colour_everywhere() {
        assert_eq!(channel_name("address_bar"), "Address bar");
        assert_eq!(channel_name("qr"), "QR code");
        assert_eq!(channel_name("newsletter"), "newsletter");
        assert_eq!(channel_class("address_bar"), "ch-address-bar");
        assert_eq!(channel_colour("newsletter"), channel_colour("newsletter"));
        assert!(channel_class("newsletter").starts_with("ch-spare-"));
    }
}
