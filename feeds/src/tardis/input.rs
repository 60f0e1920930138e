//! Several Tardis CSV files as one recorded input: each file's messages, merged in
//! `local_timestamp` order (ties in the order the files were given), each handed on as a
//! capture record of source `tardis:ws`.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};

use crate::capture::{CaptureRecord, LineError, SourceKind};
use crate::tardis::reader::{self, Head, TardisFile};
use crate::tardis::{TardisKind, SOURCE};

/// Files read together at most (a book file and the trades and quotes of its instruments).
pub const MAX_FILES: usize = 16;

pub struct TardisInput {
    files: Vec<TardisFile>,
    /// The file whose head was returned last: advanced before the next one is chosen.
    current: Option<usize>,
    held: bool,
    records: u64,
}

/// Whether `path` names Tardis CSV input: one file whose first line is a Tardis header, or a
/// comma-separated list of such files (`book.csv.gz,trades.csv.gz`) where `path` itself is no
/// file.
pub fn is_tardis(path: &Path) -> bool {
    tardis_paths(path).is_some_and(|paths| {
        paths
            .iter()
            .all(|p| reader::sniff(p).ok().flatten().is_some())
    })
}

/// Whether `path` is named as a CSV file (`.csv`, `.csv.gz`): read as Tardis data, or refused
/// with the reason, never as a capture.
pub fn named_csv(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with(".csv") || name.ends_with(".csv.gz")
}

/// The files `path` names: itself, or the parts of a comma-separated list when `path` is
/// no file.
fn tardis_paths(path: &Path) -> Option<Vec<PathBuf>> {
    if path.is_file() {
        return Some(vec![path.to_path_buf()]);
    }
    let list = path.to_str()?;
    let parts: Vec<PathBuf> = list.split(',').map(PathBuf::from).collect();
    (parts.len() > 1 && parts.iter().all(|p| p.is_file())).then_some(parts)
}

impl TardisInput {
    /// Opens every file `path` names (see [`is_tardis`]).
    pub fn open(path: &Path) -> io::Result<TardisInput> {
        let paths = tardis_paths(path).ok_or_else(|| {
            let text = path.to_string_lossy();
            let missing: Vec<&str> = text
                .split(',')
                .filter(|p| !Path::new(p).is_file())
                .collect();
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no such file: {}", missing.join(", ")),
            )
        })?;
        TardisInput::open_all(&paths)
    }

    /// Opens `paths`, each a Tardis CSV file (gzip or plain), to be read together.
    pub fn open_all<P: AsRef<Path>>(paths: &[P]) -> io::Result<TardisInput> {
        if paths.is_empty() || paths.len() > MAX_FILES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("1 to {MAX_FILES} Tardis files are read together"),
            ));
        }
        let files = paths
            .iter()
            .map(|p| TardisFile::open(p.as_ref()))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(TardisInput {
            files,
            current: None,
            held: false,
            records: 0,
        })
    }

    /// Tardis CSV text from `inputs` (plain, not gzip), read together as files would be.
    pub fn from_readers(inputs: Vec<Box<dyn BufRead + Send>>) -> io::Result<TardisInput> {
        if inputs.is_empty() || inputs.len() > MAX_FILES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("1 to {MAX_FILES} Tardis inputs are read together"),
            ));
        }
        let files = inputs
            .into_iter()
            .enumerate()
            .map(|(n, input)| TardisFile::from_reader(input, &format!("input {}", n + 1)))
            .collect::<io::Result<Vec<_>>>()?;
        Ok(TardisInput {
            files,
            current: None,
            held: false,
            records: 0,
        })
    }

    /// The dataset of each file, in the order given.
    pub fn kinds(&self) -> impl Iterator<Item = TardisKind> + '_ {
        self.files.iter().map(|f| f.kind)
    }

    /// Messages and refused rows returned so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Messages cut at [`MAX_MESSAGE_ROWS`](crate::tardis::MAX_MESSAGE_ROWS), all files.
    pub fn cut_messages(&self) -> u64 {
        self.files.iter().map(|f| f.cut_messages).sum()
    }

    /// The message (or refused row) last returned.
    pub fn current(&self) -> &[u8] {
        match self.current.map(|n| &self.files[n]) {
            Some(f) => match f.head {
                Head::Bad(_) => f.bad_row(),
                _ => f.message(),
            },
            None => &[],
        }
    }

    /// Returns the record last returned again on the next call.
    pub fn hold(&mut self) {
        self.held = true;
    }

    /// As [`CaptureReader::next_record`](crate::capture::CaptureReader::next_record): the
    /// next message of all files, a refused row (`Some(Err(Ok(kind)))`), a read error.
    #[allow(clippy::type_complexity)]
    pub fn next_record(
        &mut self,
    ) -> Option<Result<CaptureRecord<'_>, Result<LineError, io::Error>>> {
        if !std::mem::take(&mut self.held) {
            if let Some(n) = self.current.take() {
                self.files[n].advance();
            }
            self.current = Some(self.choose()?);
            self.records += 1;
        }
        let n = self.current?;
        let count = self.files.len();
        let file = &mut self.files[n];
        if matches!(file.head, Head::Failed(_)) {
            let Head::Failed(e) = std::mem::replace(&mut file.head, Head::End) else {
                return None;
            };
            let line = file.line_no;
            return Some(Err(Err(io::Error::new(
                e.kind(),
                format!("{e} (Tardis file {} of {count}, after line {line})", n + 1),
            ))));
        }
        let file = &self.files[n];
        match file.head {
            Head::Message { local_ts } => Some(Ok(CaptureRecord {
                recv_ts: local_ts,
                venue: SOURCE.as_bytes(),
                kind: SourceKind::Ws,
                payload: file.message(),
            })),
            Head::Bad(kind) => Some(Err(Ok(kind))),
            Head::Failed(_) | Head::End => None,
        }
    }

    /// The file to read from next: one with a refused row or a failure first, else the one
    /// whose message was received first (the earliest file on a tie); `None` when all ended.
    fn choose(&self) -> Option<usize> {
        let mut best: Option<(usize, u64)> = None;
        for (n, f) in self.files.iter().enumerate() {
            match f.head {
                Head::Bad(_) | Head::Failed(_) => return Some(n),
                Head::Message { local_ts } => {
                    if best.is_none_or(|(_, ts)| local_ts.0 < ts) {
                        best = Some((n, local_ts.0));
                    }
                }
                Head::End => {}
            }
        }
        best.map(|(n, _)| n)
    }
}
