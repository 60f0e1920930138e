//! API secrets: read from an environment variable or a key file, kept in a type that never
//! shows its content (`Debug` and `Display` print a placeholder) and wipes it when dropped.
//! A key file that its group or others may read is refused: the secret would already be
//! exposed. No error message quotes what a file or variable held.

use std::fmt;
use std::os::unix::fs::PermissionsExt as _;
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
    pub fn from_env(name: &str) -> Result<Secret, String> {
        match std::env::var(name) {
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

    /// From a key file readable by its owner alone (no permission bit for group or others).
    /// Surrounding whitespace is trimmed.
    pub fn from_file(path: &Path) -> Result<Secret, String> {
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "the key file {} is readable by others (mode {mode:03o}): refused; \
                 chmod 600 it",
                path.display()
            ));
        }
        let bytes = Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?,
        );
        let text = std::str::from_utf8(&bytes)
            .map_err(|_| format!("the key file {} is not UTF-8 text", path.display()))?;
        if text.trim().is_empty() {
            return Err(format!("the key file {} is empty", path.display()));
        }
        Ok(Secret::new(text.trim().to_owned()))
    }
}

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
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key");
        std::fs::write(&path, format!("{CANARY}\n")).unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        let err = Secret::from_file(&path).unwrap_err();
        assert!(err.contains("readable by others (mode 644)"), "{err}");
        assert!(!err.contains(CANARY));
        std::fs::set_permissions(&path, Permissions::from_mode(0o640)).unwrap();
        assert!(Secret::from_file(&path).is_err());
        std::fs::set_permissions(&path, Permissions::from_mode(0o600)).unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), CANARY);
        std::fs::write(&path, [0xff, 0xfe, b'x']).unwrap();
        let err = Secret::from_file(&path).unwrap_err();
        assert!(err.ends_with("is not UTF-8 text"), "{err}");
        let missing = Secret::from_file(&dir.join("nope")).unwrap_err();
        assert!(missing.starts_with("cannot read the key file"), "{missing}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn environment_variables_must_be_set_and_not_empty() {
        let name = format!("PULSE_TEST_SECRET_{}", std::process::id());
        assert!(Secret::from_env(&name).unwrap_err().ends_with("is not set"));
    }
}
