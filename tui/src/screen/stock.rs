//! What live stock does to `App` (called by `update`): a products listing (merged with the
//! changes owners published since it was asked for, and followed from then on), the changes
//! owners publish (a row's stock, price and name, marked ▼ ▲ for a moment, `live` in its cache
//! column, its age from then), and an owner that stopped answering (its rows STALE until it
//! answers again). While the screen is frozen, published changes are not shown.

use std::time::Instant;

use ringshop_shared::{NodeId, ProductId, Quote, Served};

use super::app::{App, Cache, LogLine, ProductRow};
use super::effect::Effect;

impl App {
    pub(super) fn on_products(&mut self, rows: Vec<ProductRow>) -> Vec<Effect> {
        self.failing.remove("products");
        self.failing.remove("quotes");
        let mut rows = rows;
        for row in &mut rows {
            // A change published after this listing was asked for is newer than its quote.
            let newer = self
                .products
                .iter()
                .find(|p| p.id == row.id && p.cache == Cache::Live && p.seen_at > row.seen_at);
            if let Some(newer) = newer {
                *row = newer.clone();
            }
        }
        self.products = rows;
        self.clamp();
        let ids: Vec<ProductId> = self.products.iter().map(|p| p.id.clone()).collect();
        if ids.is_empty() || ids == self.following {
            return Vec::new();
        }
        self.following = ids.clone();
        vec![Effect::FollowStock(ids)]
    }

    /// Quotes an owner published, received at `at`: the rows whose stock, price or name
    /// moved change (and say so); one shown stale, or by another node, is live again.
    pub(super) fn on_stock(&mut self, quotes: Vec<Served<Quote>>, at: Instant) {
        if self.frozen {
            return;
        }
        for q in quotes {
            let product = &q.value.product;
            let Some(row) = self.products.iter_mut().find(|p| p.id == product.id) else {
                continue;
            };
            let stock = q.value.stock_left;
            let moved = row.stock != stock
                || row.price_cents != product.price_cents
                || row.name != product.name
                || row.category != product.category;
            if !moved && row.cache != Cache::Stale && row.node == q.node {
                continue;
            }
            if row.stock != stock {
                row.was = Some((row.stock, at));
            }
            row.stock = stock;
            row.price_cents = product.price_cents;
            row.name = product.name.clone();
            row.category = product.category.clone();
            row.node = q.node.clone();
            row.cache = Cache::Live;
            row.age = q.age;
            row.seen_at = at;
        }
        // The cart shows names and prices as the shop does.
        for line in &mut self.cart {
            if let Some(p) = self.products.iter().find(|p| p.id == line.product) {
                line.name = p.name.clone();
                line.price_cents = p.price_cents;
            }
        }
    }

    /// `node` stopped answering for `products`: their rows are its last word, stale. Logged
    /// once (the client says it once, until the node answers again); no toast: the members
    /// table says the node is down.
    pub(super) fn on_stock_lost(&mut self, node: NodeId, products: Vec<ProductId>, error: String) {
        if self.frozen {
            return;
        }
        for row in &mut self.products {
            if row.node == node && products.contains(&row.id) {
                row.cache = Cache::Stale;
            }
        }
        self.logged(LogLine {
            error: Some(error),
            ..LogLine::call(
                format!("live stock from {node}"),
                Some(node),
                Default::default(),
            )
        });
    }
}
