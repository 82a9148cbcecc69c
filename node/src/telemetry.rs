//! Tracing: one trace per action of the main, followed through every node it reaches.
//!
//! Both binaries install the same stack (`install`): the log (text, or one JSON object per
//! line) with the trace id of the span it was written in, and OpenTelemetry's SDK behind
//! `tracing-opentelemetry`, which gives every span a trace and span id. tarpc fills each
//! request's trace context from the caller's current span and opens the server's span under
//! it, so a span on the main, the owner it calls and the product owner that owner calls share
//! one trace with correct parents.
//!
//! What is kept: only traces an action starts (a root span with an `action` field: every
//! key press of the TUI that calls the cluster, every verb), and everything under them. The
//! rest (heartbeats, the demo's bulk requests) is not sampled, so a busy node's ring holds
//! the traces people asked for. Each process keeps its sampled spans in a bounded ring
//! (`ring`), which the `spans` RPC answers from.
//!
//! Which node a span ran on is its `node` attribute: the node's server sets it on tarpc's span
//! of every request it serves, the job and actor spans carry it, and the main's root says
//! `main`. Spans without it (tarpc's client side) link the hops but are not shown.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, TraceContextExt, TracerProvider as _};
use opentelemetry::{Context, KeyValue, Value};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{
    SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample, SpanData, SpanProcessor,
    TracerProviderBuilder,
};
use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::trace::{MAX_SPANS, SpanRecord, SpanStatus, TraceId};
use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, MakeWriter};
use tracing_subscriber::layer::{Context as LayerContext, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// How many finished spans a process keeps by default.
pub const DEFAULT_RING: usize = 4_096;
/// The field (and attribute) that marks a root span as an action, so its trace is kept.
pub const ACTION: &str = "action";
/// The attribute that says which node a span ran on.
pub const NODE: &str = "node";
/// The attribute that names the RPC a server span served (tarpc names them all "RPC").
pub const METHOD: &str = "rpc.method";
/// The node name of the main's spans.
pub const MAIN: &str = "main";

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, with `trace=` and the first 8 digits of its trace id.
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, target, fields, trace_id, span_id, span.
    Json,
}

pub mod otlp;

/// What `install` sets up.
pub struct Settings {
    /// The OpenTelemetry service name (`ringshop-node`, `ringshop`) and this process's
    /// instance (the node's name; `main`).
    pub service: &'static str,
    pub instance: String,
    /// Also export the kept spans to this OTLP/HTTP collector (`otlp::endpoint` form).
    pub otlp: Option<String>,
    /// Log lines at this level and above (`RUST_LOG` overrides it, as `logging::filter`).
    pub level: LevelFilter,
    /// Targets whose log lines the default (no `RUST_LOG`) leaves out: the main's own
    /// messages say what failed, so tarpc's internals (`tarpc`) would only repeat them.
    pub quiet: &'static [&'static str],
    pub format: LogFormat,
    /// Colours in text lines.
    pub ansi: bool,
    /// How many finished spans to keep for `spans`; 0 keeps none.
    pub ring: usize,
}

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
    RING.get_or_init(|| Arc::new(SpanRing::new(DEFAULT_RING)))
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
fn trace_id(id: opentelemetry::trace::TraceId) -> TraceId {
    TraceId(u128::from_be_bytes(id.to_bytes()))
}

/// Our span id of OpenTelemetry's (0: none).
fn span_id(id: opentelemetry::trace::SpanId) -> u64 {
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

/// The tracer provider's builder every process starts from: sampled by `Actions`, kept in
/// `ring`; the caller may add processors (the OTLP exporter, a test's in-memory exporter).
pub fn provider_builder(ring: Arc<SpanRing>) -> TracerProviderBuilder {
    SdkTracerProvider::builder()
        .with_sampler(Actions)
        .with_span_processor(Keep(ring))
}

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

/// Installs logging and tracing for this process as the global default; returns the provider
/// (call `shutdown` on it before exiting: that sends what the OTLP exporter still holds).
/// Err when the OTLP exporter cannot be made (nothing is installed then).
pub fn install<W>(settings: Settings, writer: W) -> Result<SdkTracerProvider, String>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let exporter = match &settings.otlp {
        Some(endpoint) => Some(otlp::exporter(endpoint)?),
        None => None,
    };
    Ok(install_with(settings, writer, move |b| match exporter {
        Some(exporter) => b.with_batch_exporter(exporter),
        None => b,
    }))
}

/// `install`, with `more` added to the tracer provider (more processors).
pub fn install_with<W>(
    settings: Settings,
    writer: W,
    more: impl FnOnce(TracerProviderBuilder) -> TracerProviderBuilder,
) -> SdkTracerProvider
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let ring = RING
        .get_or_init(|| Arc::new(SpanRing::new(settings.ring)))
        .clone();
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(settings.service)
        .with_attribute(KeyValue::new(
            "service.instance.id",
            settings.instance.clone(),
        ))
        .build();
    let provider = more(provider_builder(ring).with_resource(resource)).build();
    let _ = stack(&settings, writer, &provider).try_init();
    provider
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
        crate::logging::filter(settings.level, settings.quiet),
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
    let log_filter = crate::logging::with_spans(events, span_filter());
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

/// What the tracing layers see: spans and events at info and above, whatever the log shows (a
/// verb logs only errors). Every layer has a filter: one without enables every debug and
/// trace callsite of every crate (tarpc writes several per request).
pub fn span_filter() -> Targets {
    Targets::new().with_default(LevelFilter::INFO)
}

