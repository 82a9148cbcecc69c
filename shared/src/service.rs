//! The `Shard` service: what a node answers. One doc line per RPC; each call that can fail for
//! an application reason returns `Result<T, ShardError>`.
//!
//! Who may call what: over mutual TLS a node knows its caller's role from its certificate
//! (`transport::Role`). The peer-only RPCs, [`PEER_ONLY`] (marked "Peer-only" below), are calls
//! one node makes of another; a client certificate gets `ShardError::NotAPeer` for them. Every
//! other RPC is one the main makes, so clients and peers may both call it. `suspect` and
//! `placement` stay open to clients on purpose: the main asks a witness to probe an owner that
//! missed its deadline (the node judges by its own probes and other members' votes, so asking
//! cannot take a healthy node out), and checks every new connection places ids as it does (a
//! pure, bounded computation). Without TLS (loopback, `--insecure`) nothing is refused.

use crate::error::ShardError;
use crate::ids::NodeId;
use crate::ids::{OrderId, ProductId};
use crate::prefix::{Found, IdPrefix};
use crate::shop::{NewOrder, Order, Product, Progress, Quote, Reservation};
use crate::stock::{StockNews, StockSeen};
use crate::trace::{SpanRecord, TraceId};
use crate::wire::{Cached, Handed, Membership, NodeInfo, NodeStats, Served};

/// Most ids one `placement` call may ask about (keeps the answer far under the frame limit).
pub const MAX_PLACEMENT_IDS: usize = 16_384;
/// Most ring points (members × vnodes) one `placement` call may ask a node to build. Building
/// the ring is that call's cost, and anyone may ask: 64 members at `MAX_VNODES` each cost a
/// node ~0.5 s of CPU per call. This bound is 64 members at 256 vnodes (twice the default),
/// so every real cluster's check fits, and one call costs a few ms at most.
pub const MAX_PLACEMENT_POINTS: usize = 16_384;
/// Most entries one `adopt` call may carry.
pub const MAX_ADOPT: usize = 4_096;
/// Most products one `quotes` call may ask about.
pub const MAX_QUOTES: usize = 1_000;
/// Most orders one `orders` call answers.
pub const MAX_ORDERS: u32 = 200;
/// The RPCs only a node may call (see the module docs).
pub const PEER_ONLY: [&str; 3] = ["probe", "adopt", "reserve"];

#[tarpc::service]
pub trait Shard {
    /// Who the node is: name, address, version, uptime and the TTL of its cached values.
    async fn ping() -> NodeInfo;
    /// The id's value from its actor: a hit while kept, else a fresh random 1..=1000 (a miss).
    /// `epoch` is the caller's membership epoch; a node that does not own the id answers
    /// `Moved`, and one whose view is older than the caller's refreshes it first.
    async fn request(id: u64, epoch: u64) -> Result<Cached, ShardError>;
    /// The membership as this node reads it from the store now.
    async fn members() -> Result<Membership, ShardError>;
    /// Long-poll: returns the membership once its epoch differs from `epoch`, or at the
    /// call's deadline with the current one.
    async fn watch_members(epoch: u64) -> Result<Membership, ShardError>;
    /// A client could not reach `name`: this node probes it now and counts a miss if it does
    /// not answer; it votes it dead only after repeated misses (and death needs votes from
    /// other members too). True if `name` is out of the ring now.
    async fn suspect(name: NodeId) -> Result<bool, ShardError>;
    /// Peer-only. An indirect probe for a peer whose own probe failed: whether this node can
    /// reach `name`.
    async fn probe(name: NodeId) -> Result<bool, ShardError>;
    /// Peer-only. Cached entries handed over by `from` (at `incarnation`), a node that gave
    /// their ids up (leaving, or after a join moved them); kept with their remaining TTL, and
    /// never past the wall-clock expiry they carry. Refused whole (`HandoffVoid`) when the
    /// membership no longer waits for `from`. Answers how many were adopted.
    async fn adopt(
        entries: Vec<Handed>,
        epoch: u64,
        from: NodeId,
        incarnation: u64,
    ) -> Result<u32, ShardError>;
    /// The node's counters: live actors, hits, misses, retirements, requests, uptime.
    async fn stats() -> NodeStats;
    /// Where this node's build of the ring places `ids` among `members`, so a client can refuse
    /// a node that would place ids differently (another release of the ring).
    async fn placement(
        members: Vec<NodeId>,
        vnodes: u32,
        ids: Vec<u64>,
    ) -> Result<Vec<NodeId>, ShardError>;

