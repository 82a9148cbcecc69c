//! The whole stack at work: sampling, trace tags, both log formats, tarpc's spans and
//! propagation, each seen through what the log wrote and what the ring kept.

use std::sync::{Arc, Mutex};

use ringshop_shared::trace::SpanRecord;
use tracing::field::Empty;
use tracing_subscriber::filter::LevelFilter;

use super::*;
use crate::attributes::MAIN;
use crate::install::provider_builder;
use crate::propagation::{continue_trace, ids_of, tag};
use crate::ring::SpanRing;
use crate::rpc_spans::SAMPLED_REQUEST;

/// A log writer the test can read back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("not poisoned")).into_owned()
    }
}

fn settings(format: LogFormat) -> Settings {
    Settings {
        level: LevelFilter::INFO,
        format,
        ansi: false,
        ring: 16,
        service: "test",
        instance: "test".into(),
        otlp: None,
        quiet: &[],
    }
}

/// Runs `f` under this module's stack with its own ring; the log and the kept spans after.
fn traced(format: LogFormat, f: impl FnOnce()) -> (String, Vec<SpanRecord>) {
    traced_with(format, Targets::new().with_default(LevelFilter::INFO), f)
}

/// `traced`, with the log's events as `events` says (as `RUST_LOG` would).
fn traced_with(format: LogFormat, events: Targets, f: impl FnOnce()) -> (String, Vec<SpanRecord>) {
    let ring = Arc::new(SpanRing::new(64));
    let provider = provider_builder(ring.clone()).build();
    let log = Captured::default();
    let subscriber = stack_with(&settings(format), events, log.clone(), &provider);
    tracing::subscriber::with_default(subscriber, f);
    (log.text(), ring.all())
}

#[test]
fn an_action_is_kept_with_its_children_and_anything_else_is_not() {
    let mut ids = None;
    let (_, kept) = traced(LogFormat::Text, || {
        // Not an action: not kept, nor its child.
        let plain = tracing::info_span!("heartbeat");
        plain.in_scope(|| drop(tracing::info_span!("inner", node = "n1").entered()));
        drop(plain);
        let root = tracing::info_span!(
            "checkout",
            action = "checkout",
            node = MAIN,
            trace_id = Empty,
            span_id = Empty
        );
        let trace = tag(&root).expect("an action's trace is kept");
        root.in_scope(|| {
            let child = tracing::info_span!("reserve", node = "n2");
            ids = ids_of(&child).map(|(t, s)| (trace, t, s));
        });
    });
    let (trace, child_trace, child_id) = ids.expect("the child has ids");
    assert_eq!(child_trace, trace, "one trace");
    assert_eq!(kept.len(), 2, "only the action and its child: {kept:?}");
    let root = kept
        .iter()
        .find(|s| s.name == "checkout")
        .expect("root kept");
    let child = kept
        .iter()
        .find(|s| s.name == "reserve")
        .expect("child kept");
    assert_eq!(root.parent, 0);
    assert_eq!(child.parent, root.span, "the child's parent is the root");
    assert_eq!(child.span, child_id);
    assert_eq!((root.node.as_str(), child.node.as_str()), (MAIN, "n2"));
    assert!(kept.iter().all(|s| s.trace == trace));
}

#[test]
fn log_lines_say_their_trace_in_text_and_in_json() {
    let mut trace = None;
    let (text, _) = traced(LogFormat::Text, || {
        let root = tracing::info_span!("buy", action = "buy", trace_id = Empty, span_id = Empty);
        trace = tag(&root);
        root.in_scope(|| {
            let inner = tracing::info_span!("step", node = "n1");
            inner.in_scope(|| tracing::info!(order = 7, "order moved on"));
        });
        tracing::info!("outside any trace");
    });
    let trace = trace.expect("kept");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(&format!("trace={} ", trace.short()))
            && lines[0].contains("order moved on order=7"),
        "{text}"
    );
    assert!(!lines[1].contains("trace="), "{text}");

    let mut trace = None;
    let (json, _) = traced(LogFormat::Json, || {
        let root = tracing::info_span!("buy", action = "buy", trace_id = Empty, span_id = Empty);
        trace = tag(&root);
        root.in_scope(|| tracing::warn!(qty = 3, "short"));
    });
    let trace = trace.expect("kept");
    let doc: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON object");
    assert_eq!(doc["trace_id"], trace.to_string());
    assert_eq!(doc["span_id"].as_str().map(str::len), Some(16));
    assert_eq!(doc["level"], "WARN");
    assert_eq!(doc["span"], "buy");
    assert_eq!(doc["fields"]["message"], "short");
    assert_eq!(doc["fields"]["qty"], 3);
}

