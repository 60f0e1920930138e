//! The stats file over real files, threads, sockets and the real `pulse` binary: what the engine
//! writes is what a monitor reads, exactly, and every way of failing to attach says why.

use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::{DirBuilderExt, FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use pulse_engine::stats::layout::{LAYOUT_VERSION_OFFSET, MAGIC_OFFSET, PID_OFFSET};
use pulse_engine::stats::{
    prometheus, AttachError, Health, LatencySummary, MetricDesc, MetricKind, MetricValue,
    MetricsServer, StageLatency, StatsFile, StatsReader, StatsSnapshot,
};

/// A directory of its own under the temp dir, removed with everything in it on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("pulse-stats-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn descs() -> Vec<MetricDesc> {
    vec![
        MetricDesc::counter("feed_messages", "Frames decoded from the venue."),
        MetricDesc::counter("risk_rejected", "Orders refused by pre-trade risk.")
            .with_label("reason", "position_limit"),
        MetricDesc::gauge("position", "Net position in lots.").with_label("instrument", "BTCUSDT"),
        MetricDesc::gauge("stale", "1 while the instrument's book is stale.")
            .with_label("instrument", "ETHUSDT"),
    ]
}

const STAGES: [&str; 3] = ["feed", "book", "strategy"];

fn summary(k: u64) -> LatencySummary {
    LatencySummary {
        count: k,
        mean: k,
        p50: k,
        p90: k,
        p99: k,
        p999: k,
        p9999: k,
        max: k,
        dropped: k,
    }
}

fn fields(s: &StageLatency) -> [u64; 9] {
    [
        s.count, s.mean, s.p50, s.p90, s.p99, s.p999, s.p9999, s.max, s.dropped,
    ]
}

/// Overwrites bytes of a file in place, as a different pulse version or a stray writer would.
fn patch(path: &Path, offset: usize, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset as u64).unwrap();
}

/// A pid that certainly belonged to a process and certainly does not any more.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn values_written_by_two_threads_read_back_exactly_through_a_read_only_mapping() {
    let dir = TempDir::new("exact");
    let path = dir.file("pulse-exact.stats");
    let file = StatsFile::create("exact", &path, &descs(), &STAGES).unwrap();
    assert_eq!(file.path(), Some(path.as_path()));
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let slots: Vec<_> = (0..4).map(|i| file.metric(i)).collect();
    let counters = thread::spawn(move || {
        for v in 0..=100_000 {
            slots[0].set(v);
        }
        slots[1].set(3);
        slots[2].set(-12_345);
        slots[3].set(1);
    });
    let publisher = Arc::clone(&file);
    let latencies = thread::spawn(move || {
        for (i, _) in STAGES.iter().enumerate() {
            let s = LatencySummary {
                count: 1_000 + i as u64,
                mean: 2_000,
                p50: 1_500,
                p90: 3_000,
                p99: 9_000,
                p999: 20_000,
                p9999: 40_000,
                max: 50_000 + i as u64,
                dropped: i as u64,
            };
            publisher.publish_latency(i, &s);
        }
        publisher.set_health(Health::Warning);
        publisher.heartbeat(1_700_000_000_000_000_000);
    });
    counters.join().unwrap();
    latencies.join().unwrap();

    let reader = StatsReader::open(&path).unwrap();
    assert_eq!(reader.name(), "exact");
    assert_eq!(reader.pid(), std::process::id());
    let snap = reader.snapshot();
    let values: Vec<_> = snap
        .metrics
        .iter()
        .map(|m| {
            let label = m.label.as_ref().map(|(k, v)| (k.as_str(), v.as_str()));
            (m.name.as_str(), label, m.kind, m.value)
        })
        .collect();
    assert_eq!(
        values,
        [
            ("feed_messages", None, MetricKind::Counter, 100_000),
            (
                "risk_rejected",
                Some(("reason", "position_limit")),
                MetricKind::Counter,
                3
            ),
            (
                "position",
                Some(("instrument", "BTCUSDT")),
                MetricKind::Gauge,
                -12_345
            ),
            (
                "stale",
                Some(("instrument", "ETHUSDT")),
                MetricKind::Gauge,
                1
            ),
        ]
    );
    assert_eq!(snap.metrics[0].help, "Frames decoded from the venue.");
    assert_eq!(snap.health, Some(Health::Warning));
    assert_eq!(snap.heartbeat_ns, 1_700_000_000_000_000_000);
    assert!(!snap.alive, "a heartbeat from 2023 is not fresh");
    let book = &snap.latencies[1];
    assert_eq!(book.stage, "book");
    assert!(book.consistent);
    assert_eq!(
        fields(book),
        [1_001, 2_000, 1_500, 3_000, 9_000, 20_000, 40_000, 50_001, 1]
    );
    let stages: Vec<&str> = snap.latencies.iter().map(|s| s.stage.as_str()).collect();
    assert_eq!(stages, STAGES);

    // The writer's mapping is read-write, the reader's read-only (PROT_READ of an O_RDONLY fd).
    let maps = fs::read_to_string("/proc/self/maps").unwrap();
    let perms: Vec<&str> = maps
        .lines()
        .filter(|l| l.ends_with(path.to_str().unwrap()))
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    assert_eq!(perms.len(), 2, "{maps}");
    assert!(perms.contains(&"rw-s"), "{perms:?}");
    assert!(perms.contains(&"r--s"), "{perms:?}");

    drop(reader);
    drop(file);
    assert!(!path.exists(), "the last Arc removes the file");
}

