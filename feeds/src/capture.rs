//! Capture files: one received message per line, `recv_ts_ns <TAB> source <TAB> payload`, where
//! `source` is `venue:ws`, `venue:send` or `venue:rest:<path?query>` and `payload` is the exact
//! bytes received. Plain or gzip (detected by its magic bytes).
//!
//! The reader reuses one line buffer, so after the longest line has been seen it never
//! allocates. A malformed line is reported with its kind and skipped; only I/O errors end a read.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::errors::FeedError;
use crate::log::ErrorKind;
use crate::num::Nanos;

/// Lines longer than this are skipped as hostile: a REST snapshot of 5,000 levels a side is
/// about 330 KB, a Coinbase Advanced Trade `level2` snapshot (the whole book, some 46,000
/// levels on BTC-USD at about 105 bytes each) about 5 MB. A live session takes messages up to
/// the same size ([`ws::session`](crate::ws::session)), so whatever it received can be replayed.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// What produced a captured message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind<'a> {
    /// A WebSocket frame received.
    Ws,
    /// A subscription request the recorder sent: not input, replay skips it.
    Send,
    /// A REST response body, with the request's path and query.
    Rest { path: &'a [u8] },
}

/// One well-formed line, borrowing the reader's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaptureRecord<'a> {
    pub recv_ts: Nanos,
    pub venue: &'a [u8],
    pub kind: SourceKind<'a>,
    pub payload: &'a [u8],
}

/// Why a line was skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineError {
    /// Not three tab-separated fields.
    FieldCount,
    /// The first field is not a decimal nanosecond timestamp.
    Timestamp,
    /// The source is not `venue:ws`, `venue:send` or `venue:rest:<path>`.
    Source,
    /// Longer than [`MAX_LINE_BYTES`].
    TooLong,
    /// A Tardis CSV row with the wrong columns for its file's header, an empty exchange or
    /// symbol, or a `|` ([`crate::tardis`]).
    Row,
}

impl LineError {
    /// The kind the feed's distinct-error log counts this error as.
    pub fn kind(self) -> FeedError {
        match self {
            LineError::FieldCount => FeedError::LineFieldCount,
            LineError::Timestamp => FeedError::LineTimestamp,
            LineError::Source => FeedError::LineSource,
            LineError::TooLong => FeedError::LineTooLong,
            LineError::Row => FeedError::TardisRow,
        }
    }

    pub fn describe(self) -> &'static str {
        self.kind().what()
    }
}

pub struct CaptureReader {
    input: Box<dyn BufRead + Send>,
    line: Vec<u8>,
    line_no: u64,
    held: bool,
}

impl CaptureReader {
    /// Opens a capture file, gzip or plain.
    pub fn open(path: &Path) -> io::Result<CaptureReader> {
        Ok(CaptureReader::from_reader(Self::decoded(path)?))
    }

