//! The subscriber `install` sets, layer by layer: `CallSpans` (a global filter on tarpc's
//! per-call spans), `TraceTags` (each span's trace, for the log lines), tracing-opentelemetry's
//! layer on the process's tracer provider, and the log (the `filter`ed events, written in one
//! of the `format`s). Composition only: each layer's behaviour lives in its own file.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing::Subscriber;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{Layer, Registry};

use crate::filter::{filter, span_filter, with_spans};
use crate::format::{Lines, LogFormat};
use crate::rpc_spans::CallSpans;
use crate::settings::Settings;
use crate::tags::TraceTags;

/// tracing-opentelemetry's layer on `provider`, without the per-span extras we do not read
/// (source location, thread, inactivity timings) and without making a span's context the
/// thread's current OpenTelemetry context on every enter and exit (nothing here reads
/// `Context::current()`: tarpc and we read a span's context from the span; measured: the
/// activation was a third of a node's CPU per cached hit at 64 in flight).
pub fn otel_layer<S>(provider: &SdkTracerProvider) -> impl Layer<S> + use<S>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("ringshop"))
        .with_location(false)
        .with_threads(false)
        .with_tracked_inactivity(false)
        .with_context_activation(false)
}

/// The subscriber `install` sets: trace tags, the OpenTelemetry layer on `provider`, the log
/// (its events as `RUST_LOG` says, else `settings.level`).
pub fn stack<W>(
    settings: &Settings,
    writer: W,
    provider: &SdkTracerProvider,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    stack_with(
        settings,
        filter(settings.level, settings.quiet),
        writer,
        provider,
    )
}

/// `stack`, with the log's events chosen by `events` in place of `RUST_LOG`.
pub fn stack_with<W>(
    settings: &Settings,
    events: Targets,
    writer: W,
    provider: &SdkTracerProvider,
) -> impl Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let log_filter = with_spans(events, span_filter());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(settings.ansi && settings.format == LogFormat::Text)
        .event_format(Lines {
            format: settings.format,
        })
        .with_filter(log_filter);
    Registry::default()
        .with(CallSpans)
        .with(TraceTags.with_filter(span_filter()))
        .with(otel_layer(provider).with_filter(span_filter()))
        .with(fmt)
}

#[cfg(test)]
#[path = "layers_tests.rs"]
mod tests;
