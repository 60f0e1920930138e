//! What a scan takes from a Tardis message (source `tardis`, [`pulse_feeds::tardis`]): the
//! venue its `exchange` names, the symbol, and every price and amount string its rows carry,
//! so that the instrument's scales and tick come from the strings as for OKX ([`Scales`]).

use pulse_feeds::instrument::Venue;
use pulse_feeds::tardis::{venues_of, TardisKind, ROW_SEPARATOR};

use super::okx_scan::WireStrings;

/// The venue (the first Pulse venue the exchange id names) and strings of a Tardis message;
/// `None` for an exchange Pulse does not speak or a message that does not parse.
pub(super) fn tardis_strings(payload: &[u8]) -> Option<(Venue, WireStrings)> {
    let mut parts = payload.split(|&b| b == ROW_SEPARATOR);
    let kind = TardisKind::from_name(parts.next()?)?;
    let mut venue = None;
    let mut strings = WireStrings {
        symbol: String::new(),
        prices: Vec::new(),
        sizes: Vec::new(),
    };
    for row in parts {
        let row = std::str::from_utf8(row).ok()?;
        let fields: Vec<&str> = row.split(',').collect();
        if venue.is_none() {
            venue = venues_of(fields.first()?.as_bytes()).first().copied();
            strings.symbol = fields.get(1)?.to_ascii_uppercase();
        }
        // (price column, amount column) pairs of the row.
        let pairs: Vec<(usize, usize)> = match kind {
            TardisKind::IncrementalBookL2 | TardisKind::Trades => vec![(6, 7)],
            TardisKind::Quotes => vec![(5, 4), (6, 7)],
            TardisKind::BookSnapshot(depth) => (0..2 * depth as usize)
                .map(|i| (4 + 2 * i, 5 + 2 * i))
                .collect(),
        };
        for (px, qty) in pairs {
            let (Some(px), Some(qty)) = (fields.get(px), fields.get(qty)) else {
                continue;
            };
            if !px.is_empty() && !qty.is_empty() {
                strings.prices.push((*px).to_owned());
                strings.sizes.push((*qty).to_owned());
            }
        }
    }
    Some((venue?, strings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_book_message_gives_its_venue_symbol_and_strings() {
        let payload = b"incremental_book_L2|binance-futures,btcusdt,1,2,false,bid,61800.2,0.014|\
                        binance-futures,btcusdt,1,2,false,ask,61800.3,0";
        let (venue, s) = tardis_strings(payload).expect("a message");
        assert_eq!((venue, s.symbol.as_str()), (Venue::BinanceUsdm, "BTCUSDT"));
        assert_eq!(s.prices, ["61800.2", "61800.3"]);
        assert_eq!(s.sizes, ["0.014", "0"]);
        assert!(tardis_strings(b"trades|deribit,BTC-PERPETUAL,1,2,x,buy,1,1").is_none());
    }
}
