//! `--plot FILE.svg`: every result's latency by percentile, like HdrHistogram's plotter. The
//! x axis is the percentile on a log scale of `1 / (1 - p)` (so 90%, 99%, 99.9%, 99.99% are
//! evenly spaced and the tail gets the room it deserves), the y axis latency on a log scale.
//! Hand-written SVG: one polyline per result, a legend, labelled axes; no dependency.

use std::fmt::Write as _;

use crate::report::Measured;

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 60.0;
/// The x axis ends at 99.999%: `1 / (1 - p)` = 10^5.
const X_DECADES: f64 = 5.0;
const COLORS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

fn label(r: &Measured) -> String {
    match r.case {
        Some(case) => format!("{} ({case})", r.name),
        None => r.name.to_string(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The SVG document for `results` of `scenario`.
pub fn svg(scenario: &str, results: &[Measured]) -> String {
    let (lo, hi) = results
        .iter()
        .filter(|r| !r.histogram.is_empty())
        .fold((u64::MAX, 1u64), |(lo, hi), r| {
            (lo.min(r.histogram.min().max(1)), hi.max(r.histogram.max()))
        });
    let (y_lo, y_hi) = if lo > hi {
        (0.0, 1.0)
    } else {
        (
            (lo as f64).log10().floor(),
            (hi as f64)
                .log10()
                .ceil()
                .max((lo as f64).log10().floor() + 1.0),
        )
    };
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |p: f64| {
        let v = (1.0 / (1.0 - p.min(0.999_999_9))).log10().min(X_DECADES);
        LEFT + v / X_DECADES * plot_w
    };
    let y = |ns: f64| TOP + plot_h - ((ns.max(1.0)).log10() - y_lo) / (y_hi - y_lo) * plot_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="22" font-size="15">pulse-bench {}: latency by percentile</text>"#,
        LEFT,
        escape(scenario)
    );
    for (i, name) in ["0%", "90%", "99%", "99.9%", "99.99%", "99.999%"]
        .iter()
        .enumerate()
    {
        let xi = LEFT + i as f64 / X_DECADES * plot_w;
        let _ = writeln!(
            s,
            r##"<line x1="{xi:.1}" y1="{TOP}" x2="{xi:.1}" y2="{:.1}" stroke="#ddd"/><text x="{xi:.1}" y="{:.1}" text-anchor="middle">{name}</text>"##,
            TOP + plot_h,
            TOP + plot_h + 18.0
        );
    }
    let mut decade = y_lo;
    while decade <= y_hi {
        let yi = y(10f64.powf(decade));
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{yi:.1}" x2="{:.1}" y2="{yi:.1}" stroke="#ddd"/><text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"##,
            LEFT + plot_w,
            LEFT - 6.0,
            yi + 4.0,
            human(10f64.powf(decade))
        );
        decade += 1.0;
    }
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 15.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.1}" transform="rotate(-90 18 {:.1})" text-anchor="middle">latency (log scale)</text>"#,
        TOP + plot_h / 2.0,
        TOP + plot_h / 2.0
    );
    for (i, r) in results.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let mut points = String::new();
        for v in r.histogram.iter_quantiles(1) {
            let _ = write!(
                points,
                "{:.1},{:.1} ",
                x(v.quantile_iterated_to()),
                y(r.histogram.highest_equivalent(v.value_iterated_to()) as f64)
            );
        }
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="1.6" points="{}"><title>{}</title></polyline>"#,
            points.trim_end(),
            escape(&label(r))
        );
        let ly = TOP + 16.0 + i as f64 * 18.0;
        let lx = LEFT + plot_w + 14.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.1}" y1="{ly:.1}" x2="{:.1}" y2="{ly:.1}" stroke="{color}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
            lx + 20.0,
            lx + 26.0,
            ly + 4.0,
            escape(&label(r))
        );
    }
    s.push_str("</svg>\n");
    s
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.0} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.0} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.0} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}
