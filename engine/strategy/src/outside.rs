//! Slow outside signals: scores such as sentiment or fundamentals per instrument, from a file
//! the engine reads beside the hot path, for agents to use like any indicator.
//!
//! The file has one score per line, `ts_ns <TAB> SYMBOL <TAB> score`, the score a decimal from
//! -1 to 1 (`#` starts a comment). A score takes effect at the first book event of its
//! instrument whose market time has reached `ts_ns`, and holds until the next one, so a replay
//! sees each score at the same point of the market as the live run did.
//!
//! With recorded input the whole file is read at start-up (it cannot be behind the replay);
//! live, a reader thread tails the file for appended lines and passes them to the strategy
//! through an SPSC ring. Scores cross the ring as integers (millionths). A malformed line is
//! counted and the first one reported; it never stops the engine. A line longer than
//! [`lines::MAX_LINE_BYTES`] is dropped and counted without being held in memory.

mod lines;

use std::fs::File;
use std::io::{self, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pulse_core::instrument::InstrumentRegistry;
use pulse_core::num::{parse_decimal, InstrumentId, Nanos};

use lines::{BoundedLines, Next};

/// Scores a strategy holds waiting for their time (more wait in the ring or the file).
pub const PENDING: usize = 1024;
const SCORE_SCALE: u32 = 6;
const POLL: Duration = Duration::from_millis(100);

/// One score: `score_micros` millionths, from -1,000,000 to 1,000,000.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutsideScore {
    pub instrument: InstrumentId,
    pub at: Nanos,
    pub score_micros: i32,
}

impl OutsideScore {
    pub fn value(&self) -> f64 {
        f64::from(self.score_micros) / 1e6
    }
}

/// Why a line was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum LineError {
    Fields,
    Timestamp,
    UnknownSymbol,
    Score,
    /// Longer than [`lines::MAX_LINE_BYTES`]: dropped unread.
    TooLong,
    NotUtf8,
}

/// Parses one line; `Ok(None)` for a blank line or a comment.
pub fn parse_line(
    line: &str,
    instruments: &InstrumentRegistry,
) -> Result<Option<OutsideScore>, LineError> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() || line.trim_start().starts_with('#') {
        return Ok(None);
    }
    let mut fields = line.split('\t');
    let (Some(ts), Some(symbol), Some(score), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(LineError::Fields);
    };
    let at = ts.parse::<u64>().map_err(|_| LineError::Timestamp)?;
    let instrument = instruments
        .iter()
        .find(|i| i.symbol.eq_ignore_ascii_case(symbol))
        .ok_or(LineError::UnknownSymbol)?
        .id;
    let micros = parse_decimal(score.as_bytes(), SCORE_SCALE).map_err(|_| LineError::Score)?;
    if !(-1_000_000..=1_000_000).contains(&micros) {
        return Err(LineError::Score);
    }
    Ok(Some(OutsideScore {
        instrument,
        at: Nanos(at),
        score_micros: micros as i32,
    }))
}

/// What reading the file found.
#[derive(Debug, Default)]
pub struct ReadReport {
    pub scores: u64,
    pub bad_lines: u64,
    /// Of the bad lines, those longer than [`lines::MAX_LINE_BYTES`].
    pub too_long: u64,
    /// The first bad line: its number and what was wrong.
    pub first_bad: Option<(u64, String)>,
}

/// Reads every score of `path` now (recorded input).
pub fn read_all(
    path: &Path,
    instruments: &InstrumentRegistry,
) -> io::Result<(Vec<OutsideScore>, ReadReport)> {
    let mut scores = Vec::new();
    let mut report = ReadReport::default();
    let mut lines = BoundedLines::new(BufReader::new(File::open(path)?));
    let mut number = 0;
    loop {
        number += 1;
        let ended = match lines.next()? {
            Next::End => true,
            next => {
                take(next, number, instruments, &mut report, |s| scores.push(s));
                false
            }
        };
        if ended {
            take(lines.last(), number, instruments, &mut report, |s| {
                scores.push(s)
            });
            break;
        }
    }
    scores.sort_by_key(|s| s.at);
    Ok((scores, report))
}

