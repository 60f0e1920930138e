use super::*;

crate::error_kinds! {
    enum TestError {
        First => ("first", "the first kind"),
        Second => ("second", "the second kind"),
        Third => ("third", "the third kind"),
    }
}

#[test]
fn each_kind_logs_once_and_counts_every_time_with_first_and_last_seen() {
    let (tx, mut rx) = rtrb::RingBuffer::new(8);
    let mut log = DistinctLog::<TestError>::new("test", Some(tx));
    assert!(log.once(TestError::Second, Nanos(10), "field", 7, b"abc"));
    assert!(!log.once(TestError::Second, Nanos(20), "field", 8, b"abd"));
    assert!(!log.once(TestError::Second, Nanos(30), "", 9, b""));
    assert!(log.once(TestError::Third, Nanos(40), "", 0, &[]));

    let r = rx.pop().unwrap();
    assert_eq!(
        (r.stage, r.what, r.detail, r.line),
        ("test", "the second kind", "field", 7)
    );
    assert_eq!(r.excerpt(), b"abc");
    assert_eq!(rx.pop().unwrap().what, "the third kind");
    assert!(rx.pop().is_err());

    let s = log.stats(TestError::Second);
    assert_eq!((s.count, s.first, s.last), (3, Nanos(10), Nanos(30)));
    assert_eq!(log.stats(TestError::First), KindStats::NEW);
    let seen: Vec<_> = log.seen().map(|(k, s)| (k.key(), s.count)).collect();
    assert_eq!(seen, [("second", 3), ("third", 1)]);
    assert_eq!(log.lost, 0);
}

#[test]
fn without_a_ring_a_first_occurrence_is_lost_but_still_counted() {
    let mut log = DistinctLog::<TestError>::new("test", None);
    assert!(!log.once(TestError::First, Nanos(5), "", 0, &[0; 500]));
    assert!(!log.once(TestError::First, Nanos(6), "", 0, &[]));
    assert_eq!(log.lost, 1);
    assert_eq!(log.stats(TestError::First).count, 2);
}

#[test]
fn kinds_are_indexed_in_declaration_order() {
    let keys: Vec<_> = TestError::ALL
        .iter()
        .map(|k| (k.index(), k.key()))
        .collect();
    assert_eq!(keys, [(0, "first"), (1, "second"), (2, "third")]);
    assert_eq!(TestError::COUNT, 3);
}
