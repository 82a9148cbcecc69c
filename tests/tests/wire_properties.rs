//! Every RPC of a real node, called with arbitrary arguments (proptest): the node never panics,
//! answers every call (an answer or a typed error, within the call's deadline), keeps serving
//! everyone else, and leaves no id unanswerable. And any message a peer could write, its call
//! context included (any deadline, any trace ids), as raw frames: the node panics on none of
//! them and still answers `ping` on a new connection after each. The node runs in this
//! process, so a panic in any of its tasks would show here (a hook counts every panic); its
//! connections are real loopback ones.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::shop::OrderLine;
use ringshop_shared::transport::Security;
use ringshop_shared::transport::codec::{self, WireContext, WireMessage, WireRequest};
use ringshop_shared::{
    Handed, NewOrder, NodeId, OrderId, ProductId, Progress, ShardClient, ShardError, ShardRequest,
    Stage, StockSeen, transport,
};
use ringshop_tests::TestCluster;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One call of any RPC, with its arguments.
#[derive(Clone, Debug)]
enum Call {
    Ping,
    Request(u64, u64),
    Members,
    WatchMembers(u64),
    Suspect(NodeId),
    Probe(NodeId),
    Adopt(Vec<Handed>, u64, NodeId, u64),
    Stats,
    Placement(Vec<NodeId>, u32, Vec<u64>),
    Catalog,
    Quote(ProductId, u64),
    Quotes(Vec<ProductId>, u64),
    Reserve(OrderId, ProductId, u32, u64),
    Checkout(NewOrder, u64),
    Order(OrderId),
    WatchOrder(OrderId, Progress, u64),
    Orders(Option<String>),
    FindOrders(IdPrefix),
    FindTraces(IdPrefix),
    WatchStock(Vec<ProductId>, StockSeen, u64),
}

fn any_u64() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        any::<u64>(),
        0..64u64
    ]
}

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::ZERO),
        Just(Duration::MAX),
        (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (0..20_000u64).prop_map(Duration::from_millis),
    ]
}

fn any_time() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        Just(UNIX_EPOCH),
        Just(SystemTime::now()),
        any::<u64>().prop_map(|s| UNIX_EPOCH
            .checked_add(Duration::from_secs(s / 2))
            .unwrap_or(UNIX_EPOCH)),
    ]
}

fn any_name() -> impl Strategy<Value = NodeId> {
    "[a-z0-9_.-]{1,12}".prop_map(|n| NodeId::new(n).expect("the pattern makes valid names"))
}

fn any_product() -> impl Strategy<Value = ProductId> {
    prop_oneof![Just("mug".to_string()), "[a-z0-9-]{1,16}"]
        .prop_map(|p| ProductId::new(p).expect("the pattern makes valid ids"))
}

fn any_order_id() -> impl Strategy<Value = OrderId> {
    any::<u128>().prop_map(|n| OrderId(uuid::Uuid::from_u128(n)))
}

fn any_handed() -> impl Strategy<Value = Handed> {
    (
        any_u64(),
        any::<u32>(),
        any_time(),
        any_duration(),
        any_duration(),
    )
        .prop_map(|(id, value, created_at, age, ttl_left)| Handed {
            id,
            value,
            created_at,
            age,
            ttl_left,
        })
}

fn any_stage() -> impl Strategy<Value = Stage> {
    prop_oneof![
        Just(Stage::Accepted),
        Just(Stage::Reserving),
        Just(Stage::Paying),
        Just(Stage::Done),
        Just(Stage::Failed),
    ]
}

fn any_progress() -> impl Strategy<Value = Progress> {
    (any_stage(), proptest::option::of(any_name()))
        .prop_map(|(stage, waiting)| Progress { stage, waiting })
}

fn any_order() -> impl Strategy<Value = NewOrder> {
    let line = (any_product(), any::<u32>()).prop_map(|(product, qty)| OrderLine { product, qty });
    (
        any_order_id(),
        ".{0,40}",
        prop::collection::vec(line, 0..12),
    )
        .prop_map(|(id, customer, lines)| NewOrder {
            id,
            customer,
            lines,
        })
}

/// 6 to 32 hex digits, dashes anywhere (what a person types).
fn any_prefix() -> impl Strategy<Value = IdPrefix> {
    "[0-9a-fA-F-]{6,40}".prop_filter_map("not 6-32 digits", |t| IdPrefix::parse(&t).ok())
}

