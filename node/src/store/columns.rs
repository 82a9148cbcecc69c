//! How both backends write an order in its columns: its lines as text (`mug:2,teapot:1`) and
//! its times as ms since the Unix epoch.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ringshop_shared::{OrderLine, ProductId};

/// The orders table's columns, in the order the row readers expect.
pub const ORDER_COLUMNS: &str =
    "id, customer, lines, total_cents, stage, reason, owner, created_ms, updated_ms, version";

/// `tea-kettle:2,mug:1`: product ids cannot hold ':' or ','.
pub fn encode_lines(lines: &[OrderLine]) -> String {
    lines
        .iter()
        .map(|l| format!("{}:{}", l.product, l.qty))
        .collect::<Vec<_>>()
        .join(",")
}

pub fn decode_lines(text: &str) -> Option<Vec<OrderLine>> {
    text.split(',')
        .map(|part| {
            let (product, qty) = part.split_once(':')?;
            Some(OrderLine {
                product: ProductId::new(product).ok()?,
                qty: qty.parse().ok()?,
            })
        })
        .collect()
}

pub fn at(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}
