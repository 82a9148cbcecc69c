//! A throwaway PostgreSQL server for tests. [`Server::start`] finds `initdb` and `pg_ctl`
//! (`$RINGSHOP_PG_BIN`, else on `PATH`, else in `/usr/lib/postgresql/*/bin`, where Debian keeps
//! them), runs `initdb` into a
//! temporary folder and starts the server on a free port of 127.0.0.1 (its unix socket in the
//! same folder); dropping the `Server` stops it and removes the folder. [`database`] hands each
//! test a fresh database on one server shared by the test binary, which a watchdog stops when
//! the test process ends, however it ends.
//!
//! PostgreSQL refuses to run as root: as root, the server runs as the `postgres` user (the
//! system package creates it) through `runuser` (or `setpriv`).
//!
//! Without the binaries a test is skipped loudly (`SKIPPED: PostgreSQL binaries not found
//! (install postgresql)` on stderr) and passes, unless `RINGSHOP_REQUIRE_PG=1`: then it fails,
//! so CI can never pass by skipping.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;

/// The variable that turns every skip into a failure.
pub const REQUIRE_VAR: &str = "RINGSHOP_REQUIRE_PG";

/// The line a skipped test prints.
pub const SKIPPED: &str = "SKIPPED: PostgreSQL binaries not found (install postgresql)";

/// Why there is no server.
#[derive(Debug)]
pub enum Unavailable {
    /// No `initdb`/`pg_ctl` anywhere we look: the test may be skipped.
    Missing,
    /// The binaries are there but the server did not come up: always a failure.
    Failed(String),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::Missing => f.write_str(SKIPPED),
            Unavailable::Failed(why) => write!(f, "the test PostgreSQL server failed: {why}"),
        }
    }
}

/// Server settings that trade durability for speed (tests); `durable()` keeps PostgreSQL's.
#[derive(Clone, Debug)]
pub struct Settings {
    pub settings: Vec<(String, String)>,
}

impl Settings {
    /// fsync off: a crash of this machine may lose a test database, and nothing else.
    pub fn fast() -> Settings {
        Settings::of(&[
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("max_connections", "300"),
        ])
    }

    /// PostgreSQL's defaults for durability (commits are flushed), enough connections.
    pub fn durable() -> Settings {
        Settings::of(&[("max_connections", "300")])
    }

    pub fn of(pairs: &[(&str, &str)]) -> Settings {
        Settings {
            settings: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }
}

/// A running (or stopped by the test) PostgreSQL server in a temporary folder.
pub struct Server {
    dir: TempDir,
    bin: PathBuf,
    port: u16,
    /// The unprivileged user that runs the server when the tests run as root.
    run_as: Option<String>,
    options: String,
    next_db: AtomicUsize,
}

impl Server {
    /// initdb + start, with the fast settings.
    pub fn start() -> Result<Server, Unavailable> {
        Server::start_with(&Settings::fast())
    }

    pub fn start_with(settings: &Settings) -> Result<Server, Unavailable> {
        let bin = find_bin().ok_or(Unavailable::Missing)?;
        let failed = |why: String| Unavailable::Failed(why);
        let dir = tempfile::Builder::new()
            .prefix("ringshop-pg-")
            .tempdir()
            .map_err(|e| failed(format!("cannot make a temporary folder: {e}")))?;
        let run_as = if is_root() {
            Some(unprivileged_user().ok_or_else(|| {
                failed("running as root and there is no `postgres` user to run the server as (PostgreSQL refuses root); install the postgresql package or run the tests as another user".into())
            })?)
        } else {
            None
        };
        if let Some(user) = &run_as {
            give_to(dir.path(), user).map_err(failed)?;
        }
        let mut server = Server {
            dir,
            bin,
            port: 0,
            run_as,
            options: String::new(),
            next_db: AtomicUsize::new(0),
        };
        let data = server.data();
        let out = server
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .output()
            .map_err(|e| failed(format!("cannot run initdb: {e}")))?;
        check(&out, "initdb").map_err(failed)?;
        let extra: String = settings
            .settings
            .iter()
            .map(|(k, v)| format!(" -c {k}={v}"))
            .collect();
        // A free port can be taken between our probe and the server's bind: try a few.
        let mut last = String::new();
        for _ in 0..5 {
            server.port = free_port().map_err(failed)?;
            server.options = format!(
                "-c listen_addresses=127.0.0.1 -p {} -k {}{extra}",
                server.port,
                server.dir.path().display()
            );
            match server.start_again() {
                Ok(()) => return Ok(server),
                Err(why) => last = why,
            }
        }
        Err(failed(last))
    }