fn any_call() -> impl Strategy<Value = Call> {
    prop_oneof![
        Just(Call::Ping),
        (any_u64(), any_u64()).prop_map(|(id, e)| Call::Request(id, e)),
        Just(Call::Members),
        any_u64().prop_map(Call::WatchMembers),
        any_name().prop_map(Call::Suspect),
        any_name().prop_map(Call::Probe),
        (
            prop::collection::vec(any_handed(), 0..40),
            any_u64(),
            // The node's own name (a member at incarnation 1) or any other.
            prop_oneof![Just(ringshop_tests::name(1)), any_name()],
            any_u64()
        )
            .prop_map(|(h, e, from, inc)| Call::Adopt(h, e, from, inc)),
        Just(Call::Stats),
        (
            prop::collection::vec(any_name(), 0..70),
            any::<u32>(),
            prop::collection::vec(any::<u64>(), 0..300)
        )
            .prop_map(|(m, v, ids)| Call::Placement(m, v, ids)),
        Just(Call::Catalog),
        (any_product(), any_u64()).prop_map(|(p, e)| Call::Quote(p, e)),
        (prop::collection::vec(any_product(), 0..30), any_u64())
            .prop_map(|(p, e)| Call::Quotes(p, e)),
        (any_order_id(), any_product(), any::<u32>(), any_u64())
            .prop_map(|(o, p, q, e)| Call::Reserve(o, p, q, e)),
        (any_order(), any_u64()).prop_map(|(o, e)| Call::Checkout(o, e)),
        any_order_id().prop_map(Call::Order),
        (any_order_id(), any_progress(), any_u64()).prop_map(|(o, s, e)| Call::WatchOrder(o, s, e)),
        prop::option::of(".{0,20}").prop_map(Call::Orders),
        any_prefix().prop_map(Call::FindOrders),
        any_prefix().prop_map(Call::FindTraces),
        (
            prop::collection::vec(any_product(), 0..30),
            (any_u64(), any_u64()).prop_map(|(feed, version)| StockSeen { feed, version }),
            any_u64()
        )
            .prop_map(|(p, s, e)| Call::WatchStock(p, s, e)),
    ]
}

/// Deadline of every fuzzed call: long-polls return by then, the rest much sooner.
const DEADLINE: Duration = Duration::from_millis(400);

/// Makes the call; Err(text) only for a transport failure (no answer at all).
async fn call(client: &ShardClient, c: Call) -> Result<(), String> {
    let ctx = || transport::context(DEADLINE);
    let e = |e: tarpc::client::RpcError| format!("{e}");
    let typed = |_: Result<(), ShardError>| ();
    match c {
        Call::Ping => client.ping(ctx()).await.map(drop).map_err(e),
        Call::Request(id, ep) => client
            .request(ctx(), id, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Members => client
            .members(ctx())
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::WatchMembers(ep) => client
            .watch_members(ctx(), ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Suspect(n) => client
            .suspect(ctx(), n)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Probe(n) => client
            .probe(ctx(), n)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Adopt(h, ep, from, inc) => client
            .adopt(ctx(), h, ep, from, inc)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Stats => client.stats(ctx()).await.map(drop).map_err(e),
        Call::Placement(m, v, ids) => client
            .placement(ctx(), m, v, ids)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Catalog => client
            .catalog(ctx())
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Quote(p, ep) => client
            .quote(ctx(), p, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Quotes(p, ep) => client
            .quotes(ctx(), p, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Reserve(o, p, q, ep) => client
            .reserve(ctx(), o, p, q, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Checkout(o, ep) => client
            .checkout(ctx(), o, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Order(o) => client
            .order(ctx(), o)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::WatchOrder(o, s, ep) => client
            .watch_order(ctx(), o, s, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::Orders(c) => client
            .orders(ctx(), c)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::FindOrders(p) => client
            .find_orders(ctx(), p)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
        Call::FindTraces(p) => client.find_traces(ctx(), p).await.map(drop).map_err(e),
        Call::WatchStock(p, s, ep) => client
            .watch_stock(ctx(), p, s, ep)
            .await
            .map(|r| typed(r.map(drop)))
            .map_err(e),
    }
}

/// The ids a call names, so the test can check afterwards that each still answers.
fn ids_of(c: &Call) -> Vec<u64> {
    match c {
        Call::Request(id, _) => vec![*id],
        Call::Adopt(h, ..) => h.iter().map(|h| h.id).collect(),
        _ => vec![],
    }
}

#[test]
fn arbitrary_arguments_to_every_rpc_never_break_the_node() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let (cluster, fuzzed, control) = runtime.block_on(async {
        let cluster = TestCluster::in_process(1, Duration::from_secs(5)).await;
        let addr = cluster.addrs()[0];
        let fuzzed = transport::connect_shard(addr, Duration::from_secs(1), &Security::Plain)
            .await
            .expect("connects");
        let control = cluster_client(addr).await;
        (cluster, fuzzed, control)
    });
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(calls in prop::collection::vec(any_call(), 1..8))| {
        runtime.block_on(async {
            let touched: Vec<u64> = calls.iter().flat_map(ids_of).collect();
            let answered = futures::future::join_all(calls.into_iter().map(|c| call(&fuzzed, c))).await;
            for a in &answered {
                prop_assert!(a.is_ok(), "a call got no answer: {a:?}");
            }
            // Everyone else is still served, and every id the calls named still answers.
            for id in touched.iter().take(20).chain([&7u64]) {
                let answer = control.request(*id).await;
                prop_assert!(answer.is_ok(), "id {id} is unanswerable: {answer:?}");
            }
            Ok(())
        })?;
    });
    drop(cluster);
}

async fn cluster_client(addr: std::net::SocketAddr) -> ringshop_tui::Cluster {
    ringshop_tui::Cluster::connect(&[addr], ringshop_tests::test_config())
        .await
        .expect("a client connects")
}

/// Panics in this process since it started (the hook counts them, then does what the hook
/// before it did, so the message still shows).
fn panics() -> usize {
    static PANICS: AtomicUsize = AtomicUsize::new(0);
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.fetch_add(1, Ordering::SeqCst);
            previous(info);
        }));
    });
    PANICS.load(Ordering::SeqCst)
}