#[test]
fn a_live_engine_keeps_its_name_and_a_dead_ones_file_is_replaced() {
    let dir = TempDir::new("exclusive");
    let path = dir.file("pulse-excl.stats");
    let first = StatsFile::create("excl", &path, &descs(), &STAGES).unwrap();
    let again = StatsFile::create("excl", &path, &descs(), &STAGES);
    let msg = format!("{:#}", again.err().expect("a live name is refused"));
    assert_eq!(
        msg,
        format!(
            "an engine named excl is already running (pid {})",
            std::process::id()
        )
    );

    // Alive but silent: a hung engine or a reused pid; left alone, with the reason.
    first.heartbeat(1);
    let hung = StatsFile::create("excl", &path, &descs(), &STAGES);
    let msg = format!("{:#}", hung.err().expect("a hung engine's file is kept"));
    assert!(msg.contains("is alive but has not beaten"), "{msg}");

    // A crashed engine: its pid is gone, so its file is replaced.
    patch(&path, PID_OFFSET, &dead_pid().to_le_bytes());
    let second = StatsFile::create("excl", &path, &[], &["feed"]).unwrap();
    let reader = StatsReader::open(&path).unwrap();
    assert_eq!(reader.pid(), std::process::id());
    assert!(reader.snapshot().metrics.is_empty());
    assert!(reader.engine_alive());

    // The replaced engine going away does not remove its successor's file.
    drop(first);
    assert!(path.exists());
    drop(second);
    assert!(!path.exists());
}

#[test]
fn a_seqlock_reader_never_sees_a_torn_latency_entry() {
    let dir = TempDir::new("seqlock");
    let path = dir.file("pulse-seq.stats");
    let file = StatsFile::create("seq", &path, &[], &STAGES).unwrap();
    let reader = StatsReader::open(&path).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (file, stop) = (Arc::clone(&file), Arc::clone(&stop));
        thread::spawn(move || {
            let mut k = 0;
            // Relaxed: the flag only ends the loop.
            while !stop.load(Ordering::Relaxed) {
                k += 1;
                file.publish_latency(1, &summary(k));
            }
            k
        })
    };
    let started = Instant::now();
    let (mut consistent, mut last, mut distinct) = (0u64, 0u64, 0u64);
    while started.elapsed() < Duration::from_millis(500) || distinct < 100 {
        // A hang guard, not a speed limit: on a loaded 2-core machine the writer may get little
        // time, so the reader yields between reads and waits long.
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "writer stalled"
        );
        thread::yield_now();
        let snap = reader.snapshot();
        let entry = &snap.latencies[1];
        if !entry.consistent {
            continue;
        }
        let f = fields(entry);
        assert!(f.iter().all(|&v| v == f[0]), "torn entry {f:?}");
        assert!(f[0] >= last, "went back from {last} to {}", f[0]);
        if f[0] != last {
            distinct += 1;
        }
        last = f[0];
        consistent += 1;
    }
    // Relaxed: the flag only ends the loop.
    stop.store(true, Ordering::Relaxed);
    let published = writer.join().unwrap();
    assert!(consistent > 0 && distinct >= 100, "{consistent} {distinct}");
    let final_entry = &reader.snapshot().latencies[1];
    assert_eq!(fields(final_entry), [published; 9]);
    assert_eq!(fields(&reader.snapshot().latencies[0]), [0; 9]);
}

