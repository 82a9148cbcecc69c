//! The shop on the cluster: the catalog, the product actors (quotes cached for the TTL, stock
//! reserved and released through each product's one actor), and checkout jobs that run on the
//! owner of their order id, and a reaper of the holds stray orders leave behind. Stock and orders
//! live in the store, so any node can take over any product or order; the store's triggers make
//! overselling impossible even in a split view, and sell only what done orders bought.

pub mod catalog;
pub mod checkout;
pub mod products;
pub mod reaper;