/// The request a `Call` makes, as tarpc's generated enum carries it.
fn request_of(c: Call) -> ShardRequest {
    match c {
        Call::Ping => ShardRequest::Ping {},
        Call::Request(id, epoch) => ShardRequest::Request { id, epoch },
        Call::Members => ShardRequest::Members {},
        Call::WatchMembers(epoch) => ShardRequest::WatchMembers { epoch },
        Call::Suspect(name) => ShardRequest::Suspect { name },
        Call::Probe(name) => ShardRequest::Probe { name },
        Call::Adopt(entries, epoch, from, incarnation) => ShardRequest::Adopt {
            entries,
            epoch,
            from,
            incarnation,
        },
        Call::Stats => ShardRequest::Stats {},
        Call::Placement(members, vnodes, ids) => ShardRequest::Placement {
            members,
            vnodes,
            ids,
        },
        Call::Catalog => ShardRequest::Catalog {},
        Call::Quote(product, epoch) => ShardRequest::Quote { product, epoch },
        Call::Quotes(products, epoch) => ShardRequest::Quotes { products, epoch },
        Call::Reserve(order, product, qty, epoch) => ShardRequest::Reserve {
            order,
            product,
            qty,
            epoch,
        },
        Call::Checkout(order, epoch) => ShardRequest::Checkout { order, epoch },
        Call::Order(id) => ShardRequest::Order { id },
        Call::WatchOrder(id, seen, epoch) => ShardRequest::WatchOrder { id, seen, epoch },
        Call::Orders(customer) => ShardRequest::Orders { customer },
        Call::FindOrders(prefix) => ShardRequest::FindOrders { prefix },
        Call::FindTraces(prefix) => ShardRequest::FindTraces { prefix },
        Call::WatchStock(products, seen, epoch) => ShardRequest::WatchStock {
            products,
            seen,
            epoch,
        },
    }
}

