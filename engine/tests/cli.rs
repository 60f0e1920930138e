//! The `pulse` binary end to end, as an operator runs it: `check-config` verdicts and exit codes
//! on the demo config and broken variants of it, and `run` over captures with malformed lines,
//! which must be counted per kind, logged once per kind and skipped without stopping the replay.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

const REAL_LINES: usize = 3_000;

const DEMO_SOURCE: &str = "\"../data/binance_spot_btcusdt_2024-08-08.cap.gz\"";

/// The `skipped` line for [`bad_kinds`], kinds in the summary's order.
const SKIPPED_BAD_KINDS: &str = "skipped   \
    3 x capture line without three tab-separated fields; \
    4 x capture line with a malformed receive timestamp; \
    3 x capture line with an unknown source; \
    3 x frame with invalid JSON; \
    3 x frame that is not a JSON object; \
    4 x frame with an unknown event type; \
    3 x frame with a missing field; \
    5 x frame with a field of the wrong type; \
    3 x frame with a decimal that does not fit the instrument's scale; \
    4 x frame for a symbol that is not configured; \
    3 x line from an unknown venue";

/// What the first 3,000 lines of the bundled capture do to the book, with or without bad lines.
const SYNC_REAL: &str = "sync      BTCUSDT: 1 snapshot(s), 279 diffs applied, 2 dropped \
    (covered by the snapshot), 0 gaps, 0 resyncs, last update id 50093251506";
const BOOK_REAL: &str = "book      BTCUSDT: 280 book updates (10078 levels), 518 trades, \
    crossed 0, stale 0; venue ticker check 43 ok / 0 mismatch";
/// Ring events: a trade or ticker each, and per book batch its levels four to an event, a reset
/// (snapshot) and a commit (13,077 when every level was an event of its own).
const EVENTS_REAL: u64 = 5_621;

