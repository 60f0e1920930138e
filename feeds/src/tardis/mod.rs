//! Tardis.dev CSV datasets as recorded input: `incremental_book_L2`, `book_snapshot_25` (and
//! `book_snapshot_5`), `trades` and `quotes`, gzipped or plain, for every venue Pulse speaks.
//!
//! The columns are Tardis's documented ones (<https://docs.tardis.dev/downloadable-csv-files>:
//! comma-delimited, LF line ends, `.` decimal mark, times in microseconds since the epoch, UTC;
//! `timestamp` is the exchange's time, `local_timestamp` the time Tardis received the message):
//!
//! - `incremental_book_L2`: `exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount`,
//!   `side` `bid` or `ask`, `amount` the level's new absolute size (`0` removes it). Rows of
//!   one exchange message share their `local_timestamp` (Tardis: "you can recognize that by
//!   grouping rows by local_timestamp"); a run of `is_snapshot=true` rows is a snapshot that
//!   replaces the book, and a new one starts where `is_snapshot` turns from false to true.
//! - `book_snapshot_25` / `_5`: `exchange,symbol,timestamp,local_timestamp`, then for each level
//!   `i` `asks[i].price,asks[i].amount,bids[i].price,bids[i].amount` (empty where the book is
//!   shallower): each row a whole top-of-book.
//! - `trades`: `exchange,symbol,timestamp,local_timestamp,id,side,price,amount`, `side` the
//!   taker's (`buy`, `sell`, `unknown`).
//! - `quotes`: `exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount`.
//!
//! A file is recognized by its header line alone ([`TardisKind::from_header`]), whatever its
//! name. [`TardisInput`] reads one or several files (a book file and the trades of the same
//! instrument, say), groups each file's rows into messages (rows of one symbol, one
//! `local_timestamp` and, for the book, one `is_snapshot`), and merges the files' messages in
//! `local_timestamp` order (ties in the order the files were given). Each message is handed to
//! the feeds as one capture record, source `tardis:ws`, payload `<kind>|<row>|<row>...` (the
//! CSV rows as Tardis wrote them, joined by `|`, which no Tardis value holds): the same line
//! `pulse data import --format tardis` writes into a capture, so a capture of Tardis data and
//! the CSV files replay alike, and journal alike. [`TardisAdapter`] decodes those messages into
//! the normalized events every venue's adapter stages, so the book stage and everything after
//! it is unchanged.
//!
//! Instruments are the config's: Tardis's `exchange` id names the Pulse venue
//! ([`venues_of`]), the symbol is matched as the registry matches a venue's (case-insensitive).
//! Rows of a symbol not configured are refused as an unknown symbol (counted, skipped).

pub mod adapter;
pub mod import;
pub mod input;
mod reader;

pub use adapter::TardisAdapter;
pub use input::TardisInput;

use crate::instrument::Venue;

/// The capture source of Tardis messages (`tardis:ws`).
pub const SOURCE: &str = "tardis";

/// Separates a message's kind and its rows in a capture payload.
pub const ROW_SEPARATOR: u8 = b'|';

/// Rows one book message holds at most: a Binance REST snapshot of 5,000 levels a side is
/// 10,000 rows. A longer run of rows of one timestamp is cut into several messages (counted by
/// the reader), each committed: a book then shows the partial snapshot for one commit.
pub const MAX_MESSAGE_ROWS: usize = 10_000;

/// Trades one message holds at most (a longer run of one timestamp is cut likewise).
pub const MAX_TRADES_PER_MESSAGE: usize = 1024;

/// A CSV row longer than this is refused (a `book_snapshot_25` row is about 1.5 KB).
pub const MAX_ROW_BYTES: usize = 8 << 10;

/// The Tardis dataset a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TardisKind {
    IncrementalBookL2,
    /// `book_snapshot_25` or `book_snapshot_5`: the depth each row carries.
    BookSnapshot(u8),
    Trades,
    Quotes,
}

const L2_HEADER: &[u8] = b"exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount";
const TRADES_HEADER: &[u8] = b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount";
const QUOTES_HEADER: &[u8] =
    b"exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount";

