//! One Tardis CSV file, read as messages: each a run of rows of one symbol and one
//! `local_timestamp` (and, for the book, one `is_snapshot`), joined into the payload the
//! adapter decodes. Buffers are reused: after the largest message no read allocates.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use crate::capture::{parse_u64, LineError};
use crate::num::Nanos;
use crate::tardis::{
    TardisKind, MAX_MESSAGE_ROWS, MAX_ROW_BYTES, MAX_TRADES_PER_MESSAGE, ROW_SEPARATOR,
};

/// What the file has next.
#[derive(Debug)]
pub(crate) enum Head {
    /// A message, in [`TardisFile::message`], received at `local_ts`.
    Message {
        local_ts: Nanos,
    },
    /// A row refused (kept in [`TardisFile::bad_row`]).
    Bad(LineError),
    /// Reading failed: nothing more can be read.
    Failed(io::Error),
    End,
}

/// What was read past the message being built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ahead {
    Nothing,
    /// A good row, in `line`, its key in `next_key`, received at `next_ts`.
    Row,
    /// A refused row, in `bad_row`.
    Bad(LineError),
}

pub(crate) struct TardisFile {
    input: Box<dyn BufRead + Send>,
    pub kind: TardisKind,
    line: Vec<u8>,
    ahead: Ahead,
    message: Vec<u8>,
    /// The grouping key of the message being built, and of the row read ahead.
    key: Vec<u8>,
    next_key: Vec<u8>,
    next_ts: Nanos,
    bad_row: Vec<u8>,
    pub head: Head,
    pub line_no: u64,
    /// Messages cut at [`MAX_MESSAGE_ROWS`].
    pub cut_messages: u64,
}

/// Opens `path` (gzip or plain, by its magic bytes) and reads its first line.
fn open(path: &Path) -> io::Result<(Box<dyn BufRead + Send>, Vec<u8>)> {
    let mut file = BufReader::with_capacity(1 << 20, File::open(path)?);
    let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let input: Box<dyn BufRead + Send> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            flate2::bufread::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    };
    with_header(input)
}

/// `input` with its first line read off.
fn with_header(
    mut input: Box<dyn BufRead + Send>,
) -> io::Result<(Box<dyn BufRead + Send>, Vec<u8>)> {
    let mut first = Vec::with_capacity(MAX_ROW_BYTES);
    (&mut input)
        .take(MAX_ROW_BYTES as u64)
        .read_until(b'\n', &mut first)?;
    let first_len = first.strip_suffix(b"\n").unwrap_or(&first).len();
    first.truncate(first_len);
    Ok((input, first))
}

/// The dataset of the file at `path`, if its first line is a Tardis header.
pub(crate) fn sniff(path: &Path) -> io::Result<Option<TardisKind>> {
    Ok(TardisKind::from_header(&open(path)?.1))
}

impl TardisFile {
    /// Opens a Tardis CSV file and reads its first message; an error if its header is not one
    /// of Tardis's.
    pub fn open(path: &Path) -> io::Result<TardisFile> {
        let (input, header) = open(path)?;
        TardisFile::with_header(input, header, &path.display().to_string())
    }

    /// A Tardis CSV file read from `input` (plain text), named `name` in errors.
    pub fn from_reader(input: Box<dyn BufRead + Send>, name: &str) -> io::Result<TardisFile> {
        let (input, header) = with_header(input)?;
        TardisFile::with_header(input, header, name)
    }

