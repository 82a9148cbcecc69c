//! The chaos suite: real node processes on 127.0.0.1 (port 0), a nemesis that joins, leaves,
//! SIGKILLs, restarts and SIGSTOPs/SIGCONTs them on a schedule, bounded load through the
//! `Cluster` client meanwhile (following mains; slow mains that do not follow the membership,
//! asking for the ids the next fault will move; a fresh main on each node that joins), and a
//! checker of what the load saw.
//!
//! A run records a [`History`] (every value call with its wall-clock start and end and what it
//! answered, every nemesis event, every acknowledged order), then checks four properties:
//! (a) no call failed; (b) no id was answered with an older generation after a newer one
//! existed (two live generations); (c) a node SIGCONTed after being declared dead answered no
//! generation from before its SIGSTOP; (d) at quiesce the store's books balance and every
//! acknowledged order finished. The [`Report`] holds counts, examples and a per-event table.
//!
//! Everything is bounded: each call has a limit, each step a time, the load a stop, the
//! settling a deadline; dropping the `TestCluster` kills every node (paused ones too).

pub mod books;
pub mod check;
pub mod history;
pub mod load;
pub mod nemesis;
pub mod report;
pub mod table;
pub mod targets;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{MemberStatus, NodeId, ProductId};
use ringshop_tui::{Cluster, ClusterConfig};

use crate::{TestCluster, name, test_config};

pub use self::history::History;
pub use self::load::LoadConfig;
pub use self::nemesis::{Fault, Step};
pub use self::report::Report;
pub use self::targets::Targets;

/// One scarce product (so some buyers meet "out of stock") and two plentiful ones.
pub const CATALOG: &str = "\
lamp,Desk lamp,home,4500,40
mug,Mug,tea,1200,100000
teapot,Teapot,tea,3900,100000
";

/// The nodes' membership poll period (their default), over which the first nodes' starts are
/// spread.
const POLL_PERIOD_MS: u64 = 100;

/// What one run does.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Nodes started before the load (named n1..); joins top the cluster up to this.
    pub nodes: usize,
    pub ttl: Duration,
    pub catalog: String,
    pub payment: Payment,
    pub load: LoadConfig,
    /// Load before the first step.
    pub warmup: Duration,
    pub steps: Vec<Step>,
    /// Repeat the steps until this long has passed (None: once).
    pub repeat_for: Option<Duration>,
    /// Load after the last step.
    pub cooldown: Duration,
    /// How long the members may take to settle after the load stops.
    pub settle_limit: Duration,
    /// How long open orders may take to finish after that.
    pub books_limit: Duration,
}

impl Settings {
    /// The suite's short run (about 30 s): 4 nodes, a TTL of 5 s (so generations live across
    /// events 4 s apart), join, leave, SIGKILL, restart, then SIGSTOP for 3 s (past the 2 s
    /// suspicion) and SIGCONT.
    pub fn short() -> Settings {
        Settings {
            nodes: 4,
            ttl: Duration::from_secs(5),
            catalog: CATALOG.into(),
            payment: Payment {
                delay: Duration::from_millis(50),
                failure_rate: 0.1,
            },
            load: LoadConfig {
                clients: 4,
                workers: 16,
                slow_mains: 4,
                slow_workers: 8,
                fresh_workers: 4,
                fresh_for: Duration::from_secs(2),
                ids: 1_000,
                hot: 2,
                think: Duration::from_millis(1),
                buyers: 4,
                products: ["lamp", "mug", "teapot"]
                    .into_iter()
                    .map(|p| ProductId::new(p).expect("a valid product id"))
                    .collect(),
                call_limit: Duration::from_secs(15),
                deadline: None,
                follow_limit: Duration::from_secs(20),
            },
            warmup: Duration::from_secs(2),
            steps: nemesis::one_of_each(Duration::from_secs(4), Duration::from_secs(3)),
            repeat_for: None,
            cooldown: Duration::from_secs(3),
            settle_limit: Duration::from_secs(10),
            books_limit: Duration::from_secs(20),
        }
    }

