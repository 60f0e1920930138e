//! `pulse stats [--name NAME | --file PATH] [--run-dir DIR] [--once] [--json]
//! [--interval-ms N] [--prometheus ADDR]`: a running engine's stats file, read without
//! disturbing it.
//!
//! By default a live view redrawn every interval until Ctrl-C: counters with their rate,
//! gauges, stale instruments and per-stage latency. `--once` prints one snapshot (`--json`: as
//! one JSON object); `--prometheus ADDR` serves `/metrics` from the file instead. Every name
//! read from the file is printed escaped (`\u{1b}`): a file is data, never terminal control.
//!
//! Exit status: 0 after Ctrl-C or a printed snapshot; 1 when there is no engine to read (no
//! file, a dead pid, a file from another layout version) or the engine stops during the view.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use pulse_core::counters::CounterId;
use pulse_feeds::counters::BookCounter;

use crate::run_dir::{self, euid, RunDir};
use crate::stats::liveness::pid_alive;
use crate::stats::{check_instance_name, prometheus, AttachError, MetricKind, MetricsServer};
use crate::stats::{StatsReader, StatsSnapshot};

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    /// The engine's instance name (`[engine] name`): reads NAME.stats in the run directory.
    /// Without it or --file, the one engine running in the run directory.
    #[arg(long, conflicts_with = "file")]
    pub name: Option<String>,
    /// A stats file at another path (`[metrics] stats_file`).
    #[arg(long, value_name = "PATH")]
    pub file: Option<PathBuf>,
    /// The engine's run directory (`[engine] run_dir`), when its config moved it.
    #[arg(long, value_name = "DIR", conflicts_with = "file")]
    pub run_dir: Option<PathBuf>,
    /// Print one snapshot and exit.
    #[arg(long)]
    pub once: bool,
    /// With --once: print the snapshot as one JSON object.
    #[arg(long, requires = "once")]
    pub json: bool,
    /// How often the live view refreshes.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(10..))]
    pub interval_ms: u64,
    /// Serve the file as Prometheus text at http://ADDR/metrics until Ctrl-C.
    #[arg(long, value_name = "ADDR", conflicts_with = "once")]
    pub prometheus: Option<SocketAddr>,
}

/// How often `--prometheus` polls its sockets: a scrape waits at most this long.
const SERVE_POLL: Duration = Duration::from_millis(5);

pub fn run(args: &StatsArgs) -> ExitCode {
    match run_checked(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("pulse stats: {msg}");
            ExitCode::FAILURE
        }
    }
}

fn run_checked(args: &StatsArgs) -> Result<(), String> {
    let reader = attach(args)?;
    if args.once {
        let snap = reader.snapshot();
        if args.json {
            let json = serde_json::to_string(&snap).map_err(|e| e.to_string())?;
            println!("{json}");
        } else {
            print!("{}", render_text(&snap, None));
        }
        return Ok(());
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| format!("cannot install signal handler: {e}"))?;
    }
    match args.prometheus {
        Some(addr) => serve(&reader, addr, &stop),
        None => live(&reader, Duration::from_millis(args.interval_ms), &stop),
    }
}

/// Opens the file the arguments name, and refuses one whose engine is gone.
fn attach(args: &StatsArgs) -> Result<StatsReader, String> {
    let (path, name) = match (&args.file, &args.name) {
        (Some(file), _) => (file.clone(), None),
        (None, name) => {
            let dir = RunDir::open(&args.run_dir.clone().unwrap_or_else(run_dir::default_dir))?;
            match name {
                Some(name) => {
                    check_instance_name(name)?;
                    (dir.stats_file(name), Some(name.clone()))
                }
                None => {
                    let (path, name) = discover(&dir)?;
                    (path, Some(name))
                }
            }
        }
    };
    let reader = match (StatsReader::open(&path), name) {
        (Ok(r), _) => r,
        (Err(AttachError::NotFound { .. }), Some(name)) => {
            return Err(format!(
                "no engine named {name} is running (no {})",
                path.display()
            ))
        }
        (Err(e @ AttachError::NotFound { .. }), None) => return Err(e.to_string()),
        (Err(e), _) => return Err(format!("{}: {e}", path.display())),
    };
    if !pid_alive(reader.pid()) {
        return Err(format!(
            "engine pid {} is not running; stale stats file {} (the next engine named {} \
             replaces it)",
            reader.pid(),
            path.display(),
            shown(reader.name())
        ));
    }
    Ok(reader)
}