#[test]
fn files_this_pulse_cannot_read_are_refused_with_the_reason() {
    let dir = TempDir::new("attach");
    let missing = dir.file("pulse-none.stats");
    let err = StatsReader::open(&missing).err().unwrap();
    assert!(matches!(err, AttachError::NotFound { .. }));
    assert_eq!(
        err.to_string(),
        format!("no engine is running: {} does not exist", missing.display())
    );

    let path = dir.file("pulse-ver.stats");
    let _file = StatsFile::create("ver", &path, &descs(), &STAGES).unwrap();
    patch(&path, LAYOUT_VERSION_OFFSET, &99u32.to_le_bytes());
    let err = StatsReader::open(&path).err().unwrap();
    assert!(
        matches!(
            err,
            AttachError::LayoutVersion {
                found: 99,
                expected: 1
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "stats layout version 99, this pulse reads 1: use the pulse binary that matches the engine"
    );

    patch(&path, MAGIC_OFFSET, b"NOTSTATS");
    let err = StatsReader::open(&path).err().unwrap();
    let found = u64::from_le_bytes(*b"NOTSTATS");
    assert!(
        matches!(err, AttachError::BadMagic { found: f } if f == found),
        "{err:?}"
    );
    assert!(
        err.to_string().starts_with("not a pulse stats file"),
        "{err}"
    );

    let short = dir.file("pulse-short.stats");
    fs::write(&short, [0u8; 100]).unwrap();
    let err = StatsReader::open(&short).err().unwrap();
    assert!(
        matches!(
            err,
            AttachError::Truncated {
                expected: 256,
                found: 100
            }
        ),
        "{err:?}"
    );
}

fn small_snapshot() -> StatsSnapshot {
    let metric = |name: &str, kind, label: Option<(&str, &str)>, help: &str, value| MetricValue {
        name: name.into(),
        kind,
        label: label.map(|(k, v)| (k.into(), v.into())),
        help: help.into(),
        value,
    };
    StatsSnapshot {
        name: "demo".into(),
        pid: 4242,
        start_time_ns: 1_700_000_000_000_000_000,
        heartbeat_ns: 1_700_000_100_000_000_000,
        taken_ns: 1_700_000_100_250_000_000,
        alive: true,
        health: Some(Health::Healthy),
        metrics: vec![
            metric(
                "feed_messages",
                MetricKind::Counter,
                None,
                "Frames decoded.",
                1234,
            ),
            metric(
                "risk_rejected",
                MetricKind::Counter,
                Some(("reason", "position_limit")),
                "Orders refused.",
                3,
            ),
            metric(
                "position",
                MetricKind::Gauge,
                Some(("instrument", "BTC\"USD\\T\n")),
                "Net position.",
                -7,
            ),
            metric(
                "risk_rejected",
                MetricKind::Counter,
                Some(("reason", "price_collar")),
                "Orders refused.",
                1,
            ),
        ],
        latencies: vec![
            StageLatency {
                stage: "book".into(),
                consistent: true,
                count: 10,
                mean: 1_500,
                p50: 1_200,
                p90: 2_000,
                p99: 5_000,
                p999: 9_000,
                p9999: 9_500,
                max: 9_900,
                dropped: 2,
            },
            StageLatency {
                stage: "risk".into(),
                consistent: false,
                count: 0,
                mean: 0,
                p50: 0,
                p90: 0,
                p99: 0,
                p999: 0,
                p9999: 0,
                max: 0,
                dropped: 0,
            },
        ],
    }
}

const GOLDEN: &str = r#"# HELP pulse_engine_info The engine behind these metrics: its instance name and pid.
# TYPE pulse_engine_info gauge
pulse_engine_info{name="demo",pid="4242"} 1
# HELP pulse_up 1 if the engine's pid is alive and its heartbeat fresh.
# TYPE pulse_up gauge
pulse_up 1
# HELP pulse_heartbeat_age_seconds Seconds since the engine's metrics thread last beat.
# TYPE pulse_heartbeat_age_seconds gauge
pulse_heartbeat_age_seconds 0.250
# HELP pulse_start_time_seconds Engine start time, unix seconds.
# TYPE pulse_start_time_seconds gauge
pulse_start_time_seconds 1700000000.000
# HELP pulse_health Engine health: 0 initializing, 1 healthy, 2 warning, 3 degraded, 4 critical, 5 emergency_stop.
# TYPE pulse_health gauge
pulse_health 1
# HELP pulse_health_state 1 for the engine's current health state, 0 for the others.
# TYPE pulse_health_state gauge
pulse_health_state{state="initializing"} 0
pulse_health_state{state="healthy"} 1
pulse_health_state{state="warning"} 0
pulse_health_state{state="degraded"} 0
pulse_health_state{state="critical"} 0
pulse_health_state{state="emergency_stop"} 0
# HELP pulse_feed_messages_total Frames decoded.
# TYPE pulse_feed_messages_total counter
pulse_feed_messages_total 1234
# HELP pulse_risk_rejected_total Orders refused.
# TYPE pulse_risk_rejected_total counter
pulse_risk_rejected_total{reason="position_limit"} 3
pulse_risk_rejected_total{reason="price_collar"} 1
# HELP pulse_position Net position.
# TYPE pulse_position gauge
pulse_position{instrument="BTC\"USD\\T\n"} -7
# HELP pulse_stage_latency_nanoseconds Time from input entering the engine to the end of each stage.
# TYPE pulse_stage_latency_nanoseconds summary
pulse_stage_latency_nanoseconds{stage="book",quantile="0.5"} 1200
pulse_stage_latency_nanoseconds{stage="book",quantile="0.9"} 2000
pulse_stage_latency_nanoseconds{stage="book",quantile="0.99"} 5000
pulse_stage_latency_nanoseconds{stage="book",quantile="0.999"} 9000
pulse_stage_latency_nanoseconds{stage="book",quantile="0.9999"} 9500
pulse_stage_latency_nanoseconds_sum{stage="book"} 15000
pulse_stage_latency_nanoseconds_count{stage="book"} 10
# HELP pulse_stage_latency_max_nanoseconds Largest latency seen by each stage.
# TYPE pulse_stage_latency_max_nanoseconds gauge
pulse_stage_latency_max_nanoseconds{stage="book"} 9900
# HELP pulse_stage_latency_dropped_samples_total Latency samples lost to a full ring or beyond the histogram's range.
# TYPE pulse_stage_latency_dropped_samples_total counter
pulse_stage_latency_dropped_samples_total{stage="book"} 2
"#;

/// Checks a line of exposition: `name{k="v",...} value` with valid names, or a comment.
fn check_exposition_line(line: &str) {
    if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
        return;
    }
    let valid_name = |s: &str, colon: bool| {
        !s.is_empty()
            && !s.starts_with(|c: char| c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':'))
    };
    let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("{line}"));
    assert!(value.parse::<f64>().is_ok(), "value in {line}");
    let (name, labels) = match series.split_once('{') {
        Some((n, rest)) => (
            n,
            Some(rest.strip_suffix('}').unwrap_or_else(|| panic!("{line}"))),
        ),
        None => (series, None),
    };
    assert!(valid_name(name, true), "name in {line}");
    let mut rest = labels.unwrap_or("");
    while !rest.is_empty() {
        let (key, after) = rest.split_once("=\"").unwrap_or_else(|| panic!("{line}"));
        assert!(valid_name(key, false), "label name in {line}");
        // The value runs to the first unescaped quote.
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next() {
                Some((_, '\\')) => {
                    let (_, c) = chars.next().unwrap_or_else(|| panic!("{line}"));
                    assert!(matches!(c, '\\' | '"' | 'n'), "escape in {line}");
                }
                Some((i, '"')) => break i,
                Some((_, c)) => assert!(c != '\n', "raw newline in {line}"),
                None => panic!("unterminated label value in {line}"),
            }
        };
        rest = after[end + 1..]
            .strip_prefix(',')
            .unwrap_or(&after[end + 1..]);
    }
}

