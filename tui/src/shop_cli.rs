//! The shop's headless verbs: `products`, `buy`, `order`, `orders`. Data on stdout (a table,
//! or JSON with `--json`), progress and messages on stderr.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use ringshop_shared::duration::short;
use ringshop_shared::shop::{GUEST, money};
use ringshop_shared::{NewOrder, Order, OrderId, OrderLine, ProductId, Stage};
use serde_json::json;

use crate::cli::Failure;
use crate::cluster::{Cluster, parse_line};

/// How long `buy` follows an order before giving up on it (it goes on in the cluster).
const FOLLOW_FOR: Duration = Duration::from_secs(120);

fn out(line: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// `ringshop products [--category C] [--search TEXT]`
pub async fn products(
    cluster: &Cluster,
    category: Option<&str>,
    search: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    let catalog = cluster.catalog().await?;
    let search = search.map(str::to_lowercase);
    let chosen: Vec<_> = catalog
        .into_iter()
        .filter(|p| category.is_none_or(|c| p.category == c))
        .filter(|p| {
            search
                .as_deref()
                .is_none_or(|s| p.name.to_lowercase().contains(s) || p.id.as_str().contains(s))
        })
        .collect();
    if chosen.is_empty() {
        return Err(Failure::new(
            4,
            "not_found",
            "no product matches; try without --category / --search",
        ));
    }
    let ids: Vec<ProductId> = chosen.iter().map(|p| p.id.clone()).collect();
    let quotes = cluster.quotes(&ids).await;
    let mut rows = Vec::new();
    for (id, row) in quotes {
        match row {
            Ok(r) => {
                let q = &r.quote;
                rows.push(json!({
                    "id": id.as_str(),
                    "name": q.value.product.name,
                    "category": q.value.product.category,
                    "price_cents": q.value.product.price_cents,
                    "stock": q.value.stock_left,
                    "node": q.node.as_str(),
                    "hit": q.hit,
                    "age_ms": (q.age.saturating_add(r.seen_ago).as_secs_f64() * 1e6).round() / 1e3,
                    "stale": r.stale,
                }));
            }
            Err(e) => rows.push(json!({ "id": id.as_str(), "error": e.to_string() })),
        }
    }
    if json {
        out(json!({ "products": rows }));
        return Ok(());
    }
    out(format!(
        "{:<14} {:<30} {:<8} {:>8} {:>6}  {:<6} {:<5} {:>8}",
        "id", "name", "category", "price", "stock", "node", "cache", "age"
    ));
    for r in &rows {
        if let Some(e) = r["error"].as_str() {
            out(format!(
                "{:<14} error: {e}",
                r["id"].as_str().unwrap_or("?")
            ));
            continue;
        }
        let age = Duration::from_secs_f64(r["age_ms"].as_f64().unwrap_or(0.0).max(0.0) / 1e3);
        let cache = match (r["stale"].as_bool(), r["hit"].as_bool()) {
            (Some(true), _) => "STALE",
            (_, Some(true)) => "hit",
            _ => "miss",
        };
        out(format!(
            "{:<14} {:<30} {:<8} {:>8} {:>6}  {:<6} {:<5} {:>8}",
            r["id"].as_str().unwrap_or("?"),
            r["name"].as_str().unwrap_or("?"),
            r["category"].as_str().unwrap_or("?"),
            money(r["price_cents"].as_u64().unwrap_or(0)),
            r["stock"]
                .as_u64()
                .map_or("-".to_string(), |n| n.to_string()),
            r["node"].as_str().unwrap_or("?"),
            cache,
            short(age),
        ));
    }
    Ok(())
}

/// Asks "y/N" on the terminal; true only for an explicit yes.
fn confirm(question: &str) -> bool {
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// `ringshop buy PRODUCT[:QTY]... [--customer NAME] [--yes]`
pub async fn buy(
    cluster: &Cluster,
    items: &[String],
    customer: Option<String>,
    yes: bool,
    json: bool,
) -> Result<(), Failure> {
    let lines: Vec<OrderLine> = items
        .iter()
        .map(|i| parse_line(i))
        .collect::<Result<_, _>>()
        .map_err(|e| Failure::new(2, "usage", e))?;
    if lines.is_empty() {
        return Err(Failure::new(
            2,
            "usage",
            "name at least one product, e.g. `ringshop buy tea-kettle:2`",
        ));
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::new(
                2,
                "usage",
                "buy places an order; pass --yes to confirm when stdin is not a terminal",
            ));
        }
        let summary: Vec<String> = lines
            .iter()
            .map(|l| format!("{} × {}", l.qty, l.product))
            .collect();
        if !confirm(&format!("Buy {}?", summary.join(", "))) {
            return Err(Failure::new(1, "cancelled", "not bought"));
        }
    }
    let order = NewOrder {
        id: OrderId::random(),
        customer: customer.unwrap_or_else(|| GUEST.to_string()),
        lines,
    };
    let started = Instant::now();
    let accepted = cluster.checkout(&order).await?;
    let mut current = accepted.value;
    let mut node = accepted.report.node;
    report_stage(&current, &node, started, json);
    while !current.stage.is_final() {
        if started.elapsed() > FOLLOW_FOR {
            return Err(Failure::new(
                1,
                "timeout",
                format!(
                    "order {} is still {} after {:?}; see `ringshop order {}`",
                    current.id, current.stage, FOLLOW_FOR, current.id
                ),
            ));
        }
        let seen = current.stage;
        let next = cluster.watch_order(current.id, seen).await?;
        node = next.report.node;
        current = next.value;
        if current.stage != seen {
            report_stage(&current, &node, started, json);
        }
    }
    let took = started.elapsed();
    match current.stage {
        Stage::Done => {
            let message = format!(
                "bought {} items on {} in {:.1} s",
                current.items(),
                current.node,
                took.as_secs_f64()
            );
            if json {
                out(
                    json!({"event": "bought", "order": current.id.to_string(), "node": current.node.as_str(),
                    "items": current.items(), "total_cents": current.total_cents, "elapsed_ms": took.as_millis() as u64}),
                );
            } else {
                out(format!(
                    "{message} (order {}, total {})",
                    current.id,
                    money(current.total_cents)
                ));
            }
            Ok(())
        }
        _ => Err(Failure::new(
            5,
            "refused",
            format!(
                "order {} failed: {}",
                current.id,
                current.reason.unwrap_or_default()
            ),
        )),
    }
}

