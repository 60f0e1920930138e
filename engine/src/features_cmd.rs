//! `pulse features --config CFG --input CAPTURE... --out F.csv|F.parquet [--horizons 10,50]`:
//! the feature vectors the ensemble strategy computes, exported for training and research.
//!
//! Each capture runs through the real [`CaptureFeed`] and [`BookStage`] (inline, joined by
//! their rings, as `pulse replay` runs them) into the config's ensemble strategy, built by the
//! very function `pulse run` uses ([`build_strategy`]: its indicators, agents, policy network
//! and outside scores). After every book event of the strategy's instrument that the strategy
//! took (a live book: what it decides on), one row is written with the vector the strategy
//! holds then ([`EnsembleStrategy::features`]): the 16 values its agents read and its policy
//! network is fed, in that order and scale, named as [`Feature::name`] names them. Nothing is
//! recomputed here, so the file cannot drift from what the engine sees.
//!
//! Columns: `segment` (the index of the capture among the `--input`s), `time_ns` (the book
//! event's receive time, recorded time), `mid` (in price units), the 16 features, then per
//! horizon `h`: `ret_bps_h` (the mid's simple return over the next `h` rows, in basis points)
//! and `label_h` (its sign, -1, 0 or 1: the class the policy trainer learns as sell, hold,
//! buy). A horizon counts book events of the instrument (rows), as the meta-agent's `horizon`
//! does; a row whose horizon runs past the end of its capture has empty labels (null in
//! Parquet). Each capture starts afresh (new indicators) and no label looks into the next one.
//!
//! The output is deterministic: the same config and input write the same bytes.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, ensure, Context};
use arrow_array::{ArrayRef, Float64Array, Int64Array, Int8Array, RecordBatch, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::clock::ReplayTime;
use pulse_feeds::event::MarketEvent;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::num::Nanos;
use pulse_feeds::replay::{CaptureFeed, RecordedInput};
use pulse_feeds::stage::Stage;
use pulse_strategy::ensemble::EnsembleStrategy;
use pulse_strategy::indicators::{Feature, FEATURES};
use pulse_strategy::BuiltinStrategy;
use rtrb::RingBuffer;

use crate::config::{Config, StrategyConfig, Venues};
use crate::pipeline::{build_strategy, BOOK_LEVELS_PER_SIDE, CONTROL_RING};
use crate::runtime::print_log;
use crate::source_feeds::added_adapter;

const MD_RING: usize = 4096;
const OUT_RING: usize = 1024;
/// The longest horizon, in book events: far beyond any use, small enough to be a typo's bound.
pub const MAX_HORIZON: u32 = 1_000_000;
/// At most this many horizons per export.
pub const MAX_HORIZONS: usize = 16;

#[derive(clap::Args, Debug, Clone)]
pub struct FeaturesArgs {
    /// The config whose instruments, venues and `[strategy]` (kind = "ensemble") are used; its
    /// sources are replaced by the inputs.
    #[arg(long, value_name = "CONFIG")]
    pub config: PathBuf,
    /// One or more captures (plain or gzip), each replayed afresh, in this order.
    #[arg(long, value_name = "CAPTURE", required = true, num_args = 1..)]
    pub input: Vec<PathBuf>,
    /// The file to write: `.csv` or `.parquet`, by its extension.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Label horizons, in book events of the strategy's instrument, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10,50")]
    pub horizons: Vec<u32>,
}

/// One book event the strategy took.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub segment: u32,
    pub time_ns: u64,
    /// In price units.
    pub mid: f64,
    pub features: [f64; FEATURES],
}

/// Every row of an export, and its labels.
#[derive(Clone, Debug)]
pub struct FeatureTable {
    pub horizons: Vec<u32>,
    pub rows: Vec<Row>,
}

/// One horizon's label of one row: the mid's return and its sign.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Label {
    pub ret_bps: f64,
    pub sign: i8,
}

impl FeatureTable {
    /// Row `i`'s label at horizon `h`, or `None` when the horizon runs past its capture.
    pub fn label(&self, i: usize, h: u32) -> Option<Label> {
        let now = self.rows.get(i)?;
        let later = self.rows.get(i.checked_add(h as usize)?)?;
        if later.segment != now.segment {
            return None;
        }
        let sign = if later.mid > now.mid {
            1
        } else if later.mid < now.mid {
            -1
        } else {
            0
        };
        Some(Label {
            ret_bps: (later.mid / now.mid - 1.0) * 10_000.0,
            sign,
        })
    }