/// The one live engine in the run directory, when no name is given: only regular files of
/// ours named `<name>.stats` whose engine is alive count, so a stale, foreign or stray file
/// changes nothing.
pub(crate) fn discover(dir: &RunDir) -> Result<(PathBuf, String), String> {
    let shown_dir = dir.path().display();
    let mut live: Vec<(PathBuf, String)> = std::fs::read_dir(dir.path())
        .map_err(|e| format!("cannot list {shown_dir}: {e}"))?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let file = entry.file_name().into_string().ok()?;
            let name = file.strip_suffix(".stats")?;
            check_instance_name(name).ok()?;
            let meta = entry.metadata().ok()?;
            if !meta.is_file() || meta.uid() != euid() {
                return None;
            }
            let reader = StatsReader::open(&entry.path()).ok()?;
            reader
                .engine_alive()
                .then(|| (entry.path(), name.to_string()))
        })
        .collect();
    live.sort();
    match live.as_slice() {
        [] => Err(format!(
            "no engine is running (no live <name>.stats in {shown_dir})"
        )),
        [one] => Ok(one.clone()),
        _ => {
            let names: Vec<&str> = live.iter().map(|(_, name)| name.as_str()).collect();
            Err(format!(
                "several engines are running ({}): choose one with --name",
                names.join(", ")
            ))
        }
    }
}

fn live(reader: &StatsReader, interval: Duration, stop: &AtomicBool) -> Result<(), String> {
    let mut previous: Option<StatsSnapshot> = None;
    let mut out = std::io::stdout();
    // Relaxed: the flag carries no data, only "stop soon".
    while !stop.load(Ordering::Relaxed) {
        let snap = reader.snapshot();
        // Clear the screen and home the cursor, then redraw.
        let frame = format!("\x1b[H\x1b[2J{}", render_text(&snap, previous.as_ref()));
        out.write_all(frame.as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("cannot write to stdout: {e}"))?;
        if !pid_alive(snap.pid) {
            return Err(format!("engine pid {} has stopped", snap.pid));
        }
        previous = Some(snap);
        let next = Instant::now() + interval;
        // Relaxed: as above.
        while Instant::now() < next && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(20).min(interval));
        }
    }
    Ok(())
}

fn serve(reader: &StatsReader, addr: SocketAddr, stop: &AtomicBool) -> Result<(), String> {
    let mut server =
        MetricsServer::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = server.local_addr().map_err(|e| e.to_string())?;
    println!(
        "serving http://{local}/metrics from {} (engine {}, pid {}) until Ctrl-C",
        reader.path().display(),
        shown(reader.name()),
        reader.pid()
    );
    // Relaxed: the flag carries no data, only "stop soon".
    while !stop.load(Ordering::Relaxed) {
        server
            .poll(|body| prometheus::render(&reader.snapshot(), body))
            .map_err(|e| format!("{local}: {e}"))?;
        std::thread::sleep(SERVE_POLL);
    }
    Ok(())
}

/// A metric's name and label: what identifies it across refreshes.
type SeriesKey<'a> = (&'a str, Option<&'a (String, String)>);