    /// The short run's schedule, repeated for `length`.
    pub fn repeated(length: Duration) -> Settings {
        Settings {
            repeat_for: Some(length),
            ..Settings::short()
        }
    }
}

/// What a run recorded and what the checker made of it.
pub struct Outcome {
    pub history: History,
    pub report: Report,
}

/// Runs `settings` on a fresh cluster of child processes and checks the history. Needs the
/// multi-threaded runtime (starting a node blocks its thread until the node prints its address).
pub async fn run(settings: &Settings) -> Outcome {
    run_on(settings.cluster(), settings).await
}

impl Settings {
    /// The empty cluster a run starts its nodes in: the settings' catalog and payment, on a
    /// fresh SQLite file (`over_postgres` moves it to PostgreSQL).
    pub fn cluster(&self) -> TestCluster {
        TestCluster::shop(self.ttl, &self.catalog, self.payment.clone())
    }
}

/// `run` on `cluster`, which has no nodes yet (e.g. one over PostgreSQL).
pub async fn run_on(mut cluster: TestCluster, settings: &Settings) -> Outcome {
    tokio::task::block_in_place(|| {
        for i in 1..=settings.nodes {
            // Started back to back, the nodes would poll the membership in lock-step, a few
            // ms apart, and learn every change almost together; real nodes start at unrelated
            // moments, so their polls fall anywhere in the period.
            std::thread::sleep(Duration::from_millis(fastrand::u64(..POLL_PERIOD_MS)));
            cluster.add_process(name(i));
        }
    });
    let deadline = settings.load.deadline.unwrap_or(test_config().deadline);
    let config = ClusterConfig {
        // A buyer's watch of an order on a frozen node gives up (and fails over) sooner.
        watch_for: Duration::from_secs(2),
        security: cluster.security(),
        deadline,
        ..test_config()
    };
    let mut clients = Vec::new();
    for _ in 0..settings.load.clients.max(1) {
        let client = Cluster::connect(&cluster.addrs(), config.clone())
            .await
            .expect("the chaos cluster answers");
        clients.push(client);
    }
    // Slow mains learn a change only from a `Moved` or an owner they cannot reach.
    let slow_config = ClusterConfig {
        follow_membership: false,
        security: cluster.security(),
        deadline,
        ..test_config()
    };
    let mut slow = Vec::new();
    for _ in 0..settings.load.slow_mains {
        let client = Cluster::connect(&cluster.addrs(), slow_config.clone())
            .await
            .expect("the chaos cluster answers");
        slow.push(client);
    }
    let client = clients[0].clone();
    let targets = Targets::new(settings.load.ids, settings.load.hot);
    let mut history = History::new(SystemTime::now());
    let load = load::Load::start(&clients, &slow, &targets, &settings.load, config);
    tokio::time::sleep(settings.warmup).await;
    let mut nemesis = nemesis::Nemesis::new(
        &mut cluster,
        client.clone(),
        settings.nodes,
        targets,
        load.fresh_mains(),
    );
    nemesis.run(&settings.steps, settings.repeat_for).await;
    history.events = std::mem::take(&mut nemesis.events);
    tokio::time::sleep(settings.cooldown).await;
    load.stop(&mut history).await;
    settle(&mut cluster, &client, settings.settle_limit).await;
    let books = books::read(
        cluster.database(),
        &history.acknowledged,
        settings.books_limit,
    )
    .await;
    let report = Report::new(&history, settings.ttl, books);
    Outcome { history, report }
}

/// Waits (bounded) until the client's active members are exactly the running processes.
async fn settle(cluster: &mut TestCluster, client: &Cluster, limit: Duration) {
    let started = Instant::now();
    loop {
        let running: BTreeSet<NodeId> = cluster.running().into_iter().collect();
        let active: BTreeSet<NodeId> = client
            .members()
            .into_iter()
            .filter(|m| m.status == MemberStatus::Active)
            .map(|m| m.name)
            .collect();
        if running == active {
            return;
        }
        if started.elapsed() > limit {
            eprintln!(
                "chaos: members did not settle within {limit:?}: running {running:?}, active {active:?}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