fn report_stage(order: &Order, node: &ringshop_shared::NodeId, started: Instant, json: bool) {
    let at = started.elapsed();
    if json {
        out(
            json!({"event": "stage", "order": order.id.to_string(), "stage": order.stage.as_str(),
            "node": node.as_str(), "elapsed_ms": at.as_millis() as u64}),
        );
    } else {
        eprintln!(
            "{:>8}  {:<9} on {node}  (order {})",
            short(at),
            order.stage.as_str(),
            order.id
        );
    }
}

fn order_json(o: &Order) -> serde_json::Value {
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
    })
}

/// `ringshop order ID`
pub async fn order(cluster: &Cluster, id: &str, json: bool) -> Result<(), Failure> {
    let id: OrderId = id
        .parse()
        .map_err(|e: ringshop_shared::ids::InvalidOrderId| {
            Failure::new(2, "usage", e.to_string())
        })?;
    let o = cluster.order(id).await?;
    if json {
        out(order_json(&o));
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
        for l in &o.lines {
            out(format!("  {:>3} × {}", l.qty, l.product));
        }
        out(format!(
            "total    {}  ({} items, {})",
            money(o.total_cents),
            o.items(),
            short(o.elapsed)
        ));
    }
    Ok(())
}

/// `ringshop orders [--customer NAME]`
pub async fn orders(
    cluster: &Cluster,
    customer: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let list = cluster.orders(customer).await?;
    if json {
        out(json!({ "orders": list.iter().map(order_json).collect::<Vec<_>>() }));
        return Ok(());
    }
    out(format!(
        "{:<36}  {:<12} {:<9} {:<6} {:>5} {:>9}",
        "order", "customer", "stage", "node", "items", "total"
    ));
    for o in &list {
        out(format!(
            "{:<36}  {:<12} {:<9} {:<6} {:>5} {:>9}",
            o.id.to_string(),
            o.customer,
            o.stage.as_str(),
            o.node.as_str(),
            o.items(),
            money(o.total_cents)
        ));
    }
    if list.is_empty() {
        eprintln!("no orders yet; place one with `ringshop buy tea-kettle --yes`");
    }
    Ok(())
}
