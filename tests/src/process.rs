//! Child-process nodes: finding the built `ringshop-node`, starting one (its log to this stderr,
//! or to a file the test reads: `with_node_log`) and reading the
//! address it prints, and signalling it by pid (the tests use no libc).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use ringshop_node::Db;
use std::process::{Command, Stdio};
use std::time::Duration;

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::NodeId;

use crate::{Run, TestCluster, TestNode};

/// How long a child node may take to print its address.
pub(crate) const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The built `ringshop-node`, next to this test binary's folder (`cargo test --workspace`
/// builds it, because the node package has integration tests of its own).
pub fn node_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("RINGSHOP_NODE_BIN") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let bin = dir.join(format!("ringshop-node{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p ringshop-node`) first",
        bin.display()
    );
    bin
}

/// The built main, `ringshop`, beside `ringshop-node` (`cargo test --workspace` builds it for
/// the TUI's tests); `$RINGSHOP_MAIN_BIN` if set.
pub fn main_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("RINGSHOP_MAIN_BIN") {
        return PathBuf::from(path);
    }
    let bin = node_binary().with_file_name(format!("ringshop{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run `cargo test --workspace` (or `cargo build -p ringshop-tui`) first",
        bin.display()
    );
    bin
}

/// The log filter child nodes run with: `$RINGSHOP_NODE_LOG`, else `warn`.
fn node_log() -> String {
    std::env::var("RINGSHOP_NODE_LOG").unwrap_or_else(|_| "warn".into())
}

/// How a child node is started: everything but its name and address.
pub(crate) struct Launch<'a> {
    pub ttl: Duration,
    pub db: &'a Db,
    pub catalog: Option<&'a Path>,
    pub payment: &'a Payment,
    pub certs: Option<&'a Path>,
    /// The network namespace to run it in (a test host's), if any.
    pub namespace: Option<String>,
    /// More flags for this node (`--suspicion 10s`, say).
    pub extra: &'a [String],
    /// Its `RUST_LOG` and the file its log goes to, in place of `node_log()` to this stderr.
    pub log: Option<(&'a str, PathBuf)>,
}

impl TestCluster {
    /// Child-process node `name` logs with `RUST_LOG=filter` to a file of the cluster's
    /// folder (appended to across restarts), for the test to read (`node_log`).
    pub fn with_node_log(mut self, name: NodeId, filter: &str) -> TestCluster {
        self.node_logs.retain(|(n, _)| *n != name);
        self.node_logs.push((name, filter.to_string()));
        self
    }

    /// What child-process node `name` logged so far (`with_node_log`).
    pub fn node_log(&self, name: &NodeId) -> String {
        let (_, path) = self
            .node_log_of(name)
            .unwrap_or_else(|| panic!("{name} logs to this stderr: see `with_node_log`"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    pub(crate) fn node_log_of(&self, name: &NodeId) -> Option<(&str, PathBuf)> {
        let (_, filter) = self.node_logs.iter().find(|(n, _)| n == name)?;
        Some((filter, self.dir.path().join(format!("{name}.log"))))
    }
}

/// Starts a child node listening on `listen` (port 0: any free port) and reads its address;
/// why not, if it printed none (it exited, e.g. because the store still holds its name for a
/// live node, or the port is taken).
pub(crate) fn spawn_process(
    name: NodeId,
    listen: SocketAddr,
    launch: &Launch,
) -> Result<TestNode, String> {
    let Launch {
        ttl,
        db,
        catalog,
        payment,
        certs,
        namespace,
        extra,
        log,
    } = launch;
    // In a host's network namespace: `ip netns exec` runs the node in its own process (it
    // execs), so the child's pid is the node's, for signals.
    let mut command = match namespace.as_deref() {
        Some(namespace) => {
            let mut command = Command::new("ip");
            command
                .args(["netns", "exec", namespace])
                .arg(node_binary());
            command
        }
        None => Command::new(node_binary()),
    };
    if let Some(catalog) = catalog {
        command.arg("--catalog").arg(catalog);
    }
    if let Some(certs) = certs {
        command.arg("--certs").arg(certs);
    }
    let mut child = command
        .args(["--name", name.as_str(), "--listen", &listen.to_string()])
        .arg("--db")
        .arg(db.as_arg())
        .args([
            "--payment-delay",
            &format!("{}ms", payment.delay.as_millis()),
        ])
        .args(["--payment-failure-rate", &payment.failure_rate.to_string()])
        .args(["--ttl", &format!("{}ms", ttl.as_millis())])
        .args(extra.iter())
        .env(
            "RUST_LOG",
            log.as_ref()
                .map_or_else(node_log, |(filter, _)| filter.to_string()),
        )
        .stdout(Stdio::piped())
        .stderr(match log {
            None => Stdio::inherit(),
            Some((_, path)) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map(Stdio::from)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        })
        .spawn()
        .expect("the node binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
    // "ringshop-node n1 listening on 127.0.0.1:PORT" (", advertised as ADDR" when it differs:
    // the last word is always the address to dial)
    let addr = line.trim().rsplit(' ').next().and_then(|a| a.parse().ok());
    let Some(addr) = addr else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!(
            "node {name} printed {line:?} within {START_TIMEOUT:?}, not its address"
        ));
    };
    Ok(TestNode {
        name,
        addr,
        run: Run::Process(child),
        paused: false,
    })
}

/// Sends a signal to a child by pid with the `kill` command (the tests use no libc).
pub(crate) fn signal(pid: u32, which: &str) {
    let sent = Command::new("kill")
        .args([which, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
    if !sent.is_ok_and(|s| s.success()) {
        eprintln!("kill {which} {pid} failed (the process may have exited)");
    }
}