    /// Several capture files read one after the other as one (several days of one source, in
    /// time order). Each may be gzip or plain; a directory is refused.
    pub fn open_all(paths: &[&Path]) -> io::Result<CaptureReader> {
        let mut input: Box<dyn BufRead + Send> = Box::new(io::empty());
        for path in paths {
            if path.is_dir() {
                return Err(io::Error::other(format!(
                    "{}: a journal directory cannot be read after another input; give it alone",
                    path.display()
                )));
            }
            let next = Self::decoded(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            input = Box::new(input.chain(next));
        }
        Ok(CaptureReader::from_reader(input))
    }

    /// A capture file's lines, gunzipped if it is gzip.
    fn decoded(path: &Path) -> io::Result<Box<dyn BufRead + Send>> {
        let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
        let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        Ok(if gzip {
            Box::new(BufReader::with_capacity(
                1 << 20,
                flate2::bufread::MultiGzDecoder::new(file),
            ))
        } else {
            Box::new(file)
        })
    }

    /// The receive time of a capture file's first well-formed line (`None`: it has none).
    pub fn first_timestamp(path: &Path) -> io::Result<Option<u64>> {
        let mut r = CaptureReader::from_reader(Self::decoded(path)?);
        loop {
            match r.next_record() {
                None => return Ok(None),
                Some(Ok(rec)) => return Ok(Some(rec.recv_ts.0)),
                Some(Err(Ok(_))) => {}
                Some(Err(Err(e))) => return Err(e),
            }
        }
    }

    pub fn from_reader(input: Box<dyn BufRead + Send>) -> CaptureReader {
        CaptureReader {
            input,
            line: Vec::with_capacity(1 << 16),
            line_no: 0,
            held: false,
        }
    }

    /// The 1-based number of the line last returned.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }

    /// The raw bytes of the line last read, without its newline (for error reports).
    pub fn current_line(&self) -> &[u8] {
        trim_newline(&self.line)
    }

    /// Keeps the record last returned so that the next call returns it again (a paced replay
    /// holds a message until it is due).
    pub fn hold(&mut self) {
        self.held = true;
    }

    /// The next line: `None` at the end, `Some(Err(Ok(kind)))` for a malformed line (skip it and
    /// call again), `Some(Err(Err(io)))` when reading failed.
    #[allow(clippy::type_complexity)]
    pub fn next_record(
        &mut self,
    ) -> Option<Result<CaptureRecord<'_>, Result<LineError, io::Error>>> {
        if std::mem::take(&mut self.held) {
            return Some(parse_line(trim_newline(&self.line)).map_err(Ok));
        }
        self.line.clear();
        let limit = MAX_LINE_BYTES as u64 + 1;
        let read = match (&mut self.input)
            .take(limit)
            .read_until(b'\n', &mut self.line)
        {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) => return Some(Err(Err(e))),
        };
        self.line_no += 1;
        if read as u64 == limit && self.line.last() != Some(&b'\n') {
            if let Err(e) = skip_line(&mut self.input) {
                return Some(Err(Err(e)));
            }
            return Some(Err(Ok(LineError::TooLong)));
        }
        Some(parse_line(trim_newline(&self.line)).map_err(Ok))
    }
}

fn skip_line(input: &mut dyn BufRead) -> io::Result<()> {
    loop {
        let buf = input.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        match buf.iter().position(|&b| b == b'\n') {
            Some(i) => {
                input.consume(i + 1);
                return Ok(());
            }
            None => {
                let n = buf.len();
                input.consume(n);
            }
        }
    }
}

fn trim_newline(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits one line (without its newline) into a record.
pub fn parse_line(line: &[u8]) -> Result<CaptureRecord<'_>, LineError> {
    let mut fields = line.splitn(3, |&b| b == b'\t');
    let (Some(ts), Some(source), Some(payload)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(LineError::FieldCount);
    };
    let recv_ts = parse_u64(ts).ok_or(LineError::Timestamp)?;
    parse_source(Nanos(recv_ts), source, payload)
}

/// A record from its receive time, its `source` field and its payload: the part of a line after
/// the timestamp (also the layout of the journal's input records).
pub fn parse_source<'a>(
    recv_ts: Nanos,
    source: &'a [u8],
    payload: &'a [u8],
) -> Result<CaptureRecord<'a>, LineError> {
    let colon = source
        .iter()
        .position(|&b| b == b':')
        .ok_or(LineError::Source)?;
    let (venue, rest) = (&source[..colon], &source[colon + 1..]);
    let kind = match rest {
        b"ws" => SourceKind::Ws,
        b"send" => SourceKind::Send,
        _ => match rest.strip_prefix(b"rest:") {
            Some(path) if !path.is_empty() => SourceKind::Rest { path },
            _ => return Err(LineError::Source),
        },
    };
    if venue.is_empty() {
        return Err(LineError::Source);
    }
    Ok(CaptureRecord {
        recv_ts,
        venue,
        kind,
        payload,
    })
}

/// A non-empty run of ASCII digits that fits a `u64`.
pub fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        if !b.is_ascii_digit() {
            return None;
        }
        acc.checked_mul(10)?.checked_add((b - b'0') as u64)
    })
}

