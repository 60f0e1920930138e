//! Is the engine behind a stats file still there? Its pid must exist and its metrics thread must
//! have beaten recently: a pid alone can be reused after a crash, a heartbeat alone cannot tell a
//! hung engine from a dead one.
#![allow(unsafe_code)]

use std::time::{SystemTime, UNIX_EPOCH};

/// A heartbeat older than this means the metrics thread has stopped. It beats every few
/// milliseconds, so 5 s is far beyond any scheduling hiccup.
pub const HEARTBEAT_TIMEOUT_NS: u64 = 5_000_000_000;

pub fn now_unix_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// `kill(pid, 0)`: the kernel checks the pid without sending anything. `EPERM` means the process
/// exists but belongs to someone else, so it counts as alive.
pub fn pid_alive(pid: u32) -> bool {
    // 0 and negative pids name process groups, never one engine.
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; kill has no memory effects on this process.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A heartbeat ahead of `now` (the wall clock stepped back) counts as fresh.
pub fn heartbeat_fresh(heartbeat_ns: u64, now_ns: u64) -> bool {
    now_ns.saturating_sub(heartbeat_ns) <= HEARTBEAT_TIMEOUT_NS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_pid_is_alive_and_group_pids_are_not() {
        assert!(pid_alive(std::process::id()));
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
    }

    #[test]
    fn a_reaped_child_is_dead() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!pid_alive(pid));
    }

    #[test]
    fn heartbeat_ages_out_after_the_timeout() {
        let now = 100 * HEARTBEAT_TIMEOUT_NS;
        assert!(heartbeat_fresh(now - HEARTBEAT_TIMEOUT_NS, now));
        assert!(!heartbeat_fresh(now - HEARTBEAT_TIMEOUT_NS - 1, now));
        assert!(heartbeat_fresh(now + 1, now));
    }
}
