//! The operations stack of the live monitoring tests (a directory module, so cargo does not
//! build it as a test): `pulse run` replaying configs/portfolio.toml at recorded pace (about
//! 30 s) and serving /metrics, a real Prometheus scraping it every second and evaluating the
//! shipped rules (configs/prometheus/pulse.rules.yml, every `for:` cut to 1 s so the real
//! expressions fire within the run), and optionally a real Alertmanager that Prometheus sends
//! its alerts to. Every process dies with the stack, failed test or not.
#![allow(dead_code)]

pub mod dashboard;
pub mod http;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// The Debian binaries (`.ci/run` installs them).
pub const PROMETHEUS: &str = "prometheus";
pub const ALERTMANAGER: &str = "prometheus-alertmanager";
/// The bearer token the shipped webhook receiver reads from its credentials file.
pub const RELAY_TOKEN: &str = "relay-token-for-the-test";

/// `true` when every tool in `tools` runs; else fails under CI (`CI` set) or says why it
/// skips.
pub fn have_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| Command::new(t).arg("--version").output().is_err())
        .collect();
    if missing.is_empty() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{test}: {missing:?} missing under CI (.ci/run installs Debian's prometheus and \
         prometheus-alertmanager)"
    );
    eprintln!(
        "skipped: {test}: {missing:?} not installed (Debian's prometheus, prometheus-alertmanager)"
    );
    false
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Seconds since the epoch, as Prometheus's `time=` takes it.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// A loopback port free a moment ago.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// A child process, killed and reaped when dropped; its output goes to `log`.
struct Proc {
    what: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(what: &'static str, cmd: &mut Command, log: PathBuf) -> Proc {
        let out = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        Proc { what, child, log }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The engine, Prometheus and maybe Alertmanager, in a temporary directory of their own.
pub struct Stack {
    procs: Vec<Proc>,
    /// The engine's instance name and run directory (for `pulse kill`).
    pub name: String,
    pub run: PathBuf,
    /// Where the engine serves /metrics: the `instance` label of its series.
    pub engine: SocketAddr,
    pub prometheus: SocketAddr,
    pub alertmanager: Option<SocketAddr>,
    /// The stack's own directory (configs, storage, logs, the run directory), removed with it.
    dir: PathBuf,
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.procs.clear();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Stack {
    /// Starts Alertmanager (when `webhook` is given: everything routed there), Prometheus and
    /// then the engine, and waits until Prometheus has scraped the engine.
    pub fn start(test: &str, webhook: Option<SocketAddr>) -> Stack {
        let dir = std::env::temp_dir().join(format!("pulse-{test}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut stack = Stack {
            procs: Vec::new(),
            name: format!("{test}-{}", std::process::id()),
            run: dir.join("run"),
            engine: free_port(),
            prometheus: free_port(),
            alertmanager: None,
            dir,
        };
        if let Some(hook) = webhook {
            stack.start_alertmanager(hook);
        }
        stack.start_prometheus();
        stack.start_engine();
        stack.wait_until("Prometheus scrapes the engine", 20, |s| {
            let targets = s.api("/api/v1/targets").ok()?;
            let up = targets["activeTargets"]
                .as_array()?
                .iter()
                .any(|t| t["health"] == "up");
            up.then_some(())
        });
        stack
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    /// The shipped configs/alertmanager/alertmanager.yml, its generic webhook receiver pointed
    /// at `hook` with a relay token of [`RELAY_TOKEN`] in a file of this test's own, and the
    /// route's waits cut to a second; the other receivers (PagerDuty, Slack, the Telegram
    /// relay, e-mail) stay as shipped and fail to send, which Alertmanager only logs.
    fn start_alertmanager(&mut self, hook: SocketAddr) {
        let addr = free_port();
        let token = self.path("relay-token");
        std::fs::write(&token, RELAY_TOKEN).unwrap();
        let shipped =
            std::fs::read_to_string(repo().join("configs/alertmanager/alertmanager.yml")).unwrap();
        let rewritten = shipped
            .replace("http://127.0.0.1:9099/", &format!("http://{hook}/"))
            .replace(
                "/etc/alertmanager/secrets/relay-token",
                &token.display().to_string(),
            )
            .replace("  group_wait: 5s\n", "  group_wait: 1s\n")
            .replace("  group_interval: 1m\n", "  group_interval: 1s\n");
        for (from, to) in [("9099", "webhook url"), ("group_wait: 5s", "route wait")] {
            assert!(
                !rewritten.contains(from),
                "the shipped {to} was not rewritten"
            );
        }
        let config = self.path("alertmanager.yml");
        std::fs::write(&config, rewritten).unwrap();
        let storage = self.path("alertmanager");
        let log = self.path("alertmanager.log");
        self.procs.push(Proc::spawn(
            "alertmanager",
            Command::new(ALERTMANAGER)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.path={}", storage.display()))
                .arg(format!("--web.listen-address={addr}"))
                .arg("--cluster.listen-address="),
            log,
        ));
        self.alertmanager = Some(addr);
    }

    fn start_prometheus(&mut self) {
        let rules = self.path("pulse.rules.yml");
        std::fs::write(&rules, quick_rules()).unwrap();
        let alerting = match self.alertmanager {
            Some(am) => format!(
                "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{am}']\n"
            ),
            None => String::new(),
        };
        let config = self.path("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  \
                 evaluation_interval: 1s\nrule_files:\n  - '{}'\n{alerting}scrape_configs:\n  \
                 - job_name: pulse\n    static_configs:\n      - targets: ['{}']\n",
                rules.display(),
                self.engine
            ),
        )
        .unwrap();
        let storage = self.path("prometheus");
        let log = self.path("prometheus.log");
        self.procs.push(Proc::spawn(
            "prometheus",
            Command::new(PROMETHEUS)
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", storage.display()))
                .arg(format!("--web.listen-address={}", self.prometheus)),
            log,
        ));
    }

    fn start_engine(&mut self) {
        std::fs::create_dir_all(&self.run).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&self.run, std::fs::Permissions::from_mode(0o700)).unwrap();
        let config = self.path("portfolio.toml");
        std::fs::write(&config, portfolio(self.engine, &self.path("journal"))).unwrap();
        let log = self.path("engine.log");
        self.procs.push(Proc::spawn(
            "pulse run",
            Command::new(env!("CARGO_BIN_EXE_pulse"))
                .args(["run", "--config"])
                .arg(&config)
                .args(["--name", &self.name, "--run-dir"])
                .arg(&self.run),
            log,
        ));
    }

    /// `pulse <command>` (kill, rearm, ...) sent to this stack's engine; it must succeed.
    pub fn control(&self, command: &str) {
        let out = Command::new(env!("CARGO_BIN_EXE_pulse"))
            .args([command, "--name", &self.name, "--run-dir"])
            .arg(&self.run)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pulse {command}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The `data` of a Prometheus API answer whose status is "success".
    pub fn api(&self, path: &str) -> Result<Value, String> {
        let (code, body) = http::get(self.prometheus, path)?;
        let v: Value = serde_json::from_str(&body).map_err(|e| format!("{e}: {body}"))?;
        if code != 200 || v["status"] != "success" {
            return Err(format!("{path}: {code} {body}"));
        }
        Ok(v["data"].clone())
    }

    /// The instant vector `expr` evaluates to at `time` (seconds since the epoch).
    pub fn query(&self, expr: &str, time: f64) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}&time={time:.3}", http::encode(expr));
        let data = self
            .api(&path)
            .unwrap_or_else(|e| panic!("{expr}: {e}\n{}", self.logs()));
        assert_eq!(data["resultType"], "vector", "{expr}: {data}");
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// Polls `f` every 200 ms until it answers, for at most `secs` seconds; else fails with
    /// the processes' logs.
    pub fn wait_until<T>(
        &self,
        what: &str,
        secs: u64,
        mut f: impl FnMut(&Stack) -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            if let Some(v) = f(self) {
                return v;
            }
            assert!(
                started.elapsed() < Duration::from_secs(secs),
                "not within {secs} s: {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The last lines each process wrote, for a failure's message.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for p in &self.procs {
            let text = std::fs::read_to_string(&p.log).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            out.push_str(&format!("--- {} ---\n{tail}\n", p.what));
        }
        out
    }
}

/// The numeric value of one instant-vector sample.
pub fn value(sample: &Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

/// configs/prometheus/pulse.rules.yml with every `for:` cut to 1 s: the shipped expressions,
/// firing within the run instead of after minutes.
fn quick_rules() -> String {
    let text = std::fs::read_to_string(repo().join("configs/prometheus/pulse.rules.yml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        match line.trim_start().strip_prefix("for:") {
            Some(_) => {
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push_str(&format!("{indent}for: 1s\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// configs/portfolio.toml made to run here: its captures by absolute path replayed as
/// recorded (`speed = "1"`: about 30 s), /metrics on `listen`, a journal in `journal` (so the
/// journal's counters exist for the dashboard).
fn portfolio(listen: SocketAddr, journal: &Path) -> String {
    let text = std::fs::read_to_string(repo().join("configs/portfolio.toml")).unwrap();
    let data = repo().join("data");
    let mut out = String::new();
    let mut sources = 0;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("path = \"../data/") {
            let file = rest.split('"').next().unwrap();
            out.push_str(&format!(
                "path = {:?}\nspeed = \"1\"\n",
                data.join(file).display().to_string()
            ));
            sources += 1;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert_eq!(sources, 4, "configs/portfolio.toml replays four sources");
    let metrics = "[metrics]\nstats = true\n";
    assert!(
        out.contains(metrics),
        "configs/portfolio.toml has {metrics:?}"
    );
    out = out.replace(
        metrics,
        &format!("{metrics}prometheus_listen = \"{listen}\"\n"),
    );
    out.push_str(&format!(
        "\n[journal]\ndir = {:?}\nsegment_mb = 4\n",
        journal.display().to_string()
    ));
    out
}
