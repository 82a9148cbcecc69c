//! `ringshop products`: the catalog with price and stock, each quoted by its owner (node,
//! cache, age), as a table or with `--json` one document.

use std::time::Duration;

use ringshop_shared::ProductId;
use ringshop_shared::duration::short;
use ringshop_shared::shop::money;
use serde_json::json;

use super::failure::{Failure, Kind};
use super::output::{out, out_json};
use crate::client::Cluster;

/// `ringshop products [--category C] [--search TEXT]`
pub async fn run(
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
            Kind::NotFound,
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
        out_json(json!({ "products": rows }));
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
