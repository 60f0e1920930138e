//! `pulse data import --format tardis`: Tardis CSV files into a Pulse capture, one line per
//! message (`local_timestamp` in nanoseconds, source `tardis:ws`, the message's rows as
//! payload), in the merged order replay reads them. Gzip when the output's name ends in `.gz`.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::tardis::{TardisInput, SOURCE};

/// What an import wrote and refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Messages written (capture lines).
    pub messages: u64,
    /// Rows refused (wrong columns, malformed timestamps, too long), skipped.
    pub bad_rows: u64,
    /// Messages cut at the row bound.
    pub cut_messages: u64,
}

/// Writes every message of `input` into the capture file `out`. A read error (a truncated
/// gzip, say) ends the import with that error; the output written so far is left incomplete.
pub fn write_capture(mut input: TardisInput, out: &Path) -> io::Result<ImportReport> {
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut report = ImportReport::default();
    if out.extension().is_some_and(|e| e == "gz") {
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        copy(&mut input, &mut gz, &mut report)?;
        gz.finish()?.flush()?;
    } else {
        let mut file = file;
        copy(&mut input, &mut file, &mut report)?;
        file.flush()?;
    }
    report.cut_messages = input.cut_messages();
    Ok(report)
}

fn copy(
    input: &mut TardisInput,
    out: &mut impl Write,
    report: &mut ImportReport,
) -> io::Result<()> {
    while let Some(next) = input.next_record() {
        match next {
            Ok(record) => {
                write!(out, "{}\t{}:ws\t", record.recv_ts.0, SOURCE)?;
                out.write_all(record.payload)?;
                out.write_all(b"\n")?;
                report.messages += 1;
            }
            Err(Ok(_)) => report.bad_rows += 1,
            Err(Err(e)) => return Err(e),
        }
    }
    Ok(())
}
