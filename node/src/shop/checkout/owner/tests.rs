//! A node never calls itself over the network: a product call whose owner is this node runs
//! on its own actor, even after the actor refused once and the call had to look again.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ringshop_shared::transport::{DEFAULT_CONNECT_TIMEOUT, Dialer, Security};
use ringshop_shared::{DEFAULT_VNODES, NodeId, OrderId, ProductId, ShardError};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::actors::Claims;
use crate::actors::product::{Products, Shelf};
use crate::membership::detector::Detector;
use crate::membership::{Members, Timing};
use crate::peers::Peers;
use crate::shop::checkout::{Checkout, Payment};
use crate::stock::StockFeed;
use crate::store::{MemoryStore, Store};

/// Nothing listens here: a node that dialled its own advertised address would fail.
const UNREACHABLE: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 1);

/// A one-node cluster in memory whose advertised address nothing serves; its checkout and
/// its connections to peers.
async fn lone_node() -> (Checkout, Arc<Peers>) {
    let me = NodeId::new("n1").expect("valid");
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let timing = Timing::default();
    let members = Members::join(
        store.clone(),
        me.clone(),
        UNREACHABLE,
        timing,
        DEFAULT_VNODES,
    )
    .await
    .expect("joins");
    let (stop, tracker) = (CancellationToken::new(), TaskTracker::new());
    let claims: Arc<dyn Claims> = Arc::new(members.clone());
    let shelf = Shelf {
        store,
        feed: StockFeed::new(me.clone()),
    };
    let ttl = Duration::from_secs(30);
    let products = Products::new(me, ttl, shelf, claims, stop.clone(), tracker.clone());
    let peers = Arc::new(Peers::new(
        Dialer::default(),
        DEFAULT_CONNECT_TIMEOUT,
        Security::Plain,
    ));
    let detector = Detector::new(members.clone(), peers.clone());
    let payment = Payment::default();
    let checkout = Checkout::new(
        members,
        peers.clone(),
        detector,
        products,
        payment,
        tracker,
        stop,
    );
    (checkout, peers)
}

#[tokio::test]
async fn a_call_whose_owner_is_this_node_never_goes_over_the_network_even_after_a_refusal() {
    let (checkout, peers) = lone_node().await;
    let (sent, asked) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let mug = ProductId::new("mug").expect("valid");
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        checkout.on_owner(
            OrderId::random(),
            &mug,
            |_, _, _, _| {
                sent.fetch_add(1, Ordering::SeqCst);
                async { Ok(Ok(7u32)) }
            },
            |_: Products, _| {
                // The actor refuses the first ask (it was stopping), then answers.
                let first = asked.fetch_add(1, Ordering::SeqCst) == 0;
                async move {
                    if first {
                        return Err(ShardError::ShuttingDown {
                            node: NodeId::new("n1").expect("valid"),
                        });
                    }
                    Ok(Some(42u32))
                }
            },
        ),
    )
    .await
    .expect("answered at once, in-process");
    assert_eq!(answer, Ok(42));
    assert_eq!(
        asked.load(Ordering::SeqCst),
        2,
        "the local actor, asked again"
    );
    assert_eq!(
        sent.load(Ordering::SeqCst),
        0,
        "nothing sent over the network"
    );
    assert!(!peers.undialable(UNREACHABLE), "it never dialled itself");
}
