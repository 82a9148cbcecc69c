//! The handshake with tarpc's internals: which of tarpc's per-call spans ("RPC") get made at
//! all. `CallSpans` is a global filter that drops the ones no kept trace needs; for a served
//! request it asks one thread-local, which `NoteSampling` (the server's transport) sets from
//! the request it just read. This leans on tarpc reading a request and opening its span in
//! one poll, on one thread; nothing else here depends on tarpc's internals.

use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::Context as LayerContext;
use tracing_subscriber::registry::LookupSpan;

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
    pub(crate) static SAMPLED_REQUEST: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
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
