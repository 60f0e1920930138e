//! `SyncMode::Order`: `make_durable` returns only once the service has `msync`ed the record,
//! across roll-overs, and fails (never hangs, never lies) once an I/O operation failed.

mod common;

use common::{payload_for, small_config, temp_dir};
use pulse_journal::{AppendError, Appender, SyncMode};

const STREAM: &str = "output";

#[test]
fn every_record_is_synced_before_make_durable_returns() {
    let dir = temp_dir("order");
    let mut cfg = small_config(dir.path(), STREAM);
    cfg.sync = SyncMode::Order;
    cfg.sync_interval = std::time::Duration::from_secs(3600);
    let (mut appender, service) = Appender::open(cfg).expect("opens");
    for i in 0..600u64 {
        let seq = appender
            .append(1, i, &payload_for(i, 400))
            .expect("appends");
        assert_eq!(appender.make_durable(seq), Ok(()));
        assert!(
            service.status().synced_sequence > seq,
            "record {seq} reported durable before its msync"
        );
    }
    assert!(appender.counters().rollovers >= 2, "crossed segments");
    drop(appender);
    let report = service.shutdown().expect("stops");
    assert_eq!(report.synced_sequence, 600);
}

#[test]
fn without_order_nothing_waits() {
    let dir = temp_dir("none");
    let mut cfg = small_config(dir.path(), STREAM);
    cfg.sync_interval = std::time::Duration::from_secs(3600);
    let (mut appender, service) = Appender::open(cfg).expect("opens");
    let seq = appender.append(1, 0, b"x").expect("appends");
    assert_eq!(appender.make_durable(seq), Ok(()));
    assert_eq!(
        service.status().synced_sequence,
        0,
        "nothing was synced for it"
    );
}

#[test]
fn a_failed_io_operation_makes_records_not_durable_instead_of_hanging() {
    let mut refused = 0;
    for n in 1..40u64 {
        let dir = temp_dir("order-fault");
        let mut cfg = small_config(dir.path(), STREAM);
        cfg.sync = SyncMode::Order;
        cfg.fail_io_at = Some(n);
        let Ok((mut appender, service)) = Appender::open(cfg) else {
            continue;
        };
        for i in 0..300u64 {
            let Ok(seq) = appender.append(1, i, &payload_for(i, 400)) else {
                break;
            };
            match appender.make_durable(seq) {
                Ok(()) => assert!(service.status().synced_sequence > seq, "n={n}"),
                Err(e) => {
                    assert_eq!(e, AppendError::NotDurable);
                    assert!(appender.fault().is_some(), "n={n}: refused without a fault");
                    refused += 1;
                    break;
                }
            }
        }
    }
    assert!(refused > 0, "no drill hit an msync");
}
