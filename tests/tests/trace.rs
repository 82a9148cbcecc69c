//! One trace per action (issue 12): a checkout started in one action is ONE trace whose spans
//! come from the main and from several nodes, each with its real parent; `ringshop trace`
//! on a cluster of node processes shows the hops; and a node's log lines say their trace
//! whatever `RUST_LOG` selects.
//!
//! The first test installs this test binary's global tracing (the stack the binaries install)
//! with the OpenTelemetry SDK's in-memory exporter added, so it sees every span the in-process
//! nodes and the client made, as an OTLP exporter would.

use std::collections::{HashMap, HashSet};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry::trace::{SpanId, TraceId};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use ringshop_node::shop::checkout::Payment;
use ringshop_shared::{NewOrder, OrderId, OrderLine, Placed, ProductId, Stage};
use ringshop_telemetry::{self as telemetry, LogFormat, Settings};
use ringshop_tests::{TestCluster, main_binary, name};
use tracing::Instrument;
use tracing_subscriber::filter::LevelFilter;

const CATALOG: &str = "mug,Mug,tea,1200,1000\nlamp,Lamp,home,4500,1000\npen,Pen,books,900,1000\n\
                       cup,Cup,tea,800,1000\nbook,Book,books,1500,1000\n";

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.as_str().into_owned())
}

/// This test binary's tracing, installed once (it is the process's global subscriber), with
/// the SDK's in-memory exporter; each test reads the spans of its own trace.
fn traced() -> &'static (InMemorySpanExporter, SdkTracerProvider) {
    static TRACED: OnceLock<(InMemorySpanExporter, SdkTracerProvider)> = OnceLock::new();
    TRACED.get_or_init(|| {
        let exporter = InMemorySpanExporter::default();
        let settings = Settings {
            level: LevelFilter::WARN,
            quiet: &[],
            format: LogFormat::Text,
            ansi: false,
            ring: 16_384,
            service: "test",
            instance: "test".into(),
            otlp: None,
        };
        let provider = {
            let exporter = exporter.clone();
            telemetry::install_with(settings, std::io::sink, move |b| {
                b.with_simple_exporter(exporter)
            })
        };
        (exporter, provider)
    })
}

/// The exported spans of `trace`.
fn exported(trace: ringshop_shared::trace::TraceId) -> Vec<SpanData> {
    let (exporter, provider) = traced();
    provider.force_flush().expect("flushed");
    let trace_id = TraceId::from_bytes(trace.0.to_be_bytes());
    exporter
        .get_finished_spans()
        .expect("the exporter's spans")
        .into_iter()
        .filter(|s| s.span_context.trace_id() == trace_id)
        .collect()
}

