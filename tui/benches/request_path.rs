//! The cost of the full request path against a bare tarpc echo, measured side by side in one
//! run, over the same loopback TCP, frames and codec (`ringshop_shared::transport`).
//!
//! - echo: a one-RPC tarpc service that returns its argument, nothing else;
//! - node: a bare `ShardClient::request(id)` on one connection: the node's side of the path
//!   (registry, the actor's mailbox, the `Served` answer) without the client's;
//! - cluster: `Cluster::request(id)` on warm ids (every answer a hit): ring lookup, deadline,
//!   failover bookkeeping and the report, on top of the node's side.
//!
//! Each path runs on three sides, in one run: in this process in the clear; in this process
//! over mutual TLS (a node and clients with certificates made as `ringshop-node certs` makes
//! them); and across processes in the clear, as users run it: the built `ringshop-node` in its
//! own process, and the echo service in a process of its own (this bench binary started again
//! with `--echo-server`), the clients here. Each is run at 1 and at 64 calls in flight, in
//! interleaved rounds (the machine is shared and noisy); the median round of each path is
//! shown; the ratios are medians of per-round ratios (against the echo run of the same round
//! and side; TLS against plain of the same round and path). Target (issue 11): a cached hit
//! through `Cluster` at ≥ 0.95× the bare echo. Across processes it also prints the serving
//! process's CPU time per call (the echo's and the node's, from the scheduler's accounting of
//! every thread), so the node's cost per hit reads against the echo's.
//!
//! Then tracing (issue 12): this process installs the nodes' tracing stack (OpenTelemetry's
//! SDK behind tracing-opentelemetry, spans kept in the ring) behind a switch, and the cluster
//! path in process runs with it off (no layer sees a span: as before tracing existed), on
//! outside an action (every span made and dropped unsampled: the bulk of calls, the demo's,
//! scripts'), and on inside an action (one root span per call, every span kept: a key
//! press), in interleaved rounds. Target: on within 5 % of off. (The node process of the
//! across-processes side always runs with tracing on, unsampled, as users run it.) Run with
//! `cargo bench -p ringshop-tui --bench request_path` (it builds `ringshop-node` in release
//! first if it is missing).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ringshop_node::{Config, certs, serve};
use ringshop_shared::NodeId;
use ringshop_shared::transport::{self, DEFAULT_CONNECT_TIMEOUT, Role, Security};
use ringshop_tui::{Cluster, ClusterConfig};
use tarpc::server::{BaseChannel, Channel};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

#[tarpc::service]
trait Echo {
    async fn echo(x: u64) -> u64;
}

#[derive(Clone)]
struct EchoServer;

impl Echo for EchoServer {
    async fn echo(self, _: tarpc::context::Context, x: u64) -> u64 {
        x
    }
}

const ROUNDS: usize = 5;
const MEASURE: Duration = Duration::from_millis(1000);
const WARM_IDS: u64 = 1024;

#[derive(Clone, Copy)]
struct Figures {
    calls_per_s: f64,
    p50: Duration,
    p99: Duration,
    calls: u64,
    /// CPU time the serving process spent per call (across processes only): every thread's
    /// run time from /proc/PID/task/*/schedstat, before and after the round.
    server_cpu: Option<Duration>,
}

/// The CPU time every thread of process `pid` has run so far (ns precision, from the
/// scheduler's own accounting); None off Linux or once the process is gone.
fn cpu_of(pid: u32) -> Option<Duration> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut ns: u64 = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(ns))
}

/// `measure`, with the CPU that process `server` (if any) spent per call meanwhile.
async fn measure_on<F, Fut>(server: Option<u32>, in_flight: usize, call: F) -> Figures
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let before = server.and_then(cpu_of);
    let mut f = measure(in_flight, call).await;
    let after = server.and_then(cpu_of);
    f.server_cpu = before
        .zip(after)
        .map(|(b, a)| a.saturating_sub(b) / u32::try_from(f.calls.max(1)).unwrap_or(u32::MAX));
    f
}

