//! Live stock: what a product's owner publishes of its products' stock and price, and where a
//! watcher is in it. Each node keeps one feed of the products it owns; every change (a
//! reservation through the product's actor, holds given back, a new price) is one version of
//! it. A watcher long-polls `watch_stock` with the `StockSeen` of its last answer and gets the
//! products that changed after it; a `StockSeen` of another feed (the first ask, or a node
//! that restarted) gets every product it asked about.

use serde::{Deserialize, Serialize};

use crate::error::ShardError;
use crate::ids::ProductId;
use crate::shop::Quote;
use crate::wire::Served;

/// Where a watcher is in one node's stock feed. `StockSeen::default()` has seen nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StockSeen {
    /// Which feed: a node's process picks it at random when it starts, so versions of
    /// another run (or another node) never pass for this one's.
    pub feed: u64,
    /// The feed's last version this watcher has.
    pub version: u64,
}

/// A `watch_stock` answer: the asked products that changed after the watcher's `StockSeen`
/// (every one of them, for a watcher new to this feed), and where the watcher is now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StockNews {
    /// Ask again with this.
    pub seen: StockSeen,
    /// The products' quotes as the owner has them now; `created_at` and `age` say when it
    /// learnt them.
    pub quotes: Vec<Served<Quote>>,
    /// Asked products this node does not answer for (moved, being handed over, unknown):
    /// the watcher places them again.
    pub refused: Vec<(ProductId, ShardError)>,
}

impl StockNews {
    /// An answer that says nothing new (the long-poll ran out).
    pub fn is_empty(&self) -> bool {
        self.quotes.is_empty() && self.refused.is_empty()
    }
}