fn take(
    next: Next<'_>,
    number: u64,
    instruments: &InstrumentRegistry,
    report: &mut ReadReport,
    mut out: impl FnMut(OutsideScore),
) {
    let parsed = match next {
        Next::End => return,
        Next::TooLong => Err(LineError::TooLong),
        Next::Line(bytes) => match std::str::from_utf8(bytes) {
            Ok(line) => parse_line(line, instruments),
            Err(_) => Err(LineError::NotUtf8),
        },
    };
    match parsed {
        Ok(Some(score)) => {
            report.scores += 1;
            out(score);
        }
        Ok(None) => {}
        Err(e) => {
            report.bad_lines += 1;
            report.too_long += u64::from(e == LineError::TooLong);
            report.first_bad.get_or_insert((number, format!("{e:?}")));
        }
    }
}

/// The live reader: a thread tailing the file into a ring.
pub struct SignalTail {
    stop: Arc<AtomicBool>,
    /// Scores that found the ring full (the strategy is behind by [`PENDING`] scores).
    pub lost: Arc<AtomicU64>,
    thread: Option<JoinHandle<ReadReport>>,
}

impl SignalTail {
    pub fn spawn(
        path: PathBuf,
        instruments: InstrumentRegistry,
        mut ring: rtrb::Producer<OutsideScore>,
    ) -> io::Result<SignalTail> {
        let mut lines = BoundedLines::new(BufReader::new(File::open(&path)?));
        let stop = Arc::new(AtomicBool::new(false));
        let lost = Arc::new(AtomicU64::new(0));
        let (stop2, lost2) = (Arc::clone(&stop), Arc::clone(&lost));
        let thread = std::thread::Builder::new()
            .name("pulse-signals".into())
            .spawn(move || {
                let mut report = ReadReport::default();
                let mut number = 0u64;
                // Relaxed: a stop request needs no data published with it.
                while !stop2.load(Ordering::Relaxed) {
                    match lines.next() {
                        // The end for now; a partial line waits for the rest.
                        Ok(Next::End) | Err(_) => std::thread::sleep(POLL),
                        Ok(next) => {
                            number += 1;
                            take(next, number, &instruments, &mut report, |s| {
                                if ring.push(s).is_err() {
                                    // Relaxed: a count read once after the thread is joined.
                                    lost2.fetch_add(1, Ordering::Relaxed);
                                }
                            });
                        }
                    }
                }
                report
            })?;
        Ok(SignalTail {
            stop,
            lost,
            thread: Some(thread),
        })
    }

    /// Stops the thread and returns what it read.
    pub fn stop(mut self) -> ReadReport {
        // Relaxed: publishes nothing; the join below is the synchronization.
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .and_then(|t| t.join().ok())
            .unwrap_or_default()
    }
}