/// Runs `call` from `in_flight` tasks for `MEASURE`; calls/s and latency percentiles.
async fn measure<F, Fut>(in_flight: usize, call: F) -> Figures
where
    F: Fn(u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let stop = Instant::now() + MEASURE;
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..in_flight)
        .map(|_| {
            let (call, counter) = (call.clone(), counter.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                while Instant::now() < stop {
                    let n = counter.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    call(n % WARM_IDS).await;
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let started = Instant::now();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("bench task"));
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Figures {
        calls_per_s: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
        calls: all.len() as u64,
        server_cpu: None,
    }
}

fn median(mut runs: Vec<Figures>) -> Figures {
    runs.sort_by(|a, b| a.calls_per_s.total_cmp(&b.calls_per_s));
    runs[runs.len() / 2]
}

fn us(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::args().any(|a| a == "--echo-server") {
        runtime.block_on(echo_server());
        return;
    }
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    runtime.block_on(bench());
}

/// The echo service alone in this process (`--echo-server`): prints its address, serves until
/// stdin closes (the bench ends).
async fn echo_server() {
    let stop = CancellationToken::new();
    let addr = serve_echo(Security::Plain, stop.clone(), TaskTracker::new()).await;
    println!("echo listening on {addr}");
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = String::new();
        let _ = std::io::stdin().read_line(&mut sink);
    })
    .await;
    stop.cancel();
}

/// Serves the echo service on a free port of 127.0.0.1, exactly as a node serves Shard.
async fn serve_echo(
    security: Security,
    stop: CancellationToken,
    tracker: TaskTracker,
) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (s, t) = (stop.clone(), tracker.clone());
    tokio::spawn(transport::accept_loop(
        listener,
        security,
        transport::Limits::default(),
        stop,
        tracker,
        move |framed, _| {
            let requests = BaseChannel::with_defaults(framed).execute(EchoServer.serve());
            t.spawn(transport::run_requests(requests, s.clone(), t.clone()));
        },
    ));
    addr
}

/// A child process, killed with the bench; the address it printed on its first line.
struct Child {
    child: std::process::Child,
}

impl Child {
    fn start(command: &mut std::process::Command) -> (Child, SocketAddr) {
        use std::io::BufRead;
        let mut child = command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("reads its first line");
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("printed {line:?}, not an address"));
        (Child { child }, addr)
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release `ringshop-node` beside this bench (target/release), built first if missing.
fn node_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the bench knows its path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("benches live in target/<profile>/deps");
    let bin = dir.join("ringshop-node");
    if !bin.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        println!("building ringshop-node in release for the across-processes side");
        let built = std::process::Command::new(cargo)
            .args(["build", "--release", "-p", "ringshop-node"])
            .status()
            .expect("runs cargo");
        assert!(
            built.success() && bin.exists(),
            "could not build {}",
            bin.display()
        );
    }
    bin
}

/// One side of the comparison: the echo service, a node, and the clients of both, all in the
/// clear or all with mutual TLS on certificates made as `ringshop-node certs` makes them.
struct Side {
    echo: EchoClient,
    shard: ringshop_shared::ShardClient,
    cluster: Cluster,
    node: Option<ringshop_node::NodeHandle>,
    stop: CancellationToken,
    /// The echo's and the node's process ids, across processes.
    pids: Option<(u32, u32)>,
    _children: Vec<Child>,
    _dir: tempfile::TempDir,
}

impl Side {
    /// The echo service and a node in separate processes, the clients here; in the clear.
    async fn processes() -> Side {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let exe = std::env::current_exe().expect("the bench knows its path");
        let (echo_child, echo_addr) =
            Child::start(std::process::Command::new(exe).arg("--echo-server"));
        let (node_child, node_addr) = Child::start(
            std::process::Command::new(node_binary())
                .args(["--name", "b1", "--listen", "127.0.0.1:0", "--ttl", "3600s"])
                .arg("--db")
                .arg(dir.path().join("bench.db"))
                .env("RUST_LOG", "warn"),
        );
        let pids = (echo_child.child.id(), node_child.child.id());
        let mut side = Side::connect(
            echo_addr,
            node_addr,
            Security::Plain,
            None,
            CancellationToken::new(),
            vec![echo_child, node_child],
            dir,
        )
        .await;
        side.pids = Some(pids);
        side
    }

