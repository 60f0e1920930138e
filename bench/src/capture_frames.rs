//! The WebSocket frames of the bundled spot BTCUSDT capture, in order, its REST snapshot left
//! out: what `throughput` decodes and `pulse-count` counts instructions over.

use std::path::Path;

use anyhow::{Context, Result};
use pulse_feeds::capture::{CaptureReader, SourceKind};

pub fn ws_frames() -> Result<Vec<Vec<u8>>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../data/binance_spot_btcusdt_2024-08-08.cap.gz");
    let mut reader =
        CaptureReader::open(&path).with_context(|| format!("opening {}", path.display()))?;
    let mut frames = Vec::new();
    while let Some(record) = reader.next_record() {
        let record = record.map_err(|e| anyhow::anyhow!("reading {}: {e:?}", path.display()))?;
        if !matches!(record.kind, SourceKind::Rest { .. }) {
            frames.push(record.payload.to_vec());
        }
    }
    Ok(frames)
}
