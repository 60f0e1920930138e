//! Lines of a signal file, each at most [`MAX_LINE_BYTES`]: a longer one is skipped to its
//! newline without being kept, so a file that never ends a line cannot grow the reader's memory.

use std::io::{self, BufRead};

/// Longest line kept. A score line (`ts_ns <TAB> SYMBOL <TAB> score`) takes under 80 bytes.
pub const MAX_LINE_BYTES: usize = 1024;

/// What [`BoundedLines::next`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Next<'a> {
    /// A whole line, without its newline.
    Line(&'a [u8]),
    /// A line longer than [`MAX_LINE_BYTES`], dropped.
    TooLong,
    /// The end of what the file holds for now; a partial last line is kept for the next call.
    End,
}

pub struct BoundedLines<R> {
    reader: R,
    line: Vec<u8>,
    /// Inside an over-long line: its bytes are consumed up to its newline, not kept.
    skipping: bool,
    /// The last call returned a whole line, to be cleared at the next.
    returned: bool,
}

impl<R: BufRead> BoundedLines<R> {
    pub fn new(reader: R) -> BoundedLines<R> {
        BoundedLines {
            reader,
            line: Vec::with_capacity(MAX_LINE_BYTES),
            skipping: false,
            returned: false,
        }
    }

    pub fn next(&mut self) -> io::Result<Next<'_>> {
        if std::mem::take(&mut self.returned) {
            self.line.clear();
        }
        loop {
            let buf = match self.reader.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(Next::End);
            }
            let newline = buf.iter().position(|&b| b == b'\n');
            let content = newline.unwrap_or(buf.len());
            if !self.skipping {
                if content > MAX_LINE_BYTES - self.line.len() {
                    self.skipping = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(&buf[..content]);
                }
            }
            self.reader.consume(newline.map_or(content, |i| i + 1));
            if newline.is_some() {
                if std::mem::take(&mut self.skipping) {
                    return Ok(Next::TooLong);
                }
                self.returned = true;
                return Ok(Next::Line(&self.line));
            }
        }
    }

    /// At the true end of the file: its last line if it had no newline (`TooLong` if that
    /// one was over-long), else `End`.
    pub fn last(&mut self) -> Next<'_> {
        if std::mem::take(&mut self.skipping) {
            return Next::TooLong;
        }
        if std::mem::take(&mut self.returned) || self.line.is_empty() {
            self.line.clear();
            return Next::End;
        }
        self.returned = true;
        Next::Line(&self.line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufReader, Cursor};

    #[test]
    fn an_endless_line_is_dropped_without_being_kept() {
        let mut text = vec![b'7'; 8 << 20];
        text.extend_from_slice(b"\n1\tBTCUSDT\t0.5\nlast");
        // A small buffer: the long line arrives in thousands of pieces.
        let mut lines = BoundedLines::new(BufReader::with_capacity(100, Cursor::new(text)));
        assert_eq!(lines.next().unwrap(), Next::TooLong);
        assert_eq!(lines.line.capacity(), MAX_LINE_BYTES, "never grown");
        assert_eq!(lines.next().unwrap(), Next::Line(b"1\tBTCUSDT\t0.5"));
        assert_eq!(lines.next().unwrap(), Next::End);
        assert_eq!(lines.last(), Next::Line(b"last"));
        assert_eq!(lines.last(), Next::End);
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_kept_and_one_more_byte_is_not() {
        let mut text = vec![b'a'; MAX_LINE_BYTES];
        text.push(b'\n');
        text.extend(vec![b'b'; MAX_LINE_BYTES + 1]);
        text.push(b'\n');
        let mut lines = BoundedLines::new(BufReader::with_capacity(7, Cursor::new(text)));
        assert_eq!(
            lines.next().unwrap(),
            Next::Line(&[b'a'; MAX_LINE_BYTES][..])
        );
        assert_eq!(lines.next().unwrap(), Next::TooLong);
        assert_eq!(lines.next().unwrap(), Next::End);
        assert_eq!(lines.line.capacity(), MAX_LINE_BYTES, "never grown");
    }
}