/// Drops tarpc's per-call spans ("RPC") that no kept trace needs, for every layer at once (a
/// global filter: a per-layer filter that says no still leaves the span made): a served
/// request's span unless the request just read on this thread is sampled (`NoteSampling`),
/// and a call's span unless it is made inside a span of ours (a call outside any span can
/// only start a trace that is not kept). So the bulk of calls, outside any action, make no
/// span at all. Measured: making and dropping them unsampled cost a node a fifth of its
/// cached hits per second, and the main a fifth of its calls.
pub struct CallSpans;

impl<S> Layer<S> for CallSpans
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        if rpc_span(meta).is_some() {
            tracing::subscriber::Interest::sometimes()
        } else {
            tracing::subscriber::Interest::always()
        }
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>, cx: LayerContext<'_, S>) -> bool {
        match rpc_span(meta) {
            Some(Side::Server) => SAMPLED_REQUEST.get(),
            Some(Side::Client) => cx.lookup_current().is_some(),
            None => true,
        }
    }

    /// A filter, not a consumer: it enables nothing more verbose than the other layers do.
    fn max_level_hint(&self) -> Option<LevelFilter> {
        Some(LevelFilter::OFF)
    }
}

enum Side {
    Server,
    Client,
}

/// Which side's per-call span of tarpc `meta` is, if it is one.
fn rpc_span(meta: &tracing::Metadata<'_>) -> Option<Side> {
    if !meta.is_span() || meta.name() != "RPC" {
        return None;
    }
    match meta.target() {
        "tarpc::server" => Some(Side::Server),
        "tarpc::client" => Some(Side::Client),
        _ => None,
    }
}

thread_local! {
    /// Whether the request a server channel just read on this thread is part of a kept trace.
    static SAMPLED_REQUEST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A server transport that notes, for the span tarpc opens for the request it just read,
/// whether that request's trace is kept (tarpc reads a request and opens its span in one
/// poll, on one thread).
pub struct NoteSampling<T>(pub T);

impl<T, Req> futures::Stream for NoteSampling<T>
where
    T: futures::Stream<Item = std::io::Result<tarpc::ClientMessage<Req>>> + Unpin,
{
    type Item = std::io::Result<tarpc::ClientMessage<Req>>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let next = std::pin::Pin::new(&mut self.0).poll_next(cx);
        if let std::task::Poll::Ready(Some(Ok(tarpc::ClientMessage::Request(request)))) = &next {
            let sampled = request.context.trace_context.sampling_decision
                == tarpc::trace::SamplingDecision::Sampled;
            SAMPLED_REQUEST.set(sampled);
        }
        next
    }
}

impl<T, Item> futures::Sink<Item> for NoteSampling<T>
where
    T: futures::Sink<Item> + Unpin,
{
    type Error = T::Error;

    fn poll_ready(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.0).poll_ready(cx)
    }

    fn start_send(mut self: std::pin::Pin<&mut Self>, item: Item) -> Result<(), Self::Error> {
        std::pin::Pin::new(&mut self.0).start_send(item)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::pin::Pin::new(&mut self.0).poll_close(cx)
    }
}

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
fn tag(span: &tracing::Span) -> Option<TraceId> {
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

/// The trace a span belongs to, read from its `trace_id` (ours) or `rpc.trace_id` (tarpc's)
/// field, kept in the span's extensions for the log lines written in it.
#[derive(Clone, Copy, Debug)]
struct TraceTag {
    trace: TraceId,
    span: Option<u64>,
}

struct TraceTags;

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

/// The log line formats.
struct Lines {
    format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        // The innermost span with a trace tag says the trace; the innermost span, its name.
        let mut tag = None;
        let mut innermost = None;
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                innermost.get_or_insert_with(|| span.name());
                if let Some(t) = span.extensions().get::<TraceTag>() {
                    tag = Some(*t);
                    break;
                }
            }
        }
        let meta = event.metadata();
        let now = now();
        match self.format {
            LogFormat::Text => {
                let level = *meta.level();
                if writer.has_ansi_escapes() {
                    let colour = match level {
                        tracing::Level::ERROR => "\x1b[31m",
                        tracing::Level::WARN => "\x1b[33m",
                        tracing::Level::INFO => "\x1b[32m",
                        _ => "\x1b[2m",
                    };
                    write!(writer, "\x1b[2m{now}\x1b[0m {colour}{level:>5}\x1b[0m ")?;
                } else {
                    write!(writer, "{now} {level:>5} ")?;
                }
                if let Some(t) = tag {
                    write!(writer, "trace={} ", t.trace.short())?;
                }
                write!(writer, "{}: ", meta.target())?;
                ctx.field_format().format_fields(writer.by_ref(), event)?;
                writeln!(writer)
            }
            LogFormat::Json => {
                let mut fields = JsonFields::default();
                event.record(&mut fields);
                let mut doc = serde_json::Map::new();
                doc.insert("timestamp".into(), now.into());
                doc.insert("level".into(), meta.level().as_str().into());
                doc.insert("target".into(), meta.target().into());
                if let Some(t) = tag {
                    doc.insert("trace_id".into(), t.trace.to_string().into());
                    if let Some(s) = t.span {
                        doc.insert("span_id".into(), format!("{s:016x}").into());
                    }
                }
                if let Some(name) = innermost {
                    doc.insert("span".into(), name.into());
                }
                doc.insert("fields".into(), serde_json::Value::Object(fields.0));
                writeln!(writer, "{}", serde_json::Value::Object(doc))
            }
        }
    }
}

#[derive(Default)]
struct JsonFields(serde_json::Map<String, serde_json::Value>);

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.into());
    }
}

/// Now as tracing-subscriber's default lines print it (RFC 3339, UTC).
fn now() -> String {
    use tracing_subscriber::fmt::time::FormatTime;
    let mut s = String::new();
    let _ = tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(&mut s));
    s
}

#[cfg(test)]
#[path = "telemetry_tests.rs"]
mod tests;
