//! Small hand-written SVG charts for the report: lines, points over a line, bars and a
//! histogram, each with labelled axes. No script: the page renders the same in any browser and
//! offline.

use std::fmt::Write as _;

const W: f64 = 860.0;
const H: f64 = 300.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;
pub const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A number for an axis label: few digits, no exponent for everyday magnitudes.
pub fn fmt(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        "n/a".into()
    } else if a != 0.0 && !(1e-3..1e7).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.4}")
    }
}

struct Frame {
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn new(xs: impl Iterator<Item = f64> + Clone, ys: impl Iterator<Item = f64> + Clone) -> Frame {
        let fin = |it: &mut dyn Iterator<Item = f64>| {
            it.filter(|v| v.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                    (lo.min(v), hi.max(v))
                })
        };
        let (mut x0, mut x1) = fin(&mut xs.clone());
        let (mut y0, mut y1) = fin(&mut ys.clone());
        if x0 > x1 {
            (x0, x1) = (0.0, 1.0);
        }
        if y0 > y1 {
            (y0, y1) = (0.0, 1.0);
        }
        if x1 == x0 {
            x1 = x0 + 1.0;
        }
        if y1 == y0 {
            let pad = if y0 == 0.0 { 1.0 } else { y0.abs() * 1e-3 };
            (y0, y1) = (y0 - pad, y1 + pad);
        }
        let pad = (y1 - y0) * 0.05;
        Frame {
            x0,
            x1,
            y0: y0 - pad,
            y1: y1 + pad,
        }
    }

    fn x(&self, v: f64) -> f64 {
        LEFT + (v - self.x0) / (self.x1 - self.x0) * (W - LEFT - RIGHT)
    }

    fn y(&self, v: f64) -> f64 {
        TOP + (H - TOP - BOTTOM) - (v - self.y0) / (self.y1 - self.y0) * (H - TOP - BOTTOM)
    }

    fn axes(&self, s: &mut String, x_label: &str, y_label: &str) {
        let (bx, by) = (H - BOTTOM, LEFT);
        let _ = write!(
            s,
            r##"<line x1="{by}" y1="{bx}" x2="{}" y2="{bx}" stroke="#444"/><line x1="{by}" y1="{TOP}" x2="{by}" y2="{bx}" stroke="#444"/>"##,
            W - RIGHT
        );
        for k in 0..=4 {
            let f = k as f64 / 4.0;
            let xv = self.x0 + f * (self.x1 - self.x0);
            let yv = self.y0 + f * (self.y1 - self.y0);
            let (px, py) = (self.x(xv), self.y(yv));
            let _ = write!(
                s,
                r##"<text x="{px:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text><text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end">{}</text><line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#eee"/>"##,
                bx + 15.0,
                fmt(xv),
                LEFT - 5.0,
                py + 4.0,
                fmt(yv),
                W - RIGHT
            );
        }
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text><text x="14" y="{:.1}" font-size="12" text-anchor="middle" transform="rotate(-90 14 {:.1})">{}</text>"##,
            LEFT + (W - LEFT - RIGHT) / 2.0,
            H - 8.0,
            escape(x_label),
            TOP + (H - TOP - BOTTOM) / 2.0,
            TOP + (H - TOP - BOTTOM) / 2.0,
            escape(y_label)
        );
    }
}