    async fn connect(
        echo_addr: SocketAddr,
        node_addr: SocketAddr,
        client_security: Security,
        node: Option<ringshop_node::NodeHandle>,
        stop: CancellationToken,
        children: Vec<Child>,
        dir: tempfile::TempDir,
    ) -> Side {
        let conn = transport::connect::<EchoRequest, EchoResponse>(
            echo_addr,
            DEFAULT_CONNECT_TIMEOUT,
            &client_security,
        )
        .await
        .expect("echo connects");
        let echo = EchoClient::new(tarpc::client::Config::default(), conn).spawn();
        // The full client path to the node; every id warmed so each call is a hit.
        let client_config = ClusterConfig {
            security: client_security.clone(),
            ..ClusterConfig::default()
        };
        let cluster = Cluster::connect(&[node_addr], client_config)
            .await
            .expect("cluster connects");
        for id in 0..WARM_IDS {
            cluster.request(id).await.expect("warm");
        }
        let shard = transport::connect_shard(node_addr, DEFAULT_CONNECT_TIMEOUT, &client_security)
            .await
            .expect("node connects");
        Side {
            echo,
            shard,
            cluster,
            node,
            stop,
            pids: None,
            _children: children,
            _dir: dir,
        }
    }

    async fn start(tls: bool) -> Side {
        let localhost = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let dir = tempfile::tempdir().expect("a temporary folder");
        let (node_security, client_security) = match tls {
            false => (Security::Plain, Security::Plain),
            true => {
                let certs_dir = dir.path().join("certs");
                let (n, c) = (
                    NodeId::new("b1").expect("valid"),
                    NodeId::new("main").expect("valid"),
                );
                certs::init(&certs_dir).expect("CA");
                certs::node(&certs_dir, &n, &["127.0.0.1".into()]).expect("node certificate");
                certs::client(&certs_dir, &c).expect("client certificate");
                let load = |role, name| {
                    Security::Tls(Arc::new(
                        certs::load(&certs_dir, role, name).expect("loads"),
                    ))
                };
                (load(Role::Node, &n), load(Role::Client, &c))
            }
        };

        // The bare echo service, served exactly as a node serves Shard, and one real node.
        let (stop, tracker) = (CancellationToken::new(), TaskTracker::new());
        let echo_addr = serve_echo(node_security.clone(), stop.clone(), tracker).await;
        let config = Config::new(NodeId::new("b1").expect("valid"), localhost)
            .with_ttl(Duration::from_secs(3600))
            .with_db(dir.path().join("bench.db"))
            .with_security(node_security);
        let node = serve(config).await.expect("node starts");
        let node_addr = node.addr();
        Side::connect(
            echo_addr,
            node_addr,
            client_security,
            Some(node),
            stop,
            Vec::new(),
            dir,
        )
        .await
    }

    /// One round of each path: echo, node, cluster.
    async fn round(&self, in_flight: usize) -> [Figures; 3] {
        let (echo_pid, node_pid) = (self.pids.map(|p| p.0), self.pids.map(|p| p.1));
        let client = self.echo.clone();
        let echo = measure_on(echo_pid, in_flight, move |x| {
            let client = client.clone();
            async move {
                let ctx = transport::context(Duration::from_secs(5));
                client.echo(ctx, x).await.expect("echo answers");
            }
        })
        .await;
        let raw = self.shard.clone();
        let epoch = self.cluster.epoch();
        let node = measure_on(node_pid, in_flight, move |id| {
            let raw = raw.clone();
            async move {
                let ctx = transport::context(Duration::from_secs(5));
                let a = raw
                    .request(ctx, id, epoch)
                    .await
                    .expect("answers")
                    .expect("served");
                assert!(a.hit, "warm ids are hits");
            }
        })
        .await;
        let cl = self.cluster.clone();
        let cluster = measure_on(node_pid, in_flight, move |id| {
            let cl = cl.clone();
            async move {
                let a = cl.request(id).await.expect("request answers");
                assert!(a.value.hit, "warm ids are hits");
            }
        })
        .await;
        [echo, node, cluster]
    }

