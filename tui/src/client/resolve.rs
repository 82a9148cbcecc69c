//! Ids a person can type (TUI.md 31): the one order or trace an unambiguous prefix (at least
//! six hex digits, dashes optional) names, like git's abbreviated commits.
//!
//! An order prefix is resolved by the store (`find_orders`: any member answers with the first
//! few matches by id and the count of all). A trace prefix is resolved by the spans kept: this
//! process's and each reachable member's (`find_traces`), because a trace is shown from those
//! spans, so a prefix that matches none names nothing `trace` could show; and every action is
//! traced there, not only checkouts (whose trace an order also stores, on `Order::trace_id`).
//! A whole id is taken as it is, without asking.

use std::collections::BTreeSet;

use ringshop_shared::prefix::{Found, IdPrefix, MAX_CANDIDATES, MAX_TRACE_MATCHES};
use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, Order, OrderId};
use ringshop_telemetry as telemetry;

use super::cluster::Cluster;
use super::types::ClusterError;

/// Why a typed id names no single order or trace.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    #[error("no order id starts with {prefix}; `ringshop orders` lists them")]
    NoOrder { prefix: IdPrefix },
    #[error(
        "no member keeps spans of a trace starting with {prefix}{}; each node keeps only its most recent spans",
        unasked(.unreachable)
    )]
    NoTrace {
        prefix: IdPrefix,
        unreachable: Vec<NodeId>,
    },
    #[error("{prefix} is ambiguous: {total} orders start with it, {}; type more digits", listed(.total, .candidates))]
    AmbiguousOrder {
        prefix: IdPrefix,
        total: u64,
        /// The first `MAX_CANDIDATES` by id, with what tells them apart.
        candidates: Vec<Order>,
    },
    #[error("{prefix} is ambiguous: {} traces start with it, {}; type more digits", count(*.total, *.more), listed(&(*.total as u64), .candidates))]
    AmbiguousTrace {
        prefix: IdPrefix,
        total: usize,
        /// A member listed as many as it may: there may be more.
        more: bool,
        candidates: Vec<TraceId>,
    },
    #[error(transparent)]
    Cluster(#[from] ClusterError),
}

fn unasked(nodes: &[NodeId]) -> String {
    match nodes {
        [] => String::new(),
        nodes => format!(
            " ({} could not be asked)",
            nodes
                .iter()
                .map(NodeId::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn count(total: usize, more: bool) -> String {
    match more {
        true => format!("at least {total}"),
        false => total.to_string(),
    }
}

/// "all: a, b" or "the first 10: a, b, ..." (each as `Candidate` shows it).
fn listed<T: Candidate>(total: &u64, candidates: &[T]) -> String {
    let shown: Vec<String> = candidates.iter().map(Candidate::line).collect();
    match *total as usize > candidates.len() {
        true => format!("the first {}: {}", shown.len(), shown.join(", ")),
        false => format!("all: {}", shown.join(", ")),
    }
}

/// How a candidate is named in an "ambiguous" message.
pub trait Candidate {
    fn line(&self) -> String;
    /// Its whole id.
    fn id(&self) -> String;
}

impl Candidate for Order {
    fn line(&self) -> String {
        format!("{} ({}, {})", self.id, self.customer, self.stage)
    }
    fn id(&self) -> String {
        self.id.to_string()
    }
}

impl Candidate for TraceId {
    fn line(&self) -> String {
        self.to_string()
    }
    fn id(&self) -> String {
        self.to_string()
    }
}

impl ResolveError {
    /// The whole ids of the candidates of an ambiguous prefix (for `--json`).
    pub fn candidates(&self) -> Vec<String> {
        match self {
            ResolveError::AmbiguousOrder { candidates, .. } => {
                candidates.iter().map(Candidate::id).collect()
            }
            ResolveError::AmbiguousTrace { candidates, .. } => {
                candidates.iter().map(Candidate::id).collect()
            }
            _ => Vec::new(),
        }
    }
}

impl Cluster {
    /// Orders whose id starts with `prefix`, from the store through any member: the first
    /// `MAX_CANDIDATES` by id and how many match in all.
    pub async fn find_orders(&self, prefix: &IdPrefix) -> Result<Found<Order>, ClusterError> {
        self.call_any(|c, ctx| {
            let prefix = prefix.clone();
            async move { c.find_orders(ctx, prefix).await }
        })
        .await
    }

    /// The order `prefix` (a whole id, or the start of one) names.
    pub async fn resolve_order(&self, prefix: &IdPrefix) -> Result<OrderId, ResolveError> {
        let prefix = prefix.clone();
        if let Some(id) = prefix.order_id() {
            return Ok(id);
        }
        let found = self.find_orders(&prefix).await?;
        match (found.total, found.first.as_slice()) {
            (0, _) | (_, []) => Err(ResolveError::NoOrder { prefix }),
            (1, [one]) => Ok(one.id),
            (total, _) => Err(ResolveError::AmbiguousOrder {
                prefix,
                total,
                candidates: found.first,
            }),
        }
    }

    /// The trace `prefix` (a whole id, or the start of one) names, among the traces this
    /// process and the reachable members kept spans of (the caller's own action's trace left
    /// out).
    pub async fn resolve_trace(&self, prefix: &IdPrefix) -> Result<TraceId, ResolveError> {
        let prefix = prefix.clone();
        if let Some(trace) = prefix.trace_id() {
            return Ok(trace);
        }
        let mine = telemetry::ids_of(&tracing::Span::current()).map(|(t, _)| t);
        let mut found: BTreeSet<TraceId> = telemetry::traces_starting(&prefix, MAX_TRACE_MATCHES)
            .into_iter()
            .collect();
        let mut more = found.len() >= MAX_TRACE_MATCHES;
        let mut unreachable = Vec::new();
        let asked = self
            .ask_each(|client, ctx| {
                let prefix = prefix.clone();
                async move { client.find_traces(ctx, prefix).await }
            })
            .await;
        for (node, answer) in asked {
            match answer {
                Ok(traces) => {
                    more |= traces.len() >= MAX_TRACE_MATCHES;
                    found.extend(traces);
                }
                Err(_) => unreachable.push(node),
            }
        }
        if let Some(mine) = mine {
            found.remove(&mine);
        }
        let mut found: Vec<TraceId> = found.into_iter().collect();
        match found.len() {
            0 => Err(ResolveError::NoTrace {
                prefix,
                unreachable,
            }),
            1 => Ok(found[0]),
            total => {
                found.truncate(MAX_CANDIDATES);
                Err(ResolveError::AmbiguousTrace {
                    prefix,
                    total,
                    more,
                    candidates: found,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ambiguous_trace_names_its_candidates_and_says_when_there_may_be_more() {
        let prefix = IdPrefix::parse("abcdef").expect("a prefix");
        let err = ResolveError::AmbiguousTrace {
            prefix,
            total: 64,
            more: true,
            candidates: vec![TraceId(1), TraceId(2)],
        };
        let text = err.to_string();
        assert!(
            text.starts_with("abcdef is ambiguous: at least 64 traces start with it, the first 2:"),
            "{text}"
        );
        assert!(text.contains(&TraceId(2).to_string()), "{text}");
        assert_eq!(err.candidates().len(), 2);
    }
}
