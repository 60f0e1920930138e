use pulse_core::event::EventMeta;
use pulse_core::order::ClientOrderId;

use super::*;

fn fill(trade_id: TradeId) -> ExecReport {
    ExecReport {
        meta: EventMeta::default(),
        client_id: ClientOrderId(3),
        instrument: InstrumentId(0),
        side: Side::Buy,
        kind: ExecKind::Fill {
            px: Px(100),
            qty: Qty(2),
            fee: 5,
            liquidity: Liquidity::Maker,
            trade_id,
        },
        leaves: Qty(0),
        ts: Nanos(9),
    }
}

#[test]
fn a_numeric_trade_id_keeps_the_72_byte_record_and_a_text_one_follows_it() {
    let (p, len) = report_payload(&fill(TradeId::from_u64(77)));
    assert_eq!((len, p[13], u64_at(&p, 56)), (REPORT_LEN, 0, 77));
    let uuid = b"3f2b8c1e-9d4a-4e6b-8f0a-1c2d3e4f5a6b";
    let (t, len) = report_payload(&fill(TradeId::parse(uuid).unwrap()));
    assert_eq!((len, t[13], u64_at(&t, 56)), (REPORT_TEXT_ID_LEN, 1, 0));
    assert_eq!(usize::from(t[REPORT_LEN]), uuid.len());
    assert_eq!(&t[REPORT_LEN + 1..REPORT_LEN + 1 + uuid.len()], uuid);
    // Everything else is where the numeric form has it.
    assert_eq!(t[..13], p[..13]);
    assert_eq!(t[14..56], p[14..56]);
    assert_eq!(t[64..REPORT_LEN], p[64..REPORT_LEN]);
}

#[test]
fn funding_and_liquidation_carry_their_money_in_the_fill_fields() {
    let mut r = fill(TradeId::NONE);
    r.kind = ExecKind::Funding { amount: -42 };
    let (p, len) = report_payload(&r);
    assert_eq!((len, p[11], i128_at(&p, 32)), (REPORT_LEN, 8, -42));
    r.kind = ExecKind::Liquidation {
        px: Px(95),
        qty: Qty(2),
        fee: 7,
    };
    let (p, _) = report_payload(&r);
    assert_eq!(
        (p[11], i64_at(&p, 16), i64_at(&p, 24), i128_at(&p, 32)),
        (9, 95, 2, 7)
    );
}
