//! The ringshop contract, shared by the nodes (`ringshop-node`) and the main (`ringshop`).
//!
//! A short tour:
//! - [`service`]: the `Shard` tarpc service every node serves; each RPC that can fail for an
//!   application reason returns `Result<T, ShardError>`, never a transport error.
//! - [`ids`]: `NodeId` and the other newtypes, validated on parse.
//! - [`wire`]: what travels in answers: `Served<T>` says where a value came from and how old it is.
//! - [`error`]: `ShardError`, plain serde values that cross the wire unchanged.
//! - [`shop`]: products, quotes, orders and checkout stages, with the limits both sides check.
//! - [`stock`]: live stock: where a watcher is in an owner's feed of stock and price changes.
//! - [`ring`]: placement. `Ring::owner(id)` is a pure function of (members, id), stable across
//!   processes, machines and releases; golden vectors in its tests pin it.
//! - [`transport`]: connect / listen, the codec and the frame limit, mutual TLS with the
//!   cluster's CA (roles: node or client), and a node's bounds on its connections (count,
//!   unfinished frames, deadlines, idle), in one place.
//! - [`trace`]: trace ids as people see them, and the spans a node keeps (`spans`).
//! - [`prefix`]: ids a person can type: an unambiguous prefix (≥ 6 hex digits) of an order or
//!   trace id, and what one matched.
//! - [`clock`]: the one place time is read: tokio's monotonic clock (tests pause it), the
//!   calendar for stamps, and the conversion at tarpc's deadlines.
//! - [`hash`]: the hash maps both sides keep (random keys, fixed ones under a simulator).
//! - [`duration`]: the one parser for `5s` / `250ms` flags.
//! - [`latency`]: a node's service times as a histogram, and the percentiles a client reads
//!   from two of its snapshots.
//!
//! This crate depends on neither side: it never opens files or reads config, and starts tasks
//! only on the tracker its caller hands it.

pub mod clock;
pub mod duration;
pub mod error;
pub mod hash;
pub mod hop;
pub mod ids;
pub mod latency;
pub mod prefix;
pub mod ring;
pub mod route;
pub mod service;
pub mod shop;
pub mod stock;
pub mod trace;
pub mod transport;
pub mod wire;

pub use error::{ShardError, Unavailable};
pub use hop::{Hop, ShardClient};
pub use ids::{NodeId, OrderId, ProductId};
pub use ring::{DEFAULT_VNODES, Placed, Ring};
pub use service::{Shard, ShardRequest, ShardResponse};
pub use shop::{NewOrder, Order, OrderLine, Product, Progress, Quote, Reservation, Stage};
pub use stock::{StockNews, StockSeen};
pub use wire::{
    Cached, ClusterTiming, Handed, Member, MemberStatus, Membership, NodeInfo, NodeStats, Served,
    StoreHealth,
};
