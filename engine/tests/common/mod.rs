//! Shared by the tests that run the demo through the real binary and read its journal (a
//! directory module, so cargo does not build it as a test). Each test binary uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use pulse_journal::JournalReader;

/// One journal record: (kind, sequence, timestamp, payload).
pub type RecordBytes = (u16, u64, u64, Vec<u8>);

/// A directory of a test's own, `pulse-<name>` in the system's temporary directory, removed
/// when the test ends, failed or not.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("pulse-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl std::ops::Deref for TempDir {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The book-imbalance config (`configs/imbalance.toml`, whose figures these tests pin)
/// rewritten to run anywhere: see [`repo_config`].
pub fn demo_config(dir: &Path, speed: Option<&str>, extra: &[(&str, &str)]) -> PathBuf {
    repo_config("imbalance.toml", dir, speed, extra)
}

/// `configs/<file>` rewritten to run anywhere: its capture by absolute path, replayed at
/// `speed` (as recorded: "1"; `None` as fast as possible). Its kill file is the default one in
/// the run directory, which no test creates. `extra` pairs are further replacements, each of
/// which must apply.
pub fn repo_config(file: &str, dir: &Path, speed: Option<&str>, extra: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(repo_root().join("configs").join(file)).unwrap();
    let data = repo_root().join("data");
    let line_starting = |text: &str, start: &str| {
        let found: Vec<String> = text
            .lines()
            .filter(|l| l.starts_with(start))
            .map(str::to_owned)
            .collect();
        assert_eq!(found.len(), 1, "one line starting {start:?}");
        found[0].clone()
    };
    let path_line = line_starting(&text, "path = \"../data/");
    let capture = path_line
        .trim_start_matches("path = \"../data/")
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let capture = data.join(capture).display().to_string();
    let source = match speed {
        Some(speed) => format!("path = {capture:?}\nspeed = \"{speed}\""),
        None => format!("path = {capture:?}"),
    };
    text = replace_once(&text, &path_line, &source);
    // Other files the config names beside the capture (latency samples, signals, weights).
    text = text
        .replace("\"../data/", &format!("\"{}/", data.display()))
        .replace(
            "\"policy/",
            &format!("\"{}/", repo_root().join("configs/policy").display()),
        );
    for (from, to) in extra {
        text = replace_once(&text, from, to);
    }
    let path = dir.join(file);
    std::fs::write(&path, text).unwrap();
    path
}

fn replace_once(text: &str, from: &str, to: &str) -> String {
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once");
    text.replacen(from, to, 1)
}

/// Every record of `stream` in the journal at `dir`; none when the stream was never created.
pub fn journal_records(dir: &Path, stream: &str) -> Vec<RecordBytes> {
    if !dir.join(stream).exists() {
        return Vec::new();
    }
    let mut reader = JournalReader::open(dir, stream).unwrap();
    let mut all = Vec::new();
    while let Some(r) = reader.next().unwrap() {
        all.push((r.kind, r.sequence, r.timestamp, r.payload.to_vec()));
    }
    all
}

/// The bytes of every segment file of a stream that holds a record, in order. A segment
/// prepared ahead but never written has only zeros after its 64-byte header.
pub fn written_segments(dir: &Path, stream: &str) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join(stream))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "seg"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .filter(|b| b[64..].iter().any(|&x| x != 0))
        .collect()
}

/// Runs the `pulse` binary with `args`.
pub fn pulse(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .args(args)
        .output()
        .unwrap()
}

/// The stdout of a `pulse` run that must have succeeded (else its stderr is the failure).
pub fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The first line of `summary` that starts with `start`, or "".
pub fn line<'a>(summary: &'a str, start: &str) -> &'a str {
    summary.lines().find(|l| l.starts_with(start)).unwrap_or("")
}

