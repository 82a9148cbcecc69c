//! `ringshop trace ID`: one trace as a waterfall, gathered from every reachable member (and
//! this process), as a table or with `--json` one document.

use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::trace::SpanStatus;
use serde_json::json;

use super::failure::{Failure, Kind};
use super::output::{out, out_json};
use crate::client::Cluster;
use crate::client::trace::{Waterfall, bar};

/// Width of the duration bars, in characters.
const BAR: usize = 32;

/// `ringshop trace ID` (the whole id, or an unambiguous prefix of it)
pub async fn run(cluster: &Cluster, id: &IdPrefix, json: bool) -> Result<(), Failure> {
    let trace = cluster.resolve_trace(id).await?;
    let w = cluster.trace(trace).await;
    for (node, why) in &w.unreachable {
        eprintln!("ringshop: {node} could not be asked for its spans: {why}");
    }
    if w.rows.is_empty() {
        return Err(Failure::new(
            Kind::NotFound,
            format!(
                "no member kept a span of trace {trace} (only actions of the main are traced, \
                 and each node keeps its most recent spans)"
            ),
        ));
    }
    if json {
        out_json(to_json(&w));
    } else {
        for line in table(&w) {
            out(line);
        }
    }
    Ok(())
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The waterfall as JSON: the trace, its span rows (each with its parent), the nodes.
pub fn to_json(w: &Waterfall) -> serde_json::Value {
    let spans: Vec<serde_json::Value> = w
        .rows
        .iter()
        .map(|r| {
            json!({
                "span_id": format!("{:016x}", r.span),
                "parent_id": (r.parent != 0).then(|| format!("{:016x}", r.parent)),
                "depth": r.depth,
                "node": r.node,
                "name": r.name,
                "offset_ms": ms(r.offset_ns),
                "duration_ms": ms(r.duration_ns),
                "error": match &r.status { SpanStatus::Ok => None, SpanStatus::Error(e) => Some(e) },
            })
        })
        .collect();
    json!({
        "trace": w.trace.to_string(),
        "duration_ms": ms(w.total_ns),
        "nodes": w.nodes(),
        "spans": spans,
        "unreachable": w.unreachable.iter().map(|(n, why)| json!({"node": n.as_str(), "error": why})).collect::<Vec<_>>(),
    })
}

/// The waterfall as table lines: node, the span indented under its parent, offset,
/// duration, and a bar placed on the trace's time line.
pub fn table(w: &Waterfall) -> Vec<String> {
    let mut lines = vec![format!(
        "trace {}  {} spans on {}  {:.1} ms",
        w.trace,
        w.rows.len(),
        w.nodes().join(", "),
        ms(w.total_ns)
    )];
    let name_width = w.name_width();
    lines.push(format!(
        "{:<6} {:<name_width$}  {:>10}  {:>10}  timeline",
        "node", "span", "offset", "duration"
    ));
    for r in &w.rows {
        let (from, len) = bar(r, w.total_ns, BAR);
        let bar = format!("{}{}", " ".repeat(from), "█".repeat(len));
        let name = format!("{}{}", "  ".repeat(r.depth), r.name);
        let status = match &r.status {
            SpanStatus::Ok => String::new(),
            SpanStatus::Error(e) => format!("  error: {e}"),
        };
        lines.push(format!(
            "{:<6} {name:<name_width$}  {:>7.2} ms  {:>7.2} ms  {bar:<BAR$}{status}",
            r.node,
            ms(r.offset_ns),
            ms(r.duration_ns),
        ));
    }
    lines
}
