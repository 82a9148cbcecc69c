//! The per-fault-event table: for each nemesis event, what the load saw in its window (from the
//! event until the next one, or until the load stopped).
//!
//! - failed: calls started in the window that failed.
//! - recover: from the event until, whichever is later, (1) the first successful call started
//!   after it, answered by another node, for an id the affected node answered last before it
//!   (leave, SIGKILL, SIGSTOP), or the node's first answer (join, restart); and (2) when
//!   failures were seen, the first success after the last of them. `-` when there was nothing to recover, `never` when it
//!   did not happen within the window.
//! - moved: ids whose first answer in the window came from another node than their last
//!   answer before the event; of those, handed over (same generation), recomputed (a new
//!   generation while the old one's TTL had not run out: the entry was lost) or expired (a new
//!   generation after the old one's TTL).

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, SystemTime};

use ringshop_shared::NodeId;

use super::history::{Call, EventKind, History, Secs, since};

/// How long the load took to get back to normal after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recovery {
    /// No owned ids and no failures: nothing to recover from.
    Nothing,
    After(Duration),
    /// Not within the window.
    Never,
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Recovery::Nothing => f.pad("-"),
            Recovery::After(d) => f.pad(&format!("{} ms", d.as_millis())),
            Recovery::Never => f.pad("never"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub at: SystemTime,
    pub kind: EventKind,
    pub node: NodeId,
    pub window: Duration,
    pub calls: usize,
    pub failed: usize,
    pub recovery: Recovery,
    pub moved: usize,
    pub handed: usize,
    pub recomputed: usize,
    pub expired: usize,
}

/// One row per event, in order.
pub fn rows(h: &History, ttl: Duration) -> Vec<Row> {
    let mut events = h.events.clone();
    events.sort_by_key(|e| e.at);
    let mut by_end: Vec<&Call> = h.calls.iter().collect();
    by_end.sort_by_key(|c| c.end);
    let mut by_start: Vec<&Call> = h.calls.iter().collect();
    by_start.sort_by_key(|c| c.start);
    let mut out = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let until = events.get(i + 1).map_or(h.stopped, |n| n.at).max(e.at);
        // The last answer of each id that ended before the event.
        let mut last: HashMap<u64, &Call> = HashMap::new();
        for c in by_end.iter().take_while(|c| c.end <= e.at) {
            if c.outcome.is_ok() {
                last.insert(c.id, c);
            }
        }
        let window: Vec<&Call> = by_start
            .iter()
            .copied()
            .filter(|c| c.start >= e.at && c.start < until)
            .collect();
        let mut row = Row {
            at: e.at,
            kind: e.kind,
            node: e.node.clone(),
            window: since(e.at, until),
            calls: window.len(),
            failed: window.iter().filter(|c| c.outcome.is_err()).count(),
            recovery: recovery(e.kind, &e.node, e.at, &window, &last),
            moved: 0,
            handed: 0,
            recomputed: 0,
            expired: 0,
        };
        let mut first: HashMap<u64, &Call> = HashMap::new();
        for c in window.iter().filter(|c| c.outcome.is_ok()) {
            first.entry(c.id).or_insert(c);
        }
        for (id, after) in first {
            let Some(before) = last.get(&id) else {
                continue;
            };
            let (Some(old), Some(new)) = (before.generation(), after.generation()) else {
                continue;
            };
            if before.node() == after.node() {
                continue;
            }
            row.moved += 1;
            if old == new {
                row.handed += 1;
            } else if old.created_at + ttl > new.created_at {
                row.recomputed += 1;
            } else {
                row.expired += 1;
            }
        }
        out.push(row);
    }
    out
}

fn recovery(
    kind: EventKind,
    node: &NodeId,
    at: SystemTime,
    window: &[&Call],
    last: &HashMap<u64, &Call>,
) -> Recovery {
    let ok = || window.iter().filter(|c| c.outcome.is_ok());
    let mut needed: Vec<Option<SystemTime>> = Vec::new();
    match kind {
        EventKind::Join | EventKind::Restart => {
            needed.push(ok().filter(|c| c.node() == Some(node)).map(|c| c.end).min());
        }
        EventKind::Leave | EventKind::Kill | EventKind::Stop | EventKind::Partition => {
            let owned = |id: &u64| last.get(id).is_some_and(|c| c.node() == Some(node));
            if last.values().any(|c| c.node() == Some(node)) {
                let elsewhere = |c: &&&Call| owned(&c.id) && c.node() != Some(node);
                needed.push(ok().filter(elsewhere).map(|c| c.end).min());
            }
        }
        EventKind::Resume { .. }
        | EventKind::Heal { .. }
        | EventKind::DiskFull
        | EventKind::DiskFreed
        | EventKind::CutClient
        | EventKind::MendClient
        | EventKind::CutNodes
        | EventKind::MendNodes
        | EventKind::StoreDown
        | EventKind::StoreSlow
        | EventKind::StoreBack
        | EventKind::SlowLink
        | EventKind::Held
        | EventKind::Released => {}
    }
    let last_failure = window
        .iter()
        .filter(|c| c.outcome.is_err())
        .map(|c| c.end)
        .max();
    if let Some(failed) = last_failure {
        needed.push(ok().filter(|c| c.start >= failed).map(|c| c.end).min());
    }
    if needed.is_empty() {
        return Recovery::Nothing;
    }
    match needed.into_iter().collect::<Option<Vec<_>>>() {
        Some(times) => Recovery::After(since(at, times.into_iter().max().unwrap_or(at))),
        None => Recovery::Never,
    }
}

/// The table, one line per event, times from the load's start.
pub struct Table<'a> {
    pub origin: SystemTime,
    pub rows: &'a [Row],
}

impl fmt::Display for Table<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:>9}  {:<9} {:<5} {:>8} {:>6} {:>6} {:>9} {:>5} {:>6} {:>10} {:>7}",
            "at",
            "event",
            "node",
            "window",
            "calls",
            "failed",
            "recover",
            "moved",
            "handed",
            "recomputed",
            "expired"
        )?;
        for r in self.rows {
            writeln!(
                f,
                "{:>9}  {:<9} {:<5} {:>6}ms {:>6} {:>6} {:>9} {:>5} {:>6} {:>10} {:>7}",
                Secs::since(self.origin, r.at).to_string(),
                r.kind.word(),
                r.node.as_str(),
                r.window.as_millis(),
                r.calls,
                r.failed,
                r.recovery.to_string(),
                r.moved,
                r.handed,
                r.recomputed,
                r.expired
            )?;
        }
        Ok(())
    }
}