fn open(id: &str) -> String {
    format!(r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {H}" width="{W}" height="{H}">"#)
}

fn legend(s: &mut String, names: &[&str]) {
    for (i, n) in names.iter().enumerate() {
        let x = LEFT + 10.0 + 150.0 * i as f64;
        let _ = write!(
            s,
            r#"<rect x="{x}" y="{TOP}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            COLORS[i % COLORS.len()],
            x + 14.0,
            TOP + 9.0,
            escape(n)
        );
    }
}

/// Lines, each `(name, points)`.
pub fn lines(id: &str, series: &[(&str, Vec<(f64, f64)>)], x_label: &str, y_label: &str) -> String {
    let all = series.iter().flat_map(|(_, p)| p.iter());
    let f = Frame::new(all.clone().map(|p| p.0), all.map(|p| p.1));
    let mut s = open(id);
    f.axes(&mut s, x_label, y_label);
    for (i, (_, pts)) in series.iter().enumerate() {
        let mut d = String::new();
        for (x, y) in pts.iter().filter(|p| p.1.is_finite()) {
            let _ = write!(d, "{:.1},{:.1} ", f.x(*x), f.y(*y));
        }
        let _ = write!(
            s,
            r#"<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>"#,
            COLORS[i % COLORS.len()],
            d.trim_end()
        );
    }
    if series.len() > 1 {
        legend(&mut s, &series.iter().map(|(n, _)| *n).collect::<Vec<_>>());
    }
    s.push_str("</svg>");
    s
}

/// A line with points over it: `points` are `(x, y, series)`, each series its own color.
pub fn points_over_line(
    id: &str,
    line: &[(f64, f64)],
    points: &[(f64, f64, usize)],
    names: &[&str],
    x_label: &str,
    y_label: &str,
) -> String {
    let xs = line.iter().map(|p| p.0).chain(points.iter().map(|p| p.0));
    let ys = line.iter().map(|p| p.1).chain(points.iter().map(|p| p.1));
    let f = Frame::new(xs, ys);
    let mut s = open(id);
    f.axes(&mut s, x_label, y_label);
    let mut d = String::new();
    for (x, y) in line.iter().filter(|p| p.1.is_finite()) {
        let _ = write!(d, "{:.1},{:.1} ", f.x(*x), f.y(*y));
    }
    let _ = write!(
        s,
        r##"<polyline fill="none" stroke="#999" stroke-width="1" points="{}"/>"##,
        d.trim_end()
    );
    for (x, y, k) in points {
        let _ = write!(
            s,
            r#"<circle class="point" cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
            f.x(*x),
            f.y(*y),
            COLORS[(k + 2) % COLORS.len()]
        );
    }
    let _ = write!(
        s,
        r##"<rect x="{}" y="{TOP}" width="10" height="2" fill="#999"/><text x="{}" y="{}" font-size="11">mid</text>"##,
        LEFT + 10.0,
        LEFT + 24.0,
        TOP + 5.0
    );
    for (i, n) in names.iter().enumerate() {
        let x = LEFT + 80.0 + 100.0 * i as f64;
        let _ = write!(
            s,
            r#"<circle cx="{x}" cy="{}" r="4" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
            TOP + 4.0,
            COLORS[(i + 2) % COLORS.len()],
            x + 8.0,
            TOP + 8.0,
            escape(n)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars, one per `(label, value)`; negative values go left of zero.
pub fn bars(id: &str, rows: &[(String, f64)], value_label: &str) -> String {
    let h = (rows.len().max(1) as f64) * 26.0 + TOP + BOTTOM;
    let lo = rows.iter().map(|r| r.1).fold(0.0f64, f64::min);
    let hi = rows.iter().map(|r| r.1).fold(0.0f64, f64::max);
    let (lo, hi) = if lo == hi { (0.0, 1.0) } else { (lo, hi) };
    let left = 190.0;
    let x = |v: f64| left + (v - lo) / (hi - lo) * (W - left - RIGHT - 80.0);
    let mut s =
        format!(r#"<svg id="{id}" class="chart" viewBox="0 0 {W} {h}" width="{W}" height="{h}">"#);
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = TOP + i as f64 * 26.0;
        let (a, b) = (x(0.0).min(x(*v)), x(0.0).max(x(*v)));
        let color = if *v < 0.0 { COLORS[1] } else { COLORS[0] };
        let _ = write!(
            s,
            r#"<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text><rect class="bar" x="{a:.1}" y="{y}" width="{:.1}" height="18" fill="{color}"/><text x="{:.1}" y="{}" font-size="11">{}</text>"#,
            left - 6.0,
            y + 13.0,
            escape(label),
            (b - a).max(1.0),
            b + 4.0,
            y + 13.0,
            fmt(*v)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="12" text-anchor="middle">{}</text></svg>"#,
        left + (W - left) / 2.0,
        h - 15.0,
        escape(value_label)
    );
    s
}

/// A histogram of `values` in `bins` equal bins.
pub fn histogram(id: &str, values: &[f64], bins: usize, x_label: &str) -> String {
    let fin: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let lo = fin.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = fin.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if fin.is_empty() {
        (0.0, 1.0)
    } else if lo == hi {
        (lo - 0.5, hi + 0.5)
    } else {
        (lo, hi)
    };
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0u64; bins];
    for v in &fin {
        let b = (((v - lo) / width) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let max = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let f = Frame {
        x0: lo,
        x1: hi,
        y0: 0.0,
        y1: max * 1.05,
    };
    let mut s = open(id);
    f.axes(&mut s, x_label, "count");
    for (i, c) in counts.iter().enumerate() {
        let (a, b) = (f.x(lo + width * i as f64), f.x(lo + width * (i + 1) as f64));
        let top = f.y(*c as f64);
        let _ = write!(
            s,
            r#"<rect class="bar" x="{a:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{}"/>"#,
            (b - a - 1.0).max(0.5),
            f.y(0.0) - top,
            COLORS[0]
        );
    }
    s.push_str("</svg>");
    s
}
