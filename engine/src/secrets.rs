//! What the process does while it holds an API secret: the variables that carried secrets are
//! wiped and removed from the environment, and the process is made non-dumpable, so neither a
//! core file nor another process of the same user (`/proc/<pid>/environ`, `ptrace`) reads them.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::fmt;
use std::sync::Arc;

use pulse_gateways::secret::Secret;

/// A secret taken from the environment variable `name` at start-up, shared by the config's
/// clones; equal only to itself.
#[derive(Clone)]
pub struct TakenSecret {
    pub name: String,
    secret: Arc<Secret>,
}

impl TakenSecret {
    pub fn new(name: String, secret: Secret) -> TakenSecret {
        TakenSecret {
            name,
            secret: Arc::new(secret),
        }
    }

    /// A copy for its user (wiped when that drops it).
    pub fn copy(&self) -> Secret {
        Secret::new(self.secret.expose().to_owned())
    }
}

impl PartialEq for TakenSecret {
    fn eq(&self, other: &TakenSecret) -> bool {
        self.name == other.name && Arc::ptr_eq(&self.secret, &other.secret)
    }
}

impl Eq for TakenSecret {}

impl fmt::Debug for TakenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TakenSecret({}, <redacted>)", self.name)
    }
}

/// The engine's effective uid: the owner a key file must have, and of what the engine creates.
pub fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions, cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// Reads the secret in `name`, then overwrites the variable's value where the environment holds
/// it (for the variables the process started with, that is the block `/proc/<pid>/environ`
/// shows) and removes the variable.
///
/// Call it only while the process has one thread: the environment is not safe to change while
/// another thread may read it.
pub fn take_env(name: &str) -> Result<Secret, String> {
    let secret = Secret::from_env(name)?;
    if let Ok(c_name) = CString::new(name) {
        // SAFETY: single-threaded (this function's contract), so no other thread reads or
        // changes the environment meanwhile; getenv returns a pointer to the NUL-terminated value
        // inside the environment's `NAME=value` string, which stays valid until the variable is
        // changed or removed, and is overwritten here within its own length.
        unsafe {
            let value = libc::getenv(c_name.as_ptr());
            if !value.is_null() {
                let len = libc::strlen(value);
                std::ptr::write_bytes(value, 0, len);
            }
        }
    }
    std::env::remove_var(name);
    Ok(secret)
}

/// `prctl(PR_SET_DUMPABLE, 0)`: no core dump, and `/proc/<pid>` files (environ, mem, maps)
/// become root's, so other processes of the engine's user cannot read its memory.
pub fn forbid_dumps() -> Result<(), String> {
    // SAFETY: PR_SET_DUMPABLE takes an integer argument and touches no memory of ours.
    let rc = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    if rc != 0 {
        return Err(format!(
            "cannot make the process non-dumpable: {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// Whether the process is dumpable (`PR_GET_DUMPABLE`).
pub fn dumpable() -> bool {
    // SAFETY: PR_GET_DUMPABLE takes no argument and touches no memory of ours.
    unsafe { libc::prctl(libc::PR_GET_DUMPABLE, 0, 0, 0, 0) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidding_dumps_is_observable() {
        // Only this test changes the test process's dumpability.
        forbid_dumps().unwrap();
        assert!(!dumpable());
    }
}
