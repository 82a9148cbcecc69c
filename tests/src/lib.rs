//! `TestCluster`: N real ringshop nodes on 127.0.0.1 with port 0, either in this process
//! (`ringshop_node::serve`) or as child processes of the built `ringshop-node` binary. Every
//! end-to-end test starts its nodes here and nowhere else; dropping the cluster stops them all
//! (children are killed, so a failing test leaves nothing behind).

use std::io::{BufRead, BufReader};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ringshop_node::{Config, NodeHandle, serve};
use ringshop_shared::NodeId;
use ringshop_tui::{Cluster, ClusterConfig};

/// How long a child node may take to print its address.
const START_TIMEOUT: Duration = Duration::from_secs(20);

pub struct TestNode {
    pub name: NodeId,
    pub addr: SocketAddr,
    run: Run,
}

enum Run {
    InProcess(Option<NodeHandle>),
    Process(Child),
    Stopped,
}

pub struct TestCluster {
    nodes: Vec<TestNode>,
}

/// `n1`, `n2`, ...
pub fn name(i: usize) -> NodeId {
    NodeId::new(format!("n{i}")).expect("n<digits> is a valid name")
}

impl TestCluster {
    /// `size` nodes served by this process.
    pub async fn in_process(size: usize, ttl: Duration) -> TestCluster {
        let mut nodes = Vec::new();
        for i in 1..=size {
            let handle =
                start_in_process(name(i), ttl, SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await;
            nodes.push(TestNode {
                name: name(i),
                addr: handle.addr(),
                run: Run::InProcess(Some(handle)),
            });
        }
        TestCluster { nodes }
    }

    /// `size` nodes, each its own OS process of the built binary.
    pub fn processes(size: usize, ttl: Duration) -> TestCluster {
        let nodes = (1..=size).map(|i| spawn_process(name(i), ttl)).collect();
        TestCluster { nodes }
    }

    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(|n| n.addr).collect()
    }

    pub fn node(&self, name: &NodeId) -> &TestNode {
        self.nodes
            .iter()
            .find(|n| &n.name == name)
            .unwrap_or_else(|| panic!("no node {name} in this test cluster"))
    }

    /// A client of every node, probing down members every 100 ms.
    pub async fn client(&self) -> Cluster {
        Cluster::connect(&self.addrs(), test_config())
            .await
            .expect("the test cluster answers")
    }

    /// Stops a node abruptly: SIGKILL for a process; for an in-process node, everything it
    /// runs is cancelled and its connections closed.
    pub async fn kill(&mut self, name: &NodeId) {
        let node = self
            .nodes
            .iter_mut()
            .find(|n| &n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"));
        match std::mem::replace(&mut node.run, Run::Stopped) {
            Run::InProcess(Some(handle)) => handle.shutdown().await,
            Run::Process(mut child) => {
                let _ = child.kill();
                let _ = child.wait();
            }
            Run::InProcess(None) | Run::Stopped => {}
        }
    }

    /// Starts a stopped in-process node again on its old address, as a restart would.
    pub async fn restart_in_process(&mut self, name: &NodeId, ttl: Duration) {
        let node = self
            .nodes
            .iter_mut()
            .find(|n| &n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"));
        let handle = start_in_process(name.clone(), ttl, node.addr).await;
        node.run = Run::InProcess(Some(handle));
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Run::Process(child) = &mut node.run {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The client configuration tests use: the defaults, with a quicker probe.
pub fn test_config() -> ClusterConfig {
    ClusterConfig {
        probe_every: Duration::from_millis(100),
        ..ClusterConfig::default()
    }
}

async fn start_in_process(name: NodeId, ttl: Duration, listen: SocketAddr) -> NodeHandle {
    serve(Config::new(name, listen).with_ttl(ttl))
        .await
        .expect("an in-process node starts")
}

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

fn spawn_process(name: NodeId, ttl: Duration) -> TestNode {
    let mut child = Command::new(node_binary())
        .args(["--name", name.as_str(), "--listen", "127.0.0.1:0"])
        .args(["--ttl", &format!("{}ms", ttl.as_millis())])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the node binary starts");
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            panic!("node {name} printed no address within {START_TIMEOUT:?}");
        }
    };
    // "ringshop-node n1 listening on 127.0.0.1:PORT"
    let addr = line
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("node {name} printed {line:?}, not its address"));
    TestNode {
        name,
        addr,
        run: Run::Process(child),
    }
}
