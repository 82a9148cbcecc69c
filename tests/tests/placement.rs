//! Placement is a pure function of (members, id): every client, and every node process, places
//! every id the same way, and each id is served by the owner the ring names.

use std::time::Duration;

use ringshop_node::store::Roster;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, Security};
use ringshop_shared::{
    Handed, Membership, NewOrder, NodeId, Order, OrderId, Product, ProductId, Progress, Quote,
    Served, ShardError,
};
use ringshop_tests::TestCluster;
use tarpc::context::Context;

const IDS: u64 = 10_000;

fn owners(ring: &ringshop_shared::Ring) -> Vec<NodeId> {
    (0..IDS)
        .map(|id| ring.owner(&id).cloned().expect("ring has members"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_independent_clients_place_ten_thousand_ids_identically() {
    let cluster = TestCluster::in_process(3, Duration::from_secs(5)).await;
    let a = cluster.client().await;
    let mut reversed = cluster.addrs();
    reversed.reverse();
    let b = ringshop_tui::Cluster::connect(&reversed, ringshop_tests::test_config())
        .await
        .expect("connects");
    let (pa, pb) = (owners(&a.ring()), owners(&b.ring()));
    assert_eq!(pa, pb);
    for node in ["n1", "n2", "n3"] {
        let share = pa.iter().filter(|n| n.as_str() == node).count();
        assert!(share > 2_000, "{node} owns only {share} of {IDS}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_in_another_process_places_ids_as_the_clients_do() {
    let cluster = TestCluster::processes(3, Duration::from_secs(5));
    let client = cluster.client().await;
    let ring = client.ring();
    let members: Vec<NodeId> = ring.members().cloned().collect();
    let ids: Vec<u64> = (0..IDS).collect();
    for addr in cluster.addrs() {
        let node = transport::connect_shard(addr, DEFAULT_CONNECT_TIMEOUT, &Security::Plain)
            .await
            .expect("connects");
        let theirs = node
            .placement(
                transport::context(Duration::from_secs(5)),
                members.clone(),
                ring.vnodes(),
                ids.clone(),
            )
            .await
            .expect("answers")
            .expect("a valid question");
        assert_eq!(theirs, owners(&ring), "node at {addr} disagrees");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_id_is_served_by_the_owner_the_ring_names() {
    let cluster = TestCluster::processes(3, Duration::from_secs(5));
    let client = cluster.client().await;
    let ring = client.ring();
    for id in (0..IDS).step_by(37) {
        let answer = client.request(id).await.expect("answered");
        let owner = ring.owner(&id).expect("ring has members");
        assert_eq!(&answer.report.node, owner, "id {id}");
        assert_eq!(&answer.value.node, owner, "id {id}: the node names itself");
        assert_eq!(answer.report.addr, cluster.node(owner).addr);
        assert!(!answer.report.failed_over());
    }
}

/// A node of "another release": a real member of the store that answers like a node but
/// places every id on itself.
#[derive(Clone)]
struct Contrarian {
    info: ringshop_shared::NodeInfo,
    store: std::sync::Arc<ringshop_node::SqliteStore>,
}

fn not_used<T>() -> Result<T, ShardError> {
    Err(ShardError::Invalid {
        what: "not used by this test".into(),
    })
}

impl ringshop_shared::Shard for Contrarian {
    async fn ping(self, _: Context) -> ringshop_shared::NodeInfo {
        self.info
    }
    async fn request(
        self,
        _: Context,
        _: u64,
        _: u64,
    ) -> Result<ringshop_shared::Cached, ShardError> {
        not_used()
    }
    async fn stats(self, _: Context) -> ringshop_shared::NodeStats {
        ringshop_shared::NodeStats::default()
    }
    async fn placement(
        self,
        _: Context,
        _: Vec<NodeId>,
        _: u32,
        ids: Vec<u64>,
    ) -> Result<Vec<NodeId>, ShardError> {
        Ok(vec![self.info.name.clone(); ids.len()])
    }
    async fn members(self, _: Context) -> Result<Membership, ShardError> {
        self.store
            .membership()
            .await
            .map_err(|e| ShardError::Invalid {
                what: e.to_string(),
            })
    }
    async fn watch_members(self, _: Context, _: u64) -> Result<Membership, ShardError> {
        not_used()
    }
    async fn suspect(self, _: Context, _: NodeId) -> Result<bool, ShardError> {
        not_used()
    }
    async fn probe(self, _: Context, _: NodeId) -> Result<bool, ShardError> {
        not_used()
    }
    async fn adopt(
        self,
        _: Context,
        _: Vec<Handed>,
        _: u64,
        _: NodeId,
        _: u64,
    ) -> Result<u32, ShardError> {
        not_used()
    }
    async fn catalog(self, _: Context) -> Result<Vec<Product>, ShardError> {
        not_used()
    }
    async fn quote(self, _: Context, _: ProductId, _: u64) -> Result<Served<Quote>, ShardError> {
        not_used()
    }
    async fn quotes(
        self,
        _: Context,
        _: Vec<ProductId>,
        _: u64,
    ) -> Result<Vec<Result<Served<Quote>, ShardError>>, ShardError> {
        not_used()
    }
    async fn reserve(
        self,
        _: Context,
        _: OrderId,
        _: ProductId,
        _: u32,
        _: u64,
    ) -> Result<ringshop_shared::Reservation, ShardError> {
        not_used()
    }
    async fn checkout(self, _: Context, _: NewOrder, _: u64) -> Result<Order, ShardError> {
        not_used()
    }
    async fn order(self, _: Context, _: OrderId) -> Result<Order, ShardError> {
        not_used()
    }
    async fn watch_order(
        self,
        _: Context,
        _: OrderId,
        _: Progress,
        _: u64,
    ) -> Result<Order, ShardError> {
        not_used()
    }
    async fn orders(self, _: Context, _: Option<String>) -> Result<Vec<Order>, ShardError> {
        not_used()
    }
    async fn find_orders(
        self,
        _: Context,
        _: ringshop_shared::prefix::IdPrefix,
    ) -> Result<ringshop_shared::prefix::Found<Order>, ShardError> {
        not_used()
    }
    async fn find_traces(
        self,
        _: Context,
        _: ringshop_shared::prefix::IdPrefix,
    ) -> Vec<ringshop_shared::trace::TraceId> {
        Vec::new()
    }
    async fn spans(
        self,
        _: Context,
        _: ringshop_shared::trace::TraceId,
    ) -> Vec<ringshop_shared::trace::SpanRecord> {
        Vec::new()
    }
    async fn forward(
        self,
        _: Context,
        _: NodeId,
        _: Box<ringshop_shared::ShardRequest>,
    ) -> Result<Box<ringshop_shared::ShardResponse>, ShardError> {
        not_used()
    }
    async fn watch_stock(
        self,
        _: Context,
        _: Vec<ProductId>,
        _: ringshop_shared::StockSeen,
        _: u64,
    ) -> Result<ringshop_shared::StockNews, ShardError> {
        not_used()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_that_places_ids_differently_is_refused_by_name() {
    use ringshop_shared::Shard as _;
    use tarpc::server::{BaseChannel, Channel};

    let cluster = TestCluster::in_process(2, Duration::from_secs(5)).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let addr = listener.local_addr().expect("addr");
    let name = NodeId::new("odd").expect("valid");
    let store = ringshop_node::SqliteStore::open(&cluster.db())
        .await
        .expect("opens the store");
    store
        .join(&name, addr, Duration::from_secs(2))
        .await
        .expect("joins as a member");
    let server = Contrarian {
        info: ringshop_shared::NodeInfo {
            name,
            addr,
            version: "0.0.0-other".into(),
            uptime: Duration::ZERO,
            ttl: Duration::from_secs(5),
        },
        store: std::sync::Arc::new(store),
    };
    let (stop, tracker) = (
        tokio_util::sync::CancellationToken::new(),
        tokio_util::task::TaskTracker::new(),
    );
    let (s, t) = (stop.clone(), tracker.clone());
    tokio::spawn(transport::accept_loop(
        listener,
        Security::Plain,
        transport::Limits::default(),
        stop.clone(),
        tracker.clone(),
        move |framed, _| {
            let requests = BaseChannel::with_defaults(framed).execute(server.clone().serve());
            t.spawn(transport::run_requests(requests, s.clone(), t.clone()));
        },
    ));
    let err = ringshop_tui::Cluster::connect(&cluster.addrs(), ringshop_tests::test_config())
        .await
        .err()
        .expect("refused");
    assert!(
        matches!(&err, ringshop_tui::ClusterError::PlacementMismatch { node, .. } if node.as_str() == "odd"),
        "{err}"
    );
    assert!(err.to_string().contains("places ids differently"));
    stop.cancel();
}
