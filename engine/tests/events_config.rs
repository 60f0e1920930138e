//! `[events]` and `[notify]` in a config: the defaults, and every refusal naming its key and
//! line; the webhook URL refused inline without being repeated, and a planted symlink at the
//! event log's path refused.

use std::path::{Path, PathBuf};
use std::time::Duration;

use pulse_engine::config::{self, EventsConfig, KeySource, NotifyConfig};
use pulse_engine::ops::log::LogTarget;

fn demo() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../configs/imbalance.toml");
    std::fs::read_to_string(path).unwrap()
}

/// The demo with `tail` appended; the line number of the tail's first line.
fn with(tail: &str) -> (String, usize) {
    let text = demo();
    let first = text.lines().count() + 1;
    (format!("{text}{tail}"), first)
}

fn refused(tail: &str) -> (config::ConfigError, usize) {
    let (text, first) = with(tail);
    match config::parse(&text, Path::new("/etc/pulse")) {
        Ok(_) => panic!("accepted: {tail}"),
        Err(e) => (e, first),
    }
}

#[test]
fn defaults_and_values() {
    let (text, _) = with(
        "[events]\nlog = \"log/events.jsonl\"\ninstance = \"eu-1\"\n\n\
         [notify]\nurl_env = \"PULSE_NOTIFY_URL\"\n",
    );
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap();
    assert_eq!(
        cfg.events,
        EventsConfig {
            log: Some(LogTarget::File(PathBuf::from(
                "/etc/pulse/log/events.jsonl"
            ))),
            instance: Some("eu-1".into()),
        }
    );
    assert_eq!(
        cfg.notify,
        Some(NotifyConfig {
            url: KeySource::Env("PULSE_NOTIFY_URL".into()),
            on: vec!["degraded".into(), "kill".into()],
            timeout: Duration::from_millis(5_000),
            retries: 3,
            backoff: Duration::from_millis(200),
            queue: 64,
            ca_file: None,
        })
    );
    let (text, _) = with(
        "[events]\nlog = \"stderr\"\n\n[notify]\nurl_file = \"hook.url\"\n\
         on = [\"health\", \"kill\", \"rearm\", \"flatten\"]\ntimeout_ms = 800\nretries = 0\n\
         queue = 8\n",
    );
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap();
    assert_eq!(cfg.events.log, Some(LogTarget::Stderr));
    let n = cfg.notify.unwrap();
    assert_eq!(n.url, KeySource::File("/etc/pulse/hook.url".into()));
    assert_eq!(n.on, ["health", "kill", "rearm", "flatten"]);
    assert_eq!(
        (n.timeout, n.retries, n.queue),
        (Duration::from_millis(800), 0, 8)
    );
    let (text, _) = with("");
    let cfg = config::parse(&text, Path::new("/etc/pulse")).unwrap();
    assert_eq!((cfg.events, cfg.notify), (EventsConfig::default(), None));
}

#[test]
fn an_inline_url_is_refused_without_being_repeated() {
    let (e, first) =
        refused("[notify]\nurl = \"https://hooks.slack.com/services/T0/B0/SECRETPATH\"\n");
    assert_eq!((e.key.as_str(), e.line), ("notify.url", Some(first + 1)));
    assert!(!e.to_string().contains("SECRETPATH"), "{e}");
    assert!(e.message.contains("url_env"), "{e}");
}

#[test]
fn unknown_keys_and_bad_values_name_key_and_line() {
    let (e, first) = refused("[events]\nlog = \"stderr\"\ncolour = \"red\"\n");
    assert_eq!((e.key.as_str(), e.line), ("events.colour", Some(first + 2)));
    let (e, first) = refused("[notify]\nurl_env = \"U\"\nbody = \"x\"\n");
    assert_eq!((e.key.as_str(), e.line), ("notify.body", Some(first + 2)));
    let (e, first) = refused("[notify]\nurl_env = \"U\"\non = [\"kill\", \"lunch\"]\n");
    assert_eq!((e.key.as_str(), e.line), ("notify.on", Some(first + 2)));
    assert!(e.message.contains("`lunch` is not an event kind"), "{e}");
    let (e, first) = refused("[notify]\nurl_env = \"U\"\nretries = 11\n");
    assert_eq!(
        (e.key.as_str(), e.line),
        ("notify.retries", Some(first + 2))
    );
    let (e, first) = refused("[notify]\nurl_env = \"NOT A NAME\"\n");
    assert_eq!(
        (e.key.as_str(), e.line),
        ("notify.url_env", Some(first + 1))
    );
    let (e, _) = refused("[notify]\non = [\"kill\"]\n");
    assert_eq!((e.key.as_str(), e.line), ("notify", None));
    let (e, first) = refused("[events]\ninstance = \"two words\"\n");
    assert_eq!(
        (e.key.as_str(), e.line),
        ("events.instance", Some(first + 1))
    );
}

#[test]
fn a_symlink_at_the_log_path_is_refused() {
    let dir = std::env::temp_dir().join(format!("pulse-events-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (text, _) = with("[events]\nlog = \"events.jsonl\"\n");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = text.replace("\"../data/", &format!("\"{}/data/", repo.display()));
    let text = text.replace(
        "\"policy/",
        &format!("\"{}/configs/policy/", repo.display()),
    );
    let path = dir.join("pulse.toml");
    std::fs::write(&path, &text).unwrap();
    config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("/etc/passwd", dir.join("events.jsonl")).unwrap();
    let e = config::load(&path).unwrap_err();
    assert_eq!(e.key, "events.log", "{e}");
    assert!(e.message.contains("is a symlink: refused"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
