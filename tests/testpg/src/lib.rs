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

pub mod disk;
mod server;
mod system;

use std::sync::OnceLock;

pub use disk::SmallDisk;
pub use server::{Server, Settings};
pub use system::find_bin;

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

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

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
