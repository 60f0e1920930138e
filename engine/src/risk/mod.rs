//! Pre-trade risk lives in `pulse-risk`; this path keeps it where the engine always had it,
//! beside the control file through which the CLI steers its kill switch.

pub use pulse_risk::*;

pub mod control;
