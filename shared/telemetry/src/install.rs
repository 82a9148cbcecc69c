//! The one call each binary makes at start: `install` sets the process's tracer provider
//! (sampled by `sampler::Actions`, kept in the process's `ring`, exported over OTLP when asked)
//! and the subscriber `layers::stack` builds on it, as the global default. Nothing else here
//! sets anything global.

use std::sync::Arc;

use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracerProvider, TracerProviderBuilder};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;

use crate::layers::stack;
use crate::otlp;
use crate::ring::{Keep, SpanRing, ring_of};
use crate::sampler::Actions;
use crate::settings::Settings;

/// The tracer provider's builder every process starts from: sampled by `Actions`, kept in
/// `ring`; the caller may add processors (the OTLP exporter, a test's in-memory exporter).
pub fn provider_builder(ring: Arc<SpanRing>) -> TracerProviderBuilder {
    SdkTracerProvider::builder()
        .with_sampler(Actions)
        .with_span_processor(Keep(ring))
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
    let ring = ring_of(settings.ring);
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
