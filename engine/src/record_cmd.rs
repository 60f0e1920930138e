//! `pulse record`: writes a capture file from a live session, every received frame, every frame
//! the feed sent (`<venue>:send`: subscriptions, keepalives, resubscriptions) and every REST
//! snapshot body (with its request path), so that `pulse replay` can re-run it exactly.
//!
//! The live feed and a book stage run on this thread (the book checks the recording against the
//! venue's tickers as it goes); a writer thread turns tapped messages into capture lines.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Args;
use pulse_feeds::book_stage::BookStage;
use pulse_feeds::clock::Clock;
use pulse_feeds::latency::LatencyProbe;
use pulse_feeds::log::DistinctLog;
use pulse_feeds::stage::Stage;
use pulse_feeds::tap::{Tap, TapKind, TapRecord};

use crate::config::{self, SourceConfig};
use crate::live_source::{build_feed, LiveRings};
use crate::pipeline::BOOK_LEVELS_PER_SIDE;

#[derive(Args, Debug)]
pub struct RecordArgs {
    /// A config whose `[source]` is a live venue; its instruments are recorded.
    #[arg(long)]
    pub config: PathBuf,
    /// The capture file to write (gzip when it ends in .gz); must not exist.
    #[arg(long)]
    pub out: PathBuf,
    /// Stop after this many seconds (default: until SIGINT/SIGTERM).
    #[arg(long)]
    pub duration: Option<f64>,
}

pub fn run(args: &RecordArgs) -> ExitCode {
    match record(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pulse record: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn record(args: &RecordArgs) -> anyhow::Result<()> {
    let cfg = config::load(&args.config)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.config.display()))?;
    if !cfg.more_sources.is_empty() {
        bail!(
            "{}: records one live [source]; this config has several sources",
            args.config.display()
        );
    }
    let SourceConfig::Live(live) = &cfg.source else {
        bail!(
            "{}: [source] must be a live venue to record",
            args.config.display()
        );
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    let (tap_tx, tap_rx) = rtrb::RingBuffer::<TapRecord>::new(1 << 14);
    let (ret_tx, ret_rx) = rtrb::RingBuffer::<Vec<u8>>::new(1 << 14);
    let writer = spawn_writer(file, &args.out, live.venue.name(), tap_rx, ret_tx)?;

    let clock = quanta::Clock::new();
    let (md_tx, md_rx) = rtrb::RingBuffer::new(cfg.rings.market_data);
    let (resync_tx, resync_rx) = rtrb::RingBuffer::new(64);
    let (top_tx, mut top_rx) = rtrb::RingBuffer::new(cfg.rings.book_events);
    let mut feed = build_feed(
        live,
        &cfg.instruments,
        LiveRings {
            md: md_tx,
            resync: Some(resync_rx),
            tap: Some(Tap {
                records: tap_tx,
                returns: ret_rx,
                lost: 0,
            }),
            journal: None,
        },
        LatencyProbe::detached(clock.clone()),
        DistinctLog::new("feed", None),
    )?;
    let mut book = BookStage::new(
        &cfg.instruments,
        BOOK_LEVELS_PER_SIDE,
        md_rx,
        vec![top_tx],
        LatencyProbe::detached(clock),
    )
    .with_control(resync_tx);
    let wall = Clock::live();
    let started = Instant::now();
    let limit = args.duration.map(Duration::from_secs_f64);
    eprintln!(
        "pulse record: recording {} to {}",
        live.ws_url,
        args.out.display()
    );
    loop {
        let now = wall.now();
        let work = feed.do_work(now) + book.do_work(now);
        while top_rx.pop().is_ok() {}
        // Relaxed: the signal flag publishes no data; it is polled every pass.
        let done = stop.load(Ordering::Relaxed) || limit.is_some_and(|l| started.elapsed() >= l);
        if done {
            feed.stop_intake();
            while feed.do_work(wall.now()) + book.do_work(wall.now()) > 0 {
                while top_rx.pop().is_ok() {}
            }
            break;
        }
        if work == 0 {
            std::thread::sleep(Duration::from_micros(100));
        }
    }
    feed.on_close();
    let tap_lost = feed.tap_lost();
    drop(feed);
    let written = writer
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread failed"))??;
    for inst in cfg.instruments.iter() {
        let i = inst.id.0 as usize;
        if let (Some(c), Some(state)) = (book.counters(i), book.state(i)) {
            eprintln!(
                "pulse record: {}: {} book updates, ticker check {} ok / {} mismatch, book {state:?}",
                inst.symbol, c.commits, c.ticker_ok, c.ticker_mismatch
            );
        }
    }
    eprintln!(
        "pulse record: wrote {written} lines to {}; {tap_lost} lost",
        args.out.display()
    );
    if tap_lost > 0 {
        bail!("{tap_lost} messages could not be recorded (the writer fell behind)");
    }
    Ok(())
}

/// The writer thread: capture lines from tapped records; returns the number of lines written.
fn spawn_writer(
    file: std::fs::File,
    path: &Path,
    venue: &'static str,
    mut records: rtrb::Consumer<TapRecord>,
    mut returns: rtrb::Producer<Vec<u8>>,
) -> anyhow::Result<std::thread::JoinHandle<anyhow::Result<u64>>> {
    let gzip = path.extension().is_some_and(|e| e == "gz");
    let handle = std::thread::Builder::new()
        .name("pulse-record".into())
        .spawn(move || {
            let mut out: Box<dyn Write> = if gzip {
                Box::new(flate2::write::GzEncoder::new(
                    BufWriter::new(file),
                    flate2::Compression::default(),
                ))
            } else {
                Box::new(BufWriter::new(file))
            };
            let mut lines = 0u64;
            loop {
                match records.pop() {
                    Ok(record) => {
                        write_line(&mut out, venue, &record)?;
                        lines += 1;
                        let _ = returns.push(record.bytes);
                    }
                    Err(_) if records.is_abandoned() => break,
                    Err(_) => std::thread::sleep(Duration::from_millis(1)),
                }
            }
            out.flush()?;
            drop(out);
            Ok(lines)
        })?;
    Ok(handle)
}

/// One capture line. A payload holding a raw line break (JSON allows one only between tokens)
/// has it replaced by a space so the line format holds; the JSON means the same.
pub fn write_line(out: &mut dyn Write, venue: &str, record: &TapRecord) -> std::io::Result<()> {
    write!(out, "{}\t{venue}:", record.recv_ts.0)?;
    match &record.kind {
        TapKind::Rest(request) => {
            out.write_all(b"rest:")?;
            out.write_all(request.path())?;
        }
        TapKind::Ws => out.write_all(b"ws")?,
        TapKind::Send => out.write_all(b"send")?,
    }
    out.write_all(b"\t")?;
    if record.bytes.iter().any(|&b| b == b'\n' || b == b'\r') {
        let cleaned: Vec<u8> = record
            .bytes
            .iter()
            .map(|&b| if b == b'\n' || b == b'\r' { b' ' } else { b })
            .collect();
        out.write_all(&cleaned)?;
    } else {
        out.write_all(&record.bytes)?;
    }
    out.write_all(b"\n")
}