#[test]
fn prometheus_text_is_exactly_the_golden_exposition_and_parses() {
    let mut out = String::new();
    prometheus::render(&small_snapshot(), &mut out);
    assert_eq!(out, GOLDEN);
    for line in out.lines() {
        check_exposition_line(line);
    }

    // A real file's snapshot parses too, and a registered `health` gauge cannot duplicate the
    // header's family.
    let mut metrics = descs();
    metrics.push(MetricDesc::gauge("health", "Health, as registered."));
    let file = StatsFile::anonymous(&metrics, &STAGES);
    file.publish_latency(0, &summary(7));
    let mut out = String::new();
    prometheus::render(&file.snapshot(), &mut out);
    for line in out.lines() {
        check_exposition_line(line);
    }
    assert_eq!(out.matches("# TYPE pulse_health gauge").count(), 1, "{out}");
    assert!(
        out.contains("pulse_stale{instrument=\"ETHUSDT\"} 0\n"),
        "{out}"
    );
    assert!(out.contains("pulse_stage_latency_nanoseconds_count{stage=\"feed\"} 7\n"));
    // Never published: consistent zeros.
    assert!(out.contains("pulse_stage_latency_nanoseconds_count{stage=\"book\"} 0\n"));
}

/// Sends `request`, then reads the whole answer (the server closes after answering).
fn exchange(addr: SocketAddr, request: &[u8]) -> thread::JoinHandle<String> {
    let request = request.to_vec();
    thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(&request).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        String::from_utf8(answer).unwrap()
    })
}

