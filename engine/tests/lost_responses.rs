//! Unknown outcomes: the simulated venue's fault drill loses the response to every fifth new
//! order (the order goes in and trades all the same, as after a timeout or a 5xx). Risk
//! marks each such order in doubt, queries it, and settles it from the venue's answer and its
//! own reports: nothing is resent, nothing is lost, and every decision, fill and position is
//! the one a run without faults makes.

mod common;

use pulse_engine::decisions::kind::{ORDER, QUERY, REPORT};

use common::{count_before, journal_records, line, repo_config, run_journaled};

#[test]
fn orders_in_doubt_are_queried_never_resent_and_change_no_decision() {
    let dir = std::env::temp_dir().join(format!("pulse-lost-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Without latencies: the query's answer comes at once, so the decisions must match the
    // clean run's exactly (with latency, an order in doubt stays in doubt a while longer).
    let no_latency = [
        (
            "\nmarket_data_latency_file = ",
            "\n# market_data_latency_file = ",
        ),
        ("\norder_latency_us = ", "\n# order_latency_us = "),
        ("\ncancel_latency_us = ", "\n# cancel_latency_us = "),
    ];
    let clean = repo_config("market-maker.toml", &dir, None, &no_latency);
    let (expected, _) = run_journaled(&clean, &dir.join("clean"), "lost-a");
    let faulty = dir.join("faulty");
    std::fs::create_dir_all(&faulty).unwrap();
    let drill = repo_config(
        "market-maker.toml",
        &faulty,
        None,
        &[
            no_latency[0],
            no_latency[1],
            no_latency[2],
            (
                "maker_fee_bps = \"2\"",
                "maker_fee_bps = \"2\"\nlose_response_every = 5",
            ),
        ],
    );
    let (summary, _) = run_journaled(&drill, &dir.join("faulty-journal"), "lost-b");

    for start in ["strategy ", "risk ", "position "] {
        assert_eq!(line(&summary, start), line(&expected, start));
    }
    let lost = summary
        .lines()
        .find(|l| l.contains("orders with an unknown outcome"))
        .unwrap_or_else(|| panic!("{summary}"));
    let in_doubt = count_before(lost, "orders");
    let queried = count_before(lost, "queried");
    assert!(in_doubt > 50, "{lost}");
    assert!(
        lost.ends_with("0 never reached the venue; none resent"),
        "{lost}"
    );
    // Sent once each: the venue took exactly the orders risk approved, and holds the same
    // position.
    let orders = line(&summary, "orders ");
    let venue = line(&summary, "venue ");
    assert_eq!(count_before(orders, "sent"), count_before(venue, "orders"));
    assert!(orders.contains("0 illegal transitions"), "{orders}");
    let held = line(&summary, "position ")
        .split("position ")
        .nth(2)
        .and_then(|r| r.split(' ').next())
        .unwrap()
        .to_owned();
    assert!(
        venue.ends_with(&format!("position BTCUSDT {held}")),
        "{venue} vs {held}"
    );

    let records = journal_records(&dir.join("faulty-journal"), "output");
    let count = |f: &dyn Fn(u16, &[u8]) -> bool| {
        records.iter().filter(|(k, _, _, p)| f(*k, p)).count() as u64
    };
    assert_eq!(count(&|k, _| k == ORDER), count_before(orders, "sent"));
    assert_eq!(count(&|k, _| k == QUERY), queried);
    assert_eq!(count(&|k, p| k == REPORT && p[11] == 6), in_doubt);
    assert_eq!(count(&|k, p| k == REPORT && p[11] == 7), queried);
    let _ = std::fs::remove_dir_all(&dir);
}