impl TardisKind {
    /// The dataset's name, as Tardis names it and as a capture payload starts.
    pub fn name(self) -> &'static str {
        match self {
            TardisKind::IncrementalBookL2 => "incremental_book_L2",
            TardisKind::BookSnapshot(5) => "book_snapshot_5",
            TardisKind::BookSnapshot(_) => "book_snapshot_25",
            TardisKind::Trades => "trades",
            TardisKind::Quotes => "quotes",
        }
    }

    pub fn from_name(name: &[u8]) -> Option<TardisKind> {
        [
            TardisKind::IncrementalBookL2,
            TardisKind::BookSnapshot(25),
            TardisKind::BookSnapshot(5),
            TardisKind::Trades,
            TardisKind::Quotes,
        ]
        .into_iter()
        .find(|k| k.name().as_bytes() == name)
    }

    /// Columns a row of this dataset has.
    pub fn columns(self) -> usize {
        match self {
            TardisKind::BookSnapshot(depth) => 4 + 4 * depth as usize,
            _ => 8,
        }
    }

    /// The dataset whose header `line` is (without its line end), if any.
    pub fn from_header(line: &[u8]) -> Option<TardisKind> {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line {
            L2_HEADER => return Some(TardisKind::IncrementalBookL2),
            TRADES_HEADER => return Some(TardisKind::Trades),
            QUOTES_HEADER => return Some(TardisKind::Quotes),
            _ => {}
        }
        [25u8, 5]
            .into_iter()
            .map(TardisKind::BookSnapshot)
            .find(|k| {
                let TardisKind::BookSnapshot(depth) = *k else {
                    return false;
                };
                line.split(|&b| b == b',')
                    .eq(snapshot_header(depth).iter().map(|c| c.as_bytes()))
            })
    }
}

/// The header of `book_snapshot_{depth}`.
fn snapshot_header(depth: u8) -> Vec<String> {
    let mut columns: Vec<String> = ["exchange", "symbol", "timestamp", "local_timestamp"]
        .map(String::from)
        .to_vec();
    for i in 0..depth {
        for side in ["asks", "bids"] {
            columns.push(format!("{side}[{i}].price"));
            columns.push(format!("{side}[{i}].amount"));
        }
    }
    columns
}

/// The Pulse venues a Tardis `exchange` id may name, in the order an instrument is looked up:
/// the first venue with the symbol configured takes the row. Tardis records Coinbase's
/// Exchange feed (`coinbase`), so its rows go to `coinbase-exchange` first, then to Advanced
/// Trade's `coinbase` (same product ids); Kraken's to v2's `kraken`, then `kraken-v1`.
pub fn venues_of(exchange: &[u8]) -> &'static [Venue] {
    match exchange {
        b"binance" | b"binance-us" => &[Venue::Binance],
        b"binance-futures" => &[Venue::BinanceUsdm],
        b"okex" | b"okex-futures" | b"okex-swap" | b"okx" | b"okx-futures" | b"okx-swap" => {
            &[Venue::Okx]
        }
        b"bybit" => &[Venue::BybitLinear],
        b"bybit-spot" => &[Venue::BybitSpot],
        b"coinbase" => &[Venue::CoinbaseExchange, Venue::Coinbase],
        b"kraken" => &[Venue::Kraken, Venue::KrakenV1],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_name_their_dataset() {
        assert_eq!(
            TardisKind::from_header(L2_HEADER),
            Some(TardisKind::IncrementalBookL2)
        );
        assert_eq!(
            TardisKind::from_header(
                b"exchange,symbol,timestamp,local_timestamp,id,side,price,amount\r"
            ),
            Some(TardisKind::Trades)
        );
        assert_eq!(
            TardisKind::from_header(QUOTES_HEADER),
            Some(TardisKind::Quotes)
        );
        let h25 = snapshot_header(25).join(",");
        assert_eq!(
            h25.split(',').count(),
            TardisKind::BookSnapshot(25).columns()
        );
        assert!(h25.starts_with(
            "exchange,symbol,timestamp,local_timestamp,asks[0].price,asks[0].amount,\
             bids[0].price,bids[0].amount,asks[1].price"
        ));
        assert_eq!(
            TardisKind::from_header(h25.as_bytes()),
            Some(TardisKind::BookSnapshot(25))
        );
        let h5 = snapshot_header(5).join(",");
        assert_eq!(
            TardisKind::from_header(h5.as_bytes()),
            Some(TardisKind::BookSnapshot(5))
        );
        assert_eq!(TardisKind::from_header(b"exchange,symbol"), None);
        assert_eq!(
            TardisKind::from_header(b"1723161253937085768\tbinance:ws\t{}"),
            None
        );
        for kind in [
            TardisKind::IncrementalBookL2,
            TardisKind::BookSnapshot(25),
            TardisKind::BookSnapshot(5),
            TardisKind::Trades,
            TardisKind::Quotes,
        ] {
            assert_eq!(TardisKind::from_name(kind.name().as_bytes()), Some(kind));
        }
    }

    #[test]
    fn every_pulse_venue_has_a_tardis_exchange() {
        let named: Vec<Venue> = [
            "binance",
            "binance-futures",
            "okex",
            "bybit",
            "bybit-spot",
            "coinbase",
            "kraken",
        ]
        .iter()
        .flat_map(|e| venues_of(e.as_bytes()).iter().copied())
        .collect();
        for venue in Venue::ALL {
            assert!(named.contains(&venue), "{venue:?}");
        }
        assert!(venues_of(b"deribit").is_empty());
    }
}
