//! `ringshop-node`: one worker node. Parses flags, starts `serve`, and on Ctrl-C or SIGTERM
//! shuts down gracefully. The only place in the node that uses `anyhow`.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use tracing::level_filters::LevelFilter;

use ringshop_node::certs;
use ringshop_node::config::{DEFAULT_LISTEN, DEFAULT_TTL};
use ringshop_node::shop::checkout::Payment;
use ringshop_node::store::{Db, default_db};
use ringshop_node::{Config, Timing, serve};
use ringshop_shared::NodeId;
use ringshop_shared::duration::parse_duration;
use ringshop_shared::transport::{Role, Security};
use ringshop_telemetry::{self as telemetry, DEFAULT_RING, LogFormat, Settings};

/// A ringshop worker node: per-id actors that keep short-lived values, served over tarpc.
///
/// It joins the cluster recorded in the shared database (`--db`): every node started with the
/// same database is a member, and ids are placed over the live members. On start it prints one
/// line on stdout, `ringshop-node NAME listening on ADDR` (`, advertised as ADDR` when that
/// differs), then logs to stderr. Ctrl-C or SIGTERM leaves gracefully (its cached entries go to
/// their new owners).
///
/// Off loopback every connection is mutual TLS with the cluster's CA (`--certs DIR`; make the
/// certificates with `ringshop-node certs`), unless `--insecure` says otherwise.
#[derive(Parser, Debug)]
#[command(
    version,
    args_conflicts_with_subcommands = true,
    after_help = "Environment:\n  RUST_LOG     log filter for stderr (default: info), e.g. RUST_LOG=debug\n  RINGSHOP_DB  the database (a file or a postgres:// URL) when --db is not given\n\nExit codes: 0 stopped by Ctrl-C / SIGTERM, 1 could not start, 2 usage\n\nExamples:\n  ringshop-node --name n1 --listen 127.0.0.1:7001\n  ringshop-node --name n2 --listen 127.0.0.1:7002 --ttl 10s\n  ringshop-node --listen 127.0.0.1:0      (any free port)\n  ringshop-node certs init certs\n  ringshop-node certs node n1 10.0.0.1 --certs certs\n  ringshop-node --name n1 --listen 0.0.0.0:7001 --advertise 10.0.0.1:7001 --certs certs \\\n      --db postgres://ringshop@db-host/ringshop   (nodes on many machines)"
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// This node's name, unique in the cluster (letters, digits, '-', '_', '.').
    #[arg(long, default_value = "n1")]
    name: NodeId,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// The address other nodes and clients dial, as the members table lists it [default: the
    /// --listen address]; needed when --listen is 0.0.0.0. Port 0: the port bound.
    #[arg(long)]
    advertise: Option<SocketAddr>,
    /// The cluster's certificates: DIR/ca.crt and this node's DIR/node.NAME.crt and .key
    /// (`ringshop-node certs`). Every connection, in and out, is then mutual TLS.
    #[arg(long, value_name = "DIR")]
    certs: Option<PathBuf>,
    /// Serve without TLS on a non-loopback address: anyone who reaches the port may call
    /// every RPC. Without it, such a node needs --certs.
    #[arg(long, conflicts_with = "certs")]
    insecure: bool,
    /// How long an id's actor keeps its value (e.g. 250ms, 5s, 2m).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    ttl: Duration,
    // A string parsed in main, not by clap: clap's error would echo a URL's password.
    /// The database every node of the cluster shares: a SQLite file (nodes on this machine)
    /// or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (nodes on many machines); :memory:
    /// keeps it in this node's memory (for tests: a cluster of one, gone when the node stops)
    /// [default: $RINGSHOP_DB, else $XDG_DATA_HOME/ringshop/cluster.db, else
    /// ~/.local/share/ringshop/cluster.db].
    #[arg(long)]
    db: Option<String>,
    /// How often this node writes its heartbeat.
    #[arg(long, default_value = "250ms", value_parser = parse_duration)]
    heartbeat: Duration,
    /// A member silent this long is declared dead; a node that could not renew its heartbeat
    /// for this long minus a quarter stops answering for ids until it does.
    #[arg(long, default_value = "2s", value_parser = parse_duration)]
    suspicion: Duration,
    /// Requests in flight this node takes from anyone; past it, only those of connections with
    /// few in flight (light clients), and past four times it none: the rest are answered
    /// `busy` at once.
    #[arg(long, default_value = "512", value_parser = clap::value_parser!(u32).range(1..))]
    max_in_flight: u32,
    /// The catalog file (id,name,category,price_cents,stock) [default: the built-in one].
    #[arg(long)]
    catalog: Option<PathBuf>,
    /// How long the simulated payment of a checkout takes.
    #[arg(long, default_value = "2800ms", value_parser = parse_duration)]
    payment_delay: Duration,
    /// The share of payments declined, from 0 to 1.
    #[arg(long, default_value = "0", value_parser = parse_rate)]
    payment_failure_rate: f64,
    /// Log lines on stderr as text, or one JSON object per line; both carry the trace id of
    /// the action they belong to.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// How many finished spans of traced actions this node keeps for `ringshop trace`.
    #[arg(long, default_value_t = DEFAULT_RING, value_name = "N")]
    spans: usize,
    /// Also send the traced spans to an OpenTelemetry collector over OTLP/HTTP, e.g.
    /// http://127.0.0.1:4318 (/v1/traces is added when the URL has no path).
    #[arg(long, value_name = "URL")]
    otlp: Option<String>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Make the cluster's certificates, as CockroachDB's `cert` commands do.
    #[command(subcommand)]
    Certs(Certs),
}

