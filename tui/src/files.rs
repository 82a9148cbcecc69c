//! The user's own files, below every other layer: where they live (`paths`: the XDG state
//! and config folders), the optional config file (`config`: a small TOML subset, every problem
//! named by path:line), and the kept cart (`cart`: one file per customer, written atomically).
//! No network, no drawing, no printing: callers decide how a problem is shown. Every layer may
//! import this one; it imports none of them.

pub mod cart;
pub mod config;
pub mod paths;
