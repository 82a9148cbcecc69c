//! The client layer: everything the main knows about the cluster and every call it places.
//! `Cluster` follows the membership (`follow.rs`), keeps one connection per member, finds the
//! cluster again from any state (`probe.rs`) and places each call on its id's owner
//! (`call.rs`, through `ringshop_shared::route`); `shop.rs` and `orders.rs` are
//! the shop's calls, `stock.rs` follows the owners' stock feeds, `members.rs` the members table, `demo.rs` the demo cycle, `embedded.rs`
//! the in-process cluster and `open.rs` the choice between the two, `trace.rs` a trace gathered from every member as a
//! waterfall, `resolve.rs` the order or trace a typed prefix of its id names. Nothing here draws or
//! prints: the verbs and the screen sit on top.

mod call;
mod cluster;
pub mod demo;
pub mod embedded;
mod follow;
mod members;
mod open;
mod orders;
mod probe;
mod resolve;
mod shop;
mod state;
mod stock;
pub mod trace;
mod types;

pub use self::cluster::Cluster;
pub use self::embedded::Embedded;
pub use self::members::{MemberRow, MemberState, MemberStats, Snapshot};
pub use self::open::{OpenError, open, open_or_wait};
pub use self::resolve::{Candidate, ResolveError};
pub use self::shop::{OwnerCall, QuoteRow, parse_line};
pub use self::stock::StockEvent;
pub use self::types::{Answer, ClusterConfig, ClusterError, MemberView, Report};