    /// The column names, in file order.
    pub fn columns(&self) -> Vec<String> {
        let mut names = vec!["segment".to_string(), "time_ns".into(), "mid".into()];
        names.extend(Feature::ALL.iter().map(|f| f.name().to_string()));
        for h in &self.horizons {
            names.push(format!("ret_bps_{h}"));
            names.push(format!("label_{h}"));
        }
        names
    }
}

/// `pulse features`: exit 0 when written, 2 with the reason when the config, an input or the
/// output is wrong.
pub fn run(args: &FeaturesArgs, venues: &Venues) -> ExitCode {
    match run_inner(args, venues) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pulse features: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: &FeaturesArgs, venues: &Venues) -> anyhow::Result<String> {
    let format = OutFormat::of(&args.out)?;
    let horizons = check_horizons(&args.horizons)?;
    let cfg = crate::config::load_with_venues(&args.config, None, venues)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.config.display()))?;
    let table = export(&cfg, &args.input, &horizons)?;
    match format {
        OutFormat::Csv => write_csv(&table, &args.out),
        OutFormat::Parquet => write_parquet(&table, &args.out),
    }
    .with_context(|| format!("cannot write {}", args.out.display()))?;
    let ready = table
        .rows
        .iter()
        .filter(|r| r.features[Feature::Ready as usize] == 1.0)
        .count();
    Ok(format!(
        "features  {}: {} rows ({ready} ready) from {} capture(s), horizons {:?} book events",
        args.out.display(),
        table.rows.len(),
        args.input.len(),
        table.horizons
    ))
}

enum OutFormat {
    Csv,
    Parquet,
}

impl OutFormat {
    fn of(path: &Path) -> anyhow::Result<OutFormat> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("csv") => Ok(OutFormat::Csv),
            Some("parquet") => Ok(OutFormat::Parquet),
            _ => bail!(
                "--out {}: the file name must end in .csv or .parquet",
                path.display()
            ),
        }
    }
}

fn check_horizons(horizons: &[u32]) -> anyhow::Result<Vec<u32>> {
    ensure!(!horizons.is_empty(), "--horizons: give at least one");
    ensure!(
        horizons.len() <= MAX_HORIZONS,
        "--horizons: at most {MAX_HORIZONS}, not {}",
        horizons.len()
    );
    for (i, h) in horizons.iter().enumerate() {
        ensure!(
            (1..=MAX_HORIZON).contains(h),
            "--horizons: {h} is not from 1 to {MAX_HORIZON} book events"
        );
        ensure!(!horizons[..i].contains(h), "--horizons: {h} is given twice");
    }
    Ok(horizons.to_vec())
}

