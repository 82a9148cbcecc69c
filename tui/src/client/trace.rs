//! One trace gathered from every process that kept a part of it (this one and each reachable
//! member), as a waterfall: one row per span that ran on a node or on the main, under the span
//! it ran in, with its offset from the trace's start and its duration.

use std::collections::BTreeMap;

use ringshop_shared::NodeId;
use ringshop_shared::hash::{Map, Set};
use ringshop_shared::trace::{SpanRecord, SpanStatus, TraceId};
use ringshop_telemetry as telemetry;

use super::Cluster;

/// One row of the waterfall.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub span: u64,
    /// The shown span it ran in (0 for a top row).
    pub parent: u64,
    /// How deep under the top rows.
    pub depth: usize,
    pub node: String,
    pub name: String,
    /// From the trace's first shown start.
    pub offset_ns: u64,
    pub duration_ns: u64,
    pub status: SpanStatus,
}

/// A trace as a waterfall, with the members that could not be asked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Waterfall {
    pub trace: TraceId,
    pub rows: Vec<Row>,
    /// From the first shown start to the last shown end.
    pub total_ns: u64,
    pub unreachable: Vec<(NodeId, String)>,
}

impl Waterfall {
    /// The widest span name as shown, indented two columns per level (at least 4).
    pub fn name_width(&self) -> usize {
        self.rows
            .iter()
            .map(|r| 2 * r.depth + r.name.chars().count())
            .max()
            .unwrap_or(4)
            .max(4)
    }

    /// The nodes the trace ran on, in the order they first appear (`main` first if there).
    pub fn nodes(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for r in &self.rows {
            if !seen.contains(&r.node.as_str()) {
                seen.push(r.node.as_str());
            }
        }
        seen
    }
}

/// Where `row`'s bar sits on a time line `width` cells wide for a trace of `total_ns`: its
/// first cell and its length, at least one cell, never past the line.
pub fn bar(row: &Row, total_ns: u64, width: usize) -> (usize, usize) {
    let (total, width) = (u128::from(total_ns.max(1)), width.max(1));
    let scale = |ns: u64| u128::from(ns) * width as u128;
    let from = ((scale(row.offset_ns) / total) as usize).min(width - 1);
    let len = (scale(row.duration_ns).div_ceil(total) as usize).clamp(1, width - from);
    (from, len)
}

/// The waterfall of `spans` (one trace; duplicates, as in-process nodes share one ring, are
/// counted once). Spans without a node (tarpc's client side) are not shown: a shown span's
/// parent is its nearest shown ancestor. A span whose chain leads to a span nobody kept (the
/// main's, when the verb that started the trace ran in another process) is a top row.
pub fn waterfall(trace: TraceId, spans: Vec<SpanRecord>) -> Waterfall {
    let mut by_id: Map<u64, SpanRecord> = Map::default();
    for s in spans.into_iter().filter(|s| s.trace == trace) {
        by_id.entry(s.span).or_insert(s);
    }
    let shown_parent = |s: &SpanRecord| {
        let mut at = s.parent;
        let mut seen = Set::default();
        while at != 0 && seen.insert(at) {
            match by_id.get(&at) {
                Some(p) if !p.node.is_empty() => return at,
                Some(p) => at = p.parent,
                None => return 0,
            }
        }
        0
    };
    let shown: Vec<&SpanRecord> = by_id.values().filter(|s| !s.node.is_empty()).collect();
    let start = shown.iter().map(|s| s.start_ns).min().unwrap_or(0);
    let end = shown
        .iter()
        .map(|s| s.start_ns.saturating_add(s.duration_ns))
        .max()
        .unwrap_or(0);
    // Children by parent, each list by start (then id, so equal starts keep one order).
    let mut children: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    for s in &shown {
        children
            .entry(shown_parent(s))
            .or_default()
            .push((s.start_ns, s.span));
    }
    for list in children.values_mut() {
        list.sort_unstable();
    }
    let mut rows = Vec::with_capacity(shown.len());
    let mut stack: Vec<(u64, usize)> = children
        .get(&0)
        .map(|l| l.iter().rev().map(|&(_, id)| (id, 0)).collect())
        .unwrap_or_default();
    while let Some((id, depth)) = stack.pop() {
        let Some(s) = by_id.get(&id) else { continue };
        rows.push(Row {
            span: id,
            parent: shown_parent(s),
            depth,
            node: s.node.clone(),
            name: s.name.clone(),
            offset_ns: s.start_ns.saturating_sub(start),
            duration_ns: s.duration_ns,
            status: s.status.clone(),
        });
        if let Some(kids) = children.get(&id) {
            stack.extend(kids.iter().rev().map(|&(_, k)| (k, depth + 1)));
        }
    }
    Waterfall {
        trace,
        rows,
        total_ns: end.saturating_sub(start),
        unreachable: Vec::new(),
    }
}

