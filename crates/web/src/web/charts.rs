//! Charts drawn on the server as inline SVG: readable with no script, scaled by the browser, with
//! a title and a description for screen readers (the numbers themselves are always in a table
//! beside the chart). Two kinds: lines over nights, and horizontal bars by category.
//!
//! Colours come from classes (`.series-0`, `.bar`) styled in static/app.css, so the charts follow
//! the page's theme.

use std::fmt::Write;

/// One line of a line chart.
pub struct Series<'a> {
    pub name: &'a str,
    pub values: Vec<i64>,
}

// Drawn about as wide as a phone shows it, so that 14-unit labels stay near 12 px on a 390-px
// screen (at 640 units they shrank to 6 px).
const WIDTH: i64 = 400;
const HEIGHT: i64 = 220;
const LEFT: i64 = 48;
const RIGHT: i64 = 12;
const TOP: i64 = 12;
const LEGEND: i64 = 18;
const BOTTOM: i64 = 28;

/// Escapes text for SVG/HTML content and attribute values.
pub fn escape(text: &str) -> String {
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

/// The smallest of 1, 2, 5 × 10ⁿ at or above `v` (at least 1): the top of the axis.
pub fn nice_ceiling(v: i64) -> i64 {
    let mut step = 1i64;
    loop {
        for m in [1, 2, 5] {
            if let Some(x) = step.checked_mul(m)
                && x >= v
            {
                return x;
            }
        }
        match step.checked_mul(10) {
            Some(s) => step = s,
            None => return i64::MAX,
        }
    }
}

fn open_svg(out: &mut String, id: &str, title: &str, desc: &str, height: i64) {
    let _ = write!(
        out,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-title {id}-desc" xmlns="http://www.w3.org/2000/svg"><title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(title),
        escape(desc)
    );
}

/// A line per series over `labels` (one value per label), with a y axis from 0.
pub fn line_chart(id: &str, title: &str, labels: &[String], series: &[Series<'_>]) -> String {
    let id = escape(id);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(0);
    let top = nice_ceiling(max);
    let n = labels.len() as i64;
    let plot_w = WIDTH - LEFT - RIGHT;
    // Room for a legend above the plot when there is more than one line.
    let top_margin = if series.len() > 1 { TOP + LEGEND } else { TOP };
    let plot_h = HEIGHT - top_margin - BOTTOM;
    let x = |i: i64| {
        if n <= 1 {
            LEFT + plot_w / 2
        } else {
            LEFT + i * plot_w / (n - 1)
        }
    };
    let y = |v: i64| top_margin + plot_h - (v.clamp(0, top) as i128 * plot_h as i128 / top as i128) as i64;

    let mut desc = String::new();
    if let (Some(first), Some(last)) = (labels.first(), labels.last()) {
        let _ = write!(desc, "{first} – {last}. ");
    }
    for s in series {
        let total: i64 = s.values.iter().sum();
        let _ = write!(desc, "{}: {total}", s.name);
        if let Some((i, v)) = s
            .values
            .iter()
            .enumerate()
            .max_by_key(|(i, v)| (**v, std::cmp::Reverse(*i)))
            && let Some(l) = labels.get(i)
        {
            let _ = write!(desc, ", max {v} ({l})");
        }
        desc.push_str(". ");
    }

    let mut out = String::new();
    open_svg(&mut out, &id, title, desc.trim_end(), HEIGHT);
    // Grid and y labels: 0, the middle (when it is a whole number) and the top.
    let ticks: Vec<i64> = if top % 2 == 0 {
        vec![0, top / 2, top]
    } else {
        vec![0, top]
    };
    for v in ticks {
        let yy = y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy}" x2="{}" y2="{yy}"/><text class="tick" x="{}" y="{}" text-anchor="end">{v}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6,
            yy + 4
        );
    }
    // x labels: first, middle and last.
    let mut shown: Vec<i64> = vec![0, (n - 1) / 2, n - 1];
    shown.dedup();
    for i in shown.into_iter().filter(|i| *i >= 0) {
        if let Some(l) = labels.get(i as usize) {
            let anchor = match (i, n - 1) {
                (0, last) if last > 0 => "start",
                (i, last) if i == last && last > 0 => "end",
                _ => "middle",
            };
            let _ = write!(
                out,
                r#"<text class="tick" x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
                x(i),
                HEIGHT - 8,
                escape(l)
            );
        }
    }
    for (k, s) in series.iter().enumerate() {
        let points: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{},{}", x(i as i64), y(*v)))
            .collect();
        let _ = write!(out, r#"<g class="series series-{k}"><title>{}</title>"#, escape(s.name));
        if points.len() > 1 {
            let _ = write!(out, r#"<polyline fill="none" points="{}"/>"#, points.join(" "));
        }
        // Each point carries its value, readable on hover or by a screen reader, with no script.
        if points.len() <= 31 {
            for (i, v) in s.values.iter().enumerate() {
                let label = labels.get(i).map(String::as_str).unwrap_or("");
                let _ = write!(
                    out,
                    r#"<circle cx="{}" cy="{}" r="3"><title>{}: {} {v}</title></circle>"#,
                    x(i as i64),
                    y(*v),
                    escape(label),
                    escape(s.name)
                );
            }
        }
        out.push_str("</g>");
    }
    // A legend naming each line in its own style, when there is more than one.
    if series.len() > 1 {
        let mut lx = LEFT;
        for (k, s) in series.iter().enumerate() {
            let _ = write!(
                out,
                r#"<g class="series series-{k} legend"><polyline fill="none" points="{lx},{ly} {},{ly}"/><text class="tick" x="{}" y="{}">{}</text></g>"#,
                lx + 18,
                lx + 22,
                TOP + 5,
                escape(s.name),
                ly = TOP
            );
            lx += 30 + 14 * s.name.chars().count() as i64;
        }
    }
    out.push_str("</svg>");
    out
}

/// Horizontal bars, one per (label, value), longest bar for the largest value.
pub fn bar_chart(id: &str, title: &str, bars: &[(String, i64)]) -> String {
    let id = escape(id);
    let row = 26i64;
    let label_w = 150i64;
    let height = (bars.len() as i64 * row).max(row) + 8;
    let top = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let plot_w = WIDTH - label_w - 60;
    let desc = bars
        .iter()
        .map(|(l, v)| format!("{l}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut out = String::new();
    open_svg(&mut out, &id, title, &desc, height);
    for (i, (label, value)) in bars.iter().enumerate() {
        let y0 = 4 + i as i64 * row;
        let w = (value.clamp(&0, &top) * plot_w) / top;
        let _ = write!(
            out,
            r#"<text class="tick" x="{}" y="{}" text-anchor="end">{}</text><rect class="bar" x="{label_w}" y="{}" width="{w}" height="{}"/><text class="value" x="{}" y="{}">{value}</text>"#,
            label_w - 8,
            y0 + 17,
            escape(label),
            y0 + 4,
            row - 8,
            label_w + w + 6,
            y0 + 17
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0), 1);
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(11), 20);
        assert_eq!(nice_ceiling(200), 200);
        assert_eq!(nice_ceiling(201), 500);
        assert_eq!(nice_ceiling(i64::MAX), i64::MAX);
    }

    #[test]
    fn a_line_runs_from_the_bottom_to_the_top_of_the_plot() {
        let svg = line_chart(
            "scans",
            "Scans",
            &labels(3),
            &[Series {
                name: "scans",
                values: vec![0, 5, 10],
            }],
        );
        // 0 sits on the x axis (TOP + plot height), the top value (10 = nice ceiling) at TOP.
        assert!(svg.contains(r#"points="48,192 218,102 388,12""#), "{svg}");
        // Each point says its value.
        assert!(svg.contains("<title>2026-11-03: scans 10</title>"), "{svg}");
        // Ticks at 0, the middle and the top.
        assert!(svg.contains(">0</text>") && svg.contains(">5</text>") && svg.contains(">10</text>"));
        assert!(svg.contains(r#"<title id="scans-title">Scans</title>"#));
        assert!(svg.contains("2026-11-01 – 2026-11-03. scans: 15, max 10 (2026-11-03)."));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn one_night_is_a_dot_and_no_data_is_an_empty_axis() {
        let svg = line_chart(
            "one",
            "One",
            &labels(1),
            &[Series {
                name: "visitors",
                values: vec![4],
            }],
        );
        assert!(!svg.contains("polyline"));
        // 4 of an axis topped at 5: four fifths of the 180-unit plot above its bottom (192).
        assert!(
            svg.contains(r#"<circle cx="218" cy="48" r="3"><title>2026-11-01: visitors 4</title></circle>"#),
            "{svg}"
        );
        let empty = line_chart("none", "None", &[], &[]);
        assert!(empty.contains(">0</text>") && !empty.contains("circle"));
    }

    #[test]
    fn text_is_escaped() {
        let svg = bar_chart("b", "<script>", &[("A&B \"x\"".into(), 3)]);
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
        assert!(svg.contains("A&amp;B &quot;x&quot;"));
    }

    #[test]
    fn bars_scale_to_the_largest() {
        let svg = bar_chart("b", "Bars", &[("a".into(), 10), ("b".into(), 5), ("c".into(), 0)]);
        let plot_w = WIDTH - 150 - 60;
        assert!(svg.contains(&format!(r#"width="{plot_w}""#)));
        assert!(svg.contains(&format!(r#"width="{}""#, plot_w / 2)));
        assert!(svg.contains(r#"width="0""#));
        assert!(svg.contains("<desc id=\"b-desc\">a: 10; b: 5; c: 0</desc>"));
    }
}
