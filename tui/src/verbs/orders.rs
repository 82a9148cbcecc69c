//! `ringshop order ID` and `ringshop orders`: orders as stored, one in detail or a list newest
//! first; with `--json` one document.

use ringshop_shared::Order;
use ringshop_shared::duration::short;
use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::shop::{items, money};
use serde_json::json;

use super::failure::Failure;
use super::output::{out, out_json};
use crate::client::Cluster;

/// An order as `--json` prints it (also each `buy` event's `order`). Its trace is
/// `checkout_trace_id` (the trace it was placed in): a verb's own `trace_id` is the trace of
/// the verb's action.
pub fn order_json(o: &Order) -> serde_json::Value {
    json!({
        "id": o.id.to_string(),
        "customer": o.customer,
        "stage": o.stage.as_str(),
        "reason": o.reason,
        "node": o.node.as_str(),
        "items": o.items(),
        "total_cents": o.total_cents,
        "lines": o.lines.iter().map(|l| json!({"product": l.product.as_str(), "qty": l.qty})).collect::<Vec<_>>(),
        "elapsed_ms": o.elapsed.as_millis() as u64,
        "checkout_trace_id": o.trace_id.map(|t| t.to_string()),
    })
}

/// `ringshop order ID` (the whole id, or an unambiguous prefix of it)
pub async fn one(cluster: &Cluster, id: &IdPrefix, json: bool) -> Result<(), Failure> {
    let id = cluster.resolve_order(id).await?;
    let o = cluster.order(id).await?;
    if json {
        out_json(order_json(&o));
    } else {
        out(format!("order    {}", o.id));
        out(format!("customer {}", o.customer));
        out(format!(
            "stage    {}{}",
            o.stage,
            o.reason
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
        out(format!("node     {}", o.node));
        if let Some(trace) = o.trace_id {
            out(format!("trace    {trace}"));
        }
        for l in &o.lines {
            out(format!("  {:>3} × {}", l.qty, l.product));
        }
        out(format!(
            "total    {}  ({}, {})",
            money(o.total_cents),
            items(o.items()),
            short(o.elapsed)
        ));
    }
    Ok(())
}

/// `ringshop orders [--customer NAME]`
pub async fn list(cluster: &Cluster, customer: Option<String>, json: bool) -> Result<(), Failure> {
    let list = cluster.orders(customer).await?;
    if json {
        out_json(json!({ "orders": list.iter().map(order_json).collect::<Vec<_>>() }));
        return Ok(());
    }
    out(format!(
        "{:<36}  {:<12} {:<9} {:<6} {:>5} {:>9}  {}",
        "order", "customer", "stage", "node", "items", "total", "trace"
    ));
    for o in &list {
        out(format!(
            "{:<36}  {:<12} {:<9} {:<6} {:>5} {:>9}  {}",
            o.id.to_string(),
            o.customer,
            o.stage.as_str(),
            o.node.as_str(),
            o.items(),
            money(o.total_cents),
            o.trace_id.map_or("-".to_string(), |t| t.short()),
        ));
    }
    if list.is_empty() {
        eprintln!("no orders yet; place one with `ringshop buy tea-kettle --yes`");
    }
    Ok(())
}
