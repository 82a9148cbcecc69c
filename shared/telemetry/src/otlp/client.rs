//! The OTLP exporter's HTTP client: blocking HTTP/1.1 over a plain TCP socket, one request
//! per connection, `http://` only. Small on purpose: no reqwest/hyper stack in the build. It
//! sends what the exporter hands it and reads the status back; it knows nothing of OTLP.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};

/// How long one export may take (connect, send, answer).
pub(super) const EXPORT_TIMEOUT: Duration = Duration::from_secs(5);
/// The most of an answer read (collectors answer with a few bytes).
const MAX_ANSWER: u64 = 64 * 1024;

/// A blocking HTTP/1.1 client: the SDK's batch processor runs exports on its own thread, so a
/// blocking socket there holds up nothing else.
#[derive(Debug)]
pub(super) struct PlainHttp;

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
