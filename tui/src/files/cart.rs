//! The kept cart: one JSON file per customer in the state folder (`paths::cart_file_in`),
//! replaced whole on every change (a temporary file beside it, fsync, rename, fsync of the
//! folder), so a quit, a crash or a SIGKILL finds either the old cart or the new one, never half
//! of one. A file that cannot be read or is not a cart is set aside (renamed with a
//! `.corrupt-<unix seconds>` suffix) and reported, never trusted and never fatal; a temporary
//! file left by a killed process is ignored (and swept once old).

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringshop_shared::ProductId;
use ringshop_shared::shop::MAX_QTY_PER_LINE;
use serde::{Deserialize, Serialize};

/// The file's format; another is not read (it is set aside as any unreadable file).
const VERSION: u32 = 1;
/// A temporary file this old was left by a process that died while writing.
const STALE_TEMP: Duration = Duration::from_secs(600);

/// One line of a kept cart: what the screen shows without asking the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptLine {
    pub product: ProductId,
    pub name: String,
    pub price_cents: u64,
    pub qty: u32,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    customer: String,
    lines: Vec<KeptLine>,
}

/// Why a cart was not read or not kept; each names its file and what became of it.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// The file is there but is not a cart this ringshop reads.
    #[error("the kept cart {path} is not a cart ({why}); {aside}")]
    Corrupt {
        path: PathBuf,
        why: String,
        aside: SetAside,
    },
    /// The file is there but could not be read.
    #[error("the kept cart {path} could not be read ({source}); {aside}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
        aside: SetAside,
    },
    /// The cart could not be written: it lives in this session only until a write works.
    #[error("cannot keep the cart in {path}: {source}")]
    Unwritable {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What became of a file that was not read.
#[derive(Debug)]
pub enum SetAside {
    To(PathBuf),
    Failed(std::io::Error),
}

impl std::fmt::Display for SetAside {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetAside::To(path) => write!(f, "set aside as {}", path.display()),
            SetAside::Failed(e) => write!(f, "and it could not be set aside: {e}"),
        }
    }
}

/// The cart kept at `path`: empty when there is none. A file that is not a readable cart is
/// set aside and the error says so (the cart is then empty).
pub fn load(path: &Path) -> Result<Vec<KeptLine>, CartError> {
    sweep_temps(path);
    match read(path) {
        Read::Lines(lines) => Ok(lines),
        Read::Unreadable(source) => Err(CartError::Unreadable {
            path: path.to_path_buf(),
            source,
            aside: set_aside(path),
        }),
        Read::Corrupt(why) => Err(CartError::Corrupt {
            path: path.to_path_buf(),
            why,
            aside: set_aside(path),
        }),
    }
}

/// The cart kept at `path` (empty when there is none), touching nothing: what is wrong with
/// the file otherwise (`ringshop info` asks).
pub fn peek(path: &Path) -> Result<Vec<KeptLine>, String> {
    match read(path) {
        Read::Lines(lines) => Ok(lines),
        Read::Unreadable(e) => Err(format!("cannot be read ({e})")),
        Read::Corrupt(why) => Err(format!("is not a cart ({why})")),
    }
}

enum Read {
    Lines(Vec<KeptLine>),
    Unreadable(std::io::Error),
    Corrupt(String),
}

fn read(path: &Path) -> Read {
    match fs::read(path) {
        Ok(bytes) => match parse(&bytes) {
            Ok(lines) => Read::Lines(lines),
            Err(why) => Read::Corrupt(why),
        },
        // No file, or no folder for one (the first write says why it cannot be made).
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            Read::Lines(Vec::new())
        }
        Err(e) => Read::Unreadable(e),
    }
}

fn parse(bytes: &[u8]) -> Result<Vec<KeptLine>, String> {
    let file: File = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    if file.version != VERSION {
        return Err(format!(
            "format {}, this ringshop reads {VERSION}",
            file.version
        ));
    }
    for (i, line) in file.lines.iter().enumerate() {
        if line.qty == 0 || line.qty > MAX_QTY_PER_LINE {
            return Err(format!(
                "{}: quantity {} is not 1 to {MAX_QTY_PER_LINE}",
                line.product, line.qty
            ));
        }
        if file.lines[..i].iter().any(|l| l.product == line.product) {
            return Err(format!("{} is on two lines", line.product));
        }
    }
    Ok(file.lines)
}

/// Keeps `lines` as `customer`'s cart at `path`, replacing the file whole (an empty cart
/// removes it).
pub fn save(path: &Path, customer: &str, lines: &[KeptLine]) -> Result<(), CartError> {
    let unwritable = |source| CartError::Unwritable {
        path: path.to_path_buf(),
        source,
    };
    if lines.is_empty() {
        return match fs::remove_file(path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(unwritable(e)),
            _ => Ok(()),
        };
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(unwritable)?;
    let file = File {
        version: VERSION,
        customer: customer.to_string(),
        lines: lines.to_vec(),
    };
    let json =
        serde_json::to_vec_pretty(&file).map_err(|e| unwritable(std::io::Error::other(e)))?;
    let mut temp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(unwritable)?;
    temp.write_all(&json).map_err(unwritable)?;
    temp.as_file().sync_all().map_err(unwritable)?;
    temp.persist(path).map_err(|e| unwritable(e.error))?;
    // The rename itself is durable once the folder is synced.
    fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(unwritable)?;
    Ok(())
}

/// `.cart-guest.json.`: the temporary files of `path` start with it.
fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    format!(".{name}.")
}

/// Renames the file at `path` out of the way, keeping it for the user to look at.
fn set_aside(path: &Path) -> SetAside {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut to = path.as_os_str().to_owned();
    to.push(format!(".corrupt-{secs}"));
    let to = PathBuf::from(to);
    match fs::rename(path, &to) {
        Ok(()) => SetAside::To(to),
        Err(e) => SetAside::Failed(e),
    }
}

/// Removes temporary files of `path` old enough to have been left by a process that died
/// while writing (a younger one may be another process's write in progress).
fn sweep_temps(path: &Path) {
    let (Some(dir), prefix) = (path.parent(), temp_prefix(path)) else {
        return;
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP);
        if name.starts_with(&prefix) && name.ends_with(".tmp") && stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests;
