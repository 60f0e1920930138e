//! Faults the venue injects, keyed by the index of a timeline frame (the streamed WebSocket
//! frames of the capture, counted from 0; see [`crate::timeline`]).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::api::ApiError;

/// One fault at one timeline index. Every fault applies to every client connected at that
/// moment. Text form (CLI): `close@500`, `drop@120`, `delay@300:2000`, `duplicate@50`,
/// `malformed@70`, `silence@400:5000` (indices, then milliseconds); for a venue whose book
/// pushes carry a checksum, `checksum@80`, for OKX `seq-reset@90`, for Bybit `restart@90`.
/// On Coinbase, whose connection numbers every message (`sequence_num`), `drop@N` leaves a
/// gap in that number and `duplicate@N` repeats it.
///
/// ```
/// use pulse_testex::Fault;
/// let fault: Fault = "delay@300:2000".parse().unwrap();
/// assert_eq!(fault, Fault::Delay { at: 300, ms: 2000 });
/// assert_eq!(fault.to_string(), "delay@300:2000");
/// assert!("delay@300".parse::<Fault>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// After frame `at` went out, cut every connection: TCP closed, no close frame. The
    /// timeline goes on; a reconnecting client streams from the current point.
    Close { at: u64 },
    /// Frame `at` changes the venue's book but is sent to nobody: a gap for the clients.
    Drop { at: u64 },
    /// The venue stalls `ms` before frame `at` (pings still flow); later frames shift.
    Delay { at: u64, ms: u64 },
    /// Frame `at` is sent twice.
    Duplicate { at: u64 },
    /// A truncated, undecodable copy of frame `at` goes out just before the real one.
    Malformed { at: u64 },
    /// After frame `at`, nothing at all is sent for `ms`, not even pings; connections stay
    /// open and the timeline pauses as long.
    Silence { at: u64, ms: u64 },
    /// Frame `at`, a book push, goes out with a wrong checksum (the venue's book is right).
    Checksum { at: u64 },
    /// OKX: frame `at`, a book update, restarts the book's sequence (a maintenance reset:
    /// its `seqId` below its `prevSeqId`), which a client must accept, not resync on.
    SeqReset { at: u64 },
    /// Bybit: frame `at`, a book push, is applied and goes out as a snapshot of the venue's
    /// book with `u == 1` (a service restart); the book's later deltas count on from there.
    Restart { at: u64 },
}

impl Fault {
    /// The timeline index the fault applies to.
    pub fn at(&self) -> u64 {
        match *self {
            Fault::Close { at }
            | Fault::Drop { at }
            | Fault::Delay { at, .. }
            | Fault::Duplicate { at }
            | Fault::Malformed { at }
            | Fault::Silence { at, .. }
            | Fault::Checksum { at }
            | Fault::SeqReset { at }
            | Fault::Restart { at } => at,
        }
    }
}

/// Why a fault's text was refused: the text, the reason, and the accepted forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultParseError(String);

impl fmt::Display for FaultParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FaultParseError {}

impl FromStr for Fault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<Fault, FaultParseError> {
        let bad = |why: &str| {
            FaultParseError(format!(
                "`{text}`: {why} (expected close@N, drop@N, delay@N:MS, duplicate@N, \
                 malformed@N, silence@N:MS, checksum@N, seq-reset@N or restart@N)"
            ))
        };
        let (kind, at, ms) = split_fault(text, "the frame index", &bad)?;
        match (kind, ms) {
            ("close", None) => Ok(Fault::Close { at }),
            ("drop", None) => Ok(Fault::Drop { at }),
            ("duplicate", None) => Ok(Fault::Duplicate { at }),
            ("malformed", None) => Ok(Fault::Malformed { at }),
            ("checksum", None) => Ok(Fault::Checksum { at }),
            ("seq-reset", None) => Ok(Fault::SeqReset { at }),
            ("restart", None) => Ok(Fault::Restart { at }),
            ("delay", Some(ms)) => Ok(Fault::Delay { at, ms }),
            ("silence", Some(ms)) => Ok(Fault::Silence { at, ms }),
            ("delay" | "silence", None) => Err(bad("needs a duration in milliseconds")),
            (
                "close" | "drop" | "duplicate" | "malformed" | "checksum" | "seq-reset" | "restart",
                Some(_),
            ) => Err(bad("takes no duration")),
            _ => Err(bad("unknown fault")),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Fault::Close { at } => write!(f, "close@{at}"),
            Fault::Drop { at } => write!(f, "drop@{at}"),
            Fault::Delay { at, ms } => write!(f, "delay@{at}:{ms}"),
            Fault::Duplicate { at } => write!(f, "duplicate@{at}"),
            Fault::Malformed { at } => write!(f, "malformed@{at}"),
            Fault::Silence { at, ms } => write!(f, "silence@{at}:{ms}"),
            Fault::Checksum { at } => write!(f, "checksum@{at}"),
            Fault::SeqReset { at } => write!(f, "seq-reset@{at}"),
            Fault::Restart { at } => write!(f, "restart@{at}"),
        }
    }
}

