//! The run's tables, `equity`, `orders`, `fills` and `trades` (round trips), written as CSV and
//! as Parquet so pandas and polars read them directly. One column type per column; a missing
//! number is NaN in Parquet and an empty field in CSV.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt64Array};
use parquet::arrow::ArrowWriter;

use crate::ledger::Ledger;
use crate::model::Run;

pub enum Column {
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
    Str(Vec<String>),
}

pub struct Table {
    pub name: String,
    pub columns: Vec<(String, Column)>,
}

impl Table {
    fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, c)| match c {
            Column::U64(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::F64(v) => v.len(),
            Column::Str(v) => v.len(),
        })
    }

    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        let names: Vec<&str> = self.columns.iter().map(|(n, _)| n.as_str()).collect();
        s.push_str(&names.join(","));
        s.push('\n');
        for row in 0..self.rows() {
            for (i, (_, c)) in self.columns.iter().enumerate() {
                if i > 0 {
                    s.push(',');
                }
                match c {
                    Column::U64(v) => {
                        let _ = write!(s, "{}", v[row]);
                    }
                    Column::I64(v) => {
                        let _ = write!(s, "{}", v[row]);
                    }
                    // Rust's shortest representation that reads back to the same f64.
                    Column::F64(v) if v[row].is_finite() => {
                        let _ = write!(s, "{:?}", v[row]);
                    }
                    Column::F64(_) => {}
                    Column::Str(v) => s.push_str(&csv_field(&v[row])),
                }
            }
            s.push('\n');
        }
        s
    }

    pub fn to_parquet(&self, path: &Path) -> anyhow::Result<()> {
        let arrays: Vec<(String, ArrayRef)> = self
            .columns
            .iter()
            .map(|(n, c)| {
                let a: ArrayRef = match c {
                    Column::U64(v) => Arc::new(UInt64Array::from(v.clone())),
                    Column::I64(v) => Arc::new(Int64Array::from(v.clone())),
                    Column::F64(v) => Arc::new(Float64Array::from(v.clone())),
                    Column::Str(v) => Arc::new(StringArray::from(v.clone())),
                };
                (n.clone(), a)
            })
            .collect();
        let batch = RecordBatch::try_from_iter(arrays)?;
        let file = std::fs::File::create(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = ArrowWriter::try_new(file, batch.schema(), None)?;
        w.write(&batch)?;
        w.close()?;
        Ok(())
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn f64s<T>(rows: &[T], f: impl Fn(&T) -> f64) -> Column {
    Column::F64(rows.iter().map(f).collect())
}

fn u64s<T>(rows: &[T], f: impl Fn(&T) -> u64) -> Column {
    Column::U64(rows.iter().map(f).collect())
}

fn strs<T>(rows: &[T], f: impl Fn(&T) -> String) -> Column {
    Column::Str(rows.iter().map(f).collect())
}

/// The four tables of a run.
pub fn tables(run: &Run, ledger: &Ledger) -> Vec<Table> {
    let name = |i: usize| {
        run.instruments
            .get(i)
            .map_or(String::new(), |x| x.name.clone())
    };
    let e = &ledger.equity;
    let mut equity = vec![
        ("ts".to_string(), u64s(e, |r| r.ts)),
        ("equity".into(), f64s(e, |r| r.equity)),
        ("return".into(), f64s(e, |r| r.ret)),
        ("drawdown".into(), f64s(e, |r| r.drawdown)),
        ("gross_exposure".into(), f64s(e, |r| r.gross_exposure)),
    ];
    for (i, inst) in run.instruments.iter().enumerate() {
        equity.push((
            format!("position:{}", inst.name),
            f64s(e, |r| r.positions[i]),
        ));
        equity.push((format!("mid:{}", inst.name), f64s(e, |r| r.mids[i])));
    }
    let o = &ledger.orders;
    let orders = vec![
        ("client_id".to_string(), u64s(o, |r| r.client_id)),
        ("intent".into(), u64s(o, |r| r.intent)),
        ("ts".into(), u64s(o, |r| r.ts)),
        ("instrument".into(), strs(o, |r| name(r.instrument))),
        ("side".into(), strs(o, |r| r.side.name().into())),
        ("tif".into(), strs(o, |r| r.tif.clone())),
        ("px".into(), f64s(o, |r| r.px)),
        ("qty".into(), f64s(o, |r| r.qty)),
        ("origin".into(), strs(o, |r| r.origin.clone())),
        ("confidence".into(), f64s(o, |r| r.confidence)),
        ("outcome".into(), strs(o, |r| r.outcome.into())),
        ("filled_qty".into(), f64s(o, |r| r.filled_qty)),
        ("avg_px".into(), f64s(o, |r| r.avg_px)),
        ("fees".into(), f64s(o, |r| r.fees)),
        ("maker_qty".into(), f64s(o, |r| r.maker_qty)),
        ("arrival_mid".into(), f64s(o, |r| r.arrival_mid)),
        ("slippage_bps".into(), f64s(o, |r| r.slippage_bps)),
    ];
    let f = &run.fills;
    let fills = vec![
        ("ts".to_string(), u64s(f, |r| r.ts)),
        ("client_id".into(), u64s(f, |r| r.client_id)),
        ("instrument".into(), strs(f, |r| name(r.instrument))),
        ("side".into(), strs(f, |r| r.side.name().into())),
        ("px".into(), f64s(f, |r| r.px)),
        ("qty".into(), f64s(f, |r| r.qty)),
        ("notional".into(), f64s(f, |r| r.px * r.qty)),
        ("fee".into(), f64s(f, |r| r.fee)),
        (
            "liquidity".into(),
            strs(f, |r| if r.maker { "maker" } else { "taker" }.into()),
        ),
    ];
    let t = &ledger.round_trips;
    let trades = vec![
        ("instrument".to_string(), strs(t, |r| name(r.instrument))),
        ("direction".into(), strs(t, |r| r.direction.into())),
        ("open_ts".into(), u64s(t, |r| r.open_ts)),
        ("close_ts".into(), u64s(t, |r| r.close_ts)),
        ("max_qty".into(), f64s(t, |r| r.max_qty)),
        ("entry_vwap".into(), f64s(t, |r| r.entry_vwap)),
        ("exit_vwap".into(), f64s(t, |r| r.exit_vwap)),
        ("fees".into(), f64s(t, |r| r.fees)),
        ("pnl".into(), f64s(t, |r| r.pnl)),
        ("led_by".into(), strs(t, |r| r.led_by.clone())),
        ("fills".into(), u64s(t, |r| r.fills)),
    ];
    vec![
        Table {
            name: "equity".into(),
            columns: equity,
        },
        Table {
            name: "orders".into(),
            columns: orders,
        },
        Table {
            name: "fills".into(),
            columns: fills,
        },
        Table {
            name: "trades".into(),
            columns: trades,
        },
    ]
}

/// Writes `<name>.csv` and `<name>.parquet` of every table into `dir`.
pub fn write_all(dir: &Path, tables: &[Table]) -> anyhow::Result<()> {
    write_as(dir, tables, true, true)
}

/// Writes each table as CSV, Parquet or both.
pub fn write_as(dir: &Path, tables: &[Table], csv: bool, parquet: bool) -> anyhow::Result<()> {
    for t in tables {
        if csv {
            let path = dir.join(format!("{}.csv", t.name));
            std::fs::write(&path, t.to_csv())
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if parquet {
            t.to_parquet(&dir.join(format!("{}.parquet", t.name)))?;
        }
    }
    Ok(())
}
