//! `ringshop products`: the catalog with price and stock, each quoted by its owner (node,
//! cache, age), as a table or with `--json` one document; with `--watch`, then every change
//! of their stock or price as their owners publish it (`Cluster::follow_stock`), one line each.

use std::collections::HashMap;
use std::time::Duration;

use ringshop_shared::duration::short;
use ringshop_shared::shop::money;
use ringshop_shared::{ProductId, Quote, Served};
use serde_json::json;

use super::failure::{Failure, Kind};
use super::output::{out, out_json};
use crate::client::{Cluster, StockEvent};

/// `--watch`: follow the products after the table, for at most `count` changes.
#[derive(Clone, Copy, Debug)]
pub struct Watch {
    pub count: Option<u64>,
}

/// `ringshop products [--category C] [--search TEXT] [--watch [--count N]]`
pub async fn run(
    cluster: &Cluster,
    category: Option<&str>,
    search: Option<&str>,
    json: bool,
    watch: Option<Watch>,
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
            Kind::NotFound,
            "no product matches; try without --category / --search",
        ));
    }
    let ids: Vec<ProductId> = chosen.iter().map(|p| p.id.clone()).collect();
    let quotes = cluster.quotes(&ids).await;
    let mut rows = Vec::new();
    let mut shown = HashMap::new();
    for (id, row) in quotes {
        match row {
            Ok(r) => {
                let q = &r.quote;
                shown.insert(id.clone(), q.value.clone());
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
        out_json(json!({ "products": rows }));
        return match watch {
            Some(watch) => follow(cluster, ids, shown, json, watch).await,
            None => Ok(()),
        };
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
    match watch {
        Some(watch) => follow(cluster, ids, shown, json, watch).await,
        None => Ok(()),
    }
}

/// Follows `ids` until Ctrl-C (or `watch.count` changes): a line for each change of a
/// product's stock, price or name from what was shown, and one when an owner stops answering.
async fn follow(
    cluster: &Cluster,
    ids: Vec<ProductId>,
    mut shown: HashMap<ProductId, Quote>,
    json: bool,
    watch: Watch,
) -> Result<(), Failure> {
    let mut events = cluster.follow_stock(ids);
    let mut changes = 0u64;
    while watch.count.is_none_or(|count| changes < count) {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => None,
        };
        match event {
            None => break,
            Some(StockEvent::Quotes { quotes, .. }) => {
                for q in quotes {
                    let was = shown.insert(q.value.product.id.clone(), q.value.clone());
                    if was.as_ref() != Some(&q.value) {
                        changes += 1;
                        out_change(&q, was.as_ref(), json);
                    }
                }
            }
            Some(StockEvent::Lost {
                node,
                products,
                error,
            }) => {
                if json {
                    let ids: Vec<&str> = products.iter().map(ProductId::as_str).collect();
                    out_json(json!({"event": "stale", "node": node.as_str(),
                        "products": ids, "error": error}));
                } else {
                    eprintln!(
                        "{node} does not answer ({error}); the stock of its {} products may be stale until it does",
                        products.len()
                    );
                }
            }
        }
    }
    Ok(())
}

/// One change: `teapot  stock 14 → 12  39.00  n2`, or a JSON line.
fn out_change(q: &Served<Quote>, was: Option<&Quote>, json: bool) {
    let (p, left) = (&q.value.product, q.value.stock_left);
    if json {
        out_json(json!({
            "event": "stock",
            "id": p.id.as_str(),
            "name": p.name,
            "stock": left,
            "was": was.map(|w| w.stock_left),
            "price_cents": p.price_cents,
            "was_price_cents": was.map(|w| w.product.price_cents),
            "node": q.node.as_str(),
            "age_ms": (q.age.as_secs_f64() * 1e6).round() / 1e3,
        }));
        return;
    }
    let stock = match was {
        Some(w) if w.stock_left != left => format!("stock {} → {left}", w.stock_left),
        _ => format!("stock {left}"),
    };
    let price = match was {
        Some(w) if w.product.price_cents != p.price_cents => format!(
            "price {} → {}",
            money(w.product.price_cents),
            money(p.price_cents)
        ),
        _ => money(p.price_cents),
    };
    out(format!(
        "{:<14} {:<18} {:<17} {}",
        p.id.as_str(),
        stock,
        price,
        q.node.as_str()
    ));
}