/// Replays each of `inputs` into a fresh ensemble strategy built from `cfg` and gathers a row
/// per book event it took.
pub fn export(cfg: &Config, inputs: &[PathBuf], horizons: &[u32]) -> anyhow::Result<FeatureTable> {
    let StrategyConfig::Ensemble(_) = &cfg.strategy else {
        bail!(
            "[strategy] is kind = \"{}\"; features come from kind = \"ensemble\" (its indicators)",
            cfg.strategy.kind()
        );
    };
    let instrument = cfg
        .instruments
        .get(cfg.strategy.instrument())
        .context("the strategy's instrument is not configured")?;
    let unit = 10f64.powi(i32::try_from(instrument.price_scale).unwrap_or(i32::MAX));
    let mut rows = Vec::new();
    for (segment, path) in inputs.iter().enumerate() {
        let segment = u32::try_from(segment).context("too many inputs")?;
        let mut strategy = match build_strategy(&cfg.strategy, &cfg.instruments, true, &mut None)? {
            BuiltinStrategy::Ensemble(s) => s,
            _ => bail!("the ensemble strategy was not built as one"),
        };
        replay_into(cfg, path, &mut strategy, |s, event| {
            let MarketEvent::Book(top) = event else {
                return;
            };
            rows.push(Row {
                segment,
                time_ns: top.meta.recv_ts.0,
                mid: s.mid() / unit,
                features: *s.features(),
            });
        })
        .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(FeatureTable {
        horizons: horizons.to_vec(),
        rows,
    })
}

/// Runs `path` through the feed and book stages into `strategy`, calling `took` after every
/// event that advanced the strategy's count of live book events.
fn replay_into(
    cfg: &Config,
    path: &Path,
    strategy: &mut EnsembleStrategy,
    mut took: impl FnMut(&EnsembleStrategy, &MarketEvent),
) -> anyhow::Result<()> {
    let reader = RecordedInput::open(path).context("cannot open it")?;
    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = RingBuffer::new(MD_RING);
    let (out_tx, mut out_rx) = RingBuffer::new(OUT_RING);
    let (control_tx, control_rx) = RingBuffer::new(CONTROL_RING);
    let (log_tx, mut log_rx) = RingBuffer::new(64);
    let mut feed = CaptureFeed::new(
        reader,
        cfg.instruments.clone(),
        md_tx,
        ReplayTime::default(),
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", Some(log_tx)),
    )
    .with_control(control_rx);
    for spec in &cfg.feeds {
        if let Some(adapter) = added_adapter(cfg, spec)? {
            feed = feed.with_boxed_adapter(adapter);
        }
    }
    let mut book = BookStage::new(
        &cfg.instruments,
        BOOK_LEVELS_PER_SIDE,
        md_rx,
        vec![out_tx],
        LatencyProbe::detached(clock),
    )
    .with_control(control_tx);
    loop {
        let work = feed.do_work(Nanos::ZERO) + book.do_work(Nanos::ZERO);
        while let Ok(event) = out_rx.pop() {
            let before = strategy.counters.book_events;
            // Intents are dropped: nothing here trades, and the features do not depend on fills.
            let _ = strategy.on_event(&event);
            if strategy.counters.book_events > before {
                took(strategy, &event);
            }
        }
        while let Ok(record) = log_rx.pop() {
            print_log(&record);
        }
        if work == 0 && feed.intake_done() {
            break;
        }
    }
    match feed.io_error.take() {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// The CSV `scripts/train_policy.py` reads: a header of [`FeatureTable::columns`], one line
/// per row, numbers in Rust's shortest round-trip form (parsing one back gives the same
/// `f64`), an empty cell for a label past the end of its capture.
pub fn write_csv(table: &FeatureTable, path: &Path) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "{}", table.columns().join(","))?;
    for (i, row) in table.rows.iter().enumerate() {
        write!(out, "{},{},{}", row.segment, row.time_ns, row.mid)?;
        for v in &row.features {
            write!(out, ",{v}")?;
        }
        for &h in &table.horizons {
            match table.label(i, h) {
                Some(l) => write!(out, ",{},{}", l.ret_bps, l.sign)?,
                None => write!(out, ",,")?,
            }
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

/// The same table as Parquet: `segment` UInt32, `time_ns` Int64, the mid, features and returns
/// Float64, the labels Int8; a label past the end of its capture is null. Uncompressed, one
/// row group per 65,536 rows.
pub fn write_parquet(table: &FeatureTable, path: &Path) -> anyhow::Result<()> {
    let columns = table.columns();
    let mut fields = vec![
        Field::new(&columns[0], DataType::UInt32, false),
        Field::new(&columns[1], DataType::Int64, false),
    ];
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(UInt32Array::from_iter_values(
            table.rows.iter().map(|r| r.segment),
        )),
        Arc::new(Int64Array::from_iter_values(
            table
                .rows
                .iter()
                .map(|r| i64::try_from(r.time_ns).unwrap_or(i64::MAX)),
        )),
    ];
    let mut float = |name: &str, values: Vec<Option<f64>>| {
        fields.push(Field::new(name, DataType::Float64, values.contains(&None)));
        arrays.push(Arc::new(Float64Array::from(values)));
    };
    float(
        &columns[2],
        table.rows.iter().map(|r| Some(r.mid)).collect(),
    );
    for (k, name) in columns[3..3 + FEATURES].iter().enumerate() {
        float(
            name,
            table.rows.iter().map(|r| Some(r.features[k])).collect(),
        );
    }
    for (k, &h) in table.horizons.iter().enumerate() {
        let labels: Vec<Option<Label>> = (0..table.rows.len()).map(|i| table.label(i, h)).collect();
        let name = &columns[3 + FEATURES + 2 * k];
        fields.push(Field::new(name, DataType::Float64, true));
        arrays.push(Arc::new(Float64Array::from(
            labels
                .iter()
                .map(|l| l.map(|l| l.ret_bps))
                .collect::<Vec<_>>(),
        )));
        let name = &columns[4 + FEATURES + 2 * k];
        fields.push(Field::new(name, DataType::Int8, true));
        arrays.push(Arc::new(Int8Array::from(
            labels.iter().map(|l| l.map(|l| l.sign)).collect::<Vec<_>>(),
        )));
    }
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(65_536))
        .build();
    let file = std::fs::File::create(path)?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(props))?;
    writer.write(&batch)?;
    writer.close()?;
    Ok(())
}
