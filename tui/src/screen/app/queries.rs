//! The queries views and `update` ask of `App`: what a list shows after its filter, category
//! and sort, which node is selected, how long a list is. Reads only (except for keeping a
//! selection in range, which `update` asks for).

use std::cmp::Ordering;

use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, Order, OrderId};

use super::App;
use super::mode::{DemoPass, ListState};
use super::rows::{CartLine, ProductRow, SortColumn, Tab};
use crate::client::MemberRow;
use crate::client::demo::Row;

impl App {
    pub fn visible_products(&self) -> Vec<&ProductRow> {
        let f = self.shop.filter.to_lowercase();
        self.products
            .iter()
            .filter(|p| self.category.as_ref().is_none_or(|c| &p.category == c))
            .filter(|p| {
                f.is_empty() || p.name.to_lowercase().contains(&f) || p.id.as_str().contains(&f)
            })
            .collect()
    }

    pub fn visible_cart(&self) -> Vec<&CartLine> {
        let f = self.cart_list.filter.to_lowercase();
        self.cart
            .iter()
            .filter(|l| {
                f.is_empty()
                    || l.name.to_lowercase().contains(&f)
                    || l.product.as_str().contains(&f)
            })
            .collect()
    }

    /// The orders the filter matches: by stage, node, or a piece of the order's id or its
    /// trace's id (typed with or without the id's dashes).
    pub fn visible_orders(&self) -> Vec<&Order> {
        let f = self.orders_list.filter.to_lowercase();
        let digits = f.replace('-', "");
        let in_id = |o: &Order| {
            o.id.to_string().contains(&f)
                || (!digits.is_empty() && o.id.0.simple().to_string().contains(&digits))
                || o.trace_id
                    .is_some_and(|t| !digits.is_empty() && t.to_string().contains(&digits))
        };
        self.orders
            .iter()
            .filter(|o| {
                f.is_empty()
                    || in_id(o)
                    || o.stage.as_str().contains(&f)
                    || o.node.as_str().contains(&f)
            })
            .collect()
    }

    /// The trace order `id` was placed in: as the order says (every order read from the
    /// cluster carries it), else as this session's checkout of it recorded it.
    pub fn trace_of_order(&self, id: OrderId) -> Option<TraceId> {
        self.order_by_id(id)
            .and_then(|o| o.trace_id)
            .or_else(|| self.order_traces.get(&id).copied())
    }

    /// Order `id` as this screen last saw it: listed, being checked out, or found by its id.
    pub fn order_by_id(&self, id: OrderId) -> Option<&Order> {
        let checking_out = self.checkout.as_ref().map(|(o, _)| o);
        self.orders
            .iter()
            .chain(checking_out)
            .chain(self.looked_up.as_ref())
            .find(|o| o.id == id)
    }

    /// Members in the table's order (sorted), filtered.
    pub fn visible_members(&self) -> Vec<&MemberRow> {
        let f = self.cluster.filter.to_lowercase();
        let mut rows: Vec<&MemberRow> = self
            .members
            .iter()
            .filter(|m| {
                f.is_empty()
                    || m.name.as_str().contains(&f)
                    || m.state.word().to_lowercase().contains(&f)
            })
            .collect();
        rows.sort_by(|a, b| {
            let order = match self.sort {
                SortColumn::State => a.state.cmp(&b.state),
                SortColumn::Share => a.share.total_cmp(&b.share),
                SortColumn::Actors => {
                    let actors = |m: &MemberRow| m.stats.as_ref().map(|s| s.live_actors);
                    actors(a).cmp(&actors(b))
                }
                SortColumn::HitRate => {
                    let rate = |m: &MemberRow| m.stats.as_ref().and_then(|s| s.hit_percent());
                    rate(a).partial_cmp(&rate(b)).unwrap_or(Ordering::Equal)
                }
                SortColumn::P99 => {
                    let p99 = |m: &MemberRow| self.history.get(&m.name).and_then(|h| h.p99);
                    p99(a).cmp(&p99(b))
                }
                SortColumn::Rate => {
                    let rate = |m: &MemberRow| self.history.get(&m.name).and_then(|h| h.rate());
                    rate(a).partial_cmp(&rate(b)).unwrap_or(Ordering::Equal)
                }
                SortColumn::Name => a.name.cmp(&b.name),
            };
            order.then_with(|| a.name.cmp(&b.name))
        });
        if self.sort_reversed {
            rows.reverse();
        }
        rows
    }

    /// The node under the cluster selection.
    pub(crate) fn selected_member(&self) -> Option<NodeId> {
        self.visible_members()
            .get(self.cluster.selected)
            .map(|m| m.name.clone())
    }

    /// Keeps the selection on the same node (not the same row) after a refresh or re-sort.
    pub(crate) fn follow_member(&mut self, name: Option<NodeId>) {
        let index = name.and_then(|n| self.visible_members().iter().position(|m| m.name == n));
        match index {
            Some(i) => self.cluster.selected = i,
            None => self.clamp(),
        }
    }

    /// Units in the cart, over all its lines.
    pub fn cart_items(&self) -> u32 {
        self.cart.iter().map(|l| l.qty).sum()
    }

    pub fn cart_total(&self) -> u64 {
        self.cart
            .iter()
            .map(|l| l.price_cents * u64::from(l.qty))
            .sum()
    }

    pub(crate) fn list_len(&self) -> usize {
        match self.tab {
            Tab::Shop => self.visible_products().len(),
            Tab::Cart => self.visible_cart().len(),
            Tab::Orders => self.visible_orders().len(),
            Tab::Cluster => self.visible_members().len(),
            Tab::Demo => self.visible_demo().iter().map(|(_, rows)| rows.len()).sum(),
        }
    }

    /// The focused tab's list (every tab has one; the Demo tab's is its passes' rows).
    pub fn list(&self) -> &ListState {
        match self.tab {
            Tab::Shop => &self.shop,
            Tab::Cart => &self.cart_list,
            Tab::Orders => &self.orders_list,
            Tab::Cluster => &self.cluster,
            Tab::Demo => &self.demo_list,
        }
    }

    pub(crate) fn list_mut(&mut self) -> &mut ListState {
        match self.tab {
            Tab::Shop => &mut self.shop,
            Tab::Cart => &mut self.cart_list,
            Tab::Orders => &mut self.orders_list,
            Tab::Cluster => &mut self.cluster,
            Tab::Demo => &mut self.demo_list,
        }
    }

    /// The demo's passes with their rows that match the filter (id, node, cache, note);
    /// a pass with none is left out.
    pub fn visible_demo(&self) -> Vec<(&DemoPass, Vec<&Row>)> {
        let f = self.demo_list.filter.to_lowercase();
        self.demo
            .passes
            .iter()
            .map(|p| {
                let rows = p
                    .pass
                    .rows
                    .iter()
                    .filter(|r| {
                        f.is_empty()
                            || r.cells()
                                .iter()
                                .any(|cell| cell.to_lowercase().contains(&f))
                    })
                    .collect::<Vec<_>>();
                (p, rows)
            })
            .filter(|(_, rows)| !rows.is_empty())
            .collect()
    }

    /// Rows of all demo passes, for "n of m".
    pub fn demo_rows(&self) -> usize {
        self.demo.passes.iter().map(|p| p.pass.rows.len()).sum()
    }
}
