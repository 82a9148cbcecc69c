//! The `ringshop` command line as clap parses it: the verbs, their flags, and where the
//! cluster is (`Target`). The exit codes it documents are mapped in `main.rs`.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use ringshop_shared::NodeId;
use ringshop_shared::duration::parse_duration;
use ringshop_shared::transport::tls::folder;
use ringshop_shared::transport::{Role, Security};
use ringshop_telemetry::LogFormat;

use super::failure::{Failure, Kind};
use crate::client::{self, Cluster, ClusterConfig, Embedded};
// "7001", "localhost:7001" or "127.0.0.1:7001", as the config file's `join` takes them too.
use crate::files::config::node_addr as parse_addr;

const EXIT_HELP: &str = "Exit codes:
  0  ok
  1  failure (a call failed, an answer was wrong)
  2  usage (unknown flag, bad value, an id prefix too short or ambiguous)
  3  cluster unreachable (no node answered)
  4  not found (unknown product or order)
  5  refused (out of stock, payment declined)
  6  store full (a node's database has no space left: nothing was placed)

Environment:
  RUST_LOG         log filter for stderr (default: error, without tarpc's own lines),
                   e.g. RUST_LOG=info
  NO_COLOR         never colour the output (as --color never; --color always overrides it)
  XDG_CONFIG_HOME  the config file is $XDG_CONFIG_HOME/ringshop/config.toml
                   (default ~/.config/ringshop/config.toml)
  XDG_STATE_HOME   the TUI's log and kept carts are in $XDG_STATE_HOME/ringshop/
                   (default ~/.local/state/ringshop/)

Config file (optional; flags win over it; a bad file is reported by path:line and ignored):
  color = \"auto\"                       # or \"always\", \"never\" (as --color)
  mouse = true                         # false: as --no-mouse
  refresh = \"1s\"                       # as --refresh
  join = [\"127.0.0.1:7001\", \"7002\"]    # as --join (else an embedded cluster)

Examples:
  ringshop                                  the TUI on an embedded 3-node cluster
                                            (the demo when not on a terminal)
  ringshop demo --ttl 2s --kill-one         ... then stop one node and watch failover
  ringshop demo --nodes 127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003
  ringshop cluster --join 7001 --watch     members and their counters, live
  ringshop products --category tea         quotes, each from its product's owner
  ringshop buy tea-kettle:2 mug --yes      check out, following each stage
  ringshop orders --customer ada           orders, newest first
  ringshop order 2f1f90ed                  one order, by an unambiguous prefix of its id
  ringshop trace 4bf92f3577b34da6a3ce929d0e0e4736   one action across the nodes
  ringshop trace 4bf92f35                  the same, by a prefix (at least 6 hex digits)
  ringshop --join 7001,7002                the TUI on a running cluster (it waits if none is up)
  ringshop info                            version, config/log/state paths, the cluster it joins";

/// ringshop: a small sharded cluster. Each id is placed on one node by consistent hashing,
/// where one actor per id keeps a short-lived value; every answer says which node served it,
/// whether it was cached, and how old it is.
///
/// With no verb it opens the interactive TUI (shop, cart, orders, cluster, demo) on a
/// terminal, or runs the headless demo when stdin or stdout is not one.
#[derive(Parser, Debug)]
#[command(name = "ringshop", version, after_long_help = EXIT_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub verb: Option<Verb>,
    #[command(flatten)]
    pub tui: TuiArgs,
}

#[derive(Args, Debug, Clone)]
pub struct TuiArgs {
    #[command(flatten)]
    pub target: Target,
    /// How long values are kept, for the embedded cluster (a running cluster has its own).
    #[arg(long, default_value = "5s", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// How often live views refresh (e.g. 500ms, 1s).
    #[arg(long, default_value = "1s", value_parser = parse_positive)]
    pub refresh: Duration,
    /// Hide stopping and starting nodes.
    #[arg(long)]
    pub read_only: bool,
    /// Whose orders (and kept cart) these are [default: guest].
    #[arg(long)]
    pub customer: Option<String>,
    /// Leave the mouse to the terminal, so its own drag-select works (clicks and the wheel
    /// then do nothing in the TUI; every click has a key). Also `mouse = false` in the config.
    #[arg(long)]
    pub no_mouse: bool,
}

impl Cli {
    /// True when this run opens the interactive TUI.
    pub fn wants_tui(&self) -> bool {
        self.verb.is_none() && std::io::stdin().is_terminal() && std::io::stdout().is_terminal()
    }
}

#[derive(Subcommand, Debug)]
pub enum Verb {
    /// The reference demo cycle: ids 1-4, again (hits), after the TTL (new values).
    #[command(after_long_help = EXIT_HELP)]
    Demo(DemoArgs),
    /// The members: address, status, heartbeat age, ring share, actors, hits, misses, epoch.
    #[command(after_long_help = EXIT_HELP)]
    Cluster(ClusterArgs),
    /// The products with price and stock, each quoted by its owner (node, cache, age).
    #[command(after_long_help = EXIT_HELP)]
    Products(ProductsArgs),
    /// Buy: place an order and follow its checkout until it is bought or fails.
    #[command(after_long_help = EXIT_HELP)]
    Buy(BuyArgs),
    /// One order: its lines, stage, node, total and the trace it was placed in.
    #[command(after_long_help = EXIT_HELP)]
    Order(OrderArgs),
    /// Orders, newest first.
    #[command(after_long_help = EXIT_HELP)]
    Orders(OrdersArgs),
    /// One trace as a waterfall: every span of one action (a verb, a key press in the TUI),
    /// gathered from every node, with its node, offset and duration.
    #[command(after_long_help = EXIT_HELP)]
    Trace(TraceArgs),
    /// Where things are: the version, the config file (and whether it was read), the TUI's log,
    /// the state folder with the kept cart, and the cluster ringshop would join. Starts nothing.
    #[command(after_long_help = EXIT_HELP)]
    Info(InfoArgs),
}

impl Verb {
    /// The verb as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Verb::Demo(_) => "demo",
            Verb::Cluster(_) => "cluster",
            Verb::Products(_) => "products",
            Verb::Buy(_) => "buy",
            Verb::Order(_) => "order",
            Verb::Orders(_) => "orders",
            Verb::Trace(_) => "trace",
            Verb::Info(_) => "info",
        }
    }

    /// Where this verb's cluster is, and its output flags.
    pub fn target(&self) -> &Target {
        match self {
            Verb::Demo(a) => &a.target,
            Verb::Cluster(a) => &a.target,
            Verb::Products(a) => &a.target,
            Verb::Buy(a) => &a.target,
            Verb::Order(a) => &a.target,
            Verb::Orders(a) => &a.target,
            Verb::Trace(a) => &a.target,
            Verb::Info(a) => &a.target,
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct ProductsArgs {
    #[command(flatten)]
    pub target: Target,
    /// Only this category (kitchen, tea, books, garden, tools).
    #[arg(long)]
    pub category: Option<String>,
    /// Only products whose name or id contains this text.
    #[arg(long)]
    pub search: Option<String>,
    /// After the table, follow the products live until Ctrl-C: one line per change of stock
    /// or price as their owners publish it (with --json, one JSON object per line:
    /// {"event":"stock",...}, and {"event":"stale",...} when an owner stops answering).
    #[arg(long)]
    pub watch: bool,
    /// With `--watch`, stop after this many changes.
    #[arg(long, requires = "watch")]
    pub count: Option<u64>,
}

#[derive(Args, Debug, Clone)]
pub struct BuyArgs {
    #[command(flatten)]
    pub target: Target,
    /// What to buy: PRODUCT or PRODUCT:QTY, e.g. tea-kettle:2 mug
    #[arg(required = true)]
    pub items: Vec<String>,
    /// Whose order it is [default: guest].
    #[arg(long)]
    pub customer: Option<String>,
    /// Do not ask; needed when stdin is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Args, Debug, Clone)]
pub struct OrderArgs {
    #[command(flatten)]
    pub target: Target,
    /// The order's id as `buy` and `orders` print it (a UUID), or an unambiguous prefix of
    /// it: at least 6 hex digits, dashes optional (`1c334175`).
    pub id: String,
}

#[derive(Args, Debug, Clone)]
pub struct OrdersArgs {
    #[command(flatten)]
    pub target: Target,
    /// Only this customer's orders.
    #[arg(long)]
    pub customer: Option<String>,
}

#[derive(Args, Debug, Clone)]
pub struct TraceArgs {
    #[command(flatten)]
    pub target: Target,
    /// The trace's id: 32 hex digits, as `--json` output (`trace_id`) and the logs print it,
    /// or an unambiguous prefix of it (at least 6; the logs and the TUI show 8).
    pub id: String,
}

#[derive(Args, Debug, Clone)]
pub struct InfoArgs {
    #[command(flatten)]
    pub target: Target,
    /// Whose kept cart to show [default: guest].
    #[arg(long)]
    pub customer: Option<String>,
    /// The config file as the main read and checked it (with the key table's problems); None:
    /// `info` reads it itself.
    #[arg(skip)]
    pub config: Option<crate::files::config::Loaded>,
}

/// When to colour the output.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour a stream that is (or is not) a terminal.
    pub fn colours(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none(),
        }
    }
}

/// Where the cluster is, and how long to wait for it.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Any nodes of a running cluster, comma separated or the flag repeated (HOST:PORT, or just
    /// PORT for 127.0.0.1); the others are learnt from them. A verb fails (exit 3) when none
    /// answers; the TUI opens and waits for one. Without it (or `join` in the config file), an embedded cluster of 3 nodes is
    /// started in this process.
    #[arg(long, visible_alias = "join", value_delimiter = ',', value_parser = parse_addr, global = true)]
    pub nodes: Vec<SocketAddr>,
    /// How long one call may take before its node counts as down (e.g. 500ms, 2s).
    #[arg(long, default_value = "2s", value_parser = parse_positive, global = true)]
    pub deadline: Duration,
    /// Print JSON on stdout (one line per pass for `demo`).
    #[arg(long, global = true)]
    pub json: bool,
    /// Colour: on a terminal with NO_COLOR unset (auto), always, or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    pub color: ColorChoice,
    /// Log lines (stderr, or the TUI's log file) as text, or one JSON object per line; both
    /// carry the trace id of the action they belong to.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Also send the traced spans to an OpenTelemetry collector over OTLP/HTTP, e.g.
    /// http://127.0.0.1:4318 (/v1/traces is added when the URL has no path).
    #[arg(long, value_name = "URL", global = true)]
    pub otlp: Option<String>,
    /// The cluster's certificates (with --nodes): DIR/ca.crt and this main's
    /// DIR/client.NAME.crt and .key, NAME from --cert-name (`ringshop-node certs client NAME`).
    /// Every connection is then mutual TLS.
    #[arg(long, value_name = "DIR", requires = "nodes", global = true)]
    pub certs: Option<PathBuf>,
    /// Which client certificate in --certs to use.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "main",
        requires = "certs",
        global = true
    )]
    pub cert_name: NodeId,
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    #[command(flatten)]
    pub target: Target,
    /// How long values are kept, for the embedded cluster (a running cluster has its own).
    #[arg(long, default_value = "5s", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// The ids to ask for in each pass.
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4")]
    pub ids: Vec<u64>,
    /// After the passes, kill the node that owns the first id and ask again (embedded only).
    #[arg(long, conflicts_with = "leave_one")]
    pub kill_one: bool,
    /// After the passes, let the node that owns the first id leave gracefully (it hands its
    /// cached entries to their new owners) and ask again (embedded only).
    #[arg(long)]
    pub leave_one: bool,
}

