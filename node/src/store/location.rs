//! Which database a node uses, as `--db` (or `$RINGSHOP_DB`) names it: a path is a SQLite
//! file, a `postgres://` or `postgresql://` URL is a PostgreSQL database, and `:memory:` (the
//! name SQLite gives a database that is no file) is a store in the node's own memory. Anything
//! else that looks like a URL is refused by name, never taken for a file path (`--db
//! mysql://h/db` must not quietly create a folder named `mysql:`).

use std::fmt;
use std::path::{Path, PathBuf};

use super::StoreError;

#[derive(Clone, PartialEq, Eq)]
pub enum Db {
    /// A SQLite file, shared by every node on one machine.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL, shared by nodes on any machine that reaches the server.
    Postgres(String),
    /// A new store in this process's memory: the node is a cluster of its own, and everything
    /// is gone when it stops (tests).
    Memory,
}

/// How `--db` names the memory store.
pub const MEMORY: &str = ":memory:";

impl Db {
    /// Reads `--db`'s text: a URL with a scheme we know, or a path.
    pub fn parse(text: &str) -> Result<Db, StoreError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(StoreError::BadUrl {
                url: String::new(),
                reason: "it is empty".into(),
            });
        }
        if text == MEMORY {
            return Ok(Db::Memory);
        }
        match scheme(text) {
            Some(s)
                if s.eq_ignore_ascii_case("postgres") || s.eq_ignore_ascii_case("postgresql") =>
            {
                Ok(Db::Postgres(text.to_string()))
            }
            Some(s) if s.eq_ignore_ascii_case("file") || s.eq_ignore_ascii_case("sqlite") => {
                Err(StoreError::BadUrl {
                    url: text.to_string(),
                    reason: format!("a SQLite database is given as a plain path, not a {s}:// URL"),
                })
            }
            Some(s) => Err(StoreError::BadUrl {
                url: redact(text),
                reason: format!(
                    "{s}:// is not a database ringshop supports (SQLite or PostgreSQL)"
                ),
            }),
            None => Ok(Db::Sqlite(PathBuf::from(text))),
        }
    }

    pub fn postgres(url: impl Into<String>) -> Db {
        Db::Postgres(url.into())
    }

    /// The SQLite file, if this is one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Db::Sqlite(path) => Some(path),
            Db::Postgres(_) | Db::Memory => None,
        }
    }

    /// What to pass as `--db` to a node process for this database.
    pub fn as_arg(&self) -> std::ffi::OsString {
        match self {
            Db::Sqlite(path) => path.clone().into_os_string(),
            Db::Postgres(url) => url.into(),
            Db::Memory => MEMORY.into(),
        }
    }
}

/// The database a node uses when `--db` is not given: `$RINGSHOP_DB` (a path or a URL), else
/// the default file.
pub fn default_db() -> Result<Db, StoreError> {
    match std::env::var("RINGSHOP_DB") {
        Ok(text) => Db::parse(&text),
        Err(std::env::VarError::NotUnicode(text)) => Ok(Db::Sqlite(PathBuf::from(text))),
        Err(std::env::VarError::NotPresent) => Ok(Db::Sqlite(default_db_path())),
    }
}

/// The default database file: `$XDG_DATA_HOME/ringshop/cluster.db`, else
/// `~/.local/share/ringshop/cluster.db`, else `./ringshop-cluster.db`.
pub fn default_db_path() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")));
    match data {
        Some(dir) => dir.join("ringshop").join("cluster.db"),
        None => PathBuf::from("ringshop-cluster.db"),
    }
}

/// The scheme of `scheme://...`, if `text` starts with one (letters, digits, '+', '-', '.').
fn scheme(text: &str) -> Option<&str> {
    let (scheme, _) = text.split_once("://")?;
    let mut chars = scheme.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
    .then_some(scheme)
}

/// The URL with its password (if any) replaced by `***`, for logs and errors.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

impl From<PathBuf> for Db {
    fn from(path: PathBuf) -> Db {
        Db::Sqlite(path)
    }
}

impl From<&PathBuf> for Db {
    fn from(path: &PathBuf) -> Db {
        Db::Sqlite(path.clone())
    }
}

impl From<&Path> for Db {
    fn from(path: &Path) -> Db {
        Db::Sqlite(path.to_path_buf())
    }
}

impl std::str::FromStr for Db {
    type Err = StoreError;
    fn from_str(text: &str) -> Result<Db, StoreError> {
        Db::parse(text)
    }
}

/// Paths as they are; URLs without their password.
impl fmt::Display for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Db::Sqlite(path) => write!(f, "{}", path.display()),
            Db::Postgres(url) => f.write_str(&redact(url)),
            Db::Memory => f.write_str(MEMORY),
        }
    }
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Db::Sqlite(path) => f.debug_tuple("Sqlite").field(path).finish(),
            Db::Postgres(url) => f.debug_tuple("Postgres").field(&redact(url)).finish(),
            Db::Memory => f.write_str("Memory"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_sqlite_and_a_postgres_url_is_postgres() {
        assert_eq!(
            Db::parse("/var/lib/ringshop/c.db").expect("a path"),
            Db::Sqlite("/var/lib/ringshop/c.db".into())
        );
        assert_eq!(
            Db::parse("c.db").expect("a relative path"),
            Db::Sqlite("c.db".into())
        );
        for url in [
            "postgres://u@h/db",
            "postgresql://u:pw@h:5433/db?sslmode=disable",
        ] {
            assert_eq!(Db::parse(url).expect("a URL"), Db::Postgres(url.into()));
        }
    }

    #[test]
    fn colon_memory_colon_is_the_memory_store_and_round_trips() {
        let db = Db::parse(" :memory: ").expect("the memory store");
        assert_eq!(db, Db::Memory);
        assert_eq!(Db::parse(&db.to_string()).expect("again"), Db::Memory);
        assert_eq!(db.as_arg(), MEMORY);
        assert_eq!(db.path(), None);
        assert_eq!(
            Db::parse("memory").expect("a file"),
            Db::Sqlite("memory".into()),
            "a bare word is a file, as it always was"
        );
    }

    #[test]
    fn another_scheme_is_refused_by_name_not_taken_for_a_folder() {
        let err = Db::parse("mysql://u:secret@h/db").expect_err("refused");
        let text = err.to_string();
        assert!(
            text.contains("mysql://") && text.contains("postgres://"),
            "{text}"
        );
        assert!(!text.contains("secret"), "the password stays out: {text}");
        assert!(Db::parse("sqlite://c.db").is_err());
        assert!(Db::parse("  ").is_err());
    }

    #[test]
    fn a_password_never_shows_in_logs() {
        let db = Db::parse("postgres://ringshop:hunter2@db.example:5432/shop").expect("a URL");
        assert_eq!(
            db.to_string(),
            "postgres://ringshop:***@db.example:5432/shop"
        );
        assert!(!format!("{db:?}").contains("hunter2"));
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
