//! Charts drawn on the server as SVG: no script, nothing from a CDN, and they print. Every chart
//! on a page also has its numbers in a table next to it, for screen readers and for copying.
//!
//! Drawn by hand rather than with a plotting crate because of what a phone needs: positions are
//! percentages of the chart's width and text is never scaled, so a label is as large at 390 px
//! as at 1366 px (a plotted SVG scales as one picture, its 14 px labels shrinking to 7). Each
//! datum carries an SVG `<title>`, which browsers show on hover.

use std::fmt::Write;

/// Labels and values: at least 12 px at every width (they are never scaled).
const TEXT_PX: u32 = 14;
const MUTED: &str = "#57606a";
const GRID: &str = "#d0d7de";
const CLICKS: &str = "#0a58ca";
const SHARES: &str = "#9a3412";

/// One bar: what it counts, its colour, and where a click on it leads (a filter).
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub colour: String,
    pub href: Option<String>,
    /// What the bar's value is of, for its tooltip: "clicks".
    pub unit: &'static str,
}

/// Horizontal bars, one per item in the order given: the label and value above each bar.
pub fn bars(name: &str, items: &[Bar]) -> String {
    if items.is_empty() {
        return String::new();
    }
    const ROW: usize = 40;
    let max = items.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart bars" width="100%" height="{}" role="group" aria-label="{}">"#,
        ROW * items.len(),
        escape(name)
    );
    for (i, bar) in items.iter().enumerate() {
        let top = ROW * i;
        let width = (bar.value.max(0) as f64 * 100.0 / max as f64).max(0.5);
        let title = format!("{} {} {}", bar.label, bar.value, bar.unit);
        let body = format!(
            r#"<title>{title}</title><rect x="0" y="{top}" width="100%" height="{ROW}" fill="transparent"/><text x="0" y="{ty}" font-size="{TEXT_PX}" fill="currentColor">{label}</text><text x="100%" y="{ty}" font-size="{TEXT_PX}" text-anchor="end" fill="currentColor" font-weight="600">{value}</text><rect x="0" y="{by}" width="{width:.2}%" height="12" rx="2" fill="{colour}"/>"#,
            title = escape(&title),
            ty = top + 16,
            by = top + 22,
            label = escape(&bar.label),
            value = bar.value,
            colour = escape(&bar.colour),
        );
        match &bar.href {
            Some(href) => {
                // Named by its visible text ("WhatsApp 3"), which speech input users say; the
                // title adds the unit as its description.
                let _ = write!(svg, r#"<a href="{}" class="bar">{body}</a>"#, escape(href));
            }
            None => {
                let _ = write!(svg, r#"<g class="bar">{body}</g>"#);
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One day of a daily chart.
#[derive(Debug, Clone)]
pub struct Day {
    /// The axis label, "Dec 7".
    pub label: String,
    pub clicks: i64,
    pub shares: i64,
}

/// Clicks (solid) and shares (dashed) per day. The first, middle and last days are labelled:
/// the last one always, where today's spike is.
pub fn daily(name: &str, days: &[Day]) -> String {
    if days.is_empty() {
        return String::new();
    }
    const PLOT: u32 = 170;
    const TOP: u32 = 20;
    let max = days.iter().flat_map(|d| [d.clicks, d.shares]).max().unwrap_or(0).max(1);
    let span = (days.len() - 1).max(1) as f64;
    let x = |i: usize| i as f64 / span * 1000.0;
    let y = |v: i64| (max - v) as f64 / max as f64 * 1000.0;
    let line = |value: fn(&Day) -> i64| {
        days.iter()
            .enumerate()
            .map(|(i, d)| format!("{:.1},{:.1}", x(i), y(value(d))))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart daily" width="100%" height="{h}" role="group" aria-label="{name}"><text x="0" y="{TEXT_PX}" font-size="{TEXT_PX}" fill="{MUTED}">{max}</text><svg x="0" y="{TOP}" width="100%" height="{PLOT}" viewBox="0 0 1000 1000" preserveAspectRatio="none"><line x1="0" y1="1000" x2="1000" y2="1000" stroke="{GRID}" vector-effect="non-scaling-stroke"/><line x1="0" y1="0" x2="1000" y2="0" stroke="{GRID}" stroke-dasharray="2 4" vector-effect="non-scaling-stroke"/><polyline points="{shares}" fill="none" stroke="{SHARES}" stroke-width="2" stroke-dasharray="6 4" vector-effect="non-scaling-stroke"/><polyline points="{clicks}" fill="none" stroke="{CLICKS}" stroke-width="3" vector-effect="non-scaling-stroke"/>"#,
        h = TOP + PLOT + 24,
        name = escape(name),
        clicks = line(|d| d.clicks),
        shares = line(|d| d.shares),
    );
    // A transparent column per day, so hovering anywhere near a day tells its numbers.
    let column = 1000.0 / (span + 1.0);
    for (i, day) in days.iter().enumerate() {
        let left = (x(i) - column / 2.0).max(0.0);
        let _ = write!(
            svg,
            r#"<rect x="{left:.1}" y="0" width="{column:.1}" height="1000" fill="transparent"><title>{}: {} click{}, {} share{}</title></rect>"#,
            escape(&day.label),
            day.clicks,
            plural(day.clicks),
            day.shares,
            plural(day.shares),
        );
    }
    svg.push_str("</svg>");
    let baseline = TOP + PLOT + 18;
    let mut labelled = vec![(0, "start")];
    if days.len() >= 5 {
        labelled.push((days.len() / 2, "middle"));
    }
    if days.len() >= 2 {
        labelled.push((days.len() - 1, "end"));
    }
    for (i, anchor) in labelled {
        let at = match anchor {
            "start" => "0".to_owned(),
            "end" => "100%".to_owned(),
            _ => format!("{:.1}%", x(i) / 10.0),
        };
        let _ = write!(
            svg,
            r#"<text x="{at}" y="{baseline}" font-size="{TEXT_PX}" text-anchor="{anchor}" fill="{MUTED}">{}</text>"#,
            escape(&days[i].label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A small line of daily values for a table cell, with the total in its tooltip.
pub fn sparkline(values: &[i64]) -> String {
    if values.iter().all(|v| *v == 0) {
        return String::new();
    }
    let max = values.iter().copied().max().unwrap_or(0).max(1);
    let span = (values.len().max(2) - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 / span * 100.0,
                28.0 - *v as f64 / max as f64 * 26.0
            )
        })
        .collect();
    let total: i64 = values.iter().sum();
    format!(
        r#"<svg class="spark" width="100" height="30" viewBox="0 0 100 30" role="img" aria-label="{total} click{p} in these days"><title>{total} click{p}</title><polyline points="{}" fill="none" stroke="{CLICKS}" stroke-width="2"/></svg>"#,
        points.join(" "),
        p = plural(total),
    )
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: i64) -> Bar {
        Bar {
            label: label.into(),
            value,
            colour: "#123456".into(),
            href: Some(format!("?channel={label}&x=<y>")),
            unit: "clicks",
        }
    }

    #[test]
    fn bars_are_links_with_tooltips_and_escaped_text() {
        let svg = bars("Clicks per channel", &[bar("WhatsApp", 8), bar("<b>", 2)]);
        assert!(svg.contains("<title>WhatsApp 8 clicks</title>"));
        assert!(svg.contains(r#"href="?channel=WhatsApp&amp;x=&lt;y&gt;""#));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert!(svg.contains(r#"width="100.00%""#), "the largest bar spans the width");
        assert!(svg.contains(r#"width="25.00%""#));
        assert!(!svg.contains("viewBox"), "text must not scale with the chart");
    }

    #[test]
    fn the_daily_chart_labels_its_last_day_and_tells_every_day_on_hover() {
        let days: Vec<Day> = (1..=30)
            .map(|d| Day {
                label: format!("Nov {d}"),
                clicks: d,
                shares: 1,
            })
            .collect();
        let svg = daily("Day by day", &days);
        assert!(svg.contains(r##"text-anchor="end" fill="#57606a">Nov 30</text>"##));
        assert!(svg.contains(">Nov 1</text>"));
        assert_eq!(svg.matches("<title>").count(), 30);
        assert!(svg.contains("<title>Nov 30: 30 clicks, 1 share</title>"));
    }

    #[test]
    fn an_empty_sparkline_draws_nothing() {
        assert_eq!(sparkline(&[0, 0, 0]), "");
        assert!(sparkline(&[0, 1, 0]).contains("1 click"));
    }
}
