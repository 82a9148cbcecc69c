//! `TestCluster`: N real ringshop nodes on 127.0.0.1 with port 0, sharing one fresh database
//! (a SQLite file in a temporary folder, or with `over_postgres` a fresh database on the test
//! binary's throwaway PostgreSQL server), either in this process (`ringshop_node::serve`) or as
//! child processes of the built `ringshop-node` binary; in the clear, or (`with_tls`) with
//! mutual TLS on certificates made in that folder by `ringshop_node::certs`, as
//! `ringshop-node certs` makes them. Every end-to-end test starts its nodes here
//! and nowhere else; dropping the cluster stops them all (children are killed, paused ones
//! too, so a failing test leaves nothing behind) and removes the database.
//!
//! [`chaos`] runs a nemesis schedule against child-process nodes under load and checks the
//! history it records.

pub mod chaos;
pub mod hosts;
pub mod layers;
pub mod shop;
pub mod sim;
pub mod tls;
mod waits;

pub use shop::{buy_one_each, follow, follow_until, new_order, paying, product};
pub use waits::{Asked, until_fenced, until_served, within};
mod process;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use ringshop_node::shop::checkout::Payment;
use ringshop_node::{Config, Db, NodeHandle, Store, serve};
use ringshop_shared::NodeId;
use ringshop_shared::transport::Role;
use ringshop_tui::{Cluster, ClusterConfig};
use tempfile::TempDir;

use process::{Launch, START_TIMEOUT, signal, spawn_process};
pub use process::{main_binary, node_binary};

pub struct TestNode {
    pub name: NodeId,
    pub addr: SocketAddr,
    run: Run,
    /// Stopped by SIGSTOP and not yet continued.
    paused: bool,
}

enum Run {
    InProcess(Option<NodeHandle>),
    Process(Child),
    Stopped,
}

pub struct TestCluster {
    nodes: Vec<TestNode>,
    ttl: Duration,
    /// Where the nodes keep their state: `dir/cluster.db`, or a PostgreSQL database.
    database: Db,
    dir: TempDir,
    catalog: Option<PathBuf>,
    payment: Payment,
    /// The folder of the cluster's CA and certificates, once `with_tls` made it.
    certs: Option<PathBuf>,
    /// The PostgreSQL database `database` names, dropped after the nodes are gone.
    _postgres: Option<ringshop_testpg::TestDb>,
    /// Where child-process nodes run (`on_hosts`): each in its host's network namespace, on
    /// its host's address. None: on 127.0.0.1 here.
    hosts: Option<hosts::Hosts>,
    /// More flags for some child-process nodes, by name.
    node_flags: Vec<(NodeId, Vec<String>)>,
    /// Child-process nodes that log to a file in `dir` (`with_node_log`), with this filter.
    node_logs: Vec<(NodeId, String)>,
    /// The small disk the store lives on (`on_small_disk`), which a test may fill.
    disk: Option<ringshop_testpg::SmallDisk>,
}

pub use tls::CLIENT_CERT;

/// `n1`, `n2`, ...
pub fn name(i: usize) -> NodeId {
    NodeId::new(format!("n{i}")).expect("n<digits> is a valid name")
}

impl TestCluster {
    /// `size` nodes served by this process.
    pub async fn in_process(size: usize, ttl: Duration) -> TestCluster {
        let mut cluster = TestCluster::empty(ttl);
        for i in 1..=size {
            cluster.add_in_process(name(i)).await;
        }
        cluster
    }

    /// `size` nodes, each its own OS process of the built binary.
    pub fn processes(size: usize, ttl: Duration) -> TestCluster {
        let mut cluster = TestCluster::empty(ttl);
        for i in 1..=size {
            cluster.add_process(name(i));
        }
        cluster
    }

    /// No nodes yet, a fresh database.
    pub fn empty(ttl: Duration) -> TestCluster {
        let dir = tempfile::tempdir().expect("a temporary folder");
        TestCluster {
            nodes: Vec::new(),
            ttl,
            database: Db::Sqlite(dir.path().join("cluster.db")),
            dir,
            catalog: None,
            payment: Payment::default(),
            certs: None,
            _postgres: None,
            hosts: None,
            node_flags: Vec::new(),
            node_logs: Vec::new(),
            disk: None,
        }
    }