    /// Starts a stopped server again, on the same port with the same data.
    pub fn start_again(&self) -> Result<(), String> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-w", "-t", "30", "-o", &self.options, "start"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        check(&out, "pg_ctl start").map_err(|why| format!("{why}\n{}", self.log_tail()))
    }

    /// Stops the server (fast: open connections are closed, as a server going down does).
    pub fn stop(&self) -> Result<(), String> {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-t", "30", "-m", "fast", "stop"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run pg_ctl: {e}"))?;
        check(&out, "pg_ctl stop")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Makes a fresh database; its name (`label` made safe, and a number).
    pub fn create_database(&self, label: &str) -> Result<String, String> {
        let n = self.next_db.fetch_add(1, Ordering::Relaxed);
        let safe: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(40)
            .collect();
        let name = format!("t{n}_{safe}");
        self.psql(&format!("CREATE DATABASE \"{name}\""))?;
        Ok(name)
    }

    /// Drops a database, closing its connections.
    pub fn drop_database(&self, name: &str) -> Result<(), String> {
        self.psql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
    }

    /// Runs one SQL command as the superuser on the `postgres` database.
    pub fn psql(&self, sql: &str) -> Result<(), String> {
        let out = Command::new(self.bin.join("psql"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args([
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-qAt",
            ])
            .args(["-c", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run psql: {e}"))?;
        check(&out, "psql")
    }

    /// The last lines of the server's log (for a failure message).
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` from the server's bin folder, as the unprivileged user when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match &self.run_as {
            None => Command::new(path),
            Some(user) => {
                let mut command = as_user(user);
                command.arg(path);
                command
            }
        }
    }

    /// Stops the server when this process ends, however it ends (for a server kept in a
    /// static, which Rust never drops): a shell that waits for our pid, then stops it. It
    /// looks in /proc: as the server's user it may not signal us (root) with `kill -0`.
    fn stop_when_process_ends(&self) {
        let stop = format!(
            "while [ -e /proc/{pid} ] || kill -0 {pid} 2>/dev/null; do sleep 1; done; {pg_ctl} -D {data} -m immediate stop; rm -rf {dir}",
            pid = std::process::id(),
            pg_ctl = self.bin.join("pg_ctl").display(),
            data = self.data().display(),
            dir = self.dir.path().display(),
        );
        let mut command = match &self.run_as {
            // The folder is the user's, so it can remove it.
            Some(user) => {
                let mut c = as_user(user);
                c.args(["sh", "-c", &stop]);
                c
            }
            None => {
                let mut c = Command::new("sh");
                c.args(["-c", &stop]);
                c
            }
        };
        let spawned = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        if let Err(e) = spawned {
            eprintln!("testpg: no watchdog for the shared server ({e}); it may outlive the tests");
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-w", "-m", "immediate", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// One database of the shared server, dropped with this value.
pub struct TestDb {
    pub url: String,
    pub name: String,
    server: &'static Server,
}

impl TestDb {
    pub fn server(&self) -> &'static Server {
        self.server
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Err(why) = self.server.drop_database(&self.name) {
            eprintln!("testpg: could not drop {}: {why}", self.name);
        }
    }
}

/// The test binary's shared server, started on first use.
pub fn shared() -> Result<&'static Server, &'static Unavailable> {
    static SERVER: OnceLock<Result<Server, Unavailable>> = OnceLock::new();
    SERVER
        .get_or_init(|| {
            let server = Server::start()?;
            server.stop_when_process_ends();
            Ok(server)
        })
        .as_ref()
}

/// A fresh database for one test, or None when the test should be skipped (it printed why).
/// Panics when the server fails, or when the binaries are missing and `RINGSHOP_REQUIRE_PG=1`.
pub fn database(label: &str) -> Option<TestDb> {
    let server = match shared() {
        Ok(server) => server,
        Err(Unavailable::Missing) => {
            skip_or_fail(label);
            return None;
        }
        Err(e) => panic!("{label}: {e}"),
    };
    let name = server
        .create_database(label)
        .unwrap_or_else(|why| panic!("{label}: cannot create a test database: {why}"));
    Some(TestDb {
        url: server.url(&name),
        name,
        server,
    })
}

/// An own server for a test that stops and starts it; None when skipped (it printed why).
pub fn own_server(label: &str) -> Option<Server> {
    match Server::start() {
        Ok(server) => Some(server),
        Err(Unavailable::Missing) => {
            skip_or_fail(label);
            None
        }
        Err(e) => panic!("{label}: {e}"),
    }
}

/// Prints why a PostgreSQL test is skipped, or fails it when skips are not allowed.
pub fn skip_or_fail(label: &str) {
    if required() {
        panic!("{label}: {SKIPPED}, and {REQUIRE_VAR}=1 forbids skipping");
    }
    eprintln!("{label}: {SKIPPED}");
}

/// Whether skipping is forbidden (`RINGSHOP_REQUIRE_PG=1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1")
}

/// The folder holding `initdb` and `pg_ctl`: `$RINGSHOP_PG_BIN` if set (and nothing else), else
/// on `PATH`, else Debian's newest `/usr/lib/postgresql/<version>/bin`, else
/// `/usr/local/pgsql/bin`.
pub fn find_bin() -> Option<PathBuf> {
    let has_both = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os("RINGSHOP_PG_BIN") {
        let dir = PathBuf::from(dir);
        return has_both(&dir).then_some(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_both(&dir) {
                // /usr/local/bin/initdb may be a link into the versioned folder, which also
                // holds postgres and psql.
                let real = std::fs::canonicalize(dir.join("initdb"))
                    .ok()
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .filter(|d| has_both(d));
                return Some(real.unwrap_or(dir));
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, bin)| has_both(bin))
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let local = PathBuf::from("/usr/local/pgsql/bin");
    has_both(&local).then_some(local)
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the process's effective user.
    if let Ok(meta) = std::fs::metadata("/proc/self") {
        return meta.uid() == 0;
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The user to run the server as when we are root: `postgres`, if it exists.
fn unprivileged_user() -> Option<String> {
    let known = Command::new("id")
        .arg("-u")
        .arg("postgres")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    known.then(|| "postgres".to_string())
}

/// A command prefix that runs what follows as `user` (we are root): runuser, else setpriv.
fn as_user(user: &str) -> Command {
    let runuser = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    match runuser {
        Some(runuser) => {
            let mut c = Command::new(runuser);
            c.args(["-u", user, "--"]);
            c
        }
        None => {
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={user}"))
                .arg(format!("--regid={user}"))
                .arg("--init-groups");
            c
        }
    }
}

/// Hands the folder to `user` (the server writes there).
fn give_to(dir: &Path, user: &str) -> Result<(), String> {
    let id = |flag: &str| -> Result<u32, String> {
        let out = Command::new("id")
            .args([flag, user])
            .output()
            .map_err(|e| format!("cannot run id: {e}"))?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .map_err(|_| format!("cannot read the {flag} of {user}"))
    };
    let (uid, gid) = (id("-u")?, id("-g")?);
    std::os::unix::fs::chown(dir, Some(uid), Some(gid))
        .map_err(|e| format!("cannot give {} to {user}: {e}", dir.display()))
}

fn free_port() -> Result<u16, String> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("no free port on 127.0.0.1: {e}"))
}

fn check(out: &Output, what: &str) -> Result<(), String> {
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout).trim(),
        String::from_utf8_lossy(&out.stderr).trim()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_starts_takes_databases_and_stops_when_dropped() {
        let Some(server) = own_server("testpg") else {
            return;
        };
        let name = server.create_database("one").expect("creates");
        assert!(name.starts_with("t0_one"));
        server.psql("SELECT 1").expect("answers");
        server.drop_database(&name).expect("drops");
        let port = server.port();
        drop(server);
        assert!(
            std::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err(),
            "nothing listens on {port} after the drop"
        );
    }
}