/// The value of `key` in a URL query (`symbol` in `/api/v3/depth?symbol=BTCUSDT&limit=1000`).
pub fn query_param<'a>(path: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let query = &path[path.iter().position(|&b| b == b'?')? + 1..];
    query.split(|&b| b == b'&').find_map(|pair| {
        let eq = pair.iter().position(|&b| b == b'=')?;
        (&pair[..eq] == key).then(|| &pair[eq + 1..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(text: &[u8]) -> CaptureReader {
        CaptureReader::from_reader(Box::new(Cursor::new(text.to_vec())))
    }

    #[test]
    fn splits_the_three_fields() {
        let rec = parse_line(b"1723161253937085768\tbinance:ws\t{\"a\":\"x\ty\"}").unwrap();
        assert_eq!(rec.recv_ts, Nanos(1_723_161_253_937_085_768));
        assert_eq!(rec.venue, b"binance");
        assert_eq!(rec.kind, SourceKind::Ws);
        assert_eq!(rec.payload, b"{\"a\":\"x\ty\"}");
        let rest =
            parse_line(b"5\tbinance:rest:/api/v3/depth?symbol=BTCUSDT&limit=1000\t{}").unwrap();
        let SourceKind::Rest { path } = rest.kind else {
            panic!("expected a REST source, got {:?}", rest.kind)
        };
        assert_eq!(query_param(path, b"symbol"), Some(&b"BTCUSDT"[..]));
        assert_eq!(query_param(path, b"limit"), Some(&b"1000"[..]));
        assert_eq!(query_param(path, b"nope"), None);
    }

    #[test]
    fn malformed_lines_are_classified_and_skipped() {
        let mut r = reader(
            b"1\tbinance:ws\t{}\nonly one field\n12x\tbinance:ws\t{}\n3\tbinance\t{}\n\
              4\tbinance:rest:\t{}\n99999999999999999999\tbinance:ws\t{}\n5\tbinance:send\t{}\r\n",
        );
        assert_eq!(r.next_record().unwrap().unwrap().recv_ts, Nanos(1));
        r.hold();
        assert_eq!(
            r.next_record().unwrap().unwrap().recv_ts,
            Nanos(1),
            "held line comes back"
        );
        assert_eq!(r.line_no(), 1);
        let mut errors = Vec::new();
        let mut good = Vec::new();
        while let Some(next) = r.next_record() {
            match next {
                Ok(rec) => good.push((
                    rec.recv_ts,
                    rec.kind == SourceKind::Send,
                    rec.payload.to_vec(),
                )),
                Err(Ok(kind)) => errors.push(kind),
                Err(Err(e)) => panic!("io error {e}"),
            }
        }
        assert_eq!(
            errors,
            [
                LineError::FieldCount,
                LineError::Timestamp,
                LineError::Source,
                LineError::Source,
                LineError::Timestamp
            ]
        );
        assert_eq!(good, [(Nanos(5), true, b"{}".to_vec())]);
        assert_eq!(r.line_no(), 7);
    }

    #[test]
    fn an_overlong_line_is_skipped_whole() {
        let mut text = b"1\tbinance:ws\t".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 10));
        text.extend_from_slice(b"\n2\tbinance:ws\t{}\n");
        let mut r = reader(&text);
        assert!(matches!(r.next_record(), Some(Err(Ok(LineError::TooLong)))));
        assert_eq!(r.next_record().unwrap().unwrap().recv_ts, Nanos(2));
        assert!(r.next_record().is_none());
    }

    #[test]
    fn reads_the_bundled_gzip_capture() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
        let mut r = CaptureReader::open(&path).unwrap();
        let (mut ws, mut rest, mut first_ts) = (0, 0, None);
        while let Some(rec) = r.next_record() {
            let rec = rec.unwrap();
            first_ts.get_or_insert(rec.recv_ts);
            match rec.kind {
                SourceKind::Ws => ws += 1,
                SourceKind::Rest { .. } => rest += 1,
                SourceKind::Send => {}
            }
        }
        assert_eq!((ws, rest), (41_248, 1));
        assert_eq!(first_ts, Some(Nanos(1_723_161_253_937_085_768)));
    }
}