    /// This (still empty) cluster on a fresh database of the test binary's throwaway
    /// PostgreSQL server; None when the test is skipped (it printed why: no PostgreSQL
    /// binaries, and `RINGSHOP_REQUIRE_PG` is not 1).
    pub fn over_postgres(self, label: &str) -> Option<TestCluster> {
        let db = ringshop_testpg::database(label)?;
        let mut cluster = self.with_database(Db::postgres(db.url.clone()));
        cluster._postgres = Some(db);
        Some(cluster)
    }

    /// This (still empty) cluster with its SQLite store on `disk`, which `fill_disk` fills.
    pub fn on_small_disk(self, disk: ringshop_testpg::SmallDisk) -> TestCluster {
        let db = Db::Sqlite(disk.path().join("cluster.db"));
        let mut cluster = self.with_database(db);
        cluster.disk = Some(disk);
        cluster
    }

    /// Fills the store's small disk to the last byte.
    pub fn fill_disk(&self) {
        self.small_disk().fill();
    }

    /// Gives the store's disk its space back.
    pub fn free_disk(&self) {
        self.small_disk().free();
    }

    fn small_disk(&self) -> &ringshop_testpg::SmallDisk {
        self.disk
            .as_ref()
            .expect("this cluster's store is not on a small disk (on_small_disk)")
    }

    /// Cuts only the path between this test's mains and `name`'s host (test hosts).
    pub fn cut_client(&self, name: &NodeId) {
        let hosts = self.hosts();
        hosts.cut_client(hosts.host_of(name));
    }

    /// Restores what `cut_client` cut.
    pub fn mend_client(&self, name: &NodeId) {
        let hosts = self.hosts();
        hosts.mend_client(hosts.host_of(name));
    }

    /// Child-process node `name` is started (and restarted) with these flags too.
    pub fn with_node_flags(mut self, name: NodeId, flags: &[&str]) -> TestCluster {
        self.node_flags.retain(|(n, _)| *n != name);
        self.node_flags
            .push((name, flags.iter().map(|f| f.to_string()).collect()));
        self
    }

    /// This (still empty) cluster on `database` (e.g. a PostgreSQL server the test runs).
    pub fn with_database(mut self, database: Db) -> TestCluster {
        assert!(
            self.nodes.is_empty(),
            "choose the database before starting nodes"
        );
        self.database = database;
        self
    }

    /// This (still empty) cluster on `hosts` (an inner hosts test): child-process nodes run in
    /// their host's namespace on its address (node nK on host K, round again past the last),
    /// over the hosts' PostgreSQL server, with mutual TLS.
    pub fn on_hosts(self, hosts: hosts::Hosts) -> TestCluster {
        let db = hosts.db();
        let mut cluster = self.with_database(db).with_tls();
        cluster.hosts = Some(hosts);
        cluster
    }

    /// The hosts this cluster's nodes run on (`on_hosts`).
    pub fn hosts(&self) -> &hosts::Hosts {
        self.hosts.as_ref().expect("a cluster made `on_hosts`")
    }

    /// Takes the link of `name`'s host down (every node on that host is cut off).
    pub fn partition(&self, name: &NodeId) {
        let hosts = self.hosts();
        hosts.partition(hosts.host_of(name));
    }

    /// The running nodes on `name`'s host (`name` among them); just `name` off hosts.
    pub fn on_same_host(&mut self, name: &NodeId) -> Vec<NodeId> {
        let Some(hosts) = self.hosts.clone() else {
            return vec![name.clone()];
        };
        let host = hosts.host_of(name);
        self.running()
            .into_iter()
            .filter(|n| hosts.host_of(n) == host)
            .collect()
    }

    /// Brings the link of `name`'s host back up.
    pub fn heal(&self, name: &NodeId) {
        let hosts = self.hosts();
        hosts.heal(hosts.host_of(name));
    }

