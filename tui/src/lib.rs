//! The ringshop main as a library: the `Cluster` client that places every call on its owner,
//! the embedded in-process cluster, and the headless verbs. The `ringshop` binary is a thin
//! shell over this; the interactive TUI joins it in a later release.

pub mod action;
pub mod app;
pub mod cli;
pub mod cluster;
pub mod demo;
pub mod effect;
pub mod embedded;
pub mod event_loop;
pub mod keys;
pub mod members_table;
pub mod runner;
pub mod shop_cli;
pub mod terminal;
pub mod theme;
pub mod views;

pub use cluster::{Answer, Cluster, ClusterConfig, ClusterError, MemberView, Report};
