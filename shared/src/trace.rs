//! One trace per action: the id that ties together every span of one key press or verb, on the
//! main and on every node it reaches, and the spans a node answers `spans` with.
//!
//! The trace context itself travels in tarpc's request context (`trace_context`: trace id, the
//! calling span's id, sampled or not), filled from the caller's current span; these are the
//! values people see and type.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Most spans one `spans` answer carries (the newest of the trace; far under the frame limit).
pub const MAX_SPANS: usize = 2_000;

/// A trace's id: 128 bits, shown as 32 lowercase hex digits (as OpenTelemetry writes it).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct TraceId(pub u128);

impl TraceId {
    /// The first 8 hex digits: what a log line shows.
    pub fn short(&self) -> String {
        let mut s = self.to_string();
        s.truncate(8);
        s
    }

    /// Zero: no trace.
    pub fn is_none(&self) -> bool {
        self.0 == 0
    }

    /// The trace of a W3C `traceparent` (`00-<32 hex>-<16 hex>-<2 hex>`), if it is one.
    pub fn from_traceparent(traceparent: &str) -> Option<TraceId> {
        let mut parts = traceparent.split('-');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some("00"), Some(trace), Some(span), Some(_))
                if span.len() == 16 && parts.next().is_none() =>
            {
                trace.parse().ok()
            }
            _ => None,
        }
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", self.0)
    }
}

/// Why a trace id did not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a trace id is 32 hex digits (as `--json` prints it), not {0:?}")]
pub struct BadTraceId(pub String);

impl FromStr for TraceId {
    type Err = BadTraceId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.len() != 32 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(BadTraceId(s.to_string()));
        }
        match u128::from_str_radix(t, 16) {
            Ok(0) | Err(_) => Err(BadTraceId(s.to_string())),
            Ok(v) => Ok(TraceId(v)),
        }
    }
}

/// How a span ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpanStatus {
    Ok,
    Error(String),
}

/// One finished span as a process kept it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanRecord {
    pub trace: TraceId,
    /// Its id, unique in the trace.
    pub span: u64,
    /// The span it ran in, 0 for the trace's root.
    pub parent: u64,
    /// The node it ran on (`main` for the main); empty for a span of a library (tarpc's own
    /// per-call spans), which links ours across processes but is not shown.
    pub node: String,
    pub name: String,
    /// Wall-clock start, ns since the Unix epoch.
    pub start_ns: u64,
    pub duration_ns: u64,
    pub status: SpanStatus,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_id_prints_as_32_hex_digits_and_parses_back() {
        let id = TraceId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        assert_eq!(id.to_string(), "0123456789abcdef0011223344556677");
        assert_eq!(id.short(), "01234567");
        assert_eq!(id.to_string().parse::<TraceId>(), Ok(id));
        assert_eq!(
            " 0123456789ABCDEF0011223344556677 ".parse::<TraceId>(),
            Ok(id)
        );
    }

    #[test]
    fn a_traceparent_gives_its_trace() {
        let parent = "00-0123456789abcdef0011223344556677-00f067aa0ba902b7-01";
        assert_eq!(
            TraceId::from_traceparent(parent),
            Some(TraceId(0x0123_4567_89ab_cdef_0011_2233_4455_6677))
        );
        for bad in [
            "",
            "00-0123",
            "01-0123456789abcdef0011223344556677-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceId::from_traceparent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn anything_else_is_a_typed_error() {
        for bad in [
            "",
            "0123",
            "zz23456789abcdef0011223344556677",
            "0".repeat(32).as_str(),
        ] {
            assert_eq!(
                bad.parse::<TraceId>(),
                Err(BadTraceId(bad.to_string())),
                "{bad:?}"
            );
        }
        let long = "1".repeat(33);
        assert!(long.parse::<TraceId>().is_err());
    }
}
