//! The shop on the cluster: the catalog, checkout jobs that run on the owner of their order id
//! (stock is reserved and released through each product's one actor, `actors::product`), and
//! a reaper of the holds stray orders leave behind, and the restock that tells the stock feed
//! of changes made in the store without a product's actor. Stock and orders
//! live in the store, so any node can take over any product or order; the store's triggers make
//! overselling impossible even in a split view, and sell only what done orders bought.

pub mod catalog;
pub mod checkout;
pub mod reaper;
pub mod restock;
