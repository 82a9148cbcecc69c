//! `--otlp URL`: the kept spans also go to an OpenTelemetry collector over OTLP/HTTP
//! (protobuf), batched on the SDK's own thread. The HTTP client is ours and small: plain
//! `http://` only, one request per connection (a collector next to the node is the intended
//! setup; point it onwards with TLS from there).
//!
//! This file checks the URL and makes the exporter; the HTTP client is `otlp/client.rs`.

use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};

mod client;

use self::client::{EXPORT_TIMEOUT, PlainHttp};

/// Why an `--otlp` URL was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadEndpoint {
    #[error("--otlp {0:?} is not a URL like http://127.0.0.1:4318")]
    Malformed(String),
    #[error(
        "--otlp {0:?}: only http:// is supported (run a collector next to the node and let it \
         forward over TLS)"
    )]
    NotHttp(String),
}

/// The traces endpoint of a collector at `url`: `/v1/traces` added when the URL has no path,
/// as OTEL_EXPORTER_OTLP_ENDPOINT is read; a URL with a path is used as it is.
pub fn endpoint(url: &str) -> Result<String, BadEndpoint> {
    let uri: http::Uri = url
        .parse()
        .map_err(|_| BadEndpoint::Malformed(url.to_string()))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some(_) => return Err(BadEndpoint::NotHttp(url.to_string())),
        None => return Err(BadEndpoint::Malformed(url.to_string())),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(BadEndpoint::Malformed(url.to_string()));
    }
    Ok(match uri.path() {
        "" | "/" => format!("{}/v1/traces", url.trim_end_matches('/')),
        _ => url.to_string(),
    })
}

/// An exporter to `endpoint` (as `endpoint()` made it), for a batch processor.
pub fn exporter(endpoint: &str) -> Result<opentelemetry_otlp::SpanExporter, String> {
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(PlainHttp)
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(endpoint)
        .with_timeout(EXPORT_TIMEOUT)
        .build()
        .map_err(|e| format!("the OTLP exporter for {endpoint}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_collector_url_gets_the_traces_path_and_anything_but_http_is_refused() {
        assert_eq!(
            endpoint("http://127.0.0.1:4318"),
            Ok("http://127.0.0.1:4318/v1/traces".into())
        );
        assert_eq!(
            endpoint("http://collector:4318/"),
            Ok("http://collector:4318/v1/traces".into())
        );
        assert_eq!(
            endpoint("http://collector:4318/custom/traces"),
            Ok("http://collector:4318/custom/traces".into())
        );
        assert!(matches!(
            endpoint("https://x:4318"),
            Err(BadEndpoint::NotHttp(_))
        ));
        for bad in ["", "4318", "collector:4318", "http://", "not a url"] {
            assert!(endpoint(bad).is_err(), "{bad:?}");
        }
    }
}
