//! `--otlp URL`: the kept spans also go to an OpenTelemetry collector over OTLP/HTTP
//! (protobuf), batched on the SDK's own thread. The HTTP client is ours and small: plain
//! `http://` only, one request per connection (a collector next to the node is the intended
//! setup; point it onwards with TLS from there).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};

/// How long one export may take (connect, send, answer).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer read (collectors answer with a few bytes).
const MAX_ANSWER: u64 = 64 * 1024;

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

/// A blocking HTTP/1.1 client: the SDK's batch processor runs exports on its own thread, so a
/// blocking socket there holds up nothing else.
#[derive(Debug)]
struct PlainHttp;

#[async_trait::async_trait]
impl HttpClient for PlainHttp {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        post(&request)
    }
}

fn post(request: &Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
    let uri = request.uri();
    let host = uri.host().ok_or("the endpoint has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| format!("{host}:{port} resolves to no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, EXPORT_TIMEOUT)?;
    stream.set_read_timeout(Some(EXPORT_TIMEOUT))?;
    stream.set_write_timeout(Some(EXPORT_TIMEOUT))?;
    let body = request.body();
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Length: {}\r\nConnection: close\r\n",
        request.method(),
        body.len()
    );
    for (name, value) in request.headers() {
        if let Ok(value) = value.to_str() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;
    let mut answer = Vec::new();
    stream.take(MAX_ANSWER).read_to_end(&mut answer)?;
    parse_answer(&answer)
}

/// The status and (Content-Length) body of an HTTP/1.1 answer; a chunked body is not read
/// (the exporter needs the status; the body only says what a collector partly refused).
fn parse_answer(answer: &[u8]) -> Result<Response<Bytes>, HttpError> {
    let split = answer
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the collector's answer has no header end")?;
    let head = std::str::from_utf8(&answer[..split])?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("the collector's answer has no status")?;
    let mut length = None;
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let rest = &answer[split + 4..];
    let body = match length {
        Some(n) => Bytes::copy_from_slice(&rest[..n.min(rest.len())]),
        None => Bytes::new(),
    };
    Ok(Response::builder().status(status).body(body)?)
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

    #[test]
    fn answers_are_read_for_their_status_and_body() {
        let ok = parse_answer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhiXX").expect("parses");
        assert_eq!(ok.status(), 200);
        assert_eq!(ok.body().as_ref(), b"hi");
        let refused = parse_answer(b"HTTP/1.1 400 Bad Request\r\n\r\n").expect("parses");
        assert_eq!(refused.status(), 400);
        assert!(parse_answer(b"garbage").is_err());
        assert!(parse_answer(b"HTTP/1.1 abc\r\n\r\n").is_err());
    }
}
