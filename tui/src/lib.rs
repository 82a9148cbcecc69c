//! The ringshop main as a library: the `Cluster` client that places every call on its owner,
//! the embedded in-process cluster, and the headless verbs. The `ringshop` binary is a thin
//! shell over this; the interactive TUI joins it in a later release.

pub mod cli;
pub mod cluster;
pub mod demo;
pub mod embedded;
pub mod members_table;
pub mod shop_cli;

pub use cluster::{Answer, Cluster, ClusterConfig, ClusterError, MemberView, Report};
