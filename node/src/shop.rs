//! The shop on the cluster: the catalog, the product actors (quotes cached for the TTL, stock
//! reserved and released through each product's one actor), and checkout jobs that run on the
//! owner of their order id. Stock and orders live in the store, so any node can take over any
//! product or order; the store's triggers make overselling impossible even in a split view.

pub mod catalog;
pub mod checkout;
pub mod products;
