//! The spans this process kept: a bounded ring of finished sampled spans (`SpanRing`), the
//! process's one ring (`ring`), which the `spans` RPC answers from, and the span processor
//! (`Keep`) that turns each finished span into the `SpanRecord` that RPC answers with. It
//! keeps what the sampler let through; it never decides what is sampled.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::Context;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanProcessor};
use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::trace::{MAX_SPANS, SpanRecord, SpanStatus, TraceId};

use crate::attributes::{METHOD, NODE};

/// How many finished spans a process keeps by default.
pub const DEFAULT_RING: usize = 4_096;

/// The spans this process kept, newest last; bounded.
#[derive(Debug)]
pub struct SpanRing {
    capacity: usize,
    spans: Mutex<VecDeque<SpanRecord>>,
}

impl SpanRing {
    pub fn new(capacity: usize) -> SpanRing {
        SpanRing {
            capacity,
            spans: Mutex::new(VecDeque::with_capacity(capacity.min(1_024))),
        }
    }

    pub fn push(&self, span: SpanRecord) {
        if self.capacity == 0 {
            return;
        }
        let mut spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        while spans.len() >= self.capacity {
            spans.pop_front();
        }
        spans.push_back(span);
    }

    /// The kept spans of `trace`, oldest first, at most `MAX_SPANS` (the newest).
    pub fn of(&self, trace: TraceId) -> Vec<SpanRecord> {
        let spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        let mut found: Vec<SpanRecord> = spans
            .iter()
            .rev()
            .filter(|s| s.trace == trace)
            .take(MAX_SPANS)
            .cloned()
            .collect();
        found.reverse();
        found
    }

    /// The ids of the kept traces that start with `prefix`, sorted, at most `limit`.
    pub fn traces_starting(&self, prefix: &IdPrefix, limit: usize) -> Vec<TraceId> {
        let spans = self.spans.lock().unwrap_or_else(|p| p.into_inner());
        let mut found = std::collections::BTreeSet::new();
        for s in spans.iter().filter(|s| prefix.matches_trace(&s.trace)) {
            found.insert(s.trace);
        }
        found.into_iter().take(limit).collect()
    }

    pub fn len(&self) -> usize {
        self.spans.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every kept span, oldest first (the tests read what a stack kept).
    #[cfg(test)]
    pub(crate) fn all(&self) -> Vec<SpanRecord> {
        let spans = self.spans.lock().expect("not poisoned");
        spans.iter().cloned().collect()
    }
}

static RING: OnceLock<Arc<SpanRing>> = OnceLock::new();

/// The spans of `trace` this process kept; none when tracing was not installed.
pub fn spans_of(trace: TraceId) -> Vec<SpanRecord> {
    RING.get().map(|r| r.of(trace)).unwrap_or_default()
}

/// The ids of the traces this process kept spans of that start with `prefix`, sorted, at most
/// `limit`; none when tracing was not installed.
pub fn traces_starting(prefix: &IdPrefix, limit: usize) -> Vec<TraceId> {
    RING.get()
        .map(|r| r.traces_starting(prefix, limit))
        .unwrap_or_default()
}

/// The process's ring (made on first use with `DEFAULT_RING` places if `install` did not make
/// it first).
pub fn ring() -> Arc<SpanRing> {
    ring_of(DEFAULT_RING)
}

/// The process's ring, made with `capacity` places if nothing made it first (`install`'s).
pub(crate) fn ring_of(capacity: usize) -> Arc<SpanRing> {
    RING.get_or_init(|| Arc::new(SpanRing::new(capacity)))
        .clone()
}

/// Keeps finished sampled spans in the ring.
#[derive(Debug)]
pub struct Keep(pub Arc<SpanRing>);

impl SpanProcessor for Keep {
    fn on_start(&self, _: &mut opentelemetry_sdk::trace::Span, _: &Context) {}

    fn on_end(&self, span: SpanData) {
        self.0.push(record_of(&span));
    }

    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

fn unix_ns(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Our trace id of OpenTelemetry's.
pub(crate) fn trace_id(id: opentelemetry::trace::TraceId) -> TraceId {
    TraceId(u128::from_be_bytes(id.to_bytes()))
}

/// Our span id of OpenTelemetry's (0: none).
pub(crate) fn span_id(id: opentelemetry::trace::SpanId) -> u64 {
    u64::from_be_bytes(id.to_bytes())
}

/// A finished span as `spans` answers it.
fn record_of(span: &SpanData) -> SpanRecord {
    let attr = |key: &str| {
        span.attributes
            .iter()
            .find(|kv| kv.key.as_str() == key)
            .map(|kv| kv.value.as_str().into_owned())
    };
    let status = match &span.status {
        opentelemetry::trace::Status::Error { description } => {
            SpanStatus::Error(description.to_string())
        }
        _ => SpanStatus::Ok,
    };
    let start_ns = unix_ns(span.start_time);
    SpanRecord {
        trace: trace_id(span.span_context.trace_id()),
        span: span_id(span.span_context.span_id()),
        parent: span_id(span.parent_span_id),
        node: attr(NODE).unwrap_or_default(),
        name: attr(METHOD).unwrap_or_else(|| span.name.to_string()),
        start_ns,
        duration_ns: unix_ns(span.end_time).saturating_sub(start_ns),
        status,
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