/// Three in-process nodes of a shop whose payments take `payment`.
async fn shop_in_process(payment: Duration) -> TestCluster {
    let payment = Payment {
        delay: payment,
        failure_rate: 0.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
    for i in 1..=3 {
        cluster.add_in_process(name(i)).await;
    }
    cluster
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_checkout_is_one_trace_across_nodes_with_its_parents() {
    let (exporter, provider) = traced();
    let cluster = shop_in_process(Duration::from_millis(100)).await;
    let client = cluster.client().await;
    // An order owned by one node, with a line owned by another: the checkout must hop.
    let ring = client.ring();
    let products: Vec<ProductId> = ["mug", "lamp", "pen", "cup", "book"]
        .iter()
        .map(|p| ProductId::new(*p).expect("valid"))
        .collect();
    let order = (0..1_000)
        .map(|_| OrderId::random())
        .find(|id| {
            let owner = ring.owner(id as &dyn Placed);
            products
                .iter()
                .any(|p| ring.owner(p as &dyn Placed) != owner)
        })
        .expect("some order id is owned apart from some product");
    let new = NewOrder {
        id: order,
        customer: "tracer".into(),
        lines: products
            .iter()
            .map(|p| OrderLine {
                product: p.clone(),
                qty: 1,
            })
            .collect(),
    };
    let root = telemetry::action("buy");
    let (trace, _) = telemetry::ids_of(&root).expect("an action's trace is kept");
    let done = async {
        let accepted = client.checkout(&new).await.expect("accepted").value;
        ringshop_tests::follow_until(&client, accepted, Stage::Done, Duration::from_secs(30)).await
    }
    .instrument(root)
    .await;
    assert_eq!(done.stage, Stage::Done, "{done:?}");
    // The job's last step span closes just after the order is done.
    tokio::time::sleep(Duration::from_millis(200)).await;
    provider.force_flush().expect("flushed");
    let finished = exporter.get_finished_spans().expect("the exporter's spans");

    let trace_id = TraceId::from_bytes(trace.0.to_be_bytes());
    let ours: Vec<&SpanData> = finished
        .iter()
        .filter(|s| s.span_context.trace_id() == trace_id)
        .collect();
    // ONE trace: every span that names the order (its job) is in it, and nothing else kept
    // belongs to another trace's checkout of it.
    let of_order: Vec<&SpanData> = finished
        .iter()
        .filter(|s| attr(s, "order").as_deref() == Some(order.to_string().as_str()))
        .collect();
    assert!(!of_order.is_empty(), "the order's job span was exported");
    assert!(
        of_order
            .iter()
            .all(|s| s.span_context.trace_id() == trace_id),
        "the order's spans are all in the action's trace"
    );
    // Parent links: exactly one root (the action), every other span's parent is a span of the
    // same trace, and every span reaches the root through its parents.
    let ids: HashMap<SpanId, &SpanData> = ours
        .iter()
        .map(|s| (s.span_context.span_id(), *s))
        .collect();
    let roots: Vec<&&SpanData> = ours
        .iter()
        .filter(|s| s.parent_span_id == SpanId::INVALID)
        .collect();
    assert_eq!(
        roots.len(),
        1,
        "one root: {:?}",
        roots.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert_eq!(roots[0].name, "buy");
    for s in &ours {
        let mut at = *s;
        let mut hops = 0;
        while at.parent_span_id != SpanId::INVALID {
            at = ids.get(&at.parent_span_id).unwrap_or_else(|| {
                panic!(
                    "{}'s parent {} is not in the trace",
                    s.name, s.parent_span_id
                )
            });
            hops += 1;
            assert!(hops < 64, "a parent cycle");
        }
        assert_eq!(at.name, "buy", "{} reaches the root", s.name);
    }
    // From the main and at least two nodes: the order's owner (checkout, job, steps) and a
    // product's owner (its reserve and the product actor's turn), under the job.
    let nodes: HashSet<String> = ours.iter().filter_map(|s| attr(s, "node")).collect();
    let node_count = nodes
        .iter()
        .filter(|n| n.as_str() != telemetry::MAIN)
        .count();
    assert!(nodes.contains(telemetry::MAIN), "{nodes:?}");
    assert!(node_count >= 2, "spans from at least two nodes: {nodes:?}");
    let owner = ring
        .owner(&order as &dyn Placed)
        .expect("an owner")
        .to_string();
    let job = ours
        .iter()
        .find(|s| s.name == "job")
        .expect("the job's span");
    assert_eq!(attr(job, "node").as_deref(), Some(owner.as_str()));
    let under_job = |s: &SpanData| {
        let mut at = s;
        while let Some(p) = ids.get(&at.parent_span_id) {
            if p.span_context.span_id() == job.span_context.span_id() {
                return true;
            }
            at = p;
        }
        false
    };
    let remote_reserves: Vec<&&SpanData> = ours
        .iter()
        .filter(|s| attr(s, "rpc.method").as_deref() == Some("Shard.reserve"))
        .filter(|s| attr(s, "node").is_some_and(|n| n != owner))
        .collect();
    assert!(
        !remote_reserves.is_empty(),
        "a reserve served by another node"
    );
    assert!(remote_reserves.iter().all(|s| under_job(s)));
    let turns: Vec<&&SpanData> = ours.iter().filter(|s| s.name == "turn").collect();
    assert!(
        turns.len() >= products.len(),
        "each line's reservation went through its product's actor in a turn span"
    );
    assert!(turns.iter().all(|s| under_job(s)));
    // The ring the `spans` RPC answers from holds the same spans.
    let kept = telemetry::spans_of(trace);
    assert_eq!(kept.len(), ours.len());
}

/// Runs the built `ringshop` with `args`; (exit code, stdout, stderr).
fn ringshop(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(main_binary())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("runs ringshop");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ringshop_trace_shows_a_buy_across_the_node_processes() {
    let payment = Payment {
        delay: Duration::from_millis(50),
        failure_rate: 0.0,
    };
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment);
    for i in 1..=3 {
        cluster.add_process(name(i));
    }
    let nodes = cluster.addrs()[0].to_string();
    let args: Vec<String> = [
        "buy", "mug", "lamp", "pen", "cup", "book", "--yes", "--json",
    ]
    .iter()
    .map(|a| a.to_string())
    .chain(["--nodes".to_string(), nodes.clone()])
    .collect();
    let (code, out, stderr) = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ringshop(&args)
    })
    .await
    .expect("ran");
    assert_eq!(code, Some(0), "{stderr}");
    let trace = out
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|doc| doc["trace_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("every --json line has a trace_id: {out}"));
    for line in out.lines() {
        let doc: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
        assert_eq!(
            doc["trace_id"],
            trace.as_str(),
            "one trace for the whole buy"
        );
    }
    let (code, table, stderr) = ringshop(&["trace", &trace, "--nodes", &nodes]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(table.starts_with(&format!("trace {trace}")), "{table}");
    for row in [
        "Shard.checkout",
        "job",
        "reserving",
        "Shard.reserve",
        "turn",
        "paying",
    ] {
        assert!(table.contains(row), "{row} in\n{table}");
    }
    let (code, json, stderr) = ringshop(&["trace", &trace, "--nodes", &nodes, "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(json.trim()).expect("one document");
    assert_eq!(doc["trace"], trace.as_str());
    let rows = doc["spans"].as_array().expect("spans");
    let on: HashSet<&str> = rows.iter().filter_map(|r| r["node"].as_str()).collect();
    assert!(on.len() >= 2, "the buy ran on at least two nodes: {on:?}");
    // Every shown parent is a shown row, and a child starts no earlier than its parent.
    let by_id: HashMap<&str, &serde_json::Value> = rows
        .iter()
        .filter_map(|r| Some((r["span_id"].as_str()?, r)))
        .collect();
    for r in rows {
        if let Some(parent) = r["parent_id"].as_str() {
            let p = by_id.get(parent).expect("the parent is a row");
            assert!(
                r["offset_ms"].as_f64() >= p["offset_ms"].as_f64(),
                "{r} after {p}"
            );
        }
    }
    // A trace id nobody kept: not found (4); a malformed one: usage (2).
    let (code, _, _) = ringshop(&["trace", &"1".repeat(32), "--nodes", &nodes]);
    assert_eq!(code, Some(4));
    let (code, _, stderr) = ringshop(&["trace", "xyz", "--nodes", &nodes]);
    assert_eq!(code, Some(2), "{stderr}");
}

/// What the collector got: each request's path and body.
type Requests = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A collector on 127.0.0.1: answers every request 200 and keeps each one's path and body.
struct Collector {
    addr: std::net::SocketAddr,
    got: Requests,
}

impl Collector {
    fn start() -> Collector {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("an address");
        let got: Requests = Default::default();
        let keep = got.clone();
        std::thread::spawn(move || {
            // Bounded: a test sends a few batches.
            for stream in listener.incoming().take(64) {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut length = 0usize;
                loop {
                    let mut header = String::new();
                    if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':')
                        && name.eq_ignore_ascii_case("content-length")
                    {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                keep.lock().expect("not poisoned").push((path, body));
                let _ = reader
                    .get_mut()
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            }
        });
        Collector { addr, got }
    }
}

#[test]
fn otlp_sends_the_buys_one_trace_to_a_collector() {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use prost::Message;
    let collector = Collector::start();
    let url = format!("http://{}", collector.addr);
    // The embedded cluster: the main and its three nodes in one process, one exporter.
    let (code, out, stderr) = ringshop(&["buy", "mug", "--yes", "--json", "--otlp", &url]);
    assert_eq!(code, Some(0), "{stderr}");
    let trace = out
        .lines()
        .last()
        .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .and_then(|doc| doc["trace_id"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("a trace_id: {out}"));
    // The exporter sent what it held when the main exited.
    let got = collector.got.lock().expect("not poisoned").clone();
    assert!(!got.is_empty(), "the collector got nothing");
    let mut names = HashSet::new();
    let mut services = HashSet::new();
    for (path, body) in &got {
        assert_eq!(path, "/v1/traces");
        let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("OTLP protobuf");
        for resource in &request.resource_spans {
            for kv in resource.resource.iter().flat_map(|r| &r.attributes) {
                if kv.key == "service.name" {
                    services.insert(format!("{:?}", kv.value));
                }
            }
            for span in resource.scope_spans.iter().flat_map(|s| &s.spans) {
                let hex: String = span.trace_id.iter().map(|b| format!("{b:02x}")).collect();
                assert_eq!(hex, trace, "only the buy's trace is sampled");
                names.insert(span.name.clone());
            }
        }
    }
    for name in ["buy", "job", "reserving", "turn"] {
        assert!(names.contains(name), "{name} in {names:?}");
    }
    assert!(
        services.iter().any(|s| s.contains("ringshop")),
        "{services:?}"
    );
    // Anything but http:// is a usage error.
    let (code, _, stderr) = ringshop(&["buy", "mug", "--yes", "--otlp", "https://x:4318"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("only http://"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_resumed_after_its_node_is_killed_goes_on_in_the_checkouts_trace() {
    traced();
    let mut cluster = shop_in_process(Duration::from_millis(1_500)).await;
    let client = cluster.client().await;
    let new = NewOrder {
        id: OrderId::random(),
        customer: "tracer".into(),
        lines: vec![OrderLine {
            product: ProductId::new("cup").expect("valid"),
            qty: 1,
        }],
    };
    let root = telemetry::action("buy");
    let (trace, _) = telemetry::ids_of(&root).expect("an action's trace is kept");
    let paying = async {
        let accepted = client.checkout(&new).await.expect("accepted").value;
        ringshop_tests::follow_until(&client, accepted, Stage::Paying, Duration::from_secs(30))
            .await
    }
    .instrument(root.clone())
    .await;
    let first = paying.node.clone();
    cluster.kill(&first).await;
    // Followed outside the action: only the stored traceparent can tie the new job to it.
    drop(root);
    let done =
        ringshop_tests::follow_until(&client, paying, Stage::Done, Duration::from_secs(30)).await;
    assert_eq!(done.stage, Stage::Done);
    assert_ne!(done.node, first, "bought by the next owner");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let spans = exported(trace);
    let jobs: Vec<&SpanData> = spans
        .iter()
        .filter(|s| {
            s.name == "job" && attr(s, "order").as_deref() == Some(new.id.to_string().as_str())
        })
        .collect();
    let on: HashSet<String> = jobs.iter().filter_map(|s| attr(s, "node")).collect();
    assert_eq!(
        on,
        HashSet::from([first.to_string(), done.node.to_string()]),
        "the first job and the resumed one, both in the checkout's trace"
    );
    // The resumed job's parent is the span the order was placed in (the owner's checkout).
    let checkout = spans
        .iter()
        .find(|s| attr(s, "rpc.method").as_deref() == Some("Shard.checkout"))
        .expect("the checkout's span");
    let resumed = jobs
        .iter()
        .find(|s| attr(s, "node").as_deref() == Some(done.node.as_str()))
        .expect("the resumed job");
    assert_eq!(resumed.parent_span_id, checkout.span_context.span_id());
    // It went on to pay and finish there, in the same trace.
    assert!(
        spans
            .iter()
            .any(|s| s.name == "paying" && attr(s, "node").as_deref() == Some(done.node.as_str())),
        "the resumed payment is in the trace"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_leaving_in_an_action_hands_over_in_its_trace() {
    traced();
    let mut cluster = TestCluster::in_process(3, Duration::from_secs(60)).await;
    let client = cluster.client().await;
    // Values kept on every node, so the one that leaves has entries to hand over.
    for id in 0..60 {
        client.request(id).await.expect("answered");
    }
    let leaving = name(1);
    let root = telemetry::action("leave node");
    let (trace, _) = telemetry::ids_of(&root).expect("an action's trace is kept");
    cluster.leave(&leaving).instrument(root).await;
    let spans = exported(trace);
    let adopted: Vec<&SpanData> = spans
        .iter()
        .filter(|s| attr(s, "rpc.method").as_deref() == Some("Shard.adopt"))
        .collect();
    assert!(
        !adopted.is_empty(),
        "the handoff's adopt calls are in the action's trace"
    );
    assert!(
        adopted
            .iter()
            .all(|s| attr(s, "node").is_some_and(|n| n != leaving.as_str())),
        "each served by the heir, not the leaving node"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_crate_rust_log_keeps_the_trace_id_on_a_node_processs_log_lines() {
    traced();
    let payment = Payment {
        delay: Duration::from_millis(20),
        failure_rate: 0.0,
    };
    // A per-crate directive enables no span of tarpc's, which carries the served call's trace.
    let mut cluster = TestCluster::shop(Duration::from_secs(5), CATALOG, payment)
        .with_node_log(name(1), "ringshop_node=debug");
    cluster.add_process(name(1));
    let client = cluster.client().await;
    // Once it serves, a checkout's job starts in the checkout's call (tarpc's span), not later
    // from the stored traceparent.
    client.request(0).await.expect("serving");
    let new = NewOrder {
        id: OrderId::random(),
        customer: "tracer".into(),
        lines: vec![OrderLine {
            product: ProductId::new("mug").expect("valid"),
            qty: 1,
        }],
    };
    let root = telemetry::action("buy");
    let (trace, _) = telemetry::ids_of(&root).expect("an action's trace is kept");
    let done = async {
        let accepted = client.checkout(&new).await.expect("accepted").value;
        ringshop_tests::follow_until(&client, accepted, Stage::Done, Duration::from_secs(30)).await
    }
    .instrument(root)
    .await;
    assert_eq!(done.stage, Stage::Done);
    let log = cluster.node_log(&name(1));
    let order = new.id.to_string();
    let moved: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("order moved on") && l.contains(&order))
        .collect();
    assert!(!moved.is_empty(), "the job logged its stages: {log}");
    let tag = format!("trace={} ", trace.short());
    assert!(
        moved.iter().all(|l| l.contains(&tag)),
        "every line of the checkout says {tag}: {log}"
    );
}
