//! Test hosts: network namespaces on one bridge, made by `scripts/hosts.sh` with a throwaway
//! PostgreSQL server in a namespace of its own. The addresses (10.78.0.0/24) exist only inside
//! those namespaces.
//!
//! A hosts test is two functions. The outer one, a plain `#[test]` in the machine's own
//! namespace, calls [`run_inside`]: it brings the hosts up (`hosts.sh up N --no-nodes`), runs
//! this same test binary again inside the client namespace with only the inner test selected,
//! and brings everything down however that ends. The inner test is `#[ignore]`d (a plain
//! `cargo test` does not run it where there are no hosts); it learns where it is from
//! [`Hosts::inside`] and starts its nodes on the hosts with `TestCluster::on_hosts`, as child
//! processes in the hosts' namespaces (`ip netns exec`), dialled over the bridge.
//!
//! Where this machine cannot make hosts (not root, no `ip netns`, no PostgreSQL binaries) the
//! outer test says so loudly and passes, unless `RINGSHOP_REQUIRE_HOSTS=1` (CI) makes that a
//! failure.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use ringshop_node::Db;
use ringshop_shared::NodeId;

/// The variable that turns a skip into a failure.
pub const REQUIRE_VAR: &str = "RINGSHOP_REQUIRE_HOSTS";

/// Where the inner test finds its hosts: `PREFIX,NET,COUNT,STATE_DIR`.
const INSIDE_VAR: &str = "RINGSHOP_TEST_HOSTS";

/// The tests' hosts: their own prefix and network, apart from a user's `scripts/hosts.sh up`.
const PREFIX: &str = "rt";
const NET: &str = "10.78.0";

/// One set of hosts at a time (they share the prefix).
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// The hosts an inner test runs among.
#[derive(Clone, Debug)]
pub struct Hosts {
    prefix: String,
    net: String,
    count: usize,
    state: PathBuf,
}

impl Hosts {
    /// The hosts this (inner) test was started among by [`run_inside`].
    pub fn inside() -> Hosts {
        let spec = std::env::var(INSIDE_VAR).unwrap_or_else(|_| {
            panic!(
                "{INSIDE_VAR} is not set: this test is the inner half of a hosts test and runs \
                 only inside the hosts its outer test makes (run the outer test)"
            )
        });
        let parts: Vec<&str> = spec.splitn(4, ',').collect();
        let [prefix, net, count, state] = parts[..] else {
            panic!("{INSIDE_VAR}={spec:?} is not PREFIX,NET,COUNT,STATE");
        };
        Hosts {
            prefix: prefix.into(),
            net: net.into(),
            count: count.parse().expect("a host count"),
            state: state.into(),
        }
    }

    /// How many hosts there are (h1..hN).
    pub fn count(&self) -> usize {
        self.count
    }

    /// Host `i`'s address (1-based).
    pub fn ip(&self, host: usize) -> Ipv4Addr {
        format!("{}.{}", self.net, 10 + host)
            .parse()
            .expect("a host address")
    }

    /// Host `i`'s network namespace.
    pub fn namespace(&self, host: usize) -> String {
        format!("{}-h{host}", self.prefix)
    }

    /// The host node `name` runs on: nodes n1..nN on h1..hN, then round again.
    pub fn host_of(&self, name: &NodeId) -> usize {
        let n: usize = name
            .as_str()
            .trim_start_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or(1);
        (n.max(1) - 1) % self.count + 1
    }

    /// The database of the hosts' PostgreSQL server, in its own namespace.
    pub fn db(&self) -> Db {
        Db::postgres(format!("postgres://ringshop@{}.2:5432/ringshop", self.net))
    }

    /// Takes host `i`'s link down: it reaches no one and no one reaches it.
    pub fn partition(&self, host: usize) {
        self.script(&["partition", &format!("h{host}")]);
    }

    /// Brings host `i`'s link back up.
    pub fn heal(&self, host: usize) {
        self.script(&["heal", &format!("h{host}")]);
    }