/// `kind@N` or `kind@N:MS` into the kind, the index and the duration, both whole numbers;
/// `bad` words the error for the fault's own family.
fn split_fault<'a>(
    text: &'a str,
    index: &str,
    bad: &dyn Fn(&str) -> FaultParseError,
) -> Result<(&'a str, u64, Option<u64>), FaultParseError> {
    let (kind, rest) = text.split_once('@').ok_or_else(|| bad("no `@`"))?;
    let (at, ms) = match rest.split_once(':') {
        Some((at, ms)) => (at, Some(ms)),
        None => (rest, None),
    };
    let number = |digits: &str, what: &str| {
        pulse_feeds::capture::parse_u64(digits.as_bytes())
            .ok_or_else(|| bad(&format!("{what} is not a whole number")))
    };
    let at = number(at, index)?;
    let ms = ms.map(|ms| number(ms, "the duration")).transpose()?;
    Ok((kind, at, ms))
}

/// Everything that happens at one index, merged. Applied in this order: delay, then the
/// frame (unless dropped: malformed copy, frame, duplicate), then silence, then close.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct FaultsAt {
    pub delay: Duration,
    pub drop: bool,
    pub malformed: bool,
    pub duplicate: bool,
    pub silence: Duration,
    pub close: bool,
    pub checksum: bool,
    pub seq_reset: bool,
    pub restart: bool,
}

impl FaultsAt {
    /// The venue faults applied at this index, which only a book push can carry.
    pub fn book_faults(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.checksum, "checksum"),
            (self.seq_reset, "seq-reset"),
            (self.restart, "restart"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
    }
}

/// The faults of a run, looked up by frame index.
#[derive(Clone, Debug, Default)]
pub(crate) struct FaultPlan {
    by_index: BTreeMap<u64, FaultsAt>,
}

impl FaultPlan {
    pub fn new(faults: &[Fault]) -> FaultPlan {
        let mut by_index: BTreeMap<u64, FaultsAt> = BTreeMap::new();
        for fault in faults {
            let entry = by_index.entry(fault.at()).or_default();
            match *fault {
                Fault::Close { .. } => entry.close = true,
                Fault::Drop { .. } => entry.drop = true,
                Fault::Delay { ms, .. } => entry.delay += Duration::from_millis(ms),
                Fault::Duplicate { .. } => entry.duplicate = true,
                Fault::Malformed { .. } => entry.malformed = true,
                Fault::Silence { ms, .. } => entry.silence += Duration::from_millis(ms),
                Fault::Checksum { .. } => entry.checksum = true,
                Fault::SeqReset { .. } => entry.seq_reset = true,
                Fault::Restart { .. } => entry.restart = true,
            }
        }
        FaultPlan { by_index }
    }

    pub fn at(&self, index: u64) -> FaultsAt {
        self.by_index.get(&index).copied().unwrap_or_default()
    }
}

/// A fault on one order request: the `at`-th `order.place` the venue receives (counted from 0
/// over every connection and REST). Text form: `order-reject@N`, `order-delay@N:MS`,
/// `order-drop@N`, `order-disconnect@N`, `order-429@N`, `order-5xx@N`.
///
/// ```
/// use pulse_testex::OrderFault;
/// let fault: OrderFault = "order-5xx@2".parse().unwrap();
/// assert_eq!(fault, OrderFault::ServerError { at: 2 });
/// assert_eq!(fault.to_string(), "order-5xx@2");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderFault {
    /// Refused (-2010) without reaching the book.
    Reject { at: u64 },
    /// Held `ms` before it is carried out and answered.
    Delay { at: u64, ms: u64 },
    /// Carried out; the response is never sent.
    DropResponse { at: u64 },
    /// Carried out; then the connection is cut before the response (and the user data stream
    /// with it).
    Disconnect { at: u64 },
    /// Refused with 429 (-1003) and a `retryAfter` one second out.
    TooManyRequests { at: u64 },
    /// Carried out, answered 503 (-1007, "execution status unknown"): the order is working.
    ServerError { at: u64 },
}

impl OrderFault {
    pub fn at(&self) -> u64 {
        match *self {
            OrderFault::Reject { at }
            | OrderFault::Delay { at, .. }
            | OrderFault::DropResponse { at }
            | OrderFault::Disconnect { at }
            | OrderFault::TooManyRequests { at }
            | OrderFault::ServerError { at } => at,
        }
    }
}

impl OrderFault {
    /// What happens before the request is carried out: a delay is slept here; a 429 or a
    /// reject is the answer instead of carrying it out.
    pub(crate) fn before(&self) -> Option<ApiError> {
        match *self {
            OrderFault::TooManyRequests { .. } => Some(ApiError {
                status: 429,
                code: -1003,
                msg: "Too many requests; current limit is 50 orders per 10 SECOND.",
            }),
            OrderFault::Reject { .. } => Some(ApiError {
                status: 400,
                code: -2010,
                msg: "Order rejected by the venue.",
            }),
            OrderFault::Delay { ms, .. } => {
                std::thread::sleep(Duration::from_millis(ms));
                None
            }
            _ => None,
        }
    }

