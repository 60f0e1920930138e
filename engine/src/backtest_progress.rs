//! `pulse backtest`'s progress bar, on a terminal only: input messages read, the simulated time
//! reached, how many times faster than recorded, and the time left. It follows the run's input
//! journal from beside the run (records are read as the feed appends them), so the hot path
//! neither knows nor pays for it. The end is estimated from the inputs' sizes (a gzip's
//! uncompressed size is in its last four bytes).

use std::io::{IsTerminal, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pulse_journal::JournalReader;

/// A running progress bar; [`Progress::finish`] clears it.
pub struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// The bytes of input lines in `paths`, as read: a file's length, or a gzip's stated
/// uncompressed size. A journal directory counts nothing (the bar then shows no ETA).
fn input_bytes(paths: &[PathBuf]) -> u64 {
    paths
        .iter()
        .map(|p| {
            let Ok(mut f) = std::fs::File::open(p) else {
                return 0;
            };
            let len = f
                .metadata()
                .map_or(0, |m| if m.is_file() { m.len() } else { 0 });
            let mut magic = [0u8; 2];
            if f.read_exact(&mut magic).is_err() || magic != [0x1f, 0x8b] {
                return len;
            }
            let mut isize = [0u8; 4];
            match f
                .seek(SeekFrom::End(-4))
                .and_then(|_| f.read_exact(&mut isize))
            {
                Ok(()) => u64::from(u32::from_le_bytes(isize)).max(len),
                Err(_) => len,
            }
        })
        .sum()
}

impl Progress {
    /// Starts the bar when stderr is a terminal; `None` otherwise (a quiet run).
    pub fn start(journal: &Path, inputs: &[PathBuf]) -> Option<Progress> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let total = input_bytes(inputs);
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let journal = journal.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("pulse-progress".into())
            .spawn(move || follow(&journal, total, &flag))
            .ok()?;
        Some(Progress {
            stop,
            thread: Some(thread),
        })
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn follow(journal: &Path, total: u64, stop: &AtomicBool) {
    let bar = ProgressBar::with_draw_target(Some(total.max(1)), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}% {msg} ETA {eta}",
    );
    if let Ok(style) = style {
        bar.set_style(style);
    }
    let started = Instant::now();
    let (mut events, mut bytes, mut first, mut last) = (0u64, 0u64, None::<u64>, 0u64);
    let mut reader = None;
    loop {
        // One last look after the stop, so the bar ends on the whole input.
        let stopping = stop.load(Ordering::Relaxed);
        if reader.is_none() && journal.join("input").exists() {
            reader = JournalReader::open(journal, "input").ok();
        }
        if let Some(r) = reader.as_mut() {
            while let Ok(Some(rec)) = r.next() {
                if rec.kind != pulse_feeds::input_journal::kind::MESSAGE {
                    continue;
                }
                events += 1;
                // The line's text, its time stamp and tabs, as the capture held it.
                bytes += rec.payload.len() as u64 + 21;
                first.get_or_insert(rec.timestamp);
                last = last.max(rec.timestamp);
            }
        }
        let sim = Duration::from_nanos(last.saturating_sub(first.unwrap_or(last)));
        let speed = sim.as_secs_f64() / started.elapsed().as_secs_f64().max(1e-3);
        bar.set_position(bytes.min(total));
        bar.set_message(format!(
            "{events} messages, {} of market time, {speed:.0}x",
            humantime(sim)
        ));
        if stopping {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

fn humantime(d: Duration) -> String {
    let s = d.as_secs();
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
