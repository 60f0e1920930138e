//! Funds through the real pipeline on bundled data: capital allocated across
//! `configs/portfolio.toml`'s three strategies (journaled, binding, restored after a restart),
//! balances that refuse what the account does not hold, and instruments quoted in USD valued
//! in USDT at a fixed rate (`configs/multi-venue.toml`).

mod common;

use std::path::{Path, PathBuf};

use common::{journal_records, line, pulse, repo_root, succeeded, TempDir};
use pulse_engine::risk::allocation::{Allocation, Basis};
use pulse_engine::risk::decisions::kind;

/// `configs/<file>` rewritten to run anywhere (its captures by absolute path, no stats file),
/// with `risk` added to `[risk]` and `tail` at the end; written to `dir/<file>`.
fn config(dir: &Path, file: &str, risk: &str, tail: &str) -> PathBuf {
    let text = std::fs::read_to_string(repo_root().join("configs").join(file)).unwrap();
    let data = repo_root().join("data");
    let text = text
        .replace("\"../data/", &format!("\"{}/", data.display()))
        .replace("stats = true", "stats = false");
    // The test's own allocation and balances replace the shipped config's.
    let text = if tail.contains("[portfolio.allocation]") {
        without_table(&text, "[portfolio.allocation]")
    } else {
        text
    };
    let text: String = if risk.starts_with("balances") {
        text.lines()
            .filter(|l| !l.starts_with("balances ="))
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        text
    };
    assert_eq!(text.matches("\n[risk]\n").count(), 1);
    let text = text.replacen("\n[risk]\n", &format!("\n[risk]\n{risk}\n"), 1);
    let path = dir.join(file);
    std::fs::write(&path, format!("{text}\n{tail}\n")).unwrap();
    path
}

/// `text` without the table `header` (from its header to the next table or the end).
fn without_table(text: &str, header: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for l in text.lines() {
        if l.starts_with('[') {
            inside = l.trim() == header;
        }
        if !inside {
            out.push_str(l);
            out.push('\n');
        }
    }
    out
}

fn run(config: &Path, journal: &Path, name: &str) -> String {
    succeeded(&pulse(&[
        "run",
        "--config",
        config.to_str().unwrap(),
        "--journal",
        journal.to_str().unwrap(),
        "--name",
        &format!("{name}-{}", std::process::id()),
    ]))
}

/// Every session's ALLOCATION records, by session, in order.
fn allocations(journal: &Path) -> Vec<Vec<Allocation>> {
    let mut sessions: Vec<Vec<Allocation>> = Vec::new();
    for (k, _, ts, payload) in journal_records(journal, "output") {
        match k {
            kind::SESSION => sessions.push(Vec::new()),
            kind::ALLOCATION => {
                let a = Allocation::decode(&payload).expect("an ALLOCATION record");
                assert_eq!(a.at.0, ts, "journaled at its market time");
                sessions.last_mut().expect("in a session").push(a);
            }
            _ => {}
        }
    }
    sessions
}

/// Each strategy's capital is its weight of the equity, to the 10^-12.
fn assert_capital_follows_weights(a: &Allocation) {
    for s in 0..a.count {
        assert_eq!(
            a.capital[s],
            a.equity * i128::from(a.weights_bps[s]) / 10_000
        );
    }
}