    /// No nodes yet; the nodes started from here on sell `catalog` (CSV lines) and pay with
    /// `payment`.
    pub fn shop(ttl: Duration, catalog: &str, payment: Payment) -> TestCluster {
        let mut cluster = TestCluster::empty(ttl);
        let path = cluster.dir.path().join("catalog.csv");
        std::fs::write(&path, catalog).expect("writes the catalog");
        cluster.catalog = Some(path);
        cluster.payment = payment;
        cluster
    }

    /// The SQLite file every node of this cluster shares (for tests that break it from
    /// outside); a cluster over PostgreSQL has none.
    pub fn db(&self) -> PathBuf {
        match self.database.path() {
            Some(path) => path.to_path_buf(),
            None => panic!(
                "this cluster is on PostgreSQL ({}), not a file",
                self.database
            ),
        }
    }

    /// The database every node of this cluster shares, file or PostgreSQL.
    pub fn database(&self) -> &Db {
        &self.database
    }

    /// A store on the cluster's database, as another node would open it.
    pub async fn store(&self) -> std::sync::Arc<dyn Store> {
        ringshop_node::store::open(&self.database)
            .await
            .expect("opens the cluster's store")
    }

    /// Starts one more in-process node; its address.
    pub async fn add_in_process(&mut self, name: NodeId) -> SocketAddr {
        self.add_in_process_with(name, |config| config).await
    }

    /// Starts one more in-process node with its configuration changed by `change` (another
    /// `--advertise`, say); the address it listens on.
    pub async fn add_in_process_with(
        &mut self,
        name: NodeId,
        change: impl FnOnce(Config) -> Config,
    ) -> SocketAddr {
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let handle = start_in_process(change(self.config(name.clone(), listen))).await;
        self.put_in_process(name, handle)
    }

    /// Keeps `handle` as the in-process node `name`; its address.
    fn put_in_process(&mut self, name: NodeId, handle: NodeHandle) -> SocketAddr {
        let addr = handle.addr();
        self.nodes.retain(|n| n.name != name);
        self.nodes.push(TestNode {
            name,
            addr,
            run: Run::InProcess(Some(handle)),
            paused: false,
        });
        addr
    }

    /// Starts one more in-process node on the cluster's store as `wrap` wraps it (a
    /// `FaultyStore`, say); its address.
    pub async fn add_in_process_on(
        &mut self,
        name: NodeId,
        wrap: impl FnOnce(std::sync::Arc<dyn Store>) -> std::sync::Arc<dyn Store>,
    ) -> SocketAddr {
        let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let config = self.config(name.clone(), listen);
        let store = wrap(self.store().await);
        let handle = ringshop_node::serve_with_store(config, store)
            .await
            .expect("an in-process node starts");
        self.put_in_process(name, handle)
    }

