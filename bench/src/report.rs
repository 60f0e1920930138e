//! Results of a scenario: latency distributions from `hdrhistogram`, printed as a table beside
//! their baselines, or as one JSON object (`--json`), and optionally as HdrHistogram percentile
//! files (`--hgrm DIR`) that HdrHistogram's plotter reads.

use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde_json::{json, Map, Value};

/// One measured distribution: `name` is `pulse` for Pulse, the baseline's crate otherwise.
pub struct Measured {
    pub name: &'static str,
    pub case: Option<&'static str>,
    pub histogram: Histogram<u64>,
    /// Extra figures (e.g. throughput) added to the JSON object and the table.
    pub extra: Vec<(&'static str, f64)>,
}

impl Measured {
    fn percentile(&self, q: f64) -> u64 {
        self.histogram.value_at_quantile(q)
    }

    fn to_json(&self) -> Value {
        let h = &self.histogram;
        let mut m = Map::new();
        m.insert("name".into(), json!(self.name));
        if let Some(case) = self.case {
            m.insert("case".into(), json!(case));
        }
        m.insert("unit".into(), json!("ns"));
        m.insert("count".into(), json!(h.len()));
        m.insert("mean".into(), json!((h.mean() * 10.0).round() / 10.0));
        for (key, q) in [
            ("p50", 0.5),
            ("p90", 0.9),
            ("p99", 0.99),
            ("p999", 0.999),
            ("p9999", 0.9999),
        ] {
            m.insert(key.into(), json!(self.percentile(q)));
        }
        m.insert("max".into(), json!(h.max()));
        for (key, v) in &self.extra {
            m.insert((*key).into(), json!(v));
        }
        Value::Object(m)
    }
}

/// What the machine and the run looked like, recorded with every result.
/// `cores` is read at start-up: once a thread is pinned, `available_parallelism` reports one.
pub fn env(layout: &str, cores: usize, pinned: &[Option<usize>]) -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    json!({
        "cpu": cpu,
        "cores": cores,
        "layout": layout,
        "pinned_cores": pinned,
        "profile": if cfg!(debug_assertions) { "debug" } else { "release" },
    })
}

pub fn json(scenario: &str, results: &[Measured], env: Value) -> String {
    let results: Vec<Value> = results.iter().map(Measured::to_json).collect();
    json!({ "scenario": scenario, "results": results, "env": env }).to_string()
}

/// A table with each baseline's p50 and p99 as a ratio to Pulse's in the same case.
pub fn table(scenario: &str, results: &[Measured], env: &Value) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{scenario}: {env}");
    let _ = writeln!(
        s,
        "{:<18} {:<12} {:>10} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10}  {:>9} {:>9}",
        "name",
        "case",
        "count",
        "mean",
        "p50",
        "p90",
        "p99",
        "p99.9",
        "max",
        "p50/pulse",
        "p99/pulse"
    );
    for m in results {
        let pulse = results
            .iter()
            .find(|p| p.name == "pulse" && p.case == m.case);
        let ratio = |q: f64| {
            pulse.map_or("-".to_string(), |p| {
                format!(
                    "{:.2}x",
                    m.percentile(q) as f64 / p.percentile(q).max(1) as f64
                )
            })
        };
        let _ = write!(
            s,
            "{:<18} {:<12} {:>10} {:>8.0} {:>8} {:>8} {:>8} {:>9} {:>10}  {:>9} {:>9}",
            m.name,
            m.case.unwrap_or("-"),
            m.histogram.len(),
            m.histogram.mean(),
            m.percentile(0.5),
            m.percentile(0.9),
            m.percentile(0.99),
            m.percentile(0.999),
            m.histogram.max(),
            ratio(0.5),
            ratio(0.99),
        );
        for (key, v) in &m.extra {
            let _ = write!(s, "  {key} {v:.0}");
        }
        let _ = writeln!(s);
    }
    s
}

/// Writes one HdrHistogram percentile distribution file per result into `dir`.
pub fn write_hgrm(dir: &Path, scenario: &str, results: &[Measured]) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for m in results {
        let file = match m.case {
            Some(case) => format!("{scenario}-{case}-{}.hgrm", m.name),
            None => format!("{scenario}-{}.hgrm", m.name),
        };
        let mut out = String::from("       Value     Percentile TotalCount 1/(1-Percentile)\n\n");
        let h = &m.histogram;
        let mut total = 0;
        for v in h.iter_quantiles(1) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let inverse = if q < 1.0 {
                format!("{:.2}", 1.0 / (1.0 - q))
            } else {
                "inf".into()
            };
            let _ = writeln!(
                out,
                "{:12.3} {:14.12} {:10} {:>14}",
                v.value_iterated_to() as f64,
                q,
                total,
                inverse
            );
        }
        let _ = writeln!(
            out,
            "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
            h.mean(),
            h.stdev()
        );
        let _ = writeln!(
            out,
            "#[Max     = {:12.3}, Total count    = {:12}]",
            h.max() as f64,
            h.len()
        );
        std::fs::write(dir.join(file), out)?;
    }
    Ok(())
}
