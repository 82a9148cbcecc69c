//! Tracing and logging for both binaries: one trace per action of the main, followed through
//! every node it reaches, and log lines that say which trace they belong to.
//!
//! Both binaries install the same stack (`install`): the log (text, or one JSON object per
//! line) with the trace id of the span it was written in, and OpenTelemetry's SDK behind
//! `tracing-opentelemetry`, which gives every span a trace and span id. tarpc fills each
//! request's trace context from the caller's current span and opens the server's span under
//! it, so a span on the main, the owner it calls and the product owner that owner calls share
//! one trace with correct parents. Only the traces an action starts are kept, in a bounded
//! ring per process, which the `spans` RPC answers from.
//!
//! Which node a span ran on is its `node` attribute: the node's server sets it on tarpc's span
//! of every request it serves, the job and actor spans carry it, and the main's root says
//! `main`. Spans without it (tarpc's client side) link the hops but are not shown.
//!
//! Tour, one concept per file:
//! - `install.rs`: `install`, the one call a binary makes, from its `Settings`
//!   (`settings.rs`); `layers.rs` is the subscriber it sets, layer by layer.
//! - `sampler.rs`: which traces are kept (those an action starts).
//! - `ring.rs`: the bounded ring of kept spans, the process's one ring, and the processor that
//!   fills it; `spans_of` and `traces_starting` answer the `spans` and `traces` RPCs.
//! - `rpc_spans.rs`: the handshake with tarpc's internals (a thread-local set by the server's
//!   transport, read by a global filter), so calls outside any kept trace make no span.
//! - `propagation.rs`: a span's ids, an action's root span, a traceparent out and back in,
//!   the marks a node puts on the span of a request it serves.
//! - `tags.rs`: each span's trace, read from its fields for the log lines; `format.rs`: the
//!   two line formats; `filter.rs`: `RUST_LOG` for the log, a fixed level for the spans.
//! - `otlp.rs`: `--otlp URL` and the exporter; `otlp/client.rs`: its small HTTP client.
//! - `panics.rs`: the node's panic hook, one `error` line in the log per panic.
//! - `attributes.rs`: the names spans carry.
//!
//! It depends on `ringshop-shared` (the trace types the `spans` RPC answers with) and on
//! neither the node nor the main.

pub mod attributes;
pub mod filter;
pub mod format;
pub mod install;
pub mod layers;
pub mod otlp;
pub mod panics;
pub mod propagation;
pub mod ring;
pub mod rpc_spans;
pub mod sampler;
pub mod settings;
mod tags;

pub use attributes::{ACTION, MAIN, METHOD, NODE};
pub use filter::span_filter;
pub use format::LogFormat;
pub use install::{install, install_with, provider_builder};
pub use layers::{otel_layer, stack, stack_with};
pub use panics::log_panics;
pub use propagation::{action, continue_trace, ids_of, on_node, traceparent};
pub use ring::{DEFAULT_RING, Keep, SpanRing, ring, spans_of, traces_starting};
pub use rpc_spans::{CallSpans, NoteSampling};
pub use sampler::Actions;
pub use settings::Settings;