/// The text view; `previous` (the last refresh) gives counter rates.
pub fn render_text(snap: &StatsSnapshot, previous: Option<&StatsSnapshot>) -> String {
    let mut out = String::new();
    let health = snap.health.map_or("unknown", |h| h.as_str());
    let _ = writeln!(
        out,
        "pulse {}  pid {}  up {}  health {}  heartbeat {:.1} s ago{}",
        shown(&snap.name),
        snap.pid,
        duration(snap.taken_ns.saturating_sub(snap.start_time_ns)),
        health,
        snap.heartbeat_age_ns() as f64 / 1e9,
        if snap.alive { "" } else { "  NOT RESPONDING" }
    );
    let prior: BTreeMap<SeriesKey<'_>, i64> = previous
        .map(|p| {
            p.metrics
                .iter()
                .map(|m| ((m.name.as_str(), m.label.as_ref()), m.value))
                .collect()
        })
        .unwrap_or_default();
    let elapsed_s = previous.map_or(0.0, |p| {
        snap.taken_ns.saturating_sub(p.taken_ns) as f64 / 1e9
    });
    let series = |m: &crate::stats::MetricValue| match &m.label {
        Some((k, v)) => format!("{}{{{}=\"{}\"}}", shown(&m.name), shown(k), shown(v)),
        None => shown(&m.name),
    };
    let width = snap
        .metrics
        .iter()
        .map(|m| series(m).len())
        .max()
        .unwrap_or(0)
        .max(24);
    let _ = writeln!(
        out,
        "\ncounters{:>w$}{:>14}",
        "value",
        "per s",
        w = width + 8
    );
    for m in snap
        .metrics
        .iter()
        .filter(|m| m.kind == MetricKind::Counter)
    {
        let rate = match prior.get(&(m.name.as_str(), m.label.as_ref())) {
            Some(before) if elapsed_s > 0.0 => {
                format!("{:.1}", (m.value - before) as f64 / elapsed_s)
            }
            _ => "-".to_string(),
        };
        let _ = writeln!(out, "  {:<width$}{:>14}{:>14}", series(m), m.value, rate);
    }
    let _ = writeln!(out, "gauges");
    let is_stale = |m: &&crate::stats::MetricValue| {
        m.name == BookCounter::Stale.descriptor().name
            && m.label.as_ref().is_some_and(|(k, _)| k == "instrument")
    };
    for m in snap
        .metrics
        .iter()
        .filter(|m| m.kind == MetricKind::Gauge && !is_stale(m))
    {
        let _ = writeln!(out, "  {:<width$}{:>14}", series(m), m.value);
    }
    let stale: Vec<String> = snap
        .metrics
        .iter()
        .filter(|m| is_stale(m) && m.value != 0)
        .filter_map(|m| m.label.as_ref().map(|(_, v)| shown(v)))
        .collect();
    if snap.metrics.iter().any(|m| is_stale(&m)) {
        let listed = if stale.is_empty() {
            "none".to_string()
        } else {
            stale.join(", ")
        };
        let _ = writeln!(out, "stale instruments: {listed}");
    }
    if !snap.latencies.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<18}{:>12}{:>10}{:>10}{:>10}{:>10}{:>10}",
            "latency", "count", "p50", "p99", "p99.9", "max", "dropped"
        );
        for s in &snap.latencies {
            if !s.consistent {
                let _ = writeln!(out, "  {:<16}(being written)", shown(&s.stage));
                continue;
            }
            let _ = writeln!(
                out,
                "  {:<16}{:>12}{:>10}{:>10}{:>10}{:>10}{:>10}",
                shown(&s.stage),
                s.count,
                nanos(s.p50),
                nanos(s.p99),
                nanos(s.p999),
                nanos(s.max),
                s.dropped
            );
        }
    }
    out
}

/// A name from the stats file as it may be printed: control characters and anything else
/// unprintable escaped (`\u{1b}`), so a planted file cannot drive the terminal.
fn shown(name: &str) -> String {
    name.escape_debug().to_string()
}

/// `850ns`, `1.2µs`, `3.45ms`, `1.20s`.
fn nanos(ns: u64) -> String {
    match ns {
        0..=999 => format!("{ns}ns"),
        1_000..=999_999 => format!("{:.1}µs", ns as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.2}ms", ns as f64 / 1e6),
        _ => format!("{:.2}s", ns as f64 / 1e9),
    }
}