    fn with_header(
        input: Box<dyn BufRead + Send>,
        header: Vec<u8>,
        name: &str,
    ) -> io::Result<TardisFile> {
        let kind = TardisKind::from_header(&header).ok_or_else(|| {
            let shown = String::from_utf8_lossy(&header[..header.len().min(120)]).into_owned();
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "{name}: not a Tardis CSV file (its first line is not the header of \
                     incremental_book_L2, book_snapshot_25/5, trades or quotes: {shown:?})"
                ),
            )
        })?;
        let mut file = TardisFile {
            input,
            kind,
            line: Vec::with_capacity(MAX_ROW_BYTES),
            ahead: Ahead::Nothing,
            message: Vec::with_capacity(1 << 16),
            key: Vec::with_capacity(128),
            next_key: Vec::with_capacity(128),
            next_ts: Nanos::ZERO,
            bad_row: Vec::with_capacity(MAX_ROW_BYTES),
            head: Head::End,
            line_no: 1,
            cut_messages: 0,
        };
        file.advance();
        Ok(file)
    }

    /// The message of [`Head::Message`]: `<kind>|<row>|<row>...`.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// The row of [`Head::Bad`].
    pub fn bad_row(&self) -> &[u8] {
        &self.bad_row
    }

    /// Reads the next message (or refused row, or the end) into [`TardisFile::head`].
    pub fn advance(&mut self) {
        if matches!(self.head, Head::Failed(_)) {
            self.head = Head::End;
            return;
        }
        self.head = match self.read_message() {
            Ok(head) => head,
            Err(e) => Head::Failed(e),
        };
    }

    fn read_message(&mut self) -> io::Result<Head> {
        match std::mem::replace(&mut self.ahead, Ahead::Nothing) {
            Ahead::Row => {}
            Ahead::Bad(e) => return Ok(Head::Bad(e)),
            Ahead::Nothing => match self.read_row()? {
                Some(Ok(())) => {}
                Some(Err(e)) => return Ok(Head::Bad(e)),
                None => return Ok(Head::End),
            },
        }
        std::mem::swap(&mut self.key, &mut self.next_key);
        let local_ts = self.next_ts;
        self.message.clear();
        self.message.extend_from_slice(self.kind.name().as_bytes());
        self.message.push(ROW_SEPARATOR);
        self.message.extend_from_slice(&self.line);
        // A snapshot row and a quote are whole in themselves.
        let max_rows = match self.kind {
            TardisKind::BookSnapshot(_) | TardisKind::Quotes => 1,
            TardisKind::Trades => MAX_TRADES_PER_MESSAGE,
            TardisKind::IncrementalBookL2 => MAX_MESSAGE_ROWS,
        };
        let mut rows = 1;
        if max_rows > 1 {
            loop {
                match self.read_row()? {
                    None => break,
                    Some(Err(e)) => {
                        self.ahead = Ahead::Bad(e);
                        break;
                    }
                    Some(Ok(())) => {}
                }
                if self.next_key != self.key || rows == max_rows {
                    self.cut_messages += u64::from(self.next_key == self.key);
                    self.ahead = Ahead::Row;
                    break;
                }
                self.message.push(ROW_SEPARATOR);
                self.message.extend_from_slice(&self.line);
                rows += 1;
            }
        }
        Ok(Head::Message { local_ts })
    }

    /// Reads the next non-empty row into `line` and its key into `next_key`: `None` at the
    /// end, `Some(Err)` for a refused row (copied to `bad_row`).
    fn read_row(&mut self) -> io::Result<Option<Result<(), LineError>>> {
        loop {
            self.line.clear();
            let limit = MAX_ROW_BYTES as u64 + 1;
            let read = (&mut self.input)
                .take(limit)
                .read_until(b'\n', &mut self.line)?;
            if read == 0 {
                return Ok(None);
            }
            self.line_no += 1;
            if read as u64 == limit && self.line.last() != Some(&b'\n') {
                skip_line(&mut *self.input)?;
                self.bad_row.clear();
                self.bad_row
                    .extend_from_slice(&self.line[..self.line.len().min(120)]);
                return Ok(Some(Err(LineError::TooLong)));
            }
            let len = trimmed_len(&self.line);
            self.line.truncate(len);
            if self.line.is_empty() {
                continue;
            }
            let checked = self.check_row();
            if checked.is_err() {
                self.bad_row.clear();
                self.bad_row.extend_from_slice(&self.line);
            }
            return Ok(Some(checked));
        }
    }

    /// Checks the row's shape (columns, timestamps, no separator byte) and takes its key.
    fn check_row(&mut self) -> Result<(), LineError> {
        let row = &self.line;
        if row.contains(&ROW_SEPARATOR) {
            return Err(LineError::Row);
        }
        if row.iter().filter(|&&b| b == b',').count() + 1 != self.kind.columns() {
            return Err(LineError::Row);
        }
        let mut fields = row.split(|&b| b == b',');
        let (Some(exchange), Some(symbol), Some(ts), Some(local_ts), Some(fifth)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return Err(LineError::Row);
        };
        if exchange.is_empty() || symbol.is_empty() {
            return Err(LineError::Row);
        }
        parse_u64(ts).ok_or(LineError::Timestamp)?;
        let micros = parse_u64(local_ts).ok_or(LineError::Timestamp)?;
        self.next_ts = Nanos(micros.checked_mul(1000).ok_or(LineError::Timestamp)?);
        self.next_key.clear();
        for part in [exchange, symbol, local_ts] {
            self.next_key.extend_from_slice(part);
            self.next_key.push(b',');
        }
        if self.kind == TardisKind::IncrementalBookL2 {
            self.next_key.extend_from_slice(fifth);
        }
        Ok(())
    }
}

fn trimmed_len(line: &[u8]) -> usize {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line).len()
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