    async fn stop(self) {
        for (n, s) in self.cluster.stats().await {
            if let Ok(s) = s {
                println!(
                    "node {n}: {} requests, {} misses (the warm-up)",
                    s.requests, s.misses
                );
            }
        }
        self.stop.cancel();
        if let Some(node) = self.node {
            node.shutdown().await;
        }
    }
}

/// The median of per-round ratios `top[i] / bottom[i]`, and their range.
fn ratio(top: &[Figures], bottom: &[Figures]) -> (f64, f64, f64) {
    let mut ratios: Vec<f64> = top
        .iter()
        .zip(bottom)
        .map(|(t, b)| t.calls_per_s / b.calls_per_s)
        .collect();
    ratios.sort_by(f64::total_cmp);
    (
        ratios[ratios.len() / 2],
        ratios[0],
        ratios[ratios.len() - 1],
    )
}

/// The target: a cached hit through `Cluster` at this share of the bare echo's calls/s.
const TARGET: f64 = 0.95;

/// Whether the tracing layer sees spans (the bench's switch).
static TRACING: AtomicBool = AtomicBool::new(false);

/// The nodes' tracing stack as this process's global subscriber, behind `TRACING`.
fn install_tracing() -> opentelemetry_sdk::trace::SdkTracerProvider {
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let provider = ringshop_telemetry::provider_builder(ringshop_telemetry::ring()).build();
    tracing_subscriber::registry()
        .with(Switch)
        .with(ringshop_telemetry::CallSpans)
        .with(
            ringshop_telemetry::otel_layer(&provider)
                .with_filter(ringshop_telemetry::span_filter()),
        )
        .init();
    provider
}

/// `TRACING` as a global filter: off, no span or event is made at all (as with no subscriber,
/// but for one relaxed load per callsite hit); on, the nodes' stack decides.
struct Switch;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Switch {
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(
        &self,
        _: &tracing::Metadata<'_>,
        _: tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        TRACING.load(Ordering::Relaxed)
    }

    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::OFF)
    }
}

/// How the cluster path runs in the tracing comparison.
#[derive(Clone, Copy, PartialEq)]
enum Tracing {
    Off,
    Unsampled,
    InAction,
}

/// One round of the cluster path (in process, plain) with tracing as `mode`.
async fn traced_round(side: &Side, in_flight: usize, mode: Tracing) -> Figures {
    use tracing::Instrument;
    TRACING.store(mode != Tracing::Off, Ordering::Relaxed);
    let cl = side.cluster.clone();
    let f = measure(in_flight, move |id| {
        let cl = cl.clone();
        async move {
            let call = async {
                let a = cl.request(id).await.expect("request answers");
                assert!(a.value.hit, "warm ids are hits");
            };
            if mode == Tracing::InAction {
                let root = tracing::info_span!("action", action = "request", node = "main");
                call.instrument(root).await;
            } else {
                call.await;
            }
        }
    })
    .await;
    TRACING.store(false, Ordering::Relaxed);
    f
}

async fn tracing_cost(side: &Side) {
    println!("tracing: Cluster::request, in process, plain; on/off = median of per-round ratios");
    println!(
        "{:>9}  {:<20} {:>10} {:>8} {:>8} {:>9}",
        "in flight", "tracing", "calls/s", "p50", "p99", "vs off"
    );
    let modes = [
        (Tracing::Off, "off"),
        (Tracing::Unsampled, "on, outside actions"),
        (Tracing::InAction, "on, in an action"),
    ];
    for in_flight in [1usize, 64] {
        let mut runs: [Vec<Figures>; 3] = Default::default();
        for _ in 0..ROUNDS {
            for (i, (mode, _)) in modes.iter().enumerate() {
                runs[i].push(traced_round(side, in_flight, *mode).await);
            }
        }
        for (i, (_, name)) in modes.iter().enumerate() {
            let m = median(runs[i].clone());
            let (r, lo, hi) = ratio(&runs[i], &runs[0]);
            println!(
                "{:>9}  {:<20} {:>10.0} {:>8} {:>8} {:>9.2}  (rounds {lo:.2}..{hi:.2})",
                in_flight,
                name,
                m.calls_per_s,
                us(m.p50),
                us(m.p99),
                r
            );
        }
    }
    let kept = ringshop_telemetry::ring().len();
    println!("spans kept in the ring by the in-action rounds (bounded): {kept}\n");
}