#[derive(Args, Debug, Clone)]
pub struct ClusterArgs {
    #[command(flatten)]
    pub target: Target,
    /// Keep refreshing the table in place until Ctrl-C.
    #[arg(long)]
    pub watch: bool,
    /// How often `--watch` refreshes (e.g. 500ms, 1s).
    #[arg(long, default_value = "1s", value_parser = parse_positive)]
    pub refresh: Duration,
    /// With `--watch`, stop after this many tables (1 or more).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub count: Option<u64>,
}

/// A duration that must be more than 0 (a refresh, a deadline): 0 would spin or fail every call.
fn parse_positive(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        Duration::ZERO => Err(format!(
            "{text:?} is no time at all; give more than 0, e.g. 500ms"
        )),
        d => Ok(d),
    }
}

/// A TTL: at least the shortest a node accepts (values kept for no time are never hits).
fn parse_ttl(text: &str) -> Result<Duration, String> {
    let min = client::embedded::MIN_TTL;
    match parse_duration(text)? {
        d if d < min => Err(format!(
            "{text:?} is shorter than the shortest TTL, {} ms: values kept for no time are never hits; give e.g. 2s",
            min.as_millis()
        )),
        d => Ok(d),
    }
}

impl Target {
    /// The cluster to talk to: the given nodes, or an embedded one started here that keeps
    /// values for `ttl` (the caller stops it). No node answering is a failure (a verb's).
    pub async fn open(&self, ttl: Duration) -> Result<(Cluster, Option<Embedded>), Failure> {
        Ok(client::open(&self.nodes, self.config()?, ttl).await?)
    }

    /// `open`, except that given nodes none of which answers yet are waited for (the TUI's).
    pub async fn open_or_wait(
        &self,
        ttl: Duration,
    ) -> Result<(Cluster, Option<Embedded>), Failure> {
        Ok(client::open_or_wait(&self.nodes, self.config()?, ttl).await?)
    }

    fn config(&self) -> Result<ClusterConfig, Failure> {
        Ok(ClusterConfig {
            deadline: self.deadline,
            security: self.security()?,
            ..ClusterConfig::default()
        })
    }
}

impl Target {
    /// Plaintext, or mutual TLS with the client certificate `--certs` and `--cert-name` name.
    pub fn security(&self) -> Result<Security, Failure> {
        let Some(dir) = &self.certs else {
            return Ok(Security::Plain);
        };
        folder::load(dir, Role::Client, &self.cert_name)
            .map(|tls| Security::Tls(Arc::new(tls)))
            .map_err(|e| Failure::new(Kind::Usage, e.to_string()))
    }
}

/// The TTL of an embedded cluster started for a verb that does not ask for one.
pub fn node_ttl_default() -> Duration {
    client::embedded::DEFAULT_TTL
}
