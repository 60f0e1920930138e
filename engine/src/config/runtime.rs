//! The runtime's settings: which thread runs which stages, pinned where, idling how, what a
//! failed stage does to the run, and the ring capacities (`[runtime]`, `[[runtime.threads]]`,
//! `[rings]`).

use serde::Deserialize;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Every stage appears in exactly one thread.
    pub threads: Vec<ThreadConfig>,
    /// What a stage that fails (panics) on a runner thread does to the run.
    pub on_stage_failure: StageFailurePolicy,
    /// Fault drill (`--fail-stage STAGE:N`): that stage panics in its Nth `do_work`.
    pub fail_stage: Option<(StageKind, u64)>,
}

/// `[runtime] on_stage_failure`: a failed stage is always counted (`stage_failures`) and takes
/// health to Critical (which engages the kill switch); then the run stops or goes on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageFailurePolicy {
    /// End the run cleanly: every stage closes, journals are synced, the summary is printed,
    /// and `pulse` exits non-zero.
    #[default]
    Stop,
    /// Go on calling the failed stage (as Agrona's `AgentRunner` does), counting each failure.
    Continue,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadConfig {
    pub name: String,
    /// Polled round-robin in this order.
    pub stages: Vec<StageKind>,
    /// The CPU to pin to; `None` leaves the thread unpinned.
    pub core: Option<usize>,
    pub idle: IdleKind,
}

/// The hot-path stages a runner thread can poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    Feed,
    Book,
    Strategy,
    Risk,
    /// The portfolio stage (with `[portfolio]`): on the risk stage's thread unless a thread
    /// names it.
    Portfolio,
    Gateway,
}

impl StageKind {
    /// All stages in pipeline order: the order of the default single thread.
    pub const ALL: [StageKind; 6] = [
        StageKind::Feed,
        StageKind::Book,
        StageKind::Strategy,
        StageKind::Risk,
        StageKind::Portfolio,
        StageKind::Gateway,
    ];

    /// The name used in the config file.
    pub fn name(self) -> &'static str {
        match self {
            StageKind::Feed => "feed",
            StageKind::Book => "book",
            StageKind::Strategy => "strategy",
            StageKind::Risk => "risk",
            StageKind::Portfolio => "portfolio",
            StageKind::Gateway => "gateway",
        }
    }
}

/// What a runner thread does after a pass over its stages found no work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IdleKind {
    BusySpin,
    Yield,
    Backoff,
}

/// Ring capacities in slots; each a power of two in `2..=2^24`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RingConfig {
    pub market_data: usize,
    pub book_events: usize,
    pub intents: usize,
    pub orders: usize,
    pub reports: usize,
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig {
            market_data: 65_536,
            book_events: 4_096,
            intents: 1_024,
            orders: 1_024,
            reports: 1_024,
        }
    }
}
