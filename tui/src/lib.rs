//! The ringshop main as a library, in three layers a reader can follow top-down, over one
//! layer of the user's files:
//!
//! - [`client`]: everything the main knows about the cluster. `Cluster` follows the
//!   membership, holds one connection per member, and places each call on its id's owner (the
//!   shared routing loop of `ringshop_shared::route`); the shop's calls, the members table, the
//!   demo cycle, the embedded in-process cluster. No drawing, no printing.
//! - [`verbs`]: the headless verbs (`demo`, `cluster`, `products`, `buy`, `order`, `orders`):
//!   each one's flags, run and output, on top of the client.
//! - [`screen`]: the interactive TUI, on top of the client. A key press goes from the terminal
//!   (`event_loop`) through the key table (`keys`) to a command that `App::update` applies;
//!   what needs the network comes back out of `update` as an `Effect`, which the `Runner`
//!   places through the client on its own task, its result returning as an `Action`. Views
//!   only draw `App`.
//! - [`files`]: the user's own files, under every layer: where they live (XDG), the optional
//!   config file, the kept cart. No network, no drawing.
//!
//! The `ringshop` binary (`main.rs`) parses the command line, opens the cluster, runs a verb or
//! the screen, and maps a failure to its exit code. Imports go screen → client, verbs →
//! client, main → all, and anything → files; never back up.

pub mod client;
pub mod files;
pub mod screen;
pub mod verbs;

pub use client::{Answer, Cluster, ClusterConfig, ClusterError, MemberView, Report, StockEvent};
