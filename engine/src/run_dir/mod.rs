//! The engine's run directory: where its stats file, its control file and its default kill
//! file live, so that only the engine's own user can plant, block or redirect them.
//!
//! It is `$XDG_RUNTIME_DIR/pulse` when that is set, else `/dev/shm/pulse-<uid>` (the temp
//! directory on a system without `/dev/shm`), or `[engine] run_dir`. The engine creates it with
//! mode 0700 or verifies the one it finds: a real directory (never a symlink), owned by the
//! engine's effective uid, that no one else can enter; every directory above it must be owned
//! by root or by us and be writable by no one else unless sticky, so nobody can swap it.
//! Commands and monitors verify it the same way before they use anything in it.

use std::fs::{self, DirBuilder};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

mod file;

pub use file::{read_owned, write_new, Owned, Refusal};

/// Mode bits that let another user in: group or other, any access.
const FOREIGN_ACCESS: u32 = 0o077;
/// Mode bits that let another user write.
const FOREIGN_WRITE: u32 = 0o022;
const STICKY: u32 = 0o1000;

/// The effective uid, which owns what the engine creates.
pub use crate::secrets::euid;

/// Where the run directory is unless `[engine] run_dir` or `--run-dir` says otherwise.
pub fn default_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_absolute()) {
        return Path::new(&xdg).join("pulse");
    }
    let shm = Path::new("/dev/shm");
    let base = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    base.join(format!("pulse-{}", euid()))
}

/// A run directory that was checked to be ours alone.
#[derive(Clone, Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// The engine's end: creates `path` (mode 0700) if it is missing, then verifies it.
    pub fn create(path: &Path) -> Result<RunDir, String> {
        if let Some(parent) = path.parent() {
            check_ancestors(parent)?;
        }
        match DirBuilder::new().mode(0o700).create(path) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(format!(
                    "cannot create run directory {}: {e}",
                    path.display()
                ))
            }
        }
        RunDir::open(path)
    }

    /// The commands' end: verifies an existing run directory.
    pub fn open(path: &Path) -> Result<RunDir, String> {
        let shown = path.display();
        let meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                return Err(format!(
                    "no engine is running: run directory {shown} does not exist"
                ))
            }
            Err(e) => return Err(format!("cannot read run directory {shown}: {e}")),
        };
        if meta.file_type().is_symlink() {
            return Err(format!(
                "run directory {shown} is a symlink (owned by uid {}): refused, it could point \
                 anywhere; remove it",
                meta.uid()
            ));
        }
        if !meta.is_dir() {
            return Err(format!("run directory {shown} is not a directory"));
        }
        if meta.uid() != euid() {
            return Err(format!(
                "run directory {shown} is owned by uid {}, not by this user (uid {}): refused, \
                 its owner could plant or redirect commands; remove it or choose another \
                 run_dir",
                meta.uid(),
                euid()
            ));
        }
        let mode = meta.permissions().mode() & 0o7777;
        if mode & FOREIGN_ACCESS != 0 {
            return Err(format!(
                "run directory {shown} has mode {mode:04o}: other users could enter or write it; \
                 it must be 0700 (chmod 700 {shown})"
            ));
        }
        if let Some(parent) = path.parent() {
            check_ancestors(parent)?;
        }
        Ok(RunDir {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `<dir>/<name>.stats`: the engine's shared-memory stats file.
    pub fn stats_file(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.stats"))
    }

    /// `<dir>/<name>.control`: where `pulse kill`, `rearm` and `reduce-only` leave a command.
    pub fn control_file(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.control"))
    }

    /// `<dir>/<name>.kill`: the kill file unless `[risk] kill_switch_file` names another.
    pub fn kill_file(&self, name: &str) -> PathBuf {
        self.path.join(format!("{name}.kill"))
    }
}

/// `dir` (and every directory above it) can be written only by us or root: a file in it can be
/// created, replaced or removed by no other user. For files the engine trusts outside the run
/// directory (`[risk] kill_switch_file`, `[metrics] stats_file`).
pub fn check_private_dir(dir: &Path) -> Result<(), String> {
    let meta = fs::metadata(dir).map_err(|e| format!("directory {}: {e}", dir.display()))?;
    let mode = meta.permissions().mode() & 0o7777;
    if meta.uid() != euid() && meta.uid() != 0 {
        return Err(format!(
            "directory {} is owned by uid {}: another user could create or replace files in it",
            dir.display(),
            meta.uid()
        ));
    }
    if mode & FOREIGN_WRITE != 0 {
        return Err(format!(
            "directory {} has mode {mode:04o}: other users can create files in it",
            dir.display()
        ));
    }
    check_ancestors(dir)
}

/// Every directory from `dir` up is owned by root or us and writable by no one else unless
/// sticky (where others cannot rename or remove what is ours): nobody else can swap a path
/// below it.
fn check_ancestors(dir: &Path) -> Result<(), String> {
    let real = fs::canonicalize(dir).map_err(|e| format!("directory {}: {e}", dir.display()))?;
    for ancestor in real.ancestors() {
        let meta =
            fs::metadata(ancestor).map_err(|e| format!("directory {}: {e}", ancestor.display()))?;
        let mode = meta.permissions().mode() & 0o7777;
        let owner_ok = meta.uid() == euid() || meta.uid() == 0;
        if !owner_ok || (mode & FOREIGN_WRITE != 0 && mode & STICKY == 0) {
            return Err(format!(
                "directory {} (uid {}, mode {mode:04o}) lets another user rename what is below \
                 it: refused for {}",
                ancestor.display(),
                meta.uid(),
                dir.display()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(test: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pulse-rundir-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        DirBuilder::new().mode(0o755).create(&dir).unwrap();
        dir
    }

    #[test]
    fn the_engine_creates_a_private_directory_and_refuses_a_shared_or_redirected_one() {
        let dir = scratch("create");
        let run = dir.join("run");
        let made = RunDir::create(&run).unwrap();
        let meta = fs::symlink_metadata(made.path()).unwrap();
        assert_eq!(meta.permissions().mode() & 0o7777, 0o700);
        assert_eq!(made.stats_file("demo"), run.join("demo.stats"));
        assert!(
            RunDir::create(&run).is_ok(),
            "an existing private dir is reused"
        );

        fs::set_permissions(&run, fs::Permissions::from_mode(0o755)).unwrap();
        let err = RunDir::open(&run).unwrap_err();
        assert!(
            err.contains("has mode 0755") && err.contains("must be 0700"),
            "{err}"
        );

        let link = dir.join("link");
        symlink(&run, &link).unwrap();
        let err = RunDir::create(&link).unwrap_err();
        assert!(err.contains("is a symlink"), "{err}");

        let err = RunDir::open(&dir.join("absent")).unwrap_err();
        assert!(err.contains("does not exist"), "{err}");

        let open = dir.join("open");
        DirBuilder::new().mode(0o777).create(&open).unwrap();
        fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
        let err = RunDir::create(&open.join("run")).unwrap_err();
        assert!(err.contains("lets another user rename"), "{err}");
        let err = check_private_dir(&open).unwrap_err();
        assert!(err.contains("mode 0777"), "{err}");
        assert!(check_private_dir(&dir).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }
}