/// A per-test folder under the system temp dir, removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("pulse-cli-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    }

    /// The demo config replaying `capture` (its kill file the run directory's, never present).
    fn config(&self, capture: &Path) -> String {
        replace_once(&demo(), DEMO_SOURCE, &format!("{:?}", capture.display()))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

fn demo() -> String {
    let path = repo_path("configs/imbalance.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

fn pulse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .expect("the pulse binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Stderr without the health transitions every run reports: what is left is errors.
fn errors(out: &Output) -> String {
    stderr(out)
        .lines()
        .filter(|l| !l.starts_with("pulse: health "))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn check_config(path: &Path) -> Output {
    pulse(&[
        "check-config",
        "--config",
        path.to_str().expect("UTF-8 path"),
    ])
}

/// Runs under a name of its own: tests run in parallel, and a name is one engine's stats file.
fn run(config: &Path) -> Output {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("cli-{}-{n}", std::process::id());
    let config = config.to_str().expect("UTF-8 path");
    pulse(&["run", "--config", config, "--name", &name])
}

/// The 1-based number of the only line of `text` that starts with `start`.
fn line_starting(text: &str, start: &str) -> usize {
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.starts_with(start))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{start:?} must start exactly one line");
    lines[0]
}

/// The 0-based range of lines of the table `header`: the header and its lines up to the next
/// table header.
fn table_lines(lines: &[&str], header: &str) -> std::ops::Range<usize> {
    let start = lines
        .iter()
        .position(|l| l.starts_with(header))
        .unwrap_or_else(|| panic!("no table {header}"));
    let end = lines[start + 1..]
        .iter()
        .position(|l| l.starts_with('['))
        .map_or(lines.len(), |i| start + 1 + i);
    start..end
}

fn join_lines(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Asserts `pulse check-config` refuses `text` with exit code 1, naming `key` at `line`.
fn assert_refused(scratch: &Scratch, text: &str, key: &str, line: usize, message: &str) {
    let path = scratch.write("bad.toml", text);
    let out = check_config(&path);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert_eq!(
        stderr(&out),
        format!("{}: line {line}: {key}: {message}\n", path.display())
    );
}

#[test]
fn check_config_accepts_the_demo() {
    let path = repo_path("configs/demo.toml");
    let out = check_config(&path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{}: ok (1 instrument(s), 1 thread(s))\n", path.display())
    );
    assert_eq!(stderr(&out), "");
}

#[test]
fn check_config_accepts_the_demo_written_elsewhere() {
    let scratch = Scratch::new("check_config_accepts_the_demo_written_elsewhere");
    let text = scratch.config(&repo_path("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    let path = scratch.write("demo.toml", &text);
    let out = check_config(&path);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        format!("{}: ok (1 instrument(s), 1 thread(s))\n", path.display())
    );
}

#[test]
fn check_config_refuses_an_unknown_key() {
    let scratch = Scratch::new("check_config_refuses_an_unknown_key");
    let base = scratch.config(&repo_path("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    let text = replace_once(&base, "[engine]\n", "[engine]\ncolour = \"red\"\n");
    let line = line_starting(&text, "colour");
    assert_eq!(line, line_starting(&text, "[engine]") + 1);
    assert_refused(
        &scratch,
        &text,
        "engine.colour",
        line,
        "unknown key, expected `name` or `run_dir`",
    );
}

#[test]
fn check_config_refuses_a_missing_limit() {
    let scratch = Scratch::new("check_config_refuses_a_missing_limit");
    let base = scratch.config(&repo_path("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    let mut lines: Vec<&str> = base.lines().collect();
    let risk = table_lines(&lines, "[instruments.risk]");
    let in_risk: Vec<usize> = risk
        .clone()
        .filter(|&i| lines[i].starts_with("max_position "))
        .collect();
    assert_eq!(in_risk.len(), 1, "one max_position in [instruments.risk]");
    lines.remove(in_risk[0]);
    let text = join_lines(&lines);
    assert_eq!(
        text.lines()
            .filter(|l| l.starts_with("max_position "))
            .count(),
        1,
        "the strategy's max_position stays"
    );
    assert_refused(
        &scratch,
        &text,
        "instruments[0].risk.max_position",
        line_starting(&text, "[instruments.risk]"),
        "required key is missing",
    );
}

#[test]
fn check_config_refuses_a_negative_limit() {
    let scratch = Scratch::new("check_config_refuses_a_negative_limit");
    let base = scratch.config(&repo_path("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    let text = replace_once(
        &base,
        "max_order_qty = \"0.002\"",
        "max_order_qty = \"-0.002\"",
    );
    assert_refused(
        &scratch,
        &text,
        "instruments[0].risk.max_order_qty",
        line_starting(&text, "max_order_qty"),
        "must be greater than zero",
    );
}

#[test]
fn check_config_refuses_an_instrument_without_limits() {
    let scratch = Scratch::new("check_config_refuses_an_instrument_without_limits");
    let base = scratch.config(&repo_path("data/binance_spot_btcusdt_2024-08-08.cap.gz"));
    let mut lines: Vec<&str> = base.lines().collect();
    let risk = table_lines(&lines, "[instruments.risk]");
    lines.drain(risk);
    let text = join_lines(&lines);
    assert!(!text.contains("max_order_notional"), "{text}");
    assert_refused(
        &scratch,
        &text,
        "instruments[0].risk",
        line_starting(&text, "[[instruments]]"),
        "required key is missing",
    );
}

#[test]
fn check_config_refuses_a_file_that_does_not_exist() {
    let scratch = Scratch::new("check_config_refuses_a_file_that_does_not_exist");
    let path = scratch.path("absent.toml");
    let out = check_config(&path);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    let shown = path.display();
    assert!(
        err.starts_with(&format!("{shown}: cannot read {shown}: ")),
        "{err}"
    );
    assert!(err.contains("No such file or directory"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn run_refuses_a_capture_that_does_not_exist() {
    let scratch = Scratch::new("run_refuses_a_capture_that_does_not_exist");
    let capture = scratch.path("absent.cap");
    let config = scratch.write("demo.toml", &scratch.config(&capture));
    let out = run(&config);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "pulse: cannot open recorded input {}: ",
            capture.display()
        )),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}

/// The first [`REAL_LINES`] lines of the bundled capture, decompressed once.
fn real_lines() -> &'static [String] {
    static LINES: OnceLock<Vec<String>> = OnceLock::new();
    LINES.get_or_init(|| {
        let path = repo_path("data/binance_spot_btcusdt_2024-08-08.cap.gz");
        let out = Command::new("gzip")
            .arg("-dc")
            .arg(&path)
            .output()
            .expect("gzip runs");
        assert!(out.status.success(), "gzip -dc {}", path.display());
        let text = String::from_utf8(out.stdout).expect("the capture is UTF-8");
        let lines: Vec<String> = text.lines().take(REAL_LINES).map(str::to_owned).collect();
        assert_eq!(lines.len(), REAL_LINES);
        lines
    })
}

fn payload_of(line: &str) -> &str {
    line.splitn(3, '\t').nth(2).expect("three fields")
}

fn ts_of(line: &str) -> &str {
    line.split('\t').next().expect("a timestamp")
}

/// The first real payload whose text contains `marker`.
fn real_payload(marker: &str) -> &'static str {
    real_lines()
        .iter()
        .map(|l| payload_of(l))
        .find(|p| p.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} in the capture"))
}

/// `json` with the value of its first `"key":` (a number, bool or string without commas)
/// replaced by `value`; `None` removes the key and its value.
fn with_field(json: &str, key: &str, value: Option<&str>) -> String {
    let tag = format!("\"{key}\":");
    let start = json
        .find(&tag)
        .unwrap_or_else(|| panic!("no {tag} in {json}"));
    let value_start = start + tag.len();
    let end = value_start + json[value_start..].find([',', '}']).expect("a value end");
    match value {
        Some(v) => format!("{}{v}{}", &json[..value_start], &json[end..]),
        None => {
            let end = if json[end..].starts_with(',') {
                end + 1
            } else {
                end
            };
            format!("{}{}", &json[..start], &json[end..])
        }
    }
}

/// A depth diff whose first bid price is a JSON number instead of a string.
fn with_numeric_price(depth: &str) -> String {
    let tag = "\"b\":[[\"";
    let start = depth.find(tag).expect("a bid level") + tag.len() - 1;
    let len = depth[start + 1..].find('"').expect("a price") + 2;
    let price = &depth[start + 1..start + len - 1];
    format!("{}{price}{}", &depth[..start], &depth[start + len..])
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Excerpt {
    /// Line errors: nothing, or the start of the line.
    Line,
    /// Frame errors: the first bytes of the payload.
    Payload,
    /// Unknown venues: the venue name.
    Venue,
}

/// One kind of malformed input: its log text and a few distinct lines of it. A line starting
/// with `{ts}` gets the receive timestamp of the real line before it, so bad lines do not move
/// the replay clock.
struct BadKind {
    log: &'static str,
    /// The field the first line of this kind is logged with (the codec names it), or "".
    detail: &'static str,
    excerpt: Excerpt,
    lines: Vec<String>,
}

fn bad_kinds() -> Vec<BadKind> {
    let depth = real_payload("\"e\":\"depthUpdate\"");
    let trade = real_payload("\"e\":\"trade\"");
    let ws = |payload: &str| format!("{{ts}}\tbinance:ws\t{payload}");
    let trade_with = |key: &str, value: Option<&str>| ws(&with_field(trade, key, value));
    let depth_with = |key: &str, value: Option<&str>| ws(&with_field(depth, key, value));
    vec![
        BadKind {
            log: "capture line without three tab-separated fields",
            detail: "",
            excerpt: Excerpt::Line,
            lines: vec![
                "a line without any tab".into(),
                "{ts}\tbinance:ws".into(),
                String::new(),
            ],
        },
        BadKind {
            log: "capture line with a malformed receive timestamp",
            detail: "",
            excerpt: Excerpt::Line,
            lines: vec![
                format!("12x\tbinance:ws\t{trade}"),
                format!("\tbinance:ws\t{trade}"),
                format!("-1723161254087896568\tbinance:ws\t{trade}"),
                format!("99999999999999999999\tbinance:ws\t{trade}"),
            ],
        },
        BadKind {
            log: "capture line with an unknown source",
            detail: "",
            excerpt: Excerpt::Line,
            lines: vec![
                format!("{{ts}}\tbinance\t{trade}"),
                "{ts}\tbinance:rest:\t{}".into(),
                format!("{{ts}}\t:ws\t{trade}"),
            ],
        },
        BadKind {
            log: "frame with invalid JSON",
            detail: "",
            excerpt: Excerpt::Payload,
            lines: vec![
                ws(&trade[..trade.len() / 2]),
                ws("not json at all"),
                ws(&format!("{trade}}}")),
            ],
        },
        BadKind {
            log: "frame that is not a JSON object",
            detail: "",
            excerpt: Excerpt::Payload,
            lines: vec![
                ws("[1,2,3]"),
                ws("{\"stream\":\"btcusdt@trade\",\"data\":[1]}"),
                ws("\"depthUpdate\""),
            ],
        },
        BadKind {
            log: "frame with an unknown event type",
            detail: "",
            excerpt: Excerpt::Payload,
            lines: vec![
                trade_with("e", Some("\"foo\"")),
                depth_with("e", Some("\"foo\"")),
                ws("{\"stream\":\"btcusdt@x\",\"data\":{\"E\":1}}"),
                ws("{\"result\":null}"),
            ],
        },
        BadKind {
            log: "frame with a missing field",
            detail: "U",
            excerpt: Excerpt::Payload,
            lines: vec![
                depth_with("U", None),
                trade_with("m", None),
                depth_with("s", None),
            ],
        },
        BadKind {
            log: "frame with a field of the wrong type",
            detail: "U",
            excerpt: Excerpt::Payload,
            lines: vec![
                depth_with("U", Some("\"abc\"")),
                ws(&with_numeric_price(depth)),
                trade_with("m", Some("\"yes\"")),
                trade_with("s", Some("5")),
                depth_with("u", Some("-5")),
            ],
        },
        BadKind {
            log: "frame with a decimal that does not fit the instrument's scale",
            detail: "p",
            excerpt: Excerpt::Payload,
            lines: vec![
                trade_with("p", Some("\"61837.631\"")),
                trade_with("q", Some("\"0.000000001\"")),
                trade_with("p", Some("\"99999999999999999999\"")),
            ],
        },
        BadKind {
            log: "frame for a symbol that is not configured",
            detail: "",
            excerpt: Excerpt::Payload,
            lines: vec![
                trade_with("s", Some("\"ETHUSDT\"")),
                depth_with("s", Some("\"ETHUSDT\"")),
                trade_with("s", Some("\"BTCUSDC\"")),
                "{ts}\tbinance:rest:/api/v3/depth?symbol=ETHUSDT&limit=1000\t\
                 {\"lastUpdateId\":1,\"bids\":[],\"asks\":[]}"
                    .into(),
            ],
        },
        BadKind {
            log: "capture line from a venue with no adapter",
            detail: "",
            excerpt: Excerpt::Venue,
            lines: vec![
                format!("{{ts}}\tnowhere:ws\t{trade}"),
                "{ts}\tcoinbase:ws\t{}".into(),
                "{ts}\tnowhere:rest:/api/v5/market/books\t{}".into(),
            ],
        },
    ]
}

/// A capture: `real` with the lines of `kinds` spread evenly through it, kinds interleaved.
/// Returns its text and the 1-based line number of each kind's first line.
fn build_capture(real: &[String], kinds: &[BadKind]) -> (String, Vec<usize>) {
    let most = kinds.iter().map(|k| k.lines.len()).max().unwrap_or(0);
    let bad: Vec<(usize, &str)> = (0..most)
        .flat_map(|i| {
            kinds
                .iter()
                .enumerate()
                .filter_map(move |(k, kind)| kind.lines.get(i).map(|l| (k, l.as_str())))
        })
        .collect();
    let ts_fallback = ts_of(&real_lines()[0]).to_owned();
    let mut out: Vec<String> = Vec::with_capacity(real.len() + bad.len());
    let mut first = vec![0; kinds.len()];
    let mut next_real = 0;
    for (j, (kind, line)) in bad.iter().enumerate() {
        let before = (j + 1) * real.len() / (bad.len() + 1);
        out.extend(real[next_real..before].iter().cloned());
        next_real = before;
        let ts = real[..next_real]
            .last()
            .map_or(ts_fallback.as_str(), |l| ts_of(l));
        out.push(match line.strip_prefix("{ts}") {
            Some(rest) => format!("{ts}{rest}"),
            None => (*line).to_owned(),
        });
        if first[*kind] == 0 {
            first[*kind] = out.len();
        }
    }
    out.extend(real[next_real..].iter().cloned());
    (
        join_lines(&out.iter().map(String::as_str).collect::<Vec<_>>()),
        first,
    )
}

/// Asserts stderr holds exactly one log line per kind, naming the first line of that kind.
fn assert_logged_once_per_kind(err: &str, capture: &str, kinds: &[BadKind], first: &[usize]) {
    assert_eq!(err.lines().count(), kinds.len(), "{err}");
    let lines: Vec<&str> = capture.lines().collect();
    for (kind, &at) in kinds.iter().zip(first) {
        let logged: Vec<&str> = err.lines().filter(|l| l.contains(kind.log)).collect();
        assert_eq!(logged.len(), 1, "{}:\n{err}", kind.log);
        let detail = if kind.detail.is_empty() {
            String::new()
        } else {
            format!(" `{}`", kind.detail)
        };
        let prefix = format!(
            "pulse: feed: {}{detail} (first at line {at}; further ones are only counted): ",
            kind.log
        );
        assert!(logged[0].starts_with(&prefix), "{}\n{prefix}", logged[0]);
        let shown = &logged[0][prefix.len()..];
        let line = lines[at - 1];
        match kind.excerpt {
            Excerpt::Line => assert!(line.starts_with(shown), "{}: {shown}", kind.log),
            Excerpt::Payload => {
                let payload = payload_of(line);
                assert_eq!(shown, &payload[..payload.len().min(120)], "{}", kind.log);
            }
            Excerpt::Venue => {
                let source = line.split('\t').nth(1).expect("a source");
                assert_eq!(Some(shown), source.split(':').next(), "{}", kind.log);
            }
        }
    }
}

/// The summary line starting with `start`.
fn summary_line<'a>(summary: &'a str, start: &str) -> &'a str {
    let found: Vec<&str> = summary.lines().filter(|l| l.starts_with(start)).collect();
    assert_eq!(found.len(), 1, "one {start:?} line in:\n{summary}");
    found[0]
}

fn assert_input_line(summary: &str, lines: usize, messages: usize, events: u64) {
    let input = summary_line(summary, "input ");
    let head = format!("input     {lines} lines, {messages} messages (");
    let tail = format!(" msg/s), {events} events to the book");
    assert!(
        input.starts_with(&head) && input.ends_with(&tail),
        "{input}\nexpected {head}..{tail}"
    );
}

/// The summary from `sync` up to the latency table: everything the replayed data decided.
fn decisions(summary: &str) -> Vec<&str> {
    summary
        .lines()
        .skip_while(|l| !l.starts_with("sync "))
        .take_while(|l| !l.starts_with("latency "))
        .collect()
}

#[test]
fn malformed_lines_are_counted_logged_once_and_skipped() {
    let scratch = Scratch::new("malformed_lines_are_counted_logged_once_and_skipped");
    let real = real_lines();

    let clean = scratch.write(
        "clean.cap",
        &join_lines(&real.iter().map(String::as_str).collect::<Vec<_>>()),
    );
    let clean_out = run(&scratch.write("clean.toml", &scratch.config(&clean)));
    assert_eq!(clean_out.status.code(), Some(0), "{}", stderr(&clean_out));
    assert_eq!(errors(&clean_out), "");
    let clean_summary = stdout(&clean_out);
    assert_input_line(&clean_summary, REAL_LINES, REAL_LINES, EVENTS_REAL);
    assert_eq!(summary_line(&clean_summary, "skipped "), "skipped   none");
    assert!(!clean_summary.contains("\nerrors "), "{clean_summary}");
    assert_eq!(summary_line(&clean_summary, "sync "), SYNC_REAL);
    assert_eq!(decisions(&clean_summary).len(), 10, "{clean_summary}");

    let kinds = bad_kinds();
    let bad_total: usize = kinds.iter().map(|k| k.lines.len()).sum();
    let (capture, first) = build_capture(real, &kinds);
    assert_eq!(capture.lines().count(), REAL_LINES + bad_total);
    assert!(first.iter().all(|&at| at > 1), "{first:?}");
    let path = scratch.write("dirty.cap", &capture);
    let out = run(&scratch.write("dirty.toml", &scratch.config(&path)));
    let err = errors(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let summary = stdout(&out);
    assert!(
        summary.starts_with("pulse cli-")
            && summary
                .lines()
                .next()
                .unwrap()
                .contains(": input ended after "),
        "{summary}"
    );
    assert_input_line(&summary, REAL_LINES + bad_total, REAL_LINES, EVENTS_REAL);
    assert_eq!(summary_line(&summary, "skipped "), SKIPPED_BAD_KINDS);
    let errors = summary_line(&summary, "errors ");
    assert!(
        errors.starts_with("errors    3 x line_field_count (first ")
            && errors.contains("x frame_json"),
        "{errors}"
    );
    assert_eq!(summary_line(&summary, "sync "), SYNC_REAL);
    assert_eq!(summary_line(&summary, "book "), BOOK_REAL);
    assert_eq!(decisions(&summary), decisions(&clean_summary));
    assert_logged_once_per_kind(&err, &capture, &kinds, &first);
}

#[test]
fn empty_capture_runs_to_an_empty_summary() {
    let scratch = Scratch::new("empty_capture_runs_to_an_empty_summary");
    let capture = scratch.write("empty.cap", "");
    let out = run(&scratch.write("demo.toml", &scratch.config(&capture)));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(errors(&out), "");
    let summary = stdout(&out);
    assert!(
        summary.starts_with("pulse cli-")
            && summary
                .lines()
                .next()
                .unwrap()
                .contains(": input ended after "),
        "{summary}"
    );
    assert_input_line(&summary, 0, 0, 0);
    assert_eq!(summary_line(&summary, "skipped "), "skipped   none");
    assert_eq!(
        decisions(&summary),
        [
            "sync      BTCUSDT: 0 snapshot(s), 0 diffs applied, 0 dropped (covered by the snapshot), 0 gaps, 0 resyncs, last update id 0",
            "book      BTCUSDT: 0 book updates (0 levels), 0 trades, crossed 0, stale 0; venue ticker check 0 ok / 0 mismatch",
            "          final touch: bid -  ask -",
            "strategy  book-imbalance: 0 book events, 0 signals, 0 intents (0 lost to a full ring)",
            "risk      0 intents: 0 accepted, 0 rejected",
            "orders    0 sent, 0 acked, 0 filled, 0 partially filled, 0 expired, 0 cancelled, 0 rejected by the venue, 0 illegal transitions; 0 working at the end",
            "position  BTCUSDT: 0 fills, bought 0.00000000 sold 0.00000000, position 0.00000000 (avg -), realized 0.0000000000 unrealized 0.0000000000 fees 0.0000000000 => net 0.0000000000",
            "account   equity 10000.00 of capital 10000.00, high-water mark 10000.00, drawdown 0.00%, day 0.00, gross exposure 0.00; armed at the end",
            "venue     simulated: 0 orders, 0 fills (0 maker), 0 expired (IOC rest), 0 rejected, 0 cancelled (0 too late), 0 resting at the end; position BTCUSDT 0.00000000",
            "reconcile first session: venue flat, 0 open order(s)",
        ]
    );
}

#[test]
fn capture_of_only_bad_lines_is_counted_and_skipped() {
    let scratch = Scratch::new("capture_of_only_bad_lines_is_counted_and_skipped");
    let kinds = bad_kinds();
    let bad_total: usize = kinds.iter().map(|k| k.lines.len()).sum();
    let (capture, first) = build_capture(&[], &kinds);
    assert_eq!(capture.lines().count(), bad_total);
    let path = scratch.write("bad.cap", &capture);
    let out = run(&scratch.write("demo.toml", &scratch.config(&path)));
    let err = errors(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    let summary = stdout(&out);
    assert!(
        summary.starts_with("pulse cli-")
            && summary
                .lines()
                .next()
                .unwrap()
                .contains(": input ended after "),
        "{summary}"
    );
    assert_input_line(&summary, bad_total, 0, 0);
    assert_eq!(summary_line(&summary, "skipped "), SKIPPED_BAD_KINDS);
    assert_eq!(
        summary_line(&summary, "sync "),
        "sync      BTCUSDT: 0 snapshot(s), 0 diffs applied, 0 dropped (covered by the snapshot), 0 gaps, 0 resyncs, last update id 0"
    );
    assert_eq!(
        summary_line(&summary, "book "),
        "book      BTCUSDT: 0 book updates (0 levels), 0 trades, crossed 0, stale 0; venue ticker check 0 ok / 0 mismatch"
    );
    assert_logged_once_per_kind(&err, &capture, &kinds, &first);
}

#[test]
fn strategies_lists_every_kind_with_its_declared_parameters() {
    let out = pulse(&["strategies"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for kind in ["book-imbalance: ", "ensemble: ", "market-maker: "] {
        assert_eq!(
            text.lines().filter(|l| l.starts_with(kind)).count(),
            1,
            "{text}"
        );
    }
    let words = |start: &str| -> Vec<String> {
        let line = text.lines().find(|l| l.trim_start().starts_with(start));
        let line = line.unwrap_or_else(|| panic!("no line for {start}:\n{text}"));
        line.split_whitespace().map(str::to_owned).collect()
    };
    // Key, type, range, default, help.
    assert_eq!(
        words("strategy.quotes.refresh_ticks ").join(" "),
        "strategy.quotes.refresh_ticks int 1 to 100000 1 requote a side when its target moves this far"
    );
    assert_eq!(
        words("strategy.depth_levels ")[..6].join(" "),
        "strategy.depth_levels int 1 to 10 required"
    );
    assert_eq!(
        words("strategy.meta.min_factor ")[..6].join(" "),
        "strategy.meta.min_factor decimal 0 to 100 0.25"
    );
}

#[test]
fn check_config_accepts_the_bundled_configs() {
    for name in [
        "binance-live.toml",
        "bybit-linear-live.toml",
        "bybit-spot-live.toml",
        "coinbase-live.toml",
        "demo.toml",
        "imbalance.toml",
        "kraken-live.toml",
        "market-maker.toml",
        "market-maker-usdm.toml",
        "multi-venue-live.toml",
        "okx-live.toml",
        "paper.toml",
        "pinned.toml",
        "venue-local.toml",
    ] {
        let out = check_config(&repo_path(&format!("configs/{name}")));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", stderr(&out));
    }
}

#[test]
fn check_config_names_an_out_of_range_strategy_parameter() {
    let scratch = Scratch::new("check_config_names_an_out_of_range_strategy_parameter");
    let text = std::fs::read_to_string(repo_path("configs/market-maker.toml")).unwrap();
    let text = replace_once(&text, "skew_ticks = \"2\"", "skew_ticks = \"100001\"");
    let text = text.replace("\"../data/", &format!("\"{}/", repo_path("data").display()));
    assert_refused(
        &scratch,
        &text,
        "strategy.quotes.skew_ticks",
        line_starting(&text, "skew_ticks"),
        "must be a whole number from 0 to 100000",
    );
    let text = std::fs::read_to_string(repo_path("configs/imbalance.toml")).unwrap();
    let text = replace_once(&text, "depth_levels = 5 ", "depth_levels = 11 ");
    let text = text.replace("\"../data/", &format!("\"{}/", repo_path("data").display()));
    assert_refused(
        &scratch,
        &text,
        "strategy.depth_levels",
        line_starting(&text, "depth_levels"),
        "must be a whole number from 1 to 10",
    );
}