/// `3h02m07s`, `2m07s`, `7s`.
fn duration(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m{sec:02}s"),
        (h, min, sec) => format!("{h}h{min:02}m{sec:02}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Health, MetricValue, StageLatency};

    fn metric(
        name: &str,
        kind: MetricKind,
        label: Option<(&str, &str)>,
        value: i64,
    ) -> MetricValue {
        MetricValue {
            name: name.into(),
            kind,
            label: label.map(|(k, v)| (k.into(), v.into())),
            help: String::new(),
            value,
        }
    }

    fn snapshot(taken_s: u64, messages: i64) -> StatsSnapshot {
        StatsSnapshot {
            name: "demo".into(),
            pid: 42,
            start_time_ns: 0,
            heartbeat_ns: taken_s * 1_000_000_000 - 200_000_000,
            taken_ns: taken_s * 1_000_000_000,
            alive: true,
            health: Some(Health::Healthy),
            metrics: vec![
                metric("feed_messages", MetricKind::Counter, None, messages),
                metric(
                    "position",
                    MetricKind::Gauge,
                    Some(("instrument", "BTCUSDT")),
                    -3,
                ),
                metric(
                    "stale",
                    MetricKind::Gauge,
                    Some(("instrument", "BTCUSDT")),
                    0,
                ),
                metric(
                    "stale",
                    MetricKind::Gauge,
                    Some(("instrument", "ETHUSDT")),
                    1,
                ),
            ],
            latencies: vec![StageLatency {
                stage: "book".into(),
                consistent: true,
                count: 10,
                mean: 1_500,
                p50: 850,
                p90: 1_000,
                p99: 12_345,
                p999: 3_450_000,
                p9999: 3_450_000,
                max: 1_200_000_000,
                dropped: 2,
            }],
        }
    }

    #[test]
    fn text_view_shows_rates_stale_instruments_and_human_latencies() {
        let text = render_text(&snapshot(3_727, 5_000), Some(&snapshot(3_725, 1_000)));
        assert!(
            text.starts_with(
                "pulse demo  pid 42  up 1h02m07s  health healthy  heartbeat 0.2 s ago\n"
            ),
            "{text}"
        );
        let counter = text.lines().find(|l| l.contains("feed_messages")).unwrap();
        assert!(counter.ends_with("5000        2000.0"), "{counter}");
        assert!(text.contains("position{instrument=\"BTCUSDT\"}"), "{text}");
        assert!(!text.contains("stale{"), "{text}");
        assert!(text.contains("stale instruments: ETHUSDT\n"), "{text}");
        let book = text.lines().find(|l| l.contains("book")).unwrap();
        let cells: Vec<&str> = book.split_whitespace().collect();
        assert_eq!(
            cells,
            ["book", "10", "850ns", "12.3µs", "3.45ms", "1.20s", "2"]
        );
        let once = render_text(&snapshot(5, 1), None);
        assert!(once
            .lines()
            .any(|l| l.contains("feed_messages") && l.ends_with(" -")));
        assert!(once.contains("up 5s"));
    }

    #[test]
    fn durations_and_latencies_read_naturally() {
        assert_eq!(duration(127 * 1_000_000_000), "2m07s");
        assert_eq!(nanos(999), "999ns");
        assert_eq!(nanos(1_000), "1.0µs");
        assert_eq!(nanos(3_450_000), "3.45ms");
    }

    #[test]
    fn discovery_counts_only_live_engines_files_of_ours() {
        let base = std::env::temp_dir().join(format!("pulse-discover-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir_all(&base).unwrap();
        let dir = RunDir::create(&base.join("run")).unwrap();
        let live = |name: &str| {
            let f = crate::stats::StatsFile::create(name, &dir.stats_file(name), &[], &["feed"])
                .unwrap();
            f.heartbeat(crate::stats::liveness::now_unix_ns());
            f
        };
        std::fs::write(dir.path().join("stray.stats"), "garbage").unwrap();
        std::fs::write(dir.path().join("x.control"), "").unwrap();
        let err = discover(&dir).unwrap_err();
        assert!(err.starts_with("no engine is running"), "{err}");
        let a = live("a");
        // A file whose engine stopped beating is not a running engine.
        let hung = live("h");
        hung.heartbeat(1);
        assert_eq!(discover(&dir).unwrap(), (dir.stats_file("a"), "a".into()));
        let b = live("b");
        let err = discover(&dir).unwrap_err();
        assert_eq!(
            err,
            "several engines are running (a, b): choose one with --name"
        );
        drop((a, b, hung));
        let _ = std::fs::remove_dir_all(&base);
    }
}
