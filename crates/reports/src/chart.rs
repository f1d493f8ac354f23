//! A bar chart as inline SVG: no script, no font file, no external reference, so the published
//! report is one self-contained HTML file.

use crate::suppress::Cell;
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 40.0;

/// Escapes text for HTML and SVG.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
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

/// A "nice" axis maximum and step at or above `max` (1, 2 or 5 times a power of ten).
fn axis(max: u64) -> (u64, u64) {
    if max == 0 {
        return (4, 1);
    }
    let raw = (max as f64 / 4.0).max(1.0);
    let power = 10f64.powi(raw.log10().floor() as i32);
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power) as u64;
    let top = max.div_ceil(step) * step;
    (top.max(step), step)
}

fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// A bar per (label, cell). Suppressed cells get no bar, only a mark and a tooltip.
pub(crate) fn bars(title: &str, points: &[(String, Cell)]) -> String {
    let max = points
        .iter()
        .filter_map(|(_, c)| c.count())
        .max()
        .unwrap_or(0);
    let (top, step) = axis(max);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y = |v: u64| TOP + plot_h - plot_h * v as f64 / top as f64;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = escape(title)
    );
    let _ = write!(
        s,
        r##"<text x="{LEFT}" y="16" font-family="sans-serif" font-size="13" font-weight="bold">{}</text>"##,
        escape(title)
    );
    let mut v = 0;
    while v <= top {
        let yy = y(v);
        let _ = write!(
            s,
            r##"<line x1="{LEFT}" x2="{x2}" y1="{yy:.1}" y2="{yy:.1}" stroke="#ddd"/><text x="{tx}" y="{ty:.1}" font-family="sans-serif" font-size="10" text-anchor="end">{label}</text>"##,
            x2 = WIDTH - RIGHT,
            tx = LEFT - 6.0,
            ty = yy + 3.5,
            label = thousands(v)
        );
        v += step;
    }
    let n = points.len().max(1) as f64;
    let slot = plot_w / n;
    for (i, (label, cell)) in points.iter().enumerate() {
        let x = LEFT + slot * i as f64;
        let tip = format!("{label}: {}", cell.text());
        match cell {
            Cell::Count(v) => {
                let top_y = y(*v);
                let _ = write!(
                    s,
                    r##"<rect x="{bx:.1}" y="{top_y:.1}" width="{bw:.1}" height="{bh:.1}" fill="#2b6cb0"><title>{tip}</title></rect>"##,
                    bx = x + slot * 0.15,
                    bw = slot * 0.7,
                    bh = TOP + plot_h - top_y,
                    tip = escape(&tip)
                );
            }
            _ => {
                let _ = write!(
                    s,
                    r##"<text x="{cx:.1}" y="{cy:.1}" font-family="sans-serif" font-size="9" text-anchor="middle" fill="#666">{mark}<title>{tip}</title></text>"##,
                    cx = x + slot / 2.0,
                    cy = TOP + plot_h - 3.0,
                    mark = escape(&cell.text()),
                    tip = escape(&tip)
                );
            }
        }
        // Every third month is labelled, and the last.
        if i % 3 == 0 || i + 1 == points.len() {
            let _ = write!(
                s,
                r##"<text x="{cx:.1}" y="{ly:.1}" font-family="sans-serif" font-size="10" text-anchor="middle">{}</text>"##,
                escape(label),
                cx = x + slot / 2.0,
                ly = HEIGHT - BOTTOM + 16.0
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" x2="{x2}" y1="{yb:.1}" y2="{yb:.1}" stroke="#333"/></svg>"##,
        x2 = WIDTH - RIGHT,
        yb = TOP + plot_h
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_is_round_and_covers_the_maximum() {
        assert_eq!(axis(0), (4, 1));
        assert_eq!(axis(15_000), (15_000, 5_000));
        assert_eq!(axis(15_001), (20_000, 5_000));
        assert_eq!(axis(37), (40, 10));
        assert_eq!(axis(3), (3, 1));
        assert_eq!(thousands(15000), "15,000");
        assert_eq!(thousands(999), "999");
    }

    #[test]
    fn chart_is_self_contained_and_escaped() {
        let svg = bars(
            "Searches <per> month",
            &[
                ("2026-09".into(), Cell::Count(40)),
                ("2026-10".into(), Cell::Small),
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Searches &lt;per&gt; month"));
        assert!(svg.contains("2026-10: &lt;5"));
        assert_eq!(svg.matches("<rect").count(), 1);
        assert!(!svg.contains("<script") && !svg.contains("href"));
    }
}
