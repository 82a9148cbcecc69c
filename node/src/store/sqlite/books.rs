//! The shop's books on SQLite: holds (reservations), the sale and the audit. Every write is
//! one conditional statement; the rules that keep the books (a hold belongs to an open order's
//! line, held → released | sold once, the move to done sells and is done only when sold) are the
//! triggers of migrations 4, 6 and 8, so they hold for every writer and every interleaving of
//! nodes, not only for this code. Finishing an order is `Books::finish`'s own: one move.

use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::{OrderId, ProductId};
use rusqlite::Connection;

use super::writer::{execute, rows_of, write_error};
use super::{SqliteStore, query_error};
use crate::store::rows::{Cells, audit_from_row, hold_from_row, hold_state, stray_from_row, units};
use crate::store::{Audit, Books, HoldState, Reservation, Rule, StoreError, StrayHold, millis};

/// The product's stock left and the order's hold on it; None if there is no such product. On
/// the writer's connection, right after its write.
fn hold_of(
    c: &Connection,
    order: &str,
    product: &str,
) -> Result<Option<(u32, Option<HoldState>)>, StoreError> {
    const WHAT: &str = "reading a hold";
    let rows = rows_of(
        c,
        "SELECT p.stock_left, r.state FROM products p
         LEFT JOIN reservations r ON r.product = p.id AND r.order_id = ?1
         WHERE p.id = ?2",
        [order, product],
    )
    .map_err(write_error(WHAT))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let left = row.int(0).map_err(query_error(WHAT))?;
    let state = hold_state(WHAT, row.maybe_text(1).map_err(query_error(WHAT))?)?;
    Ok(Some((units(left), state)))
}

/// What an order's earlier hold on a product says, when inserting it again changed nothing.
fn earlier(
    order: OrderId,
    product: &ProductId,
    left: u32,
    state: Option<HoldState>,
) -> Result<Reservation, StoreError> {
    match state {
        Some(HoldState::Held) => Ok(Reservation::AlreadyHeld { left }),
        Some(HoldState::Released) => Err(StoreError::HoldReleased {
            order,
            product: product.clone(),
        }),
        Some(HoldState::Sold) => Ok(Reservation::Sold { left }),
        None => Err(StoreError::Query {
            what: "reserving stock",
            reason: format!("order {order} neither took nor had a hold on {product}"),
        }),
    }
}

fn unknown(product: &ProductId) -> StoreError {
    StoreError::UnknownProduct {
        product: product.clone(),
    }
}

/// The sale (`?1`: the order id): every held line of the paying order, all or nothing.
const SELL: &str = "UPDATE reservations SET state = 'sold'
     WHERE order_id = ?1 AND state = 'held'
       AND EXISTS (SELECT 1 FROM orders o WHERE o.id = ?1 AND o.stage = 'paying'
           AND (SELECT COUNT(*) FROM reservations h
                WHERE h.order_id = ?1 AND h.state IN ('held', 'sold'))
               = (SELECT COUNT(*) FROM order_lines l WHERE l.order_id = ?1))";

/// The order's holds, by product.
fn holds_on(c: &Connection, order: &str) -> Result<Vec<(ProductId, HoldState)>, StoreError> {
    const WHAT: &str = "reading an order's holds";
    let rows = rows_of(
        c,
        "SELECT product, state FROM reservations WHERE order_id = ?1 ORDER BY product",
        [order],
    )
    .map_err(write_error(WHAT))?;
    rows.iter().map(hold_from_row).collect()
}

#[async_trait]
impl Books for SqliteStore {
    /// `reserve_many` of one ask.
    async fn reserve(
        &self,
        order: OrderId,
        product: &ProductId,
        qty: u32,
    ) -> Result<Reservation, StoreError> {
        let mut answers = self.reserve_many(product, &[(order, qty)]).await;
        answers.pop().unwrap_or_else(|| {
            Err(StoreError::Query {
                what: "reserving stock",
                reason: "no answer for the one ask".into(),
            })
        })
    }

