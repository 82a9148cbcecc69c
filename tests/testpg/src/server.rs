//! One throwaway server: initdb into a temporary folder (handed to the `postgres` user when we
//! are root), pg_ctl start on a free port of 127.0.0.1, databases made and dropped with psql,
//! stopped when dropped.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use tempfile::TempDir;

use crate::Unavailable;
use crate::system::{as_user, check, find_bin, free_port, give_to, is_root, unprivileged_user};

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
    pub(crate) fn stop_when_process_ends(&self) {
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