/// The deadlines that panicked tarpc (`Instant + Duration` overflows on the first three;
/// tokio-util's `DelayQueue` refuses the fourth), then any at all.
fn any_deadline() -> impl Strategy<Value = Duration> {
    prop_oneof![
        Just(Duration::from_secs(u64::MAX)),
        Just(Duration::from_secs(1 << 63)),
        Just(Duration::new(u64::MAX, 999_999_999)),
        Just(Duration::from_secs(1_000_000_000_000)),
        Just(Duration::ZERO),
        (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
        (0..2_000u64).prop_map(Duration::from_millis),
    ]
}

fn any_trace() -> impl Strategy<Value = tarpc::trace::Context> {
    (any::<u128>(), any::<u64>(), any::<bool>()).prop_map(|(trace, span, sampled)| {
        tarpc::trace::Context {
            trace_id: trace.into(),
            span_id: span.into(),
            sampling_decision: if sampled {
                tarpc::trace::SamplingDecision::Sampled
            } else {
                tarpc::trace::SamplingDecision::Unsampled
            },
        }
    })
}

/// One frame's body a peer could send: a request (any call, any context) or a cancel, encoded
/// as tarpc lays it out; sometimes with bytes overwritten (a nanosecond count past a second, a
/// sampling decision that is neither, a truncated call...).
fn any_message() -> impl Strategy<Value = Vec<u8>> {
    let request = (any_deadline(), any_trace(), any::<u64>(), any_call()).prop_map(
        |(deadline, trace_context, id, call)| {
            codec::to_bytes(&WireMessage::Request(WireRequest {
                context: WireContext {
                    deadline,
                    trace_context,
                },
                id,
                message: request_of(call),
            }))
        },
    );
    let cancel = (any_trace(), any::<u64>()).prop_map(|(trace_context, request_id)| {
        codec::to_bytes(&WireMessage::<ShardRequest>::Cancel {
            trace_context,
            request_id,
        })
    });
    let encoded = prop_oneof![4 => request, 1 => cancel]
        .prop_map(|bytes| bytes.expect("every message fits a frame"));
    (
        encoded,
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..3),
    )
        .prop_map(|(mut bytes, edits)| {
            for (at, byte) in edits {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            bytes
        })
}

/// `body` behind its 4-byte length, as a frame.
fn frame(body: &[u8]) -> Vec<u8> {
    let mut bytes = (body.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(body);
    bytes
}

/// Sends `bodies` as frames on a fresh raw connection, then reads what comes back for up to
/// `wait` (or until the node closes the connection); how many whole answers came.
async fn send_raw(addr: SocketAddr, bodies: &[Vec<u8>], wait: Duration) -> usize {
    let mut raw = TcpStream::connect(addr).await.expect("connects");
    for body in bodies {
        if raw.write_all(&frame(body)).await.is_err() {
            break; // the node closed it: bad bytes end their connection
        }
    }
    let mut answers = 0;
    let _ = tokio::time::timeout(wait, async {
        let mut len = [0u8; 4];
        while answers < bodies.len() && raw.read_exact(&mut len).await.is_ok() {
            let mut body = vec![0; u32::from_be_bytes(len) as usize];
            if raw.read_exact(&mut body).await.is_err() {
                break;
            }
            answers += 1;
        }
    })
    .await;
    answers
}

/// The node answers `ping` on a new connection.
async fn pings(addr: SocketAddr) -> Result<(), String> {
    let client = transport::connect_shard(addr, Duration::from_secs(1), &Security::Plain)
        .await
        .map_err(|e| e.to_string())?;
    client
        .ping(transport::context(Duration::from_secs(2)))
        .await
        .map(drop)
        .map_err(|e| e.to_string())
}

#[test]
fn crafted_deadlines_are_answered_and_panic_nothing() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let before = panics();
        let cluster = TestCluster::in_process(1, Duration::from_secs(5)).await;
        let addr = cluster.addrs()[0];
        for deadline in [
            Duration::from_secs(u64::MAX),
            Duration::from_secs(1 << 63),
            Duration::new(u64::MAX, 999_999_999),
            Duration::from_secs(1_000_000_000_000),
        ] {
            let ping = codec::to_bytes(&WireMessage::Request(WireRequest {
                context: WireContext {
                    deadline,
                    trace_context: tarpc::trace::Context::default(),
                },
                id: 1,
                message: ShardRequest::Ping {},
            }))
            .expect("encodes");
            let answers = send_raw(addr, &[ping], Duration::from_secs(2)).await;
            assert_eq!(answers, 1, "a ping with deadline {deadline:?} is answered");
            assert_eq!(
                pings(addr).await,
                Ok(()),
                "after a deadline of {deadline:?}"
            );
            assert_eq!(
                panics(),
                before,
                "a deadline of {deadline:?} panicked the node"
            );
        }
        drop(cluster);
    });
}

#[test]
fn arbitrary_messages_with_any_context_never_panic_the_node() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let before = panics();
    let cluster = runtime.block_on(TestCluster::in_process(1, Duration::from_secs(5)));
    let addr = cluster.addrs()[0];
    let config = ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(bodies in prop::collection::vec(any_message(), 1..6))| {
        runtime.block_on(async {
            send_raw(addr, &bodies, Duration::from_millis(300)).await;
            let ping = pings(addr).await;
            prop_assert!(ping.is_ok(), "the node stopped answering: {ping:?}");
            prop_assert_eq!(panics(), before, "the node panicked");
            Ok(())
        })?;
    });
    drop(cluster);
}
