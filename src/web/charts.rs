//! Charts drawn on the server as SVG with plotters: no script, no fonts to ship, nothing from a
//! CDN, and they print. Every chart on a page also has its numbers in a table next to it, for
//! screen readers and for copying.

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

const ACCENT: RGBColor = RGBColor(10, 88, 202);
const MUTED: RGBColor = RGBColor(87, 96, 106);
const GRID: RGBColor = RGBColor(224, 228, 232);
const FONT: &str = "sans-serif";

/// Horizontal bars, one per label, largest first as given.
pub fn bars(items: &[(String, i64)]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let height = 36 + 30 * items.len() as u32;
    render((640, height), |root| {
        let n = items.len() as i32;
        let max = items.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(root)
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(120)
            .build_cartesian_2d(0..max + max / 8 + 1, (0..n).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(MUTED)
            .x_labels(5)
            .y_labels(items.len())
            .label_style((FONT, 14).into_font().color(&MUTED))
            .y_label_formatter(&|v| match v {
                // Bars are drawn bottom-up; the first item goes on top.
                SegmentValue::CenterOf(i) => items
                    .get((n - 1 - *i) as usize)
                    .map(|(label, _)| label.clone())
                    .unwrap_or_default(),
                _ => String::new(),
            })
            .x_label_formatter(&|v| v.to_string())
            .draw()?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, value))| {
            let row = n - 1 - i as i32;
            let mut bar = Rectangle::new(
                [(0, SegmentValue::Exact(row)), (*value, SegmentValue::Exact(row + 1))],
                ACCENT.filled(),
            );
            bar.set_margin(5, 5, 0, 0);
            bar
        }))?;
        chart.draw_series(items.iter().enumerate().map(|(i, (_, value))| {
            let row = n - 1 - i as i32;
            Text::new(
                value.to_string(),
                (*value, SegmentValue::CenterOf(row)),
                (FONT, 14)
                    .into_font()
                    .color(&BLACK)
                    .pos(plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Left,
                        plotters::style::text_anchor::VPos::Center,
                    )),
            )
        }))?;
        Ok(())
    })
}

/// A daily line of one or two series (clicks, and shares when given), dates on the x axis.
pub fn daily(days: &[String], clicks: &[i64], shares: &[i64]) -> String {
    if days.is_empty() {
        return String::new();
    }
    render((640, 240), |root| {
        let n = days.len();
        let max = clicks.iter().chain(shares).copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .x_label_area_size(28)
            .y_label_area_size(44)
            .build_cartesian_2d(0..n.max(2) - 1, 0..max + max / 8 + 1)?;
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(MUTED)
            .x_labels(6)
            .y_labels(5)
            .label_style((FONT, 13).into_font().color(&MUTED))
            .x_label_formatter(&|i| days.get(*i).map(|d| d[5..].to_owned()).unwrap_or_default())
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                clicks.iter().enumerate().map(|(i, v)| (i, *v)),
                ACCENT.stroke_width(3),
            ))?
            .label("clicks")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], ACCENT.stroke_width(3)));
        if !shares.is_empty() {
            chart
                .draw_series(LineSeries::new(
                    shares.iter().enumerate().map(|(i, v)| (i, *v)),
                    MUTED.stroke_width(2),
                ))?
                .label("shares")
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], MUTED.stroke_width(2)));
            chart
                .configure_series_labels()
                .background_style(WHITE.mix(0.8))
                .border_style(GRID)
                .label_font((FONT, 13))
                .position(SeriesLabelPosition::UpperLeft)
                .draw()?;
        }
        Ok(())
    })
}

/// A tiny line without axes, for tables.
pub fn sparkline(values: &[i64]) -> String {
    if values.len() < 2 {
        return String::new();
    }
    render((120, 28), |root| {
        let max = values.iter().copied().max().unwrap_or(0).max(1);
        let mut chart = ChartBuilder::on(root)
            .margin(2)
            .build_cartesian_2d(0..values.len() - 1, 0..max)?;
        chart.draw_series(LineSeries::new(
            values.iter().enumerate().map(|(i, v)| (i, *v)),
            ACCENT.stroke_width(2),
        ))?;
        Ok(())
    })
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn render(
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> DrawResult,
) -> String {
    let mut svg = String::new();
    let outcome = {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        let drawn = root.fill(&WHITE).map_err(Into::into).and_then(|()| draw(&root));
        drawn.and_then(|()| root.present().map_err(Into::into))
    };
    match outcome {
        // Scales with its container; the intrinsic size stays as the aspect ratio.
        Ok(()) => svg.replacen(
            "<svg ",
            "<svg class=\"chart\" role=\"img\" preserveAspectRatio=\"xMinYMin meet\" ",
            1,
        ),
        Err(err) => {
            tracing::warn!(error = %err, "a chart could not be drawn");
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_draw_every_label_and_value() {
        let svg = bars(&[("whatsapp".into(), 12), ("email".into(), 3)]);
        assert!(svg.starts_with("<svg class=\"chart\""), "{svg}");
        let text = texts(&svg);
        for label in ["whatsapp", "email", "12", "3"] {
            assert!(text.iter().any(|t| t == label), "{label} in {text:?}");
        }
        assert!(
            !svg.contains("style="),
            "inline styles would break the Content-Security-Policy"
        );
    }

    /// The text content of every `<text>` element.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text")
            .skip(1)
            .filter_map(|t| Some(t.split_once('>')?.1.split("</text>").next()?.trim().to_owned()))
            .collect()
    }

    #[test]
    fn labels_are_escaped() {
        let svg = bars(&[("<script>".into(), 1)]);
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
    }

    #[test]
    fn empty_data_draws_nothing() {
        assert!(bars(&[]).is_empty());
        assert!(daily(&[], &[], &[]).is_empty());
        assert!(sparkline(&[4]).is_empty());
    }

    #[test]
    fn a_daily_series_draws_a_line_per_series() {
        let days: Vec<String> = (1..=5).map(|d| format!("2026-11-0{d}")).collect();
        let svg = daily(&days, &[1, 4, 2, 8, 5], &[0, 1, 1, 2, 1]);
        assert!(svg.contains("stroke=\"#0A58CA\" stroke-width=\"3\""), "the clicks line");
        assert!(svg.contains("stroke=\"#57606A\" stroke-width=\"2\""), "the shares line");
        assert!(texts(&svg).iter().any(|t| t == "11-01"), "dates on the axis");
    }
}
