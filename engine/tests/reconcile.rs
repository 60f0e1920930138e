//! Startup reconciliation over the real binary: a run that ends flat with nothing working is
//! followed by one that agrees with its journal and trades; a run that leaves orders working
//! (the market maker's quotes) is followed, after the simulated venue starts afresh, by one
//! that names the lost orders and halts trading until an operator re-arms.

mod common;

use pulse_engine::decisions::kind::ACCOUNT;

use common::{journal_records, line, repo_config, run_journaled as run};

#[test]
fn a_flat_journal_reconciles_and_lost_orders_halt_trading() {
    let dir = std::env::temp_dir().join(format!("pulse-reconcile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();

    // The book-imbalance taker ends flat with nothing working: the next run agrees.
    let taker = repo_config("imbalance.toml", &dir, None, &[]);
    let journal = dir.join("taker");
    let (first, _) = run(&taker, &journal, "rec-a");
    assert_eq!(
        line(&first, "reconcile "),
        "reconcile first session: venue flat, 0 open order(s)"
    );
    assert!(
        line(&first, "position ").contains("position 0.00000000"),
        "{first}"
    );
    let (second, err) = run(&taker, &journal, "rec-b");
    assert_eq!(
        line(&second, "reconcile "),
        "reconcile matches the journal's last of 1 session(s): venue flat, 0 open order(s)"
    );
    assert!(!err.contains("kill switch"), "{err}");
    assert_eq!(line(&first, "orders "), line(&second, "orders "));
    // Each session starts with its account: one record per instrument, flat.
    let accounts: Vec<Vec<u8>> = journal_records(&journal, "output")
        .into_iter()
        .filter(|(kind, ..)| *kind == ACCOUNT)
        .map(|(_, _, _, p)| p)
        .collect();
    assert_eq!(accounts.len(), 2);
    assert!(accounts.iter().all(|p| p[8..32].iter().all(|&b| b == 0)));

    // The market maker ends with quotes working; a new simulated venue does not have them.
    let maker = repo_config("market-maker.toml", &dir, None, &[]);
    let journal = dir.join("maker");
    let (first, _) = run(&maker, &journal, "rec-c");
    assert!(
        line(&first, "orders ").ends_with("; 2 working at the end"),
        "{first}"
    );
    let (second, err) = run(&maker, &journal, "rec-d");
    let reconcile = line(&second, "reconcile ");
    assert!(
        reconcile.starts_with("reconcile MISMATCH with the journal: order "),
        "{reconcile}"
    );
    assert_eq!(
        reconcile
            .matches("working in the journal, not at the venue")
            .count(),
        2
    );
    assert!(reconcile.ends_with("trading halted until `pulse rearm`"));
    assert!(err.contains("kill switch engaged"), "{err}");
    assert!(
        line(&second, "orders ").starts_with("orders    0 sent"),
        "{second}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
