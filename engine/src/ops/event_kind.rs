//! Record kinds of the events stream (operational, wall-clock: not part of replay). Besides
//! SESSION and HEALTH, each payload is the event's fields as [`crate::ops::record`] encodes
//! them; `pulse events DIR` prints them all as JSON lines.

/// A run begins. Payload: start time (unix ns) u64, pid u32, reserved u32, then the
/// instance its event lines name (UTF-8, to the end; absent before `[events]`).
pub const SESSION: u16 = 0x0001;
/// Payload: from u8, to u8 (Health codes), reason u16 (HealthReason), reserved u32.
pub const HEALTH: u16 = 0x0201;
/// The kill switch engaged: reason.
pub const KILL: u16 = 0x0202;
/// An operator re-armed: uid.
pub const REARM: u16 = 0x0203;
/// Reduce-only from now on.
pub const REDUCE_ONLY: u16 = 0x0204;
/// An operator asked for a flatten: instrument (or `all`), uid.
pub const FLATTEN: u16 = 0x0205;
/// Every flatten in progress is done (`flatten_open` back to 0, or still 0 300 ms after
/// an operator's request).
pub const FLATTEN_DONE: u16 = 0x0206;
/// A flatten cannot close an instrument now: unclosable (how many).
pub const FLATTEN_UNCLOSABLE: u16 = 0x0207;
/// A book resynced: instrument, count (since the last publish), total.
pub const RESYNC: u16 = 0x0208;
/// The venue session became ready / stopped being ready: venue (when labelled).
pub const GATEWAY_CONNECTED: u16 = 0x0209;
pub const GATEWAY_DISCONNECTED: u16 = 0x020a;
/// The market data WebSocket opened / closed: source (when labelled).
pub const FEED_CONNECTED: u16 = 0x020b;
pub const FEED_DISCONNECTED: u16 = 0x020c;
/// Reconciliation: at start (result, halts), or fills learned from status answers and
/// balance mismatches (reconciled_fills, balance_mismatches).
pub const RECONCILIATION: u16 = 0x020d;
/// The run ends: reason, health.
pub const SESSION_END: u16 = 0x020e;