#[derive(Subcommand, Debug)]
enum Certs {
    /// Make the cluster's CA in DIR: ca.crt and ca.key (keep ca.key off the nodes' hosts).
    Init {
        /// The folder for the CA (made if missing).
        dir: PathBuf,
    },
    /// Sign a node certificate (role node) for NAME: DIR/node.NAME.crt and .key.
    Node {
        /// The node's --name: written into the certificate, the node starts only as NAME.
        name: NodeId,
        /// The IPs other nodes and clients dial it at (its --advertise IP; DNS names are
        /// accepted too, for other tools).
        #[arg(required = true)]
        hosts: Vec<String>,
        /// The folder holding the CA (ca.crt, ca.key); the new files go there too.
        #[arg(long, value_name = "DIR")]
        certs: PathBuf,
    },
    /// Sign a client certificate (role client) for a main named NAME: DIR/client.NAME.crt
    /// and .key (`ringshop --certs DIR --cert-name NAME`; the default NAME is `main`).
    Client {
        name: NodeId,
        /// The folder holding the CA (ca.crt, ca.key); the new files go there too.
        #[arg(long, value_name = "DIR")]
        certs: PathBuf,
    },
}

/// Makes certificates as asked; prints each file written.
fn make_certs(command: Certs) -> ExitCode {
    let made = match &command {
        Certs::Init { dir } => certs::init(dir),
        Certs::Node { name, hosts, certs } => certs::node(certs, name, hosts),
        Certs::Client { name, certs } => certs::client(certs, name),
    };
    match made {
        Ok(files) => {
            for file in files {
                println!("wrote {}", file.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ringshop-node: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The membership timing the flags ask for, if a node can live by it: a heartbeat renews the
/// lease for `lease()`, and the next one must come well before it ends, or the node would stop
/// answering between two heartbeats.
fn timing(args: &Args) -> Result<Timing, String> {
    let timing = Timing {
        heartbeat: args.heartbeat,
        suspicion: args.suspicion,
        ..Timing::default()
    };
    if timing.lease() < args.heartbeat.saturating_mul(2) {
        return Err(format!(
            "--suspicion {} ms is too short for --heartbeat {} ms: a node answers for {} ms after \
             each heartbeat, which must cover two heartbeats; use --suspicion {} ms or more",
            args.suspicion.as_millis(),
            args.heartbeat.as_millis(),
            timing.lease().as_millis(),
            (args.heartbeat.saturating_mul(8) / 3).as_millis() + 1
        ));
    }
    Ok(timing)
}

fn parse_rate(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|r| (0.0..=1.0).contains(r))
        .ok_or_else(|| format!("{text:?} is not a rate; write a number from 0 to 1, e.g. 0.1"))
}

fn main() -> ExitCode {
    let mut args = Args::parse();
    if let Some(Command::Certs(command)) = args.command.take() {
        return make_certs(command);
    }
    let timing = match timing(&args) {
        Ok(timing) => timing,
        Err(why) => {
            eprintln!("ringshop-node: {why}");
            return ExitCode::from(2);
        }
    };
    let db = match &args.db {
        Some(text) => Db::parse(text).map_err(|why| format!("--db: {why}")),
        None => default_db().map_err(|why| format!("$RINGSHOP_DB: {why}")),
    };
    let db = match db {
        Ok(db) => db,
        Err(why) => {
            eprintln!("ringshop-node: {why}");
            return ExitCode::from(2);
        }
    };
    let config = match config(&args, timing, db) {
        Ok(config) => config,
        Err((code, why)) => {
            eprintln!("ringshop-node: {why}");
            return ExitCode::from(code);
        }
    };
    let otlp = match args
        .otlp
        .as_deref()
        .map(telemetry::otlp::endpoint)
        .transpose()
    {
        Ok(otlp) => otlp,
        Err(why) => {
            eprintln!("ringshop-node: {why}");
            return ExitCode::from(2);
        }
    };
    let settings = Settings {
        service: "ringshop-node",
        instance: args.name.to_string(),
        otlp,
        level: LevelFilter::INFO,
        quiet: &[],
        format: args.log_format,
        ansi: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        ring: args.spans,
    };
    let tracing = match telemetry::install(settings, std::io::stderr) {
        Ok(provider) => provider,
        Err(why) => {
            eprintln!("ringshop-node: {why}");
            return ExitCode::FAILURE;
        }
    };
    // After the log exists: a panic (one task's; the node goes on) is one line in it.
    telemetry::log_panics();
    let ran = run(config);
    // Sends what the OTLP exporter still holds.
    let _ = tracing.shutdown();
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ringshop-node: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The node's configuration from its flags: exit code 2 for a usage error (a wildcard
/// without --advertise, a non-loopback address without --certs or --insecure), 1 for
/// certificates that cannot be read.
fn config(args: &Args, timing: Timing, db: Db) -> Result<Config, (u8, String)> {
    debug_assert_eq!(DEFAULT_TTL, Duration::from_secs(5));
    let mut config = Config::new(args.name.clone(), args.listen)
        .with_ttl(args.ttl)
        .with_db(db.clone())
        .with_timing(timing)
        .with_admission(ringshop_node::admission::Limits {
            soft: args.max_in_flight as usize,
            hard: (args.max_in_flight as usize).saturating_mul(4),
            ..ringshop_node::admission::Limits::default()
        })
        .with_payment(Payment {
            delay: args.payment_delay,
            failure_rate: args.payment_failure_rate,
        });
    if let Some(catalog) = &args.catalog {
        config = config.with_catalog(catalog);
    }
    if let Some(advertise) = args.advertise {
        config = config.with_advertise(advertise);
    }
    if args.insecure {
        config = config.insecure();
    }
    if let Some(dir) = &args.certs {
        let tls = certs::load(dir, Role::Node, &args.name).map_err(|e| (1, e.to_string()))?;
        config = config.with_security(Security::Tls(std::sync::Arc::new(tls)));
    }
    config.check_exposure().map_err(|e| (2, e.to_string()))?;
    if args.insecure && !args.listen.ip().is_loopback() {
        eprintln!(
            "ringshop-node: WARNING: --insecure: serving {} WITHOUT TLS; anyone who reaches it may call every RPC, node-to-node ones too. Use --certs DIR off loopback.",
            args.listen
        );
    }
    Ok(config)
}

#[tokio::main]
async fn run(config: Config) -> anyhow::Result<()> {
    let db = config.db.clone();
    let mut stop = StopSignal::listen()?;
    let handle = serve(config).await?;
    tracing::info!(%db, "store");
    {
        let mut out = std::io::stdout().lock();
        write!(
            out,
            "ringshop-node {} listening on {}",
            handle.name(),
            handle.addr()
        )?;
        if handle.advertised() != handle.addr() {
            write!(out, ", advertised as {}", handle.advertised())?;
        }
        writeln!(out)?;
        out.flush()?;
    }
    // Declared dead while alive, the node rejoins under a new incarnation by itself; only a
    // signal stops it.
    stop.recv().await?;
    tracing::info!(node = %handle.name(), "leaving");
    handle.shutdown().await;
    Ok(())
}

/// Ctrl-C or SIGTERM, listened for from the moment it is made: make it before telling anyone
/// the node is ready, or an early SIGTERM would kill the node instead of stopping it.
struct StopSignal {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl StopSignal {
    fn listen() -> anyhow::Result<StopSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(StopSignal {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(StopSignal {})
    }

    async fn recv(&mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
