//! `pulse journal export DIR --out OUT [--format parquet|csv]`: every stream of a journal as
//! tables, one per stream and record kind (`input.message`, `output.order`,
//! `output.report`, `events.health`, ...), with the record's sequence and time and the fields
//! `pulse journal dump --json` shows. A column is an integer where every value is one (signed
//! where one is negative), a float where every value is a number, text otherwise; a missing
//! value is 0/NaN/empty. Amounts stay the journal's exact mantissas (the dump's own units).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;
use pulse_journal::JournalReader;
use pulse_research::tables::{self, Column, Table};
use serde_json::Value;

use crate::journal_records::{describe, kind_name, streams};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Parquet,
    Csv,
    Both,
}

struct Rows {
    seq: Vec<u64>,
    ts: Vec<u64>,
    fields: Vec<BTreeMap<String, Value>>,
}

fn column(values: Vec<Option<&Value>>) -> Column {
    let present = || values.iter().flatten();
    if present().all(|v| v.is_u64()) {
        Column::U64(
            values
                .iter()
                .map(|v| v.and_then(Value::as_u64).unwrap_or(0))
                .collect(),
        )
    } else if present().all(|v| v.is_i64() || v.is_u64()) && present().all(|v| v.as_i64().is_some())
    {
        Column::I64(
            values
                .iter()
                .map(|v| v.and_then(Value::as_i64).unwrap_or(0))
                .collect(),
        )
    } else if present().all(|v| v.is_number()) {
        Column::F64(
            values
                .iter()
                .map(|v| v.and_then(Value::as_f64).unwrap_or(f64::NAN))
                .collect(),
        )
    } else {
        Column::Str(
            values
                .iter()
                .map(|v| match v {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                })
                .collect(),
        )
    }
}

/// Exports `dir` into `out`; returns one line per table written.
pub fn export(dir: &Path, out: &Path, format: Format) -> anyhow::Result<String> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut tables_out = Vec::new();
    for stream in streams(dir, None)? {
        let mut reader = JournalReader::open(dir, &stream)
            .with_context(|| format!("cannot open stream {stream}"))?;
        let mut by_kind: BTreeMap<String, Rows> = BTreeMap::new();
        while let Some(r) = reader.next().with_context(|| format!("stream {stream}"))? {
            let name = kind_name(&stream, r.kind).to_lowercase();
            let rows = by_kind.entry(name).or_insert_with(|| Rows {
                seq: Vec::new(),
                ts: Vec::new(),
                fields: Vec::new(),
            });
            rows.seq.push(r.sequence);
            rows.ts.push(r.timestamp);
            let fields = match describe(&stream, r.kind, r.payload) {
                Value::Object(m) => m.into_iter().collect(),
                _ => BTreeMap::new(),
            };
            rows.fields.push(fields);
        }
        for (kind, rows) in by_kind {
            let mut keys: Vec<&String> = rows.fields.iter().flat_map(|f| f.keys()).collect();
            keys.sort();
            keys.dedup();
            let mut columns = vec![
                ("seq".to_string(), Column::U64(rows.seq.clone())),
                ("ts".to_string(), Column::U64(rows.ts.clone())),
            ];
            for key in keys {
                let values = rows.fields.iter().map(|f| f.get(key)).collect();
                columns.push((key.clone(), column(values)));
            }
            tables_out.push(Table {
                name: format!("{stream}.{kind}"),
                columns,
            });
        }
    }
    let (csv, parquet) = match format {
        Format::Csv => (true, false),
        Format::Parquet => (false, true),
        Format::Both => (true, true),
    };
    tables::write_as(out, &tables_out, csv, parquet)?;
    let mut s = String::new();
    for t in &tables_out {
        let rows = match t.columns.first() {
            Some((_, Column::U64(v))) => v.len(),
            _ => 0,
        };
        s.push_str(&format!(
            "{}: {rows} rows, {} columns\n",
            t.name,
            t.columns.len()
        ));
    }
    Ok(s)
}