    /// Every product in the catalog (stock comes from `quote`).
    async fn catalog() -> Result<Vec<Product>, ShardError>;
    /// The product's quote from its actor on its owner: kept for the TTL, else read from the
    /// store (a miss).
    async fn quote(product: ProductId, epoch: u64) -> Result<Served<Quote>, ShardError>;
    /// Quotes of several products this node owns, one answer per product, in order (the
    /// client groups products by owner and asks each owner once).
    async fn quotes(
        products: Vec<ProductId>,
        epoch: u64,
    ) -> Result<Vec<Result<Served<Quote>, ShardError>>, ShardError>;
    /// Peer-only (an order's checkout on its owner calls it). Holds `qty` of `product` for
    /// `order`, through the product's actor: the same `Reservation` as a hold on the caller
    /// itself, or a typed refusal. Holding again for the same order holds once.
    async fn reserve(
        order: OrderId,
        product: ProductId,
        qty: u32,
        epoch: u64,
    ) -> Result<Reservation, ShardError>;
    /// Stores the order (the answer comes only once it is stored) and starts its checkout on
    /// this node, the owner of its id. The same id again answers the stored order.
    async fn checkout(order: NewOrder, epoch: u64) -> Result<Order, ShardError>;
    /// One order as stored.
    async fn order(id: OrderId) -> Result<Order, ShardError>;
    /// Long-poll on the order's owner: returns once its progress (stage, or the member its
    /// checkout waits on) differs from `seen`, or at the call's deadline with the order as it is.
    async fn watch_order(id: OrderId, seen: Progress, epoch: u64) -> Result<Order, ShardError>;
    /// Orders, newest first, of one customer or of all (at most `MAX_ORDERS`).
    async fn orders(customer: Option<String>) -> Result<Vec<Order>, ShardError>;
    /// Orders whose id starts with `prefix`, read from the store (any member answers): the
    /// first `prefix::MAX_CANDIDATES` by id, and how many match in all.
    async fn find_orders(prefix: IdPrefix) -> Result<Found<Order>, ShardError>;
    /// The spans of one trace this node's process kept (its recent ones, a bounded ring),
    /// oldest first, at most `trace::MAX_SPANS`; none when tracing is off.
    async fn spans(trace: TraceId) -> Vec<SpanRecord>;
    /// The ids of the traces this node's process kept spans of that start with `prefix`,
    /// sorted, at most `prefix::MAX_TRACE_MATCHES`.
    async fn find_traces(prefix: IdPrefix) -> Vec<TraceId>;
    /// Relays `request` to the member `to`, which the caller cannot reach itself (one hop: a
    /// relayed `forward` is refused), with the caller's deadline and trace; `to`'s answer, or
    /// `PeerUnreachable` when this node cannot reach it either. A peer-only request keeps its
    /// rule: relayed for a client certificate, it is refused.
    async fn forward(
        to: NodeId,
        request: Box<ShardRequest>,
    ) -> Result<Box<ShardResponse>, ShardError>;
    /// Long-poll on the owner of `products` (at most `MAX_QUOTES`): returns once one of them
    /// changed stock or price after `seen` (at once, with every one, when `seen` is not of
    /// this node's feed), when this node's membership epoch moves, or at the call's deadline
    /// with nothing new. Products it does not answer for come back refused.
    async fn watch_stock(
        products: Vec<ProductId>,
        seen: StockSeen,
        epoch: u64,
    ) -> Result<StockNews, ShardError>;
}