    /// Cuts only the path between the client namespace (where the test runs) and host `i`:
    /// both still reach every other host.
    pub fn cut_client(&self, host: usize) {
        self.script(&["cut", "client", &format!("h{host}")]);
    }

    /// Restores the path `cut_client` cut.
    pub fn mend_client(&self, host: usize) {
        self.script(&["mend", "client", &format!("h{host}")]);
    }

    /// Cuts only the path between hosts `a` and `b`.
    pub fn cut(&self, a: usize, b: usize) {
        self.script(&["cut", &format!("h{a}"), &format!("h{b}")]);
    }

    /// Restores the path `cut` cut.
    pub fn mend(&self, a: usize, b: usize) {
        self.script(&["mend", &format!("h{a}"), &format!("h{b}")]);
    }

    fn script(&self, args: &[&str]) {
        let status = script_command(&self.state, args)
            .status()
            .expect("runs scripts/hosts.sh");
        assert!(status.success(), "scripts/hosts.sh {args:?}: {status}");
    }
}

/// `scripts/hosts.sh ARGS` for the tests' hosts kept in `state`.
fn script_command(state: &Path, args: &[&str]) -> Command {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/hosts.sh");
    let mut command = Command::new("bash");
    command
        .arg(script)
        .args(args)
        .env("RINGSHOP_HOSTS", state)
        .env("RINGSHOP_HOSTS_PREFIX", PREFIX)
        .env("RINGSHOP_HOSTS_NET", NET);
    command
}

/// Why this machine cannot make hosts, if it cannot.
fn missing() -> Option<String> {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Some("not root (network namespaces need it)".into());
    }
    let netns = Command::new("ip")
        .args(["netns", "list"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !netns {
        return Some("no `ip netns` (install iproute2)".into());
    }
    if ringshop_testpg::find_bin().is_none() {
        return Some("no PostgreSQL binaries (install postgresql)".into());
    }
    None
}

/// Brings `hosts` hosts up, runs the inner test `inner` of this test binary inside their client
/// namespace, and brings them down; fails when the inner test fails. Skipped (loudly) where the
/// machine cannot make hosts, unless `RINGSHOP_REQUIRE_HOSTS=1`.
pub fn run_inside(inner: &str, hosts: usize) {
    if let Some(why) = missing() {
        let line = format!("SKIPPED: the multi-host test {inner} needs hosts: {why}");
        if std::env::var(REQUIRE_VAR).is_ok_and(|v| v == "1") {
            panic!("{line}, and {REQUIRE_VAR}=1 makes that a failure");
        }
        eprintln!("{line}");
        return;
    }
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("a temporary folder");
    let state = dir.path().join("hosts");
    // Hosts a killed run left behind go first.
    let _ = script_command(&state, &["down"])
        .stderr(Stdio::null())
        .status();
    let _down = Down(state.clone());
    let up = script_command(&state, &["up", &hosts.to_string(), "--no-nodes"])
        .status()
        .expect("runs scripts/hosts.sh");
    assert!(up.success(), "scripts/hosts.sh up {hosts} --no-nodes: {up}");
    let exe = std::env::current_exe().expect("the test binary knows its path");
    let spec = format!("{PREFIX},{NET},{hosts},{}", state.display());
    let run = Command::new("ip")
        .args(["netns", "exec", &format!("{PREFIX}-client")])
        .arg(exe)
        .args([inner, "--exact", "--ignored", "--nocapture"])
        .env(INSIDE_VAR, spec)
        .stderr(Stdio::inherit())
        .output()
        .expect("runs the inner test");
    let stdout = String::from_utf8_lossy(&run.stdout);
    print!("{stdout}");
    assert!(
        run.status.success(),
        "the inner test {inner} failed ({})",
        run.status
    );
    // A name that matches no test runs nothing, and that passes.
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "the inner test {inner} did not run"
    );
}

/// Brings the hosts down when dropped.
struct Down(PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = script_command(&self.0, &["down"]).status();
    }
}
