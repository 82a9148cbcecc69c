//! A trace carried from span to span and from call to call: a span's ids (`ids_of`), the root
//! span of an action of the main (`action`), a span's place as a W3C traceparent and back
//! (`traceparent`, `continue_trace`: how a job resumed later joins the checkout's trace), and
//! the marks a node puts on tarpc's span of a request it serves (`on_node`). tarpc carries the
//! context across the wire itself; this module never touches the wire.

use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, Value};
use ringshop_shared::trace::TraceId;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::attributes::{MAIN, METHOD, NODE};
use crate::ring::{span_id, trace_id};

/// The trace and span id of `span` if its trace is kept (sampled), else None.
pub fn ids_of(span: &tracing::Span) -> Option<(TraceId, u64)> {
    let cx = span.context();
    let otel = cx.span();
    let sc = otel.span_context();
    (sc.is_valid() && sc.is_sampled()).then(|| (trace_id(sc.trace_id()), span_id(sc.span_id())))
}

/// A root span for one action of the main named `name` (a verb, a key press's effect): its
/// trace is kept (the `action` field), it ran on the main, and its log lines say its trace.
pub fn action(name: &str) -> tracing::Span {
    let span = tracing::info_span!(
        "action",
        action = name,
        otel.name = name,
        node = MAIN,
        trace_id = tracing::field::Empty,
        span_id = tracing::field::Empty
    );
    tag(&span);
    span
}

/// `span`'s place in its trace as a W3C traceparent (`00-TRACE-SPAN-01`), if its trace is
/// kept: what an order stores so a job resumed later goes on in the checkout's trace.
pub fn traceparent(span: &tracing::Span) -> Option<String> {
    ids_of(span).map(|(trace, id)| format!("00-{trace}-{id:016x}-01"))
}

/// Makes `span` (not entered yet) a child of the span `traceparent` names, sampled: the way a
/// job resumed without the placing call in reach joins that call's trace. Its log lines say
/// that trace if it declares `trace_id` and `span_id` (Empty): no span of tarpc's is in their
/// scope to say it. A malformed traceparent leaves the span as it was.
pub fn continue_trace(span: &tracing::Span, traceparent: &str) {
    let mut parts = traceparent.split('-');
    let (Some("00"), Some(trace), Some(id), Some(_), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return;
    };
    let (Ok(trace), Ok(id)) = (u128::from_str_radix(trace, 16), u64::from_str_radix(id, 16)) else {
        return;
    };
    if trace == 0 || id == 0 {
        return;
    }
    let remote = opentelemetry::trace::SpanContext::new(
        opentelemetry::trace::TraceId::from_bytes(trace.to_be_bytes()),
        opentelemetry::trace::SpanId::from_bytes(id.to_be_bytes()),
        opentelemetry::trace::TraceFlags::SAMPLED,
        true,
        opentelemetry::trace::TraceState::default(),
    );
    let _ = span.set_parent(Context::new().with_remote_span_context(remote));
    tag(span);
}

/// Records `span`'s trace and span ids in its `trace_id` / `span_id` fields (declared Empty
/// by the caller), so every log line written in it says which trace it belongs to. Returns
/// the trace id (None if the trace is not kept).
pub(crate) fn tag(span: &tracing::Span) -> Option<TraceId> {
    let (trace, id) = ids_of(span)?;
    span.record("trace_id", tracing::field::display(trace));
    span.record(
        "span_id",
        tracing::field::display(format_args!("{id:016x}")),
    );
    Some(trace)
}

/// Marks the current span (tarpc's span of the request being served, named "RPC") as run on
/// `node`, serving `method`, if its trace is kept.
pub fn on_node(node: &Value, method: &str) {
    let span = tracing::Span::current();
    if !span.is_disabled() && span.context().span().span_context().is_sampled() {
        span.set_attribute(NODE, node.clone());
        span.set_attribute(METHOD, method.to_string());
    }
}
