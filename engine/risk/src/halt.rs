//! Why the kill switch is engaged: the reason journaled with every halt.

/// Why the kill switch is engaged. Codes are journaled: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaltReason {
    /// `pulse kill`.
    Operator = 1,
    /// SIGUSR1.
    Signal = 2,
    KillFile = 3,
    HealthCritical = 4,
    /// Startup reconciliation found the journal and the venue disagreeing.
    ReconcileMismatch = 5,
    /// `start_killed = true`.
    StartKilled = 6,
    /// The live gateway found the venue's balances disagreeing with the positions.
    VenueBalance = 7,
}

impl HaltReason {
    const ALL: [HaltReason; 7] = [
        HaltReason::Operator,
        HaltReason::Signal,
        HaltReason::KillFile,
        HaltReason::HealthCritical,
        HaltReason::ReconcileMismatch,
        HaltReason::StartKilled,
        HaltReason::VenueBalance,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<HaltReason> {
        HaltReason::ALL.into_iter().find(|r| r.code() == code)
    }

    pub fn name(self) -> &'static str {
        match self {
            HaltReason::Operator => "operator",
            HaltReason::Signal => "signal",
            HaltReason::KillFile => "kill_file",
            HaltReason::HealthCritical => "health_critical",
            HaltReason::ReconcileMismatch => "reconcile_mismatch",
            HaltReason::StartKilled => "start_killed",
            HaltReason::VenueBalance => "venue_balance",
        }
    }
}