#[test]
fn fixed_weights_are_journaled_and_bind_each_strategy() {
    let dir = TempDir::new(&format!("funds-fixed-{}", std::process::id()));
    // 98% to the market maker, 1% (100 USDT) each to the two takers: the ETH taker's 0.05 ETH
    // (about 194 USDT) never fits, the OKX taker's 0.002 BTC (about 60 USDT) once.
    let tail = "[portfolio.allocation]\nmode = \"fixed\"\nweights = [\"0.98\", \"0.01\", \"0.01\"]\nrebalance_s = 10";
    let cfg = config(&dir, "portfolio.toml", "", tail);
    let summary = run(&cfg, &dir.join("journal"), "funds-fixed");
    let sessions = allocations(&dir.join("journal"));
    let [session] = &sessions[..] else {
        panic!("one session: {sessions:?}");
    };
    // At the first market event, then every 10 s of the 30 s recording.
    assert!((3..=4).contains(&session.len()), "{session:?}");
    let first = session[0];
    assert_eq!(first.basis, Basis::Fixed);
    assert_eq!(first.count, 3);
    assert_eq!(first.weights_bps[..3], [9_800, 100, 100]);
    // Nothing traded yet: equity is the capital, 10,000 USDT.
    const USDT: i128 = 1_000_000_000_000;
    assert_eq!(first.equity, 10_000 * USDT);
    assert_eq!(first.capital[..3], [9_800 * USDT, 100 * USDT, 100 * USDT]);
    for a in session {
        assert_capital_follows_weights(a);
    }
    // On a 10 s grid from the first event: each at the first event on or past its time.
    for (k, a) in session.iter().enumerate().skip(1) {
        assert!(
            a.at.0 >= first.at.0 + k as u64 * 10_000_000_000,
            "{session:?}"
        );
        assert!(
            a.at.0 < first.at.0 + (k as u64 + 1) * 10_000_000_000,
            "{session:?}"
        );
    }
    let risk = line(&summary, "risk ");
    assert!(risk.contains("allocation_limit"), "{summary}");
    assert!(
        line(&summary, "position  bybit-spot:ETHUSDT").contains(": 0 fills"),
        "{summary}"
    );
    let shown = line(&summary, "allocation ");
    assert!(
        shown.starts_with("allocation fixed (fixed weights)")
            && shown.contains("market-maker binance:BTCUSDT 98.00%")
            && shown.contains("book-imbalance bybit-spot:ETHUSDT 1.00%"),
        "{summary}"
    );
    // `pulse journal dump` names and decodes the records.
    let dump = succeeded(&pulse(&[
        "journal",
        "dump",
        "--stream",
        "output",
        "--json",
        dir.join("journal").to_str().unwrap(),
    ]));
    let record = dump
        .lines()
        .find(|l| l.contains("\"kind\":\"allocation\""))
        .expect("an allocation record in the dump");
    assert!(
        record.contains("\"weights_bps\":[9800,100,100]")
            && record.contains(
                "\"capital\":[\"9800000000000000\",\"100000000000000\",\"100000000000000\"]"
            )
            && record.contains("\"basis\":\"fixed\""),
        "{record}"
    );
}

#[test]
fn an_allocation_survives_a_restart() {
    let dir = TempDir::new(&format!("funds-restart-{}", std::process::id()));
    let tail = "[portfolio.allocation]\nmode = \"risk-parity\"\nrebalance_s = 5\nsample_ms = 250\nwindow = 100\nmin_samples = 20";
    let cfg = config(&dir, "portfolio.toml", "", tail);
    let journal = dir.join("journal");
    run(&cfg, &journal, "funds-restart-1");
    // The same recording again into the same journal: the venue starts flat, so the second
    // session halts on the reconciliation; its allocations go on all the same.
    run(&cfg, &journal, "funds-restart-2");
    let sessions = allocations(&journal);
    let [one, two] = &sessions[..] else {
        panic!("two sessions: {sessions:?}");
    };
    // The first session starts from equal weights, then measures.
    assert_eq!(one[0].basis, Basis::Equal);
    assert_eq!(one[0].weights_bps[..3], [3_333, 3_333, 3_333]);
    let last = one.last().copied().expect("allocations");
    assert_eq!(last.basis, Basis::Measured);
    assert_ne!(last.weights_bps[..3], [3_333, 3_333, 3_333]);
    // The second starts from the last one's weights: too few samples yet.
    let first = two[0];
    assert_eq!(first.basis, Basis::Kept);
    assert_eq!(first.weights_bps, last.weights_bps);
    assert_eq!(first.at, one[0].at, "at the recording's first event");
    for a in one.iter().chain(two) {
        assert_capital_follows_weights(a);
    }
    // Measured again once the window holds 20 samples.
    assert!(
        two[1..].iter().all(|a| a.basis == Basis::Measured),
        "{two:?}"
    );
}