/// Runs `config` twice, each journaling into `dir/a` and `dir/b`, then replays run a's input
/// journal into `dir/replayed`. Asserts that the two runs' summary lines starting with each of
/// `same_lines` agree and that all three output streams are identical record for record;
/// returns run a's summary and output records.
pub fn run_twice_and_replay(
    config: &Path,
    dir: &Path,
    name: &str,
    same_lines: &[&str],
) -> (String, Vec<RecordBytes>) {
    let config = config.to_str().unwrap();
    let mut summaries = Vec::new();
    for run in ["a", "b"] {
        let out = pulse(&[
            "run",
            "--config",
            config,
            "--journal",
            dir.join(run).to_str().unwrap(),
            "--name",
            &format!("{name}-{}-{run}", std::process::id()),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        summaries.push(String::from_utf8(out.stdout).unwrap());
    }
    for start in same_lines {
        assert_eq!(line(&summaries[0], start), line(&summaries[1], start));
    }
    let records = journal_records(&dir.join("a"), "output");
    assert!(
        records == journal_records(&dir.join("b"), "output"),
        "two runs decided differently"
    );
    let replayed = dir.join("replayed");
    let out = pulse(&[
        "replay",
        "--input",
        dir.join("a").to_str().unwrap(),
        "--config",
        config,
        "--journal",
        replayed.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        records == journal_records(&replayed, "output"),
        "the replay decided differently"
    );
    (summaries.swap_remove(0), records)
}

/// `pulse check-config` on `text` written to `dir/name`: the exit code and stderr.
pub fn check_config(dir: &Path, name: &str, text: &str) -> (Option<i32>, String) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let out = pulse(&["check-config", "--config", path.to_str().unwrap()]);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The lines a child writes to stderr, as they come, through a channel (the child must have
/// been spawned with a piped stderr).
pub fn stderr_lines(child: &mut std::process::Child) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead as _;
    let (tx, rx) = std::sync::mpsc::channel();
    let err = child.stderr.take().expect("a piped stderr");
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    rx
}

/// `pulse run --config CONFIG --journal JOURNAL --name NAME-<pid>`, with the fault drill
/// `--journal-fail-io-at N` when `fail_io_at` is given.
pub fn run_with_journal(
    config: &Path,
    journal: &Path,
    name: &str,
    fail_io_at: Option<u64>,
) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"));
    cmd.args(["run", "--config"])
        .arg(config)
        .arg("--journal")
        .arg(journal)
        .args(["--name", &format!("{name}-{}", std::process::id())]);
    if let Some(n) = fail_io_at {
        cmd.args(["--journal-fail-io-at", &n.to_string()]);
    }
    cmd.output().unwrap()
}

/// `pulse run --config CONFIG --journal JOURNAL --name NAME-<pid>`, which must succeed:
/// its stdout (the summary) and stderr.
pub fn run_journaled(config: &Path, journal: &Path, name: &str) -> (String, String) {
    let out = run_with_journal(config, journal, name, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The number right before `word` in a summary line ("245 fills," -> 245 for "fills").
pub fn count_before(line: &str, word: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| w[1].trim_matches(|c: char| !c.is_alphanumeric() && c != '_') == word)
        .and_then(|w| w[0].trim_start_matches('(').parse().ok())
        .unwrap_or_else(|| panic!("no count before {word:?} in {line:?}"))
}

/// `pulse replay --input INPUT --verify --report-json JSON`.
pub fn replay_verify(input: &Path, json: &Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("replay")
        .arg("--input")
        .arg(input)
        .arg("--verify")
        .arg("--report-json")
        .arg(json)
        .output()
        .expect("pulse runs")
}

/// The bundled `capture` (a path under the repository) with `edit` applied to its lines,
/// written to `dir/doctored.cap`.
pub fn doctored(dir: &Path, capture: &str, edit: impl Fn(Vec<String>) -> Vec<String>) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join(capture)).unwrap();
    let lines = edit(text.lines().map(str::to_owned).collect());
    let path = dir.join("doctored.cap");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

/// What a reference script under `scripts/` prints for `input`: one JSON object a line (an
/// independent rebuild the replay tests hold `pulse replay` to).
pub fn python_reference(script: &str, input: &Path) -> Vec<serde_json::Value> {
    let out = std::process::Command::new("python3")
        .arg(repo_root().join("scripts").join(script))
        .arg(input)
        .output()
        .expect("python3 runs the reference script (install Python 3)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("the script prints UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object a line"))
        .collect()
}

/// A `pulse venue` child, stopped (by its own id) when dropped.
pub struct VenueProcess(pub std::process::Child);

impl Drop for VenueProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `pulse venue ARGS` (which should listen on port 0) and returns it with the first
/// `banner` lines it prints, the address stripped of "pulse venue: listening on " in the
/// first; the rest of its output is read and dropped.
pub fn pulse_venue(args: &[&std::ffi::OsStr], banner: usize) -> (VenueProcess, Vec<String>) {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pulse"))
        .arg("venue")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("pulse venue starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let venue = VenueProcess(child);
    let mut out: Vec<String> = (0..banner.max(1))
        .map(|_| lines.next().unwrap().unwrap())
        .collect();
    out[0] = out[0]
        .strip_prefix("pulse venue: listening on ")
        .unwrap_or_else(|| panic!("banner: {}", out[0]))
        .to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (venue, out)
}
