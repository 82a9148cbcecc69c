//! The shop's wire types: products and their quotes, orders and the stages of their checkout,
//! and the limits every side checks (the client before sending, the node again on receipt).

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::error::ShardError;
use crate::ids::{NodeId, OrderId, ProductId};
use crate::trace::TraceId;

/// Most units of one product in one order line.
pub const MAX_QTY_PER_LINE: u32 = 20;
/// Most lines in one order.
pub const MAX_LINES: usize = 20;
/// Longest customer name.
pub const MAX_CUSTOMER: usize = 40;
/// The customer of an order placed without a name.
pub const GUEST: &str = "guest";

/// Cents as every table shows money: `3450` → `34.50`.
pub fn money(cents: u64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// "1 item", "3 items".
pub fn items(n: u32) -> String {
    match n {
        1 => "1 item".into(),
        n => format!("{n} items"),
    }
}

/// A catalog entry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub category: String,
    pub price_cents: u64,
}

/// A product with its stock now, as its owner's actor keeps it (within the TTL).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub product: Product,
    pub stock_left: u32,
}

/// What came of holding stock for one line of an order that has it: the same value from the
/// store, from the product's actor on its owner, and from the `reserve` RPC, so a checkout
/// handles a local and a remote hold with one match. Every refusal (out of stock, unknown
/// product, no open order, a released hold) is a typed `ShardError`, not a variant here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reservation {
    /// Held now, by this call: the stock left after it.
    Held { left: u32 },
    /// This order held it already (an earlier call for it): nothing changed.
    AlreadyHeld { left: u32 },
    /// This order bought it already: nothing changed.
    Sold { left: u32 },
}

impl Reservation {
    /// The product's stock left, as the store answered.
    pub fn left(self) -> u32 {
        match self {
            Reservation::Held { left }
            | Reservation::AlreadyHeld { left }
            | Reservation::Sold { left } => left,
        }
    }
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product: ProductId,
    pub qty: u32,
}

/// What a client submits; the id is the client's, so a resubmission is the same order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewOrder {
    pub id: OrderId,
    pub customer: String,
    pub lines: Vec<OrderLine>,
}

impl NewOrder {
    /// Checks the shape of the order (not stock or product existence, which need the store).
    pub fn validate(&self) -> Result<(), ShardError> {
        if self.lines.is_empty() {
            return Err(ShardError::EmptyOrder);
        }
        if self.lines.len() > MAX_LINES {
            return Err(ShardError::TooMany {
                what: "order lines".into(),
                got: self.lines.len(),
                max: MAX_LINES,
            });
        }
        for (i, line) in self.lines.iter().enumerate() {
            if line.qty == 0 || line.qty > MAX_QTY_PER_LINE {
                return Err(ShardError::BadQuantity {
                    product: line.product.clone(),
                    qty: line.qty,
                    max: MAX_QTY_PER_LINE,
                });
            }
            if self.lines[..i].iter().any(|l| l.product == line.product) {
                return Err(ShardError::Invalid {
                    what: format!(
                        "{} appears twice; put the quantities on one line",
                        line.product
                    ),
                });
            }
        }
        let customer_ok = !self.customer.is_empty()
            && self.customer.chars().count() <= MAX_CUSTOMER
            && self
                .customer
                .chars()
                .all(|c| c.is_alphanumeric() || " -_.@".contains(c));
        if !customer_ok {
            return Err(ShardError::Invalid {
                what: format!(
                    "customer {:?}: use 1-{MAX_CUSTOMER} letters, digits, spaces or -_.@",
                    self.customer
                ),
            });
        }
        Ok(())
    }
}

/// Where an order's checkout is. It only moves forward; `Done` and `Failed` are final.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Stage {
    Accepted,
    Reserving,
    Paying,
    Done,
    Failed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Accepted => "accepted",
            Stage::Reserving => "reserving",
            Stage::Paying => "paying",
            Stage::Done => "done",
            Stage::Failed => "failed",
        }
    }

    pub fn parse(word: &str) -> Option<Stage> {
        [
            Stage::Accepted,
            Stage::Reserving,
            Stage::Paying,
            Stage::Done,
            Stage::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == word)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Stage::Done | Stage::Failed)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub id: OrderId,
    pub customer: String,
    pub lines: Vec<OrderLine>,
    pub total_cents: u64,
    pub stage: Stage,
    /// Why it failed, when it did.
    pub reason: Option<String>,
    /// The node running (or that ran) its checkout.
    pub node: NodeId,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    /// From creation to the last stage change.
    pub elapsed: Duration,
    /// The member its checkout has waited on for a while without an answer (paused, or cut
    /// off from the node running the checkout), while it waits. Known only to the job running
    /// the checkout: never stored, None in every read from the store.
    pub waiting: Option<NodeId>,
    /// The trace it was placed in (its checkout's: `ringshop trace` shows it), when that call
    /// was traced.
    pub trace_id: Option<TraceId>,
}

impl Order {
    pub fn items(&self) -> u32 {
        self.lines.iter().map(|l| l.qty).sum()
    }

    /// How far it has come, as one following it sees it.
    pub fn progress(&self) -> Progress {
        Progress {
            stage: self.stage,
            waiting: self.waiting.clone(),
        }
    }
}

/// How far an order has come, as a buyer following it sees it: its stage, and the member its
/// checkout waits on, if it waits on one (`Order::waiting`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub stage: Stage,
    pub waiting: Option<NodeId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lines: Vec<(&str, u32)>, customer: &str) -> NewOrder {
        NewOrder {
            id: OrderId::random(),
            customer: customer.into(),
            lines: lines
                .into_iter()
                .map(|(p, qty)| OrderLine {
                    product: ProductId::new(p).expect("valid"),
                    qty,
                })
                .collect(),
        }
    }

    #[test]
    fn money_has_two_decimals() {
        assert_eq!(
            (money(3450), money(7), money(0)),
            ("34.50".into(), "0.07".into(), "0.00".into())
        );
    }

    #[test]
    fn a_good_order_passes() {
        assert_eq!(
            order(vec![("tea-kettle", 2), ("mug", 1)], "ada").validate(),
            Ok(())
        );
    }

    #[test]
    fn bad_orders_are_named_errors() {
        assert_eq!(order(vec![], "ada").validate(), Err(ShardError::EmptyOrder));
        for qty in [0, MAX_QTY_PER_LINE + 1] {
            let err = order(vec![("mug", qty)], "ada")
                .validate()
                .expect_err("bad qty");
            assert!(matches!(err, ShardError::BadQuantity { .. }), "{err}");
            assert!(err.to_string().contains("mug"));
        }
        let twice = order(vec![("mug", 1), ("mug", 2)], "ada").validate();
        assert!(matches!(twice, Err(ShardError::Invalid { .. })));
        let nameless = order(vec![("mug", 1)], "").validate();
        assert!(matches!(nameless, Err(ShardError::Invalid { .. })));
        let many: Vec<(String, u32)> = (0..=MAX_LINES).map(|i| (format!("p{i}"), 1)).collect();
        let many = order(many.iter().map(|(p, q)| (p.as_str(), *q)).collect(), "ada");
        assert!(matches!(many.validate(), Err(ShardError::TooMany { .. })));
    }

    #[test]
    fn stages_only_count_forward_and_two_are_final() {
        assert!(Stage::Accepted < Stage::Reserving && Stage::Reserving < Stage::Paying);
        assert!(Stage::Done.is_final() && Stage::Failed.is_final() && !Stage::Paying.is_final());
        assert_eq!(Stage::parse("paying"), Some(Stage::Paying));
    }
}