async fn bench() {
    let provider = install_tracing();
    let sides = [
        ("in-process plain", Side::start(false).await),
        ("in-process tls", Side::start(true).await),
        ("processes plain", Side::processes().await),
    ];
    println!("request path vs bare tarpc echo (TLS: 1.3, rustls/ring, ECDSA P-256)");
    println!("loopback TCP, bincode, 1 MiB frames, 2 workers per process; every node answer a hit");
    println!(
        "{ROUNDS} interleaved rounds of {} ms per path and side; median round shown; ratios = median of per-round ratios\n",
        MEASURE.as_millis()
    );
    println!(
        "{:>9}  {:<17} {:<8} {:>10} {:>8} {:>8} {:>9}",
        "in flight", "side", "path", "calls/s", "p50", "p99", "vs echo"
    );
    for in_flight in [1usize, 64] {
        let mut runs: Vec<[Vec<Figures>; 3]> = sides.iter().map(|_| Default::default()).collect();
        for _ in 0..ROUNDS {
            for ((_, side), figures) in sides.iter().zip(runs.iter_mut()) {
                for (path, f) in side.round(in_flight).await.into_iter().enumerate() {
                    figures[path].push(f);
                }
            }
        }
        for ((name, _), figures) in sides.iter().zip(&runs) {
            for (path, path_name) in ["echo", "node", "cluster"].into_iter().enumerate() {
                let m = median(figures[path].clone());
                let (r, _, _) = ratio(&figures[path], &figures[0]);
                println!(
                    "{:>9}  {:<17} {:<8} {:>10.0} {:>8} {:>8} {:>9.2}",
                    in_flight,
                    name,
                    path_name,
                    m.calls_per_s,
                    us(m.p50),
                    us(m.p99),
                    r
                );
            }
        }
        for ((name, _), figures) in sides.iter().zip(&runs) {
            let (r, lo, hi) = ratio(&figures[2], &figures[0]);
            let verdict = if r >= TARGET { "meets" } else { "misses" };
            println!(
                "{in_flight:>9}  {name:<17} cluster/echo = {r:.2} (rounds {lo:.2}..{hi:.2}; {verdict} the {TARGET} target)"
            );
        }
        for ((name, _), figures) in sides.iter().zip(&runs) {
            let cpu = |path: usize| {
                let mut per: Vec<Duration> =
                    figures[path].iter().filter_map(|f| f.server_cpu).collect();
                per.sort();
                per.get(per.len() / 2).copied()
            };
            if let (Some(echo), Some(node), Some(cluster)) = (cpu(0), cpu(1), cpu(2)) {
                let ns = |d: Duration| d.as_nanos() as f64;
                println!(
                    "{in_flight:>9}  {name:<17} server CPU per call (median round): echo {:.1} µs, node {:.1} µs ({:.2}x the echo's), node via Cluster {:.1} µs ({:.2}x)",
                    ns(echo) / 1e3,
                    ns(node) / 1e3,
                    ns(node) / ns(echo).max(1.0),
                    ns(cluster) / 1e3,
                    ns(cluster) / ns(echo).max(1.0),
                );
            }
        }
        let (t, lo, hi) = ratio(&runs[1][2], &runs[0][2]);
        println!(
            "{in_flight:>9}  tls/plain (cluster, in process) = {t:.2} (rounds {lo:.2}..{hi:.2})"
        );
        println!();
    }
    tracing_cost(&sides[0].1).await;
    for (_, side) in sides {
        side.stop().await;
    }
    let _ = provider.shutdown();
}
