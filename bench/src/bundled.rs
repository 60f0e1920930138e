//! The bundled capture and configs as benchmark runs use them: a config made quiet (no stats
//! file, journal or kill file), and plain copies of the capture rewritten line by line. Shared
//! by `pulse-bench` and `pulse-count` (which includes this file with `#[path]`).

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use pulse_engine::config;

/// `configs/<file>` for a benchmark run: no stats file, no journal, only the run directory's
/// kill file (which nothing creates), a name of its own; unpinned unless `pinned`.
pub fn config(file: &str, pinned: bool) -> Result<config::Config> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../configs")
        .join(file);
    let mut cfg = config::load(&path).with_context(|| format!("cannot load {}", path.display()))?;
    cfg.engine.name = format!("bench-{}", std::process::id());
    cfg.metrics.stats = false;
    cfg.metrics.prometheus_listen = None;
    cfg.risk.kill_switch_file = None;
    cfg.journal = None;
    if !pinned {
        for t in &mut cfg.runtime.threads {
            t.core = None;
        }
    }
    Ok(cfg)
}

/// Writes `dir/name`: the bundled capture inflated, each line (its number from 0, its text
/// without the newline) replaced by what `rewrite` returns, or left out for `None`.
pub fn rewrite_capture(
    dir: &Path,
    name: &str,
    mut rewrite: impl FnMut(usize, &str) -> Option<String>,
) -> Result<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let file = std::fs::File::open(&source)
        .with_context(|| format!("cannot open {}", source.display()))?;
    let path = dir.join(name);
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    for (i, line) in BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .enumerate()
    {
        if let Some(line) = rewrite(i, &line?) {
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(path)
}