#[test]
fn a_served_requests_span_is_made_only_when_its_trace_is_kept() {
    let ring = Arc::new(SpanRing::new(64));
    let provider = provider_builder(ring).build();
    let subscriber = stack(&settings(LogFormat::Text), Captured::default(), &provider);
    tracing::subscriber::with_default(subscriber, || {
        let made = |sampled: bool| {
            SAMPLED_REQUEST.set(sampled);
            !tracing::info_span!(target: "tarpc::server", "RPC").is_disabled()
        };
        assert!(!made(false), "an unsampled request makes no span");
        assert!(made(true), "a sampled one does");
        assert!(!made(false));
        // A call's span only inside a span of ours.
        assert!(tracing::info_span!(target: "tarpc::client", "RPC").is_disabled());
        let ours = tracing::info_span!("action", action = "buy");
        ours.in_scope(|| {
            assert!(!tracing::info_span!(target: "tarpc::client", "RPC").is_disabled());
        });
    });
}

#[test]
fn the_stack_enables_nothing_more_verbose_than_its_layers_ask_for() {
    // A layer without a filter (or a filter layer without a level hint) enables every debug
    // and trace callsite of every crate: measured, a fifth of a node's cached hits.
    let ring = Arc::new(SpanRing::new(64));
    let provider = provider_builder(ring).build();
    let subscriber = stack(&settings(LogFormat::Text), Captured::default(), &provider);
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(LevelFilter::current(), LevelFilter::INFO);
        assert!(!tracing::enabled!(target: "tarpc::server", tracing::Level::DEBUG));
        assert!(tracing::debug_span!(target: "ringshop_node", "x").is_disabled());
        assert!(!tracing::info_span!(target: "ringshop_node", "x").is_disabled());
    });
}

#[test]
fn a_per_crate_rust_log_keeps_the_trace_id_of_tarpcs_span_on_log_lines() {
    // `RUST_LOG=ringshop_node=debug` enables no span of tarpc's for the log, and tarpc's span
    // of a served request is what carries its trace id.
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let served = || {
        SAMPLED_REQUEST.set(true);
        let rpc = tracing::info_span!(target: "tarpc::server", "RPC", rpc.trace_id = %trace);
        SAMPLED_REQUEST.set(false);
        rpc.in_scope(|| {
            tracing::info!(target: "tarpc::server", "tarpc's own line");
            let job = tracing::info_span!(target: "ringshop_node::shop", "job", order = 7);
            job.in_scope(|| tracing::debug!(target: "ringshop_node::shop", "order moved on"));
        });
    };
    let directive = || "ringshop_node=debug".parse::<Targets>().expect("parses");
    let (text, _) = traced_with(LogFormat::Text, directive(), served);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "only ringshop_node's line: {text}");
    assert!(
        lines[0].contains("trace=0af76519 ") && lines[0].contains("order moved on"),
        "{text}"
    );
    let (json, _) = traced_with(LogFormat::Json, directive(), served);
    let doc: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON object");
    assert_eq!(doc["trace_id"], trace, "{json}");
    assert_eq!(doc["span"], "job");
}

#[test]
fn a_span_continued_from_a_traceparent_says_its_trace_on_log_lines() {
    let (text, _) = traced(LogFormat::Text, || {
        let job = tracing::info_span!(parent: None, "job", trace_id = Empty, span_id = Empty);
        continue_trace(
            &job,
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        );
        job.in_scope(|| tracing::info!("order moved on"));
    });
    assert!(text.contains("trace=0af76519 "), "{text}");
}