#[test]
fn balances_refuse_what_the_account_does_not_hold() {
    let dir = TempDir::new(&format!("funds-balances-{}", std::process::id()));
    // 100 USDT and no BTC or ETH: a sell of what is not held is refused, and buys only while
    // the quote lasts.
    let cfg = config(&dir, "portfolio.toml", "balances = { USDT = \"100\" }", "");
    let summary = run(&cfg, &dir.join("journal"), "funds-balances");
    let risk = line(&summary, "risk ");
    assert!(risk.contains("insufficient_balance"), "{summary}");
    let balances = line(&summary, "balances ");
    assert!(balances.starts_with("balances  USDT "), "{summary}");
    // No asset is ever sold short: what was bought is all that could be sold.
    for asset in ["BTC", "ETH"] {
        let shown = balances
            .split(", ")
            .find(|b| b.starts_with(asset))
            .unwrap_or_else(|| panic!("{asset} in {balances}"));
        assert!(!shown.contains(" -"), "{balances}");
    }
}

#[test]
fn usd_quoted_instruments_are_valued_at_the_fixed_rate() {
    let dir = TempDir::new(&format!("funds-fx-{}", std::process::id()));
    let cfg = config(&dir, "multi-venue.toml", "", "");
    // The bundled config's rate of 1 USDT per USD, halved.
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert_eq!(text.matches("fixed_rates = { USD = \"1\" }").count(), 1);
    std::fs::write(
        &cfg,
        text.replace(
            "fixed_rates = { USD = \"1\" }",
            "fixed_rates = { USD = \"0.5\" }",
        ),
    )
    .unwrap();
    let summary = run(&cfg, &dir.join("journal"), "funds-fx");
    // Equity = 10,000 + the USDT instruments' nets + half the USD instruments' nets.
    let mut expected = 10_000.0;
    for l in summary.lines().filter(|l| l.starts_with("position  ")) {
        let net: f64 = l.rsplit("=> net ").next().unwrap().parse().unwrap();
        let usd = l.contains("/USD:") || l.contains("-USD:");
        expected += if usd { net / 2.0 } else { net };
    }
    let account = line(&summary, "account ");
    let equity: f64 = account
        .trim_start_matches("account   equity ")
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (equity - expected).abs() < 0.011,
        "{equity} vs {expected}: {summary}"
    );
    // The USD nets are not zero: the rate mattered.
    assert!(
        line(&summary, "position  kraken-v1:XMR/USD").contains("14 fills"),
        "{summary}"
    );
    assert!(
        line(&summary, "funds ").contains("kraken:ETH/USD at a fixed 0.500000 USDT per USD"),
        "{summary}"
    );
}

#[test]
fn allocations_are_decided_again_the_same_on_a_replay() {
    let dir = TempDir::new(&format!("funds-replay-{}", std::process::id()));
    let tail = "[portfolio.allocation]\nmode = \"equal-risk\"\nrebalance_s = 5\nsample_ms = 250\nwindow = 100\nmin_samples = 20";
    let cfg = config(
        &dir,
        "portfolio.toml",
        "balances = { USDT = \"5000\", BTC = \"0.01\" }",
        tail,
    );
    // Two runs and a replay of the first's input decide the same, allocations included.
    let (summary, records) =
        common::run_twice_and_replay(&cfg, &dir, "funds-replay", &["allocation ", "balances "]);
    let count = records.iter().filter(|r| r.0 == kind::ALLOCATION).count();
    assert!(count >= 6, "one at the start and every 5 s: {count}");
    assert!(
        line(&summary, "allocation ").starts_with("allocation equal_risk (measured weights)"),
        "{summary}"
    );
}
