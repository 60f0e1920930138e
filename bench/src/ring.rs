//! `ring`: one-way hop latency between two threads (half of a ping-pong round trip) and
//! one-way throughput, for Pulse's rings (`rtrb`) beside `crossbeam`'s `ArrayQueue` and
//! `std::sync::mpsc::sync_channel`, all busy-polled, measured in the same run.

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_queue::ArrayQueue;
use hdrhistogram::Histogram;

use crate::report::Measured;

const CAPACITY: usize = 1024;
const WARMUP_ROUND_TRIPS: u64 = 20_000;

/// One end of a transport, as the benchmark uses it.
pub trait Tx: Send + 'static {
    fn try_send(&mut self, v: u64) -> bool;
}

pub trait Rx: Send + 'static {
    fn try_recv(&mut self) -> Option<u64>;
}

impl Tx for rtrb::Producer<u64> {
    fn try_send(&mut self, v: u64) -> bool {
        self.push(v).is_ok()
    }
}

impl Rx for rtrb::Consumer<u64> {
    fn try_recv(&mut self) -> Option<u64> {
        self.pop().ok()
    }
}

struct Crossbeam(Arc<ArrayQueue<u64>>);

impl Tx for Crossbeam {
    fn try_send(&mut self, v: u64) -> bool {
        self.0.push(v).is_ok()
    }
}

impl Rx for Crossbeam {
    fn try_recv(&mut self) -> Option<u64> {
        self.0.pop()
    }
}

impl Tx for mpsc::SyncSender<u64> {
    fn try_send(&mut self, v: u64) -> bool {
        mpsc::SyncSender::try_send(self, v).is_ok()
    }
}

impl Rx for mpsc::Receiver<u64> {
    fn try_recv(&mut self) -> Option<u64> {
        mpsc::Receiver::try_recv(self).ok()
    }
}

fn rtrb_pair() -> (rtrb::Producer<u64>, rtrb::Consumer<u64>) {
    rtrb::RingBuffer::new(CAPACITY)
}

fn crossbeam_pair() -> (Crossbeam, Crossbeam) {
    let q = Arc::new(ArrayQueue::new(CAPACITY));
    (Crossbeam(Arc::clone(&q)), Crossbeam(q))
}

fn mpsc_pair() -> (mpsc::SyncSender<u64>, mpsc::Receiver<u64>) {
    mpsc::sync_channel(CAPACITY)
}

fn pin(core: Option<usize>) {
    if let Some(id) = core {
        core_affinity::set_for_current(core_affinity::CoreId { id });
    }
}

/// Ping-pong: the measuring thread stamps and sends, the echo thread sends each value back.
fn ping_pong<T: Tx, R: Rx>(
    (mut ping_tx, mut ping_rx): (T, R),
    (mut pong_tx, mut pong_rx): (T, R),
    duration: Duration,
    cores: [Option<usize>; 2],
) -> Histogram<u64> {
    let echo = std::thread::spawn(move || {
        pin(cores[1]);
        loop {
            let Some(v) = ping_rx.try_recv() else {
                std::hint::spin_loop();
                continue;
            };
            while !pong_tx.try_send(v) {
                std::hint::spin_loop();
            }
            if v == u64::MAX {
                return;
            }
        }
    });
    pin(cores[0]);
    let clock = quanta::Clock::new();
    let mut histogram = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let mut round_trip = |record: bool, histogram: &mut Histogram<u64>| {
        let start = clock.raw();
        while !ping_tx.try_send(start) {
            std::hint::spin_loop();
        }
        while pong_rx.try_recv().is_none() {
            std::hint::spin_loop();
        }
        if record {
            let rtt = clock.delta_as_nanos(start, clock.raw());
            let _ = histogram.record((rtt / 2).max(1));
        }
    };
    for _ in 0..WARMUP_ROUND_TRIPS {
        round_trip(false, &mut histogram);
    }
    let end = Instant::now() + duration;
    while Instant::now() < end {
        for _ in 0..1_000 {
            round_trip(true, &mut histogram);
        }
    }
    while !ping_tx.try_send(u64::MAX) {
        std::hint::spin_loop();
    }
    while pong_rx.try_recv() != Some(u64::MAX) {
        std::hint::spin_loop();
    }
    let _ = echo.join();
    histogram
}

/// Streams `count` values one way as fast as the consumer takes them; messages per second.
fn throughput<T: Tx, R: Rx>(
    (mut tx, mut rx): (T, R),
    count: u64,
    cores: [Option<usize>; 2],
) -> f64 {
    let consumer = std::thread::spawn(move || {
        pin(cores[1]);
        let mut seen = 0;
        let started = Instant::now();
        while seen < count {
            if rx.try_recv().is_some() {
                seen += 1;
            } else {
                std::hint::spin_loop();
            }
        }
        started.elapsed()
    });
    pin(cores[0]);
    for i in 0..count {
        while !tx.try_send(i) {
            std::hint::spin_loop();
        }
    }
    let elapsed = consumer.join().unwrap_or(Duration::MAX);
    count as f64 / elapsed.as_secs_f64().max(1e-9)
}

pub fn run(duration: Duration, cores: [Option<usize>; 2]) -> Vec<Measured> {
    let messages = 5_000_000;
    let measured = |name, histogram, rate| Measured {
        name,
        case: None,
        histogram,
        extra: vec![("throughput_msgs_per_s", rate)],
    };
    vec![
        measured(
            "pulse",
            ping_pong(rtrb_pair(), rtrb_pair(), duration, cores),
            throughput(rtrb_pair(), messages, cores),
        ),
        measured(
            "crossbeam",
            ping_pong(crossbeam_pair(), crossbeam_pair(), duration, cores),
            throughput(crossbeam_pair(), messages, cores),
        ),
        measured(
            "std_mpsc",
            ping_pong(mpsc_pair(), mpsc_pair(), duration, cores),
            throughput(mpsc_pair(), messages, cores),
        ),
    ]
}
