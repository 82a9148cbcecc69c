//! What is kept: only the traces an action starts (a root span with an `action` field: every
//! key press of the TUI that calls the cluster, every verb), and everything under them. The
//! rest (heartbeats, the demo's bulk requests) is not sampled, so a busy node's ring holds the
//! traces people asked for. The sampler decides; it keeps nothing itself (`ring` does).

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{SamplingDecision, SamplingResult, ShouldSample};

use crate::attributes::ACTION;

/// Keeps the traces actions start: a span under a sampled parent is sampled, one under an
/// unsampled parent is not, and a root is sampled only if it carries the `action` field.
#[derive(Clone, Debug)]
pub struct Actions;

impl ShouldSample for Actions {
    fn should_sample(
        &self,
        parent: Option<&Context>,
        _: opentelemetry::trace::TraceId,
        _: &str,
        _: &SpanKind,
        attributes: &[KeyValue],
        _: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        let parent = parent
            .filter(|cx| cx.has_active_span())
            .map(|cx| cx.span().span_context().clone());
        let sampled = match &parent {
            Some(parent) => parent.is_sampled(),
            None => attributes.iter().any(|kv| kv.key.as_str() == ACTION),
        };
        SamplingResult {
            decision: if sampled {
                SamplingDecision::RecordAndSample
            } else {
                SamplingDecision::Drop
            },
            attributes: Vec::new(),
            trace_state: parent.map(|p| p.trace_state().clone()).unwrap_or_default(),
        }
    }
}