    /// Starts one more node as a child process; its address.
    pub fn add_process(&mut self, name: NodeId) -> SocketAddr {
        let node = self
            .try_spawn(&name, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .unwrap_or_else(|why| panic!("node {name} did not start: {why}"));
        self.put(node)
    }

    /// Starts a stopped (killed, left, or self-stopped) child-process node again: a new process
    /// with the same `--name` on the same database, on a new port. The store refuses the name
    /// while its old row still looks alive, so this tries again every 200 ms, for at most
    /// `START_TIMEOUT`. Blocks the thread while it waits.
    pub fn restart_process(&mut self, name: &NodeId) -> SocketAddr {
        self.respawn(name, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
    }

    /// `restart_process`, but on the node's old address, as a service manager restarts a
    /// node: a new incarnation answers where the old one did.
    pub fn restart_process_in_place(&mut self, name: &NodeId) -> SocketAddr {
        let addr = self.node(name).addr;
        self.respawn(name, addr)
    }

    fn respawn(&mut self, name: &NodeId, listen: SocketAddr) -> SocketAddr {
        assert!(
            !self.is_running(name),
            "{name} is still running; kill it or let it leave first"
        );
        let deadline = std::time::Instant::now() + START_TIMEOUT;
        loop {
            match self.try_spawn(name, listen) {
                Ok(node) => return self.put(node),
                Err(why) if std::time::Instant::now() >= deadline => {
                    panic!("{name} did not restart within {START_TIMEOUT:?}: {why}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Freezes a child-process node (SIGSTOP): it neither answers nor heartbeats, but keeps its
    /// sockets and its memory, as a long GC pause or a stalled VM would.
    pub fn pause(&mut self, name: &NodeId) {
        let node = self.node_mut(name);
        let Run::Process(child) = &node.run else {
            panic!("{name} is not a running child process");
        };
        signal(child.id(), "-STOP");
        node.paused = true;
    }

    /// Lets a paused node run on (SIGCONT).
    pub fn resume(&mut self, name: &NodeId) {
        let node = self.node_mut(name);
        if let Run::Process(child) = &node.run {
            signal(child.id(), "-CONT");
        }
        node.paused = false;
    }

    /// Whether `name` is running now: started, not stopped by this cluster, and (for a child
    /// process) not exited by itself. A paused node is running.
    pub fn is_running(&mut self, name: &NodeId) -> bool {
        self.nodes
            .iter_mut()
            .find(|n| &n.name == name)
            .is_some_and(TestNode::is_running)
    }

    /// The running nodes, oldest start first.
    pub fn running(&mut self) -> Vec<NodeId> {
        self.nodes
            .iter_mut()
            .filter_map(|n| n.is_running().then(|| n.name.clone()))
            .collect()
    }

    /// Every node this cluster has started, running or not, oldest start first.
    pub fn names(&self) -> Vec<NodeId> {
        self.nodes.iter().map(|n| n.name.clone()).collect()
    }

    fn try_spawn(&self, name: &NodeId, mut listen: SocketAddr) -> Result<TestNode, String> {
        let mut namespace = None;
        if let Some(hosts) = &self.hosts {
            let host = hosts.host_of(name);
            if listen.ip().is_loopback() {
                listen.set_ip(hosts.ip(host).into());
            }
            namespace = Some(hosts.namespace(host));
        }
        if self.certs.is_some() {
            self.node_cert(name, listen.ip());
        }
        let launch = Launch {
            ttl: self.ttl,
            db: &self.database,
            catalog: self.catalog.as_deref(),
            payment: &self.payment,
            certs: self.certs.as_deref(),
            namespace,
            extra: self
                .node_flags
                .iter()
                .find(|(n, _)| n == name)
                .map_or(&[], |(_, flags)| flags.as_slice()),
            log: self.node_log_of(name),
        };
        spawn_process(name.clone(), listen, &launch)
    }

    fn put(&mut self, node: TestNode) -> SocketAddr {
        let addr = node.addr;
        self.nodes.retain(|n| n.name != node.name);
        self.nodes.push(node);
        addr
    }

    /// The process id of child-process node `name` (to read its memory in /proc, say).
    pub fn pid(&self, name: &NodeId) -> u32 {
        match &self.node(name).run {
            Run::Process(child) => child.id(),
            _ => panic!("{name} is not a running child process"),
        }
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

    /// A client of every node, probing down members every 100 ms (with the client
    /// certificate under TLS).
    pub async fn client(&self) -> Cluster {
        let config = ClusterConfig {
            security: self.security(),
            ..test_config()
        };
        Cluster::connect(&self.addrs(), config)
            .await
            .expect("the test cluster answers")
    }

    /// Each running node's membership as it reads it from the store now, asked over a
    /// connection of its own (with the client certificate under TLS).
    pub async fn listings(&self) -> Vec<ringshop_shared::Membership> {
        use ringshop_shared::transport;
        let mut listings = Vec::new();
        for addr in self.addrs() {
            let node = transport::connect_shard(addr, Duration::from_secs(2), &self.security())
                .await
                .expect("connects");
            let listing = node
                .members(transport::context(Duration::from_secs(2)))
                .await
                .expect("answers")
                .expect("lists");
            listings.push(listing);
        }
        listings
    }

    /// Stops a node abruptly, without leaving: SIGKILL for a process; for an in-process node,
    /// everything it runs is cancelled and its connections closed.
    pub async fn kill(&mut self, name: &NodeId) {
        match std::mem::replace(&mut self.node_mut(name).run, Run::Stopped) {
            Run::InProcess(Some(handle)) => handle.kill().await,
            Run::Process(mut child) => {
                // SIGKILL ends a stopped process too.
                let _ = child.kill();
                let _ = child.wait();
            }
            Run::InProcess(None) | Run::Stopped => {}
        }
        self.node_mut(name).paused = false;
    }

    /// Stops a node gracefully: it leaves (out of the ring, entries handed over). SIGTERM
    /// for a process (waited for, at most 10 s).
    pub async fn leave(&mut self, name: &NodeId) {
        if self.node(name).paused {
            self.resume(name);
        }
        match std::mem::replace(&mut self.node_mut(name).run, Run::Stopped) {
            Run::InProcess(Some(handle)) => handle.shutdown().await,
            Run::Process(mut child) => {
                let pid = child.id().to_string();
                let _ = Command::new("kill").args(["-TERM", &pid]).status();
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                while child.try_wait().ok().flatten().is_none()
                    && std::time::Instant::now() < deadline
                {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                let _ = child.kill();
                let _ = child.wait();
            }
            Run::InProcess(None) | Run::Stopped => {}
        }
    }

    /// Starts a stopped in-process node again on its old address, as a restart would.
    pub async fn restart_in_process(&mut self, name: &NodeId) {
        let addr = self.node(name).addr;
        let handle = start_in_process(self.config(name.clone(), addr)).await;
        self.node_mut(name).run = Run::InProcess(Some(handle));
    }

    /// The in-process handle of a running node.
    pub fn handle(&self, name: &NodeId) -> &NodeHandle {
        match &self.node(name).run {
            Run::InProcess(Some(handle)) => handle,
            _ => panic!("{name} is not a running in-process node"),
        }
    }

    /// The stock books of every product, by product id, read from the cluster's database.
    pub async fn audit(&self) -> std::collections::BTreeMap<String, ringshop_node::store::Audit> {
        self.store()
            .await
            .audit()
            .await
            .expect("audits")
            .into_iter()
            .map(|a| (a.product.to_string(), a))
            .collect()
    }

    /// Runs SQL on the cluster's database from outside the nodes, as a fault would strike it.
    pub async fn sql(&self, statement: &str) {
        use sqlx::ConnectOptions;
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(self.db())
            .busy_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connects to the database");
        sqlx::raw_sql(statement)
            .execute(&mut conn)
            .await
            .expect("the statement runs");
    }

    fn config(&self, name: NodeId, listen: SocketAddr) -> Config {
        let mut config = Config::new(name.clone(), listen)
            .with_ttl(self.ttl)
            .with_db(self.database.clone())
            .with_payment(self.payment.clone());
        if let Some(catalog) = &self.catalog {
            config = config.with_catalog(catalog);
        }
        if self.certs.is_some() {
            self.node_cert(&name, listen.ip());
            config = config.with_security(self.identity(Role::Node, name.as_str()));
        }
        config
    }

    fn node_mut(&mut self, name: &NodeId) -> &mut TestNode {
        self.nodes
            .iter_mut()
            .find(|n| &n.name == name)
            .unwrap_or_else(|| panic!("no node {name}"))
    }
}

impl TestNode {
    fn is_running(&mut self) -> bool {
        match &mut self.run {
            Run::InProcess(handle) => handle.is_some(),
            Run::Process(child) => matches!(child.try_wait(), Ok(None)),
            Run::Stopped => false,
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Run::Process(child) = &mut node.run {
                if node.paused {
                    signal(child.id(), "-CONT");
                }
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

async fn start_in_process(config: Config) -> NodeHandle {
    serve(config).await.expect("an in-process node starts")
}

/// Every reachable member's counters (a member that does not answer fails the test).
pub async fn node_stats(client: &Cluster) -> Vec<(NodeId, ringshop_shared::NodeStats)> {
    client
        .stats()
        .await
        .into_iter()
        .map(|(n, s)| {
            let s = s.unwrap_or_else(|e| panic!("{n} gave no stats: {e}"));
            (n, s)
        })
        .collect()
}

/// One counter summed over every reachable member.
pub async fn total(client: &Cluster, counter: impl Fn(&ringshop_shared::NodeStats) -> u64) -> u64 {
    node_stats(client)
        .await
        .iter()
        .map(|(_, s)| counter(s))
        .sum()
}

/// The runtime the benches of this crate run on: two workers, as this machine has cores.
pub fn bench_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}