    /// `Books::reserve_many` as one write: one insert per ask, then one read of the stock left
    /// for all the asks that took a hold or found too little.
    async fn reserve_many(
        &self,
        product: &ProductId,
        asks: &[(OrderId, u32)],
    ) -> Vec<Result<Reservation, StoreError>> {
        const WHAT: &str = "reserving stock";
        /// What one insert came to; the first two wait for the stock left at the end.
        enum Tried {
            Held,
            /// Refused for want of stock: the quantity wanted.
            Short(u32),
            Known(Result<Reservation, StoreError>),
        }
        let now = self.now();
        let (product, owned) = (product.clone(), asks.to_vec());
        let answered = self
            .shop
            .write(move |c| {
                let p = product.as_str();
                let mut tried = Vec::with_capacity(owned.len());
                for (order, qty) in &owned {
                    let id = order.to_string();
                    let inserted = execute(
                        c,
                        "INSERT INTO reservations (order_id, product, qty, state, held_ms)
                         VALUES (?1, ?2, ?3, 'held', ?4)
                         ON CONFLICT (order_id, product) DO NOTHING",
                        rusqlite::params![id, p, qty, now],
                    );
                    tried.push(match inserted {
                        Ok(1) => Tried::Held,
                        // Held, released or sold before: read which.
                        Ok(_) => Tried::Known(match hold_of(c, &id, p) {
                            Ok(Some((left, state))) => earlier(*order, &product, left, state),
                            Ok(None) => Err(unknown(&product)),
                            Err(e) => Err(e),
                        }),
                        Err(e) => match write_error(WHAT)(e) {
                            StoreError::Refused {
                                rule: Rule::OutOfStock,
                                ..
                            } => Tried::Short(*qty),
                            StoreError::Refused {
                                rule: Rule::NoOpenOrderLine,
                                ..
                            } => Tried::Known(Err(StoreError::NoOpenOrder {
                                order: *order,
                                product: product.clone(),
                                qty: *qty,
                            })),
                            StoreError::Refused {
                                rule: Rule::UnknownProduct,
                                ..
                            } => Tried::Known(Err(unknown(&product))),
                            // The transaction is gone with this error: the group fails.
                            other if c.is_autocommit() => return Err(other),
                            other => Tried::Known(Err(other)),
                        },
                    });
                }
                let waiting = tried
                    .iter()
                    .any(|t| matches!(t, Tried::Held | Tried::Short(_)));
                let left = if waiting {
                    rows_of(c, "SELECT stock_left FROM products WHERE id = ?1", [p])
                        .map_err(write_error(WHAT))
                        .and_then(|rows| {
                            rows.first()
                                .map(|r| r.int(0).map_err(query_error(WHAT)))
                                .transpose()
                        })
                } else {
                    Ok(None)
                };
                Ok(tried
                    .into_iter()
                    .map(|t| match (t, &left) {
                        (Tried::Known(answer), _) => answer,
                        (_, Err(e)) => Err(e.clone()),
                        (_, Ok(None)) => Err(unknown(&product)),
                        (Tried::Held, Ok(Some(left))) => {
                            Ok(Reservation::Held { left: units(*left) })
                        }
                        (Tried::Short(wanted), Ok(Some(left))) => Err(StoreError::OutOfStock {
                            product: product.clone(),
                            wanted,
                            left: units(*left),
                        }),
                    })
                    .collect::<Vec<_>>())
            })
            .await;
        answered.unwrap_or_else(|e| asks.iter().map(|_| Err(e.clone())).collect())
    }

    async fn release(&self, order: OrderId, product: &ProductId) -> Result<bool, StoreError> {
        let (order, product) = (order.to_string(), product.to_string());
        self.shop
            .write(move |c| {
                execute(
                    c,
                    "UPDATE reservations SET state = 'released'
                     WHERE order_id = ?1 AND product = ?2 AND state = 'held'",
                    [order, product],
                )
                .map(|n| n > 0)
                .map_err(write_error("releasing stock"))
            })
            .await
    }

    async fn sell(&self, order: OrderId) -> Result<u64, StoreError> {
        let order = order.to_string();
        self.shop
            .write(move |c| {
                execute(c, SELL, [order])
                    .map(|n| n as u64)
                    .map_err(write_error("recording a sale"))
            })
            .await
    }

    /// Read as a write, in the writer's order: after every write sent before it committed.
    async fn holds(&self, order: OrderId) -> Result<Vec<(ProductId, HoldState)>, StoreError> {
        let order = order.to_string();
        self.shop.write(move |c| holds_on(c, &order)).await
    }

    async fn stray_holds(
        &self,
        older_than: Duration,
        limit: u32,
    ) -> Result<Vec<StrayHold>, StoreError> {
        const WHAT: &str = "listing stray holds";
        let held_before = self.now().saturating_sub(millis(older_than));
        let rows = sqlx::query(
            "SELECT r.order_id, r.product, r.qty, o.stage, r.held_ms FROM reservations r
             LEFT JOIN orders o ON o.id = r.order_id
             WHERE r.state = 'held' AND r.held_ms < ?1
               AND (o.id IS NULL OR o.stage IN ('done', 'failed'))
             ORDER BY r.held_ms LIMIT ?2",
        )
        .bind(held_before)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error(WHAT))?;
        rows.iter().map(stray_from_row).collect()
    }

    async fn release_stray(
        &self,
        order: OrderId,
        product: &ProductId,
        older_than: Duration,
    ) -> Result<bool, StoreError> {
        let held_before = self.now().saturating_sub(millis(older_than));
        let (order, product) = (order.to_string(), product.to_string());
        self.shop
            .write(move |c| {
                execute(
                    c,
                    "UPDATE reservations SET state = 'released'
                     WHERE order_id = ?1 AND product = ?2 AND state = 'held' AND held_ms < ?3
                       AND NOT EXISTS (SELECT 1 FROM orders o
                                       WHERE o.id = ?1 AND o.stage NOT IN ('done', 'failed'))",
                    rusqlite::params![order, product, held_before],
                )
                .map(|n| n > 0)
                .map_err(write_error("giving back a stray hold"))
            })
            .await
    }

    async fn audit(&self) -> Result<Vec<Audit>, StoreError> {
        const WHAT: &str = "auditing stock";
        let rows = sqlx::query(
            "SELECT p.id, p.initial, p.stock_left, p.sold,
                    COALESCE((SELECT SUM(r.qty) FROM reservations r
                              WHERE r.product = p.id AND r.state = 'held'), 0),
                    COALESCE((SELECT SUM(l.qty) FROM order_lines l
                              JOIN orders o ON o.id = l.order_id
                              WHERE l.product = p.id AND o.stage = 'done'), 0)
             FROM products p ORDER BY p.id",
        )
        .fetch_all(&mut *self.reader.get().await)
        .await
        .map_err(query_error(WHAT))?;
        rows.iter().map(audit_from_row).collect()
    }
}
