//! The shop's books on PostgreSQL: holds (reservations) and the audit. The rules (a hold
//! belongs to an open order's line, held → released | sold once, done only when sold, stock
//! never below zero) are the migration's triggers and functions, under one lock order, so
//! they hold for every writer and every interleaving of nodes.

use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::{OrderId, ProductId};
use sqlx::Row;

use super::{PgStore, query_error};
use crate::store::rows::{audit_from_row, count, hold_from_row, hold_state, stray_from_row, units};
use crate::store::{Audit, Books, HoldState, Reservation, Rule, StoreError, StrayHold, millis};

#[async_trait]
impl Books for PgStore {
    async fn reserve(
        &self,
        order: OrderId,
        product: &ProductId,
        qty: u32,
    ) -> Result<Reservation, StoreError> {
        const WHAT: &str = "reserving stock";
        // One round trip: the insert (its triggers check the line and take the stock in the
        // same statement) and a reading of the outcome.
        let row = sqlx::query(
            "SELECT outcome, stock, hold
             FROM ringshop_reserve($1, $2, $3, COALESCE($4::bigint, ringshop_now_ms()))",
        )
        .bind(order.to_string())
        .bind(product.as_str())
        .bind(i64::from(qty))
        .bind(self.now())
        .fetch_one(&self.shop)
        .await
        .map_err(query_error(WHAT))?;
        let outcome: String = row.try_get(0).map_err(query_error(WHAT))?;
        let left: Option<i64> = row.try_get(1).map_err(query_error(WHAT))?;
        let state: Option<String> = row.try_get(2).map_err(query_error(WHAT))?;
        let state = hold_state(WHAT, state)?;
        let refused = |rule| match rule {
            Rule::NoOpenOrderLine => StoreError::NoOpenOrder {
                order,
                product: product.clone(),
                qty,
            },
            Rule::UnknownProduct => StoreError::UnknownProduct {
                product: product.clone(),
            },
            rule => StoreError::Refused { what: WHAT, rule },
        };
        let Some(left) = left.map(units) else {
            return Err(match Rule::raised(&outcome) {
                Some(Rule::NoOpenOrderLine) => refused(Rule::NoOpenOrderLine),
                _ => refused(Rule::UnknownProduct),
            });
        };
        match (outcome.as_str(), state) {
            ("fresh", _) => Ok(Reservation::Held { left }),
            ("existing", Some(HoldState::Held)) => Ok(Reservation::AlreadyHeld { left }),
            ("existing", Some(HoldState::Released)) => Err(StoreError::HoldReleased {
                order,
                product: product.clone(),
            }),
            ("existing", Some(HoldState::Sold)) => Ok(Reservation::Sold { left }),
            ("existing", None) => Err(StoreError::Query {
                what: WHAT,
                reason: format!("order {order} neither took nor had a hold on {product}"),
            }),
            // The function caught its insert's RAISE and answers its message.
            (other, _) => Err(match Rule::raised(other) {
                Some(Rule::OutOfStock) => StoreError::OutOfStock {
                    product: product.clone(),
                    wanted: qty,
                    left,
                },
                Some(rule) => refused(rule),
                None => StoreError::Query {
                    what: WHAT,
                    reason: other.to_string(),
                },
            }),
        }
    }

    async fn release(&self, order: OrderId, product: &ProductId) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT ringshop_release($1, $2)")
            .bind(order.to_string())
            .bind(product.as_str())
            .fetch_one(&self.shop)
            .await
            .map_err(query_error("releasing stock"))
    }

    async fn sell(&self, order: OrderId) -> Result<u64, StoreError> {
        let sold: i64 = sqlx::query_scalar("SELECT ringshop_sell($1)")
            .bind(order.to_string())
            .fetch_one(&self.shop)
            .await
            .map_err(query_error("recording a sale"))?;
        Ok(count(sold))
    }

    async fn holds(&self, order: OrderId) -> Result<Vec<(ProductId, HoldState)>, StoreError> {
        const WHAT: &str = "reading an order's holds";
        let rows = sqlx::query(
            "SELECT product, state FROM reservations WHERE order_id = $1 ORDER BY product",
        )
        .bind(order.to_string())
        .fetch_all(&self.shop)
        .await
        .map_err(query_error(WHAT))?;
        rows.iter().map(hold_from_row).collect()
    }

    async fn stray_holds(
        &self,
        older_than: Duration,
        limit: u32,
    ) -> Result<Vec<StrayHold>, StoreError> {
        const WHAT: &str = "listing stray holds";
        let rows = sqlx::query(
            "SELECT r.order_id, r.product, r.qty, o.stage, r.held_ms FROM reservations r
             LEFT JOIN orders o ON o.id = r.order_id
             WHERE r.state = 'held'
               AND r.held_ms < COALESCE($1::bigint, ringshop_now_ms()) - $2
               AND (o.id IS NULL OR o.stage IN ('done', 'failed'))
             ORDER BY r.held_ms LIMIT $3",
        )
        .bind(self.now())
        .bind(millis(older_than))
        .bind(i64::from(limit))
        .fetch_all(&self.shop)
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
        sqlx::query_scalar(
            "SELECT ringshop_release_stray($1, $2,
                 COALESCE($3::bigint, ringshop_now_ms()) - $4)",
        )
        .bind(order.to_string())
        .bind(product.as_str())
        .bind(self.now())
        .bind(millis(older_than))
        .fetch_one(&self.shop)
        .await
        .map_err(query_error("giving back a stray hold"))
    }

    async fn audit(&self) -> Result<Vec<Audit>, StoreError> {
        const WHAT: &str = "auditing stock";
        // One statement: one snapshot of every table it reads.
        let rows = sqlx::query(
            "SELECT p.id, p.initial, p.stock_left, p.sold,
                    COALESCE((SELECT SUM(r.qty) FROM reservations r
                              WHERE r.product = p.id AND r.state = 'held'), 0)::bigint,
                    COALESCE((SELECT SUM(l.qty) FROM order_lines l
                              JOIN orders o ON o.id = l.order_id
                              WHERE l.product = p.id AND o.stage = 'done'), 0)::bigint
             FROM products p ORDER BY p.id",
        )
        .fetch_all(&self.shop)
        .await
        .map_err(query_error(WHAT))?;
        rows.iter().map(audit_from_row).collect()
    }
}
