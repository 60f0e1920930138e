//! `pulse-count CASE ITERATIONS`: runs one hot path ITERATIONS times with nothing else, for
//! instruction counting under `valgrind --tool=callgrind` (`scripts/instructions.sh`). Two
//! runs with different ITERATIONS give the cost of one iteration by difference, without the
//! setup (loading the capture, building the book).
//!
//! Cases: `risk_approve` (the full check chain, every check passing), `book_apply` (one real
//! depth level update applied to the tick-indexed book), `decode_depth` (one real
//! `depthUpdate` frame decoded), `sign_order` (an `order.place` request's payload signed with
//! HMAC-SHA256 into a reserved buffer, as the Binance gateway signs every order), `depth_frame`
//! (one real `depthUpdate` frame from the raw bytes through every hot stage as `pulse run`
//! builds them, `configs/imbalance.toml`: decode, sync, book, strategy, risk, simulated venue;
//! the capture's snapshot and depth diffs alone, replayed pass after pass).
#![forbid(unsafe_code)]

use std::hint::black_box;
use std::process::ExitCode;

#[path = "../book_updates.rs"]
#[allow(dead_code)]
mod book_updates;
#[path = "../bundled.rs"]
mod bundled;
#[path = "../capture_frames.rs"]
mod capture_frames;
#[path = "../risk_cases.rs"]
#[allow(dead_code)]
mod risk_cases;

use book_updates::BenchBook;
use pulse_engine::risk::TradingMode;
use pulse_feeds::binance::codec::BinanceCodec;
use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::{Px, Qty};
use pulse_gateways::binance::sign::{Signer, SIGNATURE_CAPACITY};
use pulse_gateways::secret::Secret;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let (Some(case), Some(n)) = (
        args.get(1),
        args.get(2).and_then(|n| n.parse::<usize>().ok()),
    ) else {
        eprintln!(
            "usage: pulse-count risk_approve|book_apply|decode_depth|sign_order|depth_frame ITERATIONS"
        );
        return ExitCode::FAILURE;
    };
    match case.as_str() {
        "risk_approve" => {
            let cases = risk_cases::RiskCases::new();
            if let Err(e) = cases.verify() {
                eprintln!("pulse-count: {e}");
                return ExitCode::FAILURE;
            }
            let ctx = cases.context(TradingMode::Armed);
            for _ in 0..n {
                let _ = black_box(cases.checks.check(black_box(&cases.approve), &ctx));
            }
        }
        "book_apply" => {
            let Ok(u) = book_updates::load() else {
                eprintln!("pulse-count: cannot load the capture's book updates");
                return ExitCode::FAILURE;
            };
            let mut book = book_updates::ladder(&u);
            BenchBook::seed(&mut book, &u.snapshot);
            for l in u.updates.iter().cycle().take(n) {
                BenchBook::apply(&mut book, black_box(l));
            }
        }
        "decode_depth" => {
            let mut frames = match capture_frames::ws_frames() {
                Ok(frames) => frames,
                Err(e) => {
                    eprintln!("pulse-count: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            frames.retain(|f| f.windows(11).any(|w| w == b"depthUpdate"));
            if frames.is_empty() {
                eprintln!("pulse-count: no depthUpdate frame in the capture");
                return ExitCode::FAILURE;
            }
            let mut registry = InstrumentRegistry::new();
            let _ = registry.add(Venue::Binance, "BTCUSDT", 2, 8, Px(1), Qty(1));
            let mut codec = BinanceCodec::new();
            for frame in frames.iter().cycle().take(n) {
                let _ = black_box(codec.decode_ws(&registry, black_box(frame)));
            }
        }
        "sign_order" => {
            // The sorted parameters of a typical order, as the gateway writes them.
            const PAYLOAD: &str =
                "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A\
                &newClientOrderId=28147497671065601&newOrderRespType=ACK&price=61686.02\
                &quantity=0.00200000&recvWindow=5000&side=BUY&symbol=BTCUSDT&timeInForce=IOC\
                &timestamp=1723075200123&type=LIMIT";
            let signer = Signer::hmac(Secret::new(
                "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".into(),
            ));
            let mut out = String::with_capacity(SIGNATURE_CAPACITY);
            for _ in 0..n {
                out.clear();
                signer.sign_into(black_box(PAYLOAD), &mut out);
                black_box(&out);
            }
        }
        "depth_frame" => {
            if let Err(e) = depth_frames(n) {
                eprintln!("pulse-count: {e:#}");
                return ExitCode::FAILURE;
            }
        }
        other => {
            eprintln!("pulse-count: unknown case {other}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// `n` messages of a capture of the bundled one's snapshot and depth diffs, each through every
/// stage of the engine on this thread, pass after pass (a fresh pipeline each pass).
fn depth_frames(n: usize) -> anyhow::Result<()> {
    use anyhow::Context as _;
    use pulse_engine::config::SourceConfig;
    use pulse_engine::pipeline;
    use pulse_feeds::stage::Stage as _;

    let dir = std::env::temp_dir().join(format!("pulse-count-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // The REST snapshot and the depth diffs: their source is `binance:rest:..` or the payload
    // names the event.
    let path = bundled::rewrite_capture(&dir, "depth.cap", |_, line| {
        let snapshot = line.split('\t').nth(1)?.starts_with("binance:rest");
        (snapshot || line.contains("\"e\":\"depthUpdate\"")).then(|| line.into())
    })?;
    let mut cfg = bundled::config("imbalance.toml", false)?;
    cfg.source = SourceConfig::Capture {
        path,
        speed_milli: 0,
        then: Vec::new(),
    };
    let clock = quanta::Clock::new();
    let mut done = 0;
    while done < n {
        let mut p = pipeline::build(&cfg, &clock).context("cannot build the pipeline")?;
        while done < n && !p.stages[0].intake_done() {
            let now = p.replay_time.get();
            for stage in p.stages.iter_mut() {
                stage.do_work(now);
            }
            done += 1;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