/// Which RPC a request is, kept (it is `Copy`) while the request itself goes on its way, so
/// the caller can still answer it with a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rpc {
    Ping,
    Request,
    Members,
    WatchMembers,
    Suspect,
    Probe,
    Adopt,
    Stats,
    Placement,
    Catalog,
    Quote,
    Quotes,
    Reserve,
    Checkout,
    Order,
    WatchOrder,
    Orders,
    FindOrders,
    Spans,
    FindTraces,
    Forward,
    WatchStock,
}

impl Rpc {
    pub fn of(request: &ShardRequest) -> Rpc {
        use ShardRequest as Q;
        match request {
            Q::Ping {} => Rpc::Ping,
            Q::Request { .. } => Rpc::Request,
            Q::Members {} => Rpc::Members,
            Q::WatchMembers { .. } => Rpc::WatchMembers,
            Q::Suspect { .. } => Rpc::Suspect,
            Q::Probe { .. } => Rpc::Probe,
            Q::Adopt { .. } => Rpc::Adopt,
            Q::Stats {} => Rpc::Stats,
            Q::Placement { .. } => Rpc::Placement,
            Q::Catalog {} => Rpc::Catalog,
            Q::Quote { .. } => Rpc::Quote,
            Q::Quotes { .. } => Rpc::Quotes,
            Q::Reserve { .. } => Rpc::Reserve,
            Q::Checkout { .. } => Rpc::Checkout,
            Q::Order { .. } => Rpc::Order,
            Q::WatchOrder { .. } => Rpc::WatchOrder,
            Q::Orders { .. } => Rpc::Orders,
            Q::FindOrders { .. } => Rpc::FindOrders,
            Q::Spans { .. } => Rpc::Spans,
            Q::FindTraces { .. } => Rpc::FindTraces,
            Q::Forward { .. } => Rpc::Forward,
            Q::WatchStock { .. } => Rpc::WatchStock,
        }
    }

    /// Whether only a node may make it ([`PEER_ONLY`]).
    pub fn peer_only(self) -> bool {
        matches!(self, Rpc::Probe | Rpc::Adopt | Rpc::Reserve)
    }

    /// The answer this RPC gets when it is refused with `error` before it runs: its own
    /// `Err(error)`. None for the RPCs that cannot fail (`ping`, `stats`, `spans`,
    /// `find_traces`).
    pub fn refusal(self, error: ShardError) -> Option<ShardResponse> {
        use ShardResponse as A;
        Some(match self {
            Rpc::Ping | Rpc::Stats | Rpc::Spans | Rpc::FindTraces => return None,
            Rpc::Request => A::Request(Err(error)),
            Rpc::Members => A::Members(Err(error)),
            Rpc::WatchMembers => A::WatchMembers(Err(error)),
            Rpc::Suspect => A::Suspect(Err(error)),
            Rpc::Probe => A::Probe(Err(error)),
            Rpc::Adopt => A::Adopt(Err(error)),
            Rpc::Placement => A::Placement(Err(error)),
            Rpc::Catalog => A::Catalog(Err(error)),
            Rpc::Quote => A::Quote(Err(error)),
            Rpc::Quotes => A::Quotes(Err(error)),
            Rpc::Reserve => A::Reserve(Err(error)),
            Rpc::Checkout => A::Checkout(Err(error)),
            Rpc::Order => A::Order(Err(error)),
            Rpc::WatchOrder => A::WatchOrder(Err(error)),
            Rpc::Orders => A::Orders(Err(error)),
            Rpc::FindOrders => A::FindOrders(Err(error)),
            Rpc::Forward => A::Forward(Err(error)),
            Rpc::WatchStock => A::WatchStock(Err(error)),
        })
    }
}