#[test]
fn metrics_server_answers_over_loopback_and_an_idle_client_blocks_nothing() {
    let mut server = MetricsServer::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = server.local_addr().unwrap();
    let mut idle = TcpStream::connect(addr).unwrap();
    let mut slowest = Duration::ZERO;
    let mut poll = |server: &mut MetricsServer| {
        let t = Instant::now();
        let n = server
            .poll(|body| prometheus::render(&small_snapshot(), body))
            .unwrap();
        slowest = slowest.max(t.elapsed());
        n
    };
    // The idle client is accepted first and stays silent.
    poll(&mut server);

    let clients = [
        exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n"),
        exchange(addr, b"GET /other HTTP/1.1\r\nHost: test\r\n\r\n"),
        exchange(addr, &[b'a'; 9_000]),
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answered = 0;
    while !clients.iter().all(|c| c.is_finished()) {
        assert!(Instant::now() < deadline, "clients not served");
        answered += poll(&mut server);
        thread::sleep(Duration::from_millis(1));
    }
    let [ok, not_found, too_large] = clients.map(|c| c.join().unwrap());
    assert_eq!(answered, 3);
    assert_eq!(
        ok,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{GOLDEN}",
            GOLDEN.len()
        )
    );
    assert!(
        not_found.starts_with("HTTP/1.1 404 Not Found\r\n"),
        "{not_found}"
    );
    assert!(
        too_large.starts_with("HTTP/1.1 400 Bad Request\r\n"),
        "{too_large}"
    );

    // The silent client is dropped once its deadline passes.
    idle.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "idle client never dropped");
        poll(&mut server);
        match idle.read(&mut [0u8; 16]) {
            Ok(0) => break,
            Ok(n) => panic!("idle client got {n} bytes"),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == ErrorKind::ConnectionReset => break,
            Err(e) => panic!("{e}"),
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert!(
        slowest < Duration::from_millis(100),
        "a poll took {slowest:?}"
    );
}

