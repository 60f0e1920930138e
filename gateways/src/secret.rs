//! API secrets: read from an environment variable or a key file, kept in a type that never
//! shows its content (`Debug` and `Display` print a placeholder) and wipes it when dropped.
//! A key file is opened without following a symlink and checked through the opened descriptor
//! (`fstat`): it must be a regular file, owned by the engine's user, that its group and others
//! may not read, and small; then it is read from that same descriptor, so nothing can swap the
//! file between the check and the read. No error message quotes what a file or variable held.

use std::fmt;
use std::io::Read as _;
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _};
use std::path::Path;

use zeroize::Zeroizing;

/// A secret: an HMAC key or a private key's PEM text.
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Takes ownership of `text`; it is wiped when the secret is dropped.
    pub fn new(text: String) -> Secret {
        Secret(Zeroizing::new(text))
    }

    /// The secret itself, for the one place that signs with it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// From the environment variable `name`, which must be set and not empty.
    /// The copy read is wiped; the variable itself stays (the engine's start-up removes it).
    pub fn from_env(name: &str) -> Result<Secret, String> {
        match std::env::var(name).map(Zeroizing::new) {
            Ok(v) if !v.trim().is_empty() => Ok(Secret::new(v.trim().to_owned())),
            Ok(_) => Err(format!("the environment variable {name} is empty")),
            Err(std::env::VarError::NotPresent) => {
                Err(format!("the environment variable {name} is not set"))
            }
            Err(std::env::VarError::NotUnicode(_)) => Err(format!(
                "the environment variable {name} is not valid UTF-8"
            )),
        }
    }

    /// From a key file owned by `owner` (the engine's effective uid) and readable by its
    /// owner alone (no permission bit for group or others). Surrounding whitespace is trimmed.
    pub fn from_file(path: &Path, owner: u32) -> Result<Secret, String> {
        let shown = path.display();
        let file = std::fs::OpenOptions::new()
            .read(true)
            // O_CLOEXEC is std's default; a symlink is refused (ELOOP), not followed.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        let meta = file
            .metadata()
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        if !meta.file_type().is_file() {
            return Err(format!(
                "the key file {shown} is not a regular file: refused"
            ));
        }
        if meta.uid() != owner {
            return Err(format!(
                "the key file {shown} is owned by uid {}, not by this engine's uid {owner}: refused",
                meta.uid()
            ));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the key file {shown} is readable by others (mode {mode:03o}): refused; \
                 chmod 600 it"
            ));
        }
        if meta.len() > MAX_KEY_FILE_BYTES {
            return Err(format!(
                "the key file {shown} is {} bytes, more than a key's {MAX_KEY_FILE_BYTES}: refused",
                meta.len()
            ));
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_BYTES as usize + 1));
        (&file)
            .take(MAX_KEY_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read the key file {shown}: {e}"))?;
        if bytes.len() as u64 > MAX_KEY_FILE_BYTES {
            return Err(format!("the key file {shown} grew while read: refused"));
        }
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("the key file {shown} is not UTF-8 text"))?;
        if text.trim().is_empty() {
            return Err(format!("the key file {shown} is empty"));
        }
        Ok(Secret::new(text.trim().to_owned()))
    }
}

/// Largest key file read: an Ed25519 PKCS#8 PEM is about 120 bytes, an HMAC secret 64.
const MAX_KEY_FILE_BYTES: u64 = 16 << 10;

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::Permissions;
    use std::os::unix::fs::PermissionsExt as _;

    const CANARY: &str = "canary-7f3c9e1d-secret-value";

    #[test]
    fn a_secret_never_shows_its_content() {
        let s = Secret::new(CANARY.to_owned());
        for shown in [format!("{s:?}"), format!("{s}"), format!("{:#?}", Some(&s))] {
            assert!(!shown.contains(CANARY), "{shown}");
        }
        assert_eq!(s.expose(), CANARY);
    }

    #[test]
    fn key_files_must_be_private_and_errors_do_not_quote_them() {
        let dir = std::env::temp_dir().join(format!("pulse-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::fs::metadata(&dir).unwrap().uid();
        let path = dir.join("key");
        std::fs::write(&path, format!("{CANARY}\n")).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let err = Secret::from_file(&path, me).unwrap_err();
        assert!(err.contains("readable by others (mode 644)"), "{err}");
        assert!(!err.contains(CANARY));
        std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        assert!(Secret::from_file(&path, me).is_err());
        std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        assert_eq!(Secret::from_file(&path, me).unwrap().expose(), CANARY);
        let err = Secret::from_file(&path, me + 1).unwrap_err();
        assert!(
            err.contains(&format!("not by this engine's uid {}", me + 1)),
            "{err}"
        );
        std::fs::write(&path, [0xff, 0xfe, b'x']).unwrap();
        let err = Secret::from_file(&path, me).unwrap_err();
        assert!(err.ends_with("is not UTF-8 text"), "{err}");
        let missing = Secret::from_file(&dir.join("nope"), me).unwrap_err();
        assert!(missing.starts_with("cannot read the key file"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn symlinks_fifos_foreign_and_huge_key_files_are_refused() {
        let dir = std::env::temp_dir().join(format!("pulse-secret-odd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let me = std::fs::metadata(&dir).unwrap().uid();
        let key = dir.join("key");
        std::fs::write(&key, CANARY).unwrap();
        std::fs::set_permissions(&key, Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("link");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        let err = Secret::from_file(&link, me).unwrap_err();
        assert!(err.starts_with("cannot read the key file"), "{err}");
        // A FIFO would block a plain open and read forever.
        let fifo = dir.join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        std::fs::set_permissions(&fifo, Permissions::from_mode(0o600)).unwrap();
        let err = Secret::from_file(&fifo, me).unwrap_err();
        assert!(err.ends_with("is not a regular file: refused"), "{err}");
        let huge = dir.join("huge");
        std::fs::write(&huge, vec![b'k'; 1 << 20]).unwrap();
        std::fs::set_permissions(&huge, Permissions::from_mode(0o600)).unwrap();
        let err = Secret::from_file(&huge, me).unwrap_err();
        assert!(err.contains("more than a key's 16384: refused"), "{err}");
        if me == 0 {
            // Planted by another user: root can hand the file to nobody.
            std::os::unix::fs::chown(&key, Some(65534), None).unwrap();
            let err = Secret::from_file(&key, me).unwrap_err();
            assert!(err.contains("owned by uid 65534"), "{err}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn environment_variables_must_be_set_and_not_empty() {
        let name = format!("PULSE_TEST_SECRET_{}", std::process::id());
        assert!(Secret::from_env(&name).unwrap_err().ends_with("is not set"));
    }
}
