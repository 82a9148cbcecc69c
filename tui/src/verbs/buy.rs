//! `ringshop buy`: place an order and follow its checkout (`Cluster::follow_order`) stage by
//! stage until it is bought or fails; progress on stderr, or one JSON line per event.

use std::io::{BufRead, IsTerminal, Write};
use std::time::{Duration, Instant};

use futures::StreamExt;
use ringshop_shared::duration::short;
use ringshop_shared::shop::{GUEST, items as items_text, money};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, OrderLine, Stage};
use serde_json::json;

use super::failure::{Failure, Kind};
use super::output::{out, out_json};
use crate::client::{Cluster, parse_line};

/// How long `buy` follows an order before giving up on it (it goes on in the cluster).
const FOLLOW_FOR: Duration = Duration::from_secs(120);

const NEEDS_YES: &str = "buy places an order; pass --yes to confirm when stdin is not a terminal";

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

/// The order lines `items` name (`PRODUCT[:QTY]`), checked before any cluster is asked (a
/// usage error is one whatever the cluster's state), as is the rule that off a terminal only
/// `--yes` confirms.
pub fn lines(items: &[String], yes: bool) -> Result<Vec<OrderLine>, Failure> {
    if !yes && !std::io::stdin().is_terminal() {
        return Err(Failure::usage(NEEDS_YES));
    }
    let lines: Vec<OrderLine> = items
        .iter()
        .map(|i| parse_line(i))
        .collect::<Result<_, _>>()
        .map_err(Failure::usage)?;
    if lines.is_empty() {
        return Err(Failure::usage(
            "name at least one product, e.g. `ringshop buy tea-kettle:2`",
        ));
    }
    Ok(lines)
}

/// `ringshop buy PRODUCT[:QTY]... [--customer NAME] [--yes]`
pub async fn run(
    cluster: &Cluster,
    lines: Vec<OrderLine>,
    customer: Option<String>,
    yes: bool,
    json: bool,
) -> Result<(), Failure> {
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(NEEDS_YES));
        }
        let summary: Vec<String> = lines
            .iter()
            .map(|l| format!("{} × {}", l.qty, l.product))
            .collect();
        if !confirm(&format!("Buy {}?", summary.join(", "))) {
            // A person's "no" is an answer, not a failure.
            eprintln!("not bought");
            return Ok(());
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
    report_stage(&current, &accepted.report.node, started, json);
    let mut stages = cluster.follow_order(current.clone());
    while !current.stage.is_final() {
        let left = FOLLOW_FOR.saturating_sub(started.elapsed());
        let next = match tokio::time::timeout(left, stages.next()).await {
            Ok(Some(next)) => next?,
            Ok(None) => break,
            Err(_) => {
                return Err(Failure::new(
                    Kind::Timeout,
                    format!(
                        "order {} is still {} after {:?}; see `ringshop order {}`",
                        current.id, current.stage, FOLLOW_FOR, current.id
                    ),
                ));
            }
        };
        let moved = next.value.stage != current.stage;
        current = next.value;
        if moved {
            report_stage(&current, &next.report.node, started, json);
        } else {
            report_waiting(&current, started, json);
        }
    }
    let took = started.elapsed();
    match current.stage {
        Stage::Done => {
            if json {
                out_json(
                    json!({"event": "bought", "order": current.id.to_string(), "node": current.node.as_str(),
                    "items": current.items(), "total_cents": current.total_cents, "elapsed_ms": took.as_millis() as u64}),
                );
            } else {
                out(format!(
                    "bought {} on {} in {:.1} s (order {}, total {})",
                    items_text(current.items()),
                    current.node,
                    took.as_secs_f64(),
                    current.id,
                    money(current.total_cents)
                ));
            }
            Ok(())
        }
        _ => Err(Failure::new(
            Kind::Refused,
            format!(
                "order {} failed: {}",
                current.id,
                current.reason.unwrap_or_default()
            ),
        )),
    }
}

/// The checkout started (or stopped) waiting on a member that does not answer it.
fn report_waiting(order: &Order, started: Instant, json: bool) {
    let at = started.elapsed();
    let on = order.waiting.as_ref().map(NodeId::as_str);
    if json {
        out_json(
            json!({"event": "waiting", "order": order.id.to_string(), "stage": order.stage.as_str(),
            "on": on, "elapsed_ms": at.as_millis() as u64}),
        );
    } else {
        match on {
            Some(on) => eprintln!(
                "{:>8}  {:<9} waiting for {on}: it does not answer {}; the order fails cleanly if it stays out of reach",
                short(at),
                order.stage.as_str(),
                order.node
            ),
            None => eprintln!(
                "{:>8}  {:<9} no longer waiting",
                short(at),
                order.stage.as_str()
            ),
        }
    }
}

fn report_stage(order: &Order, node: &NodeId, started: Instant, json: bool) {
    let at = started.elapsed();
    if json {
        out_json(
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