    /// The error answered after the request was carried out: a 5xx, the order working.
    pub(crate) fn error_after(&self) -> Option<ApiError> {
        matches!(self, OrderFault::ServerError { .. }).then_some(ApiError {
            status: 503,
            code: -1007,
            msg: "Timeout waiting for response from backend server. Send status unknown; \
                  execution status unknown.",
        })
    }
}

impl FromStr for OrderFault {
    type Err = FaultParseError;

    fn from_str(text: &str) -> Result<OrderFault, FaultParseError> {
        let bad = |why: &str| {
            FaultParseError(format!(
                "`{text}`: {why} (expected order-reject@N, order-delay@N:MS, order-drop@N, \
                 order-disconnect@N, order-429@N or order-5xx@N)"
            ))
        };
        let (kind, at, ms) = split_fault(text, "the order index", &bad)?;
        match (kind, ms) {
            ("order-reject", None) => Ok(OrderFault::Reject { at }),
            ("order-drop", None) => Ok(OrderFault::DropResponse { at }),
            ("order-disconnect", None) => Ok(OrderFault::Disconnect { at }),
            ("order-429", None) => Ok(OrderFault::TooManyRequests { at }),
            ("order-5xx", None) => Ok(OrderFault::ServerError { at }),
            ("order-delay", Some(ms)) => Ok(OrderFault::Delay { at, ms }),
            ("order-delay", None) => Err(bad("needs a duration in milliseconds")),
            (_, Some(_)) if kind.starts_with("order-") => Err(bad("takes no duration")),
            _ => Err(bad("unknown order fault")),
        }
    }
}

impl fmt::Display for OrderFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            OrderFault::Reject { at } => write!(f, "order-reject@{at}"),
            OrderFault::Delay { at, ms } => write!(f, "order-delay@{at}:{ms}"),
            OrderFault::DropResponse { at } => write!(f, "order-drop@{at}"),
            OrderFault::Disconnect { at } => write!(f, "order-disconnect@{at}"),
            OrderFault::TooManyRequests { at } => write!(f, "order-429@{at}"),
            OrderFault::ServerError { at } => write!(f, "order-5xx@{at}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_text() {
        let faults = [
            Fault::Close { at: 500 },
            Fault::Drop { at: 120 },
            Fault::Delay { at: 300, ms: 2000 },
            Fault::Duplicate { at: 50 },
            Fault::Malformed { at: 70 },
            Fault::Silence { at: 400, ms: 5000 },
            Fault::Checksum { at: 80 },
            Fault::SeqReset { at: 90 },
            Fault::Restart { at: 95 },
        ];
        for fault in faults {
            assert_eq!(fault.to_string().parse::<Fault>(), Ok(fault));
        }
        assert_eq!("close@500".parse::<Fault>(), Ok(Fault::Close { at: 500 }));
    }

    #[test]
    fn malformed_text_is_refused_with_the_reason() {
        for (text, why) in [
            ("close", "no `@`"),
            ("close@", "frame index"),
            ("close@-1", "frame index"),
            ("close@5:10", "takes no duration"),
            ("delay@5", "needs a duration"),
            ("silence@5:x", "duration"),
            ("explode@5", "unknown fault"),
            ("checksum@5:10", "takes no duration"),
            ("restart@5:10", "takes no duration"),
        ] {
            let err = text.parse::<Fault>().unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn order_faults_round_trip_and_refuse_bad_text() {
        let faults = [
            OrderFault::Reject { at: 1 },
            OrderFault::Delay { at: 2, ms: 300 },
            OrderFault::DropResponse { at: 3 },
            OrderFault::Disconnect { at: 4 },
            OrderFault::TooManyRequests { at: 5 },
            OrderFault::ServerError { at: 6 },
        ];
        for fault in faults {
            assert_eq!(fault.to_string().parse::<OrderFault>(), Ok(fault));
        }
        for (text, why) in [
            ("order-drop", "no `@`"),
            ("order-delay@1", "needs a duration"),
            ("order-5xx@1:5", "takes no duration"),
            ("order-explode@1", "unknown order fault"),
            ("order-429@x", "order index"),
        ] {
            let err = text.parse::<OrderFault>().unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn faults_at_one_index_merge() {
        let plan = FaultPlan::new(&[
            Fault::Delay { at: 3, ms: 10 },
            Fault::Delay { at: 3, ms: 5 },
            Fault::Duplicate { at: 3 },
            Fault::Close { at: 4 },
        ]);
        let at3 = plan.at(3);
        assert_eq!(at3.delay, Duration::from_millis(15));
        assert!(at3.duplicate && !at3.close && !at3.drop);
        assert!(plan.at(4).close);
        assert_eq!(plan.at(5), FaultsAt::default());
    }
}