fn pulse_stats(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("stats")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn pulse_stats_once_json_prints_the_exact_values() {
    let dir = TempDir::new("cli-json");
    let path = dir.file("pulse-cli.stats");
    let file = StatsFile::create("cli", &path, &descs(), &STAGES).unwrap();
    let values = [987_654_321, 4, -5, 1];
    for (i, v) in values.into_iter().enumerate() {
        file.metric(i).set(v);
    }
    file.set_health(Health::Healthy);
    file.publish_latency(2, &summary(77));

    let out = pulse_stats(&["--file", path.to_str().unwrap(), "--once", "--json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["name"], "cli");
    assert_eq!(json["pid"], std::process::id());
    assert_eq!(json["health"], "healthy");
    assert_eq!(json["alive"], true);
    let got: Vec<i64> = json["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_i64().unwrap())
        .collect();
    assert_eq!(got, values);
    assert_eq!(
        json["metrics"][1]["label"],
        serde_json::json!(["reason", "position_limit"])
    );
    assert_eq!(json["metrics"][2]["kind"], "gauge");
    assert_eq!(json["latencies"][2]["stage"], "strategy");
    assert_eq!(json["latencies"][2]["p9999"], 77);

    let text = pulse_stats(&["--file", path.to_str().unwrap(), "--once"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.starts_with("pulse cli  pid "), "{text}");
    assert!(text.contains("stale instruments: ETHUSDT\n"), "{text}");
    assert!(text
        .lines()
        .any(|l| l.contains("feed_messages") && l.contains("987654321")));
}

#[test]
fn pulse_stats_explains_why_it_cannot_attach() {
    let dir = TempDir::new("cli-errors");
    let missing = dir.file("pulse-gone.stats");
    let out = pulse_stats(&["--file", missing.to_str().unwrap(), "--once"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "pulse stats: no engine is running: {} does not exist\n",
            missing.display()
        )
    );

    let name = format!("no-such-engine-{}", std::process::id());
    let run = dir.file("run");
    fs::DirBuilder::new().mode(0o700).create(&run).unwrap();
    let out = pulse_stats(&[
        "--name",
        &name,
        "--run-dir",
        run.to_str().unwrap(),
        "--once",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let expected = format!(
        "pulse stats: no engine named {name} is running (no {})\n",
        run.join(format!("{name}.stats")).display()
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), expected);

    let path = dir.file("pulse-old.stats");
    let _file = StatsFile::create("old", &path, &descs(), &STAGES).unwrap();
    patch(&path, LAYOUT_VERSION_OFFSET, &7u32.to_le_bytes());
    let out = pulse_stats(&["--file", path.to_str().unwrap(), "--once", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "pulse stats: {}: stats layout version 7, this pulse reads 1: use the pulse binary \
             that matches the engine\n",
            path.display()
        )
    );
    assert!(out.stdout.is_empty());

    patch(&path, LAYOUT_VERSION_OFFSET, &1u32.to_le_bytes());
    let dead = dead_pid();
    patch(&path, PID_OFFSET, &dead.to_le_bytes());
    let out = pulse_stats(&["--file", path.to_str().unwrap(), "--once"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "pulse stats: engine pid {dead} is not running; stale stats file {}",
            path.display()
        )),
        "{stderr}"
    );
}

#[test]
fn pulse_stats_serves_prometheus_until_interrupted() {
    let dir = TempDir::new("cli-prom");
    let path = dir.file("pulse-prom.stats");
    let file = StatsFile::create("prom", &path, &descs(), &STAGES).unwrap();
    file.metric(0).set(31_337);
    let mut child = Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(["stats", "--file", path.to_str().unwrap()])
        .args(["--prometheus", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr: SocketAddr = line
        .strip_prefix("serving http://")
        .and_then(|l| l.split_once("/metrics"))
        .map(|(a, _)| a.parse().unwrap())
        .unwrap_or_else(|| panic!("{line}"));
    let answer = exchange(addr, b"GET /metrics HTTP/1.0\r\n\r\n")
        .join()
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(
        answer.contains("\npulse_feed_messages_total 31337\n"),
        "{answer}"
    );
    assert!(answer.contains("\npulse_up 1\n"), "{answer}");

    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    assert!(child.wait().unwrap().success());
}
