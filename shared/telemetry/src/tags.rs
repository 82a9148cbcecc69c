//! Trace tags: which trace a span belongs to, read from its `trace_id` (ours) or
//! `rpc.trace_id` (tarpc's) field when it is made or recorded, and kept in the span's
//! extensions, where the log formats find it for every line written inside the span. A layer
//! that only reads fields; it makes no span and writes no line.

use std::fmt;

use ringshop_shared::trace::TraceId;
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;

/// The trace a span belongs to, read from its `trace_id` (ours) or `rpc.trace_id` (tarpc's)
/// field, kept in the span's extensions for the log lines written in it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TraceTag {
    pub(crate) trace: TraceId,
    pub(crate) span: Option<u64>,
}

pub(crate) struct TraceTags;

#[derive(Default)]
struct TagVisitor {
    trace: Option<TraceId>,
    span: Option<u64>,
}

impl Visit for TagVisitor {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match field.name() {
            "trace_id" | "rpc.trace_id" => {
                let text = format!("{value:?}");
                if let Ok(v) = u128::from_str_radix(text.trim_matches('"'), 16) {
                    if v != 0 {
                        self.trace = Some(TraceId(v));
                    }
                }
            }
            "span_id" => {
                let text = format!("{value:?}");
                self.span = u64::from_str_radix(text.trim_matches('"'), 16).ok();
            }
            _ => {}
        }
    }
}

impl<S> Layer<S> for TraceTags
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: LayerContext<'_, S>,
    ) {
        let mut v = TagVisitor::default();
        attrs.record(&mut v);
        if let (Some(trace), Some(span)) = (v.trace, ctx.span(id)) {
            span.extensions_mut().insert(TraceTag {
                trace,
                span: v.span,
            });
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: LayerContext<'_, S>,
    ) {
        let mut v = TagVisitor::default();
        values.record(&mut v);
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        let before = extensions.get_mut::<TraceTag>().copied();
        let trace = v.trace.or(before.map(|t| t.trace));
        if let Some(trace) = trace {
            extensions.replace(TraceTag {
                trace,
                span: v.span.or(before.and_then(|t| t.span)),
            });
        }
    }
}