impl Cluster {
    /// `trace` as a waterfall: this process's spans of it and every reachable member's.
    pub async fn trace(&self, trace: TraceId) -> Waterfall {
        let mut spans = telemetry::spans_of(trace);
        let mut unreachable = Vec::new();
        for (node, answer) in self.spans(trace).await {
            match answer {
                Ok(kept) => spans.extend(kept),
                Err(why) => unreachable.push((node, why)),
            }
        }
        Waterfall {
            unreachable,
            ..waterfall(trace, spans)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u64, parent: u64, node: &str, name: &str, start: u64, dur: u64) -> SpanRecord {
        SpanRecord {
            trace: TraceId(7),
            span: id,
            parent,
            node: node.into(),
            name: name.into(),
            start_ns: start,
            duration_ns: dur,
            status: SpanStatus::Ok,
        }
    }

    #[test]
    fn rows_follow_the_shown_parents_through_unshown_spans_in_start_order() {
        let spans = vec![
            span(1, 0, "main", "buy", 1_000, 9_000),
            // tarpc's client span (no node) links the main to n2's serving span.
            span(2, 1, "", "checkout", 1_100, 500),
            span(3, 2, "n2", "checkout", 1_200, 300),
            span(5, 3, "n2", "job", 1_400, 8_000),
            span(7, 5, "n2", "reserving", 1_500, 400),
            span(8, 7, "", "reserve", 1_550, 300),
            span(9, 8, "n1", "reserve", 1_600, 200),
            span(10, 9, "n1", "turn", 1_650, 100),
            span(6, 5, "n2", "paying", 2_000, 7_000),
            // Another trace's span is not this one's.
            SpanRecord {
                trace: TraceId(8),
                ..span(11, 0, "n3", "other", 0, 1)
            },
            // The same span from two in-process nodes' answers.
            span(3, 2, "n2", "checkout", 1_200, 300),
        ];
        let w = waterfall(TraceId(7), spans);
        let shown: Vec<(usize, &str, &str, u64, u64)> = w
            .rows
            .iter()
            .map(|r| {
                (
                    r.depth,
                    r.node.as_str(),
                    r.name.as_str(),
                    r.parent,
                    r.offset_ns,
                )
            })
            .collect();
        assert_eq!(
            shown,
            vec![
                (0, "main", "buy", 0, 0),
                (1, "n2", "checkout", 1, 200),
                (2, "n2", "job", 3, 400),
                (3, "n2", "reserving", 5, 500),
                (4, "n1", "reserve", 7, 600),
                (5, "n1", "turn", 9, 650),
                (3, "n2", "paying", 5, 1_000),
            ]
        );
        assert_eq!(w.total_ns, 9_000);
        assert_eq!(w.nodes(), vec!["main", "n2", "n1"]);
    }

    #[test]
    fn spans_whose_parent_nobody_kept_are_top_rows() {
        // The main that started the trace ran in another process: its spans are gone.
        let w = waterfall(
            TraceId(7),
            vec![
                span(3, 2, "n2", "checkout", 5_000, 300),
                span(9, 8, "n1", "reserve", 6_000, 200),
            ],
        );
        let tops: Vec<(usize, &str)> = w.rows.iter().map(|r| (r.depth, r.name.as_str())).collect();
        assert_eq!(tops, vec![(0, "checkout"), (0, "reserve")]);
        assert_eq!(w.rows[1].offset_ns, 1_000);
        assert!(waterfall(TraceId(1), Vec::new()).rows.is_empty());
    }
}
