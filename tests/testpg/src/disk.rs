//! A throwaway small filesystem for tests of a full disk: a tmpfs of a few MiB mounted on a
//! temporary folder, which [`SmallDisk::fill`] fills to the last byte (the honest "disk full":
//! every write then fails with ENOSPC, as on a real disk) and [`SmallDisk::free`] empties
//! again. Dropping it unmounts it (lazily, so a process still holding a file there does not
//! keep it mounted).
//!
//! Mounting needs root. Without it a test is skipped loudly (`SKIPPED: ...` on stderr) and
//! passes, unless `RINGSHOP_REQUIRE_ROOT=1` (set by `.ci/run`): then it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The variable that turns a skip into a failure.
pub const REQUIRE_ROOT_VAR: &str = "RINGSHOP_REQUIRE_ROOT";

/// A mounted tmpfs, unmounted when dropped.
pub struct SmallDisk {
    dir: tempfile::TempDir,
    filler: PathBuf,
}

impl SmallDisk {
    /// A tmpfs of `mib` MiB, or None when this machine cannot mount one (the test is skipped;
    /// `label` says which). Panics when `RINGSHOP_REQUIRE_ROOT=1` and it cannot.
    pub fn mount(label: &str, mib: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        let why = match mounted {
            Ok(out) if out.status.success() => {
                let filler = dir.path().join(".filler");
                return Some(SmallDisk { dir, filler });
            }
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_string(),
            Err(e) => format!("cannot run mount: {e}"),
        };
        let message = format!(
            "SKIPPED: {label} needs a small tmpfs to fill, and mounting one failed ({why}); run the tests as root"
        );
        if std::env::var(REQUIRE_ROOT_VAR).is_ok_and(|v| v == "1") {
            panic!("{message} ({REQUIRE_ROOT_VAR}=1 makes this a failure)");
        }
        eprintln!("{message}");
        None
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the filesystem until a write fails with "no space left"; how many bytes that took.
    pub fn fill(&self) -> u64 {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.filler)
            .expect("opens the filler");
        let chunk = vec![0u8; 4096];
        let mut written = 0u64;
        loop {
            match file.write(&chunk) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling {}: {e}", self.filler.display()),
            }
        }
        // The last partial block too, byte by byte.
        while file.write(&[0u8]).is_ok_and(|n| n == 1) {
            written += 1;
        }
        written
    }

    /// Gives the space back.
    pub fn free(&self) {
        if self.filler.exists() {
            std::fs::remove_file(&self.filler).expect("removes the filler");
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}