impl Drop for SignalTail {
    fn drop(&mut self) {
        // Relaxed: publishes nothing; the join below is the synchronization.
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The strategy's end: scores waiting for their time, in time order, and the current one.
pub struct OutsideScores {
    ring: Option<rtrb::Consumer<OutsideScore>>,
    /// Preallocated; sorted by time.
    pending: Vec<OutsideScore>,
    current: f64,
    pub applied: u64,
    /// Scores dropped because [`PENDING`] were already waiting.
    pub overflow: u64,
}

impl OutsideScores {
    /// `preloaded`: every score of a recorded run, sorted by time; `ring`: live scores.
    pub fn new(
        mut preloaded: Vec<OutsideScore>,
        ring: Option<rtrb::Consumer<OutsideScore>>,
    ) -> OutsideScores {
        preloaded.reserve(PENDING);
        OutsideScores {
            ring,
            pending: preloaded,
            current: 0.0,
            applied: 0,
            overflow: 0,
        }
    }

    /// The score for `instrument` at market time `now`: applies every score due by then.
    pub fn at(&mut self, instrument: InstrumentId, now: Nanos) -> f64 {
        if let Some(ring) = &mut self.ring {
            while let Ok(score) = ring.pop() {
                if self.pending.len() == self.pending.capacity() {
                    self.overflow += 1;
                    continue;
                }
                let at = self.pending.partition_point(|s| s.at <= score.at);
                self.pending.insert(at, score);
            }
        }
        let due = self.pending.partition_point(|s| s.at <= now);
        for s in &self.pending[..due] {
            if s.instrument == instrument {
                self.current = s.value();
                self.applied += 1;
            }
        }
        // Scores for other instruments are dropped with the rest: one strategy, one instrument.
        self.pending.drain(..due);
        self.current
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulse_core::instrument::Venue;
    use pulse_core::num::{Px, Qty};

    fn registry() -> InstrumentRegistry {
        let mut r = InstrumentRegistry::new();
        r.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1))
            .unwrap();
        r.add(Venue::Binance, "ETHUSDT", 2, 8, Px(1), Qty(1))
            .unwrap();
        r
    }

    #[test]
    fn lines_parse_exactly_or_say_why_not() {
        let r = registry();
        assert_eq!(
            parse_line("100\tbtcusdt\t-0.25\n", &r),
            Ok(Some(OutsideScore {
                instrument: InstrumentId(0),
                at: Nanos(100),
                score_micros: -250_000
            }))
        );
        assert_eq!(parse_line("# sentiment", &r), Ok(None));
        assert_eq!(parse_line("   ", &r), Ok(None));
        assert_eq!(parse_line("100\tBTCUSDT", &r), Err(LineError::Fields));
        assert_eq!(parse_line("x\tBTCUSDT\t0.1", &r), Err(LineError::Timestamp));
        assert_eq!(
            parse_line("1\tSOLUSDT\t0.1", &r),
            Err(LineError::UnknownSymbol)
        );
        assert_eq!(parse_line("1\tBTCUSDT\t1.5", &r), Err(LineError::Score));
        assert_eq!(
            parse_line("1\tBTCUSDT\t0.1234567", &r),
            Err(LineError::Score)
        );
    }

    #[test]
    fn scores_apply_at_their_market_time_and_hold() {
        let s = |at: u64, i: u16, v: i32| OutsideScore {
            instrument: InstrumentId(i),
            at: Nanos(at),
            score_micros: v,
        };
        let mut scores = OutsideScores::new(
            vec![s(10, 0, 500_000), s(20, 1, 900_000), s(30, 0, -100_000)],
            None,
        );
        assert_eq!(scores.at(InstrumentId(0), Nanos(5)), 0.0);
        assert_eq!(scores.at(InstrumentId(0), Nanos(10)), 0.5);
        assert_eq!(
            scores.at(InstrumentId(0), Nanos(25)),
            0.5,
            "ETHUSDT's score is not ours"
        );
        assert_eq!(scores.at(InstrumentId(0), Nanos(31)), -0.1);
        assert_eq!(scores.applied, 2);
    }

    #[test]
    fn the_tail_follows_appended_lines() {
        let dir = std::env::temp_dir().join(format!("pulse-outside-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scores.tsv");
        std::fs::write(&path, "1\tBTCUSDT\t0.5\nbad line\n").unwrap();
        let (tx, rx) = rtrb::RingBuffer::new(16);
        let tail = SignalTail::spawn(path.clone(), registry(), tx).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, b"2\tBTCUSDT\t-0.").unwrap();
        std::thread::sleep(Duration::from_millis(250));
        std::io::Write::write_all(&mut f, b"75\n").unwrap();
        let mut scores = OutsideScores::new(Vec::new(), Some(rx));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while scores.at(InstrumentId(0), Nanos(2)) != -0.75 {
            assert!(
                std::time::Instant::now() < deadline,
                "the appended line never arrived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let report = tail.stop();
        assert_eq!((report.scores, report.bad_lines), (2, 1));
        assert_eq!(report.first_bad.map(|b| b.0), Some(2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_tail_drops_and_counts_an_over_long_line() {
        let dir = std::env::temp_dir().join(format!("pulse-outside-long-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("scores.tsv");
        // 4 MiB without a newline: the old reader held all of it.
        let mut text = vec![b'9'; 4 << 20];
        text.extend_from_slice(b"\n3\tBTCUSDT\t0.25\n");
        std::fs::write(&path, &text).unwrap();
        let (tx, rx) = rtrb::RingBuffer::new(16);
        let tail = SignalTail::spawn(path.clone(), registry(), tx).unwrap();
        let mut scores = OutsideScores::new(Vec::new(), Some(rx));
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while scores.at(InstrumentId(0), Nanos(3)) != 0.25 {
            assert!(
                std::time::Instant::now() < deadline,
                "the line after it never arrived"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let report = tail.stop();
        assert_eq!(
            (report.scores, report.bad_lines, report.too_long),
            (1, 1, 1)
        );
        assert_eq!(report.first_bad, Some((1, "TooLong".to_owned())));
        let (all, report) = read_all(&path, &registry()).unwrap();
        assert_eq!((all.len(), report.too_long), (1, 1));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
