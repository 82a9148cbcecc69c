//! `ringshop`: the main. Parses the command line, sets up logging, and runs either the screen
//! (the interactive TUI) or a headless verb; the one place a failure becomes an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use opentelemetry_sdk::trace::SdkTracerProvider;
use ringshop_shared::shop::GUEST;
use ringshop_telemetry::{self as telemetry, DEFAULT_RING, LogFormat, Settings};
use ringshop_tui::files::config::{self, Palette};
use ringshop_tui::files::paths::Dirs;
use ringshop_tui::screen::keys::Keymap;
use ringshop_tui::screen::{self, Options};
use ringshop_tui::verbs::args::{Cli, DemoArgs, Verb};
use ringshop_tui::verbs::failure::{Failure, Kind};
use ringshop_tui::verbs::{self, settings};
use tracing::Instrument;
use tracing::level_filters::LevelFilter;

/// The exit code of each kind of failure, as `--help` documents them.
fn exit_code(kind: Kind) -> u8 {
    match kind {
        Kind::Usage | Kind::Invalid | Kind::Ambiguous => 2,
        Kind::Unreachable => 3,
        Kind::NotFound => 4,
        Kind::Refused => 5,
        Kind::StoreFull => 6,
        Kind::Cluster | Kind::Request | Kind::Timeout | Kind::Embedded | Kind::Terminal => 1,
    }
}

fn main() -> ExitCode {
    // Parsed in two steps so the config file can tell a flag given from a default.
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return usage_error(e),
    };
    let dirs = Dirs::from_env();
    let mut config = config::load(dirs.config_file().as_deref());
    // `[keys]` is checked against the key table: a problem there rejects the whole file too.
    let keys = Keymap::with(&config.config.keys).unwrap_or_else(|problems| {
        config.reject(problems);
        Keymap::default()
    });
    settings::apply(&mut cli, &matches, &config.config);
    if let Some(Verb::Info(args)) = &mut cli.verb {
        args.config = Some(config.clone());
    }
    let look = Look {
        keys,
        palette: config.config.theme,
    };
    let tui = cli.wants_tui();
    let target = cli.verb.as_ref().map_or(&cli.tui.target, Verb::target);
    let otlp = match target
        .otlp
        .as_deref()
        .map(telemetry::otlp::endpoint)
        .transpose()
    {
        Ok(otlp) => otlp,
        Err(why) => return fail(target.json, Kind::Usage, why.to_string()),
    };
    let format = target.log_format;
    let tracing = if tui {
        // The screen owns the terminal: its log goes to a file, never to the terminal.
        log_to_file(&dirs.log_file(), format, otlp)
    } else {
        log_to_stderr(
            target.color.colours(std::io::stderr().is_terminal()),
            format,
            otlp,
        )
    };
    let tracing = match tracing {
        Ok(tracing) => tracing,
        Err(why) => return fail(target.json, Kind::Embedded, why),
    };
    // A bad config file: the screen toasts it, a verb warns on stderr, `info` lists it.
    let notices: Vec<String> = config.summary().into_iter().collect();
    for notice in &notices {
        tracing::warn!("{notice}");
        if !tui && !matches!(cli.verb, Some(Verb::Info(_))) {
            warn(target.json, notice);
        }
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ringshop: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Every verb is one action: one trace from here through every node it reaches. (The
    // screen's actions each start their own: `screen::runner`.)
    let root = if tui {
        tracing::Span::none()
    } else {
        telemetry::action(cli.verb.as_ref().map_or("demo", Verb::name))
    };
    let trace = telemetry::ids_of(&root).map(|(trace, _)| trace);
    let (json, result) = runtime.block_on(async move {
        match cli.verb {
            Some(verb) => (
                verb.target().json,
                verbs::run(verb).instrument(root).await,
            ),
            None if tui => (false, run_screen(cli.tui, &dirs, notices, look).await),
            None => {
                eprintln!(
                    "ringshop: not on a terminal, so running the headless demo (`ringshop --help` for the verbs)"
                );
                let demo = Verb::Demo(DemoArgs {
                    target: cli.tui.target.clone(),
                    ttl: cli.tui.ttl,
                    ids: vec![1, 2, 3, 4],
                    kill_one: false,
                    leave_one: false,
                });
                (cli.tui.target.json, verbs::run(demo).instrument(root).await)
            }
        }
    });
    // Sends what the OTLP exporter still holds.
    if let Some(tracing) = tracing {
        let _ = tracing.shutdown();
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if json {
                let mut doc =
                    serde_json::json!({"error": {"kind": f.kind.as_str(), "message": f.message}});
                if !f.candidates.is_empty() {
                    doc["error"]["candidates"] = f.candidates.into();
                }
                if let Some(trace) = trace {
                    doc["trace_id"] = trace.to_string().into();
                }
                eprintln!("{doc}");
            } else {
                eprintln!("ringshop: {}", f.message);
            }
            ExitCode::from(exit_code(f.kind))
        }
    }
}

/// A warning before anything ran: on stderr, as JSON with `--json`.
fn warn(json: bool, message: &str) {
    if json {
        eprintln!(
            "{}",
            serde_json::json!({"warning": {"kind": "config", "message": message}})
        );
    } else {
        eprintln!("ringshop: warning: {message}");
    }
}

/// A failure before anything ran, as every failure is reported.
fn fail(json: bool, kind: Kind, message: String) -> ExitCode {
    if json {
        eprintln!(
            "{}",
            serde_json::json!({"error": {"kind": kind.as_str(), "message": message}})
        );
    } else {
        eprintln!("ringshop: {message}");
    }
    ExitCode::from(exit_code(kind))
}

/// A command line clap refused: help and version as clap prints them; an error in clap's words
/// (exit 2), or with `--json` among the arguments as the JSON error every verb uses.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    let json = std::env::args_os().any(|a| a == "--json");
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => e.exit(),
        _ if json => {
            let message = e.render().to_string();
            let message = message
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("bad arguments")
                .trim_start_matches("error: ")
                .to_string();
            let doc =
                serde_json::json!({"error": {"kind": Kind::Usage.as_str(), "message": message}});
            eprintln!("{doc}");
            ExitCode::from(exit_code(Kind::Usage))
        }
        _ => e.exit(),
    }
}

/// What the config file's tables set for the screen: its keys and its colours.
struct Look {
    keys: Keymap,
    palette: Palette,
}

/// The interactive TUI on the target cluster; the terminal is restored on every way out.
async fn run_screen(
    args: verbs::args::TuiArgs,
    dirs: &Dirs,
    notices: Vec<String>,
    look: Look,
) -> Result<(), Failure> {
    // With --join and nothing up yet, the screen opens and waits (TUI.md 32).
    let (cluster, embedded) = args.target.open_or_wait(args.ttl).await?;
    let customer = args.customer.as_deref().unwrap_or(GUEST);
    let options = Options {
        embedded: args.target.nodes.is_empty(),
        read_only: args.read_only,
        refresh: args.refresh,
        cart_file: dirs.cart_file(customer),
        customer: args.customer,
        log_path: dirs.log_file(),
        color: args.target.color.colours(true),
        mouse: !args.no_mouse,
        keys: look.keys,
        palette: look.palette,
        notices,
    };
    screen::run(cluster, embedded, options)
        .await
        .map_err(|e| Failure::new(Kind::Terminal, format!("terminal error: {e}")))
}

/// Logging and tracing into the TUI's log file (no log if it cannot be opened).
fn log_to_file(
    path: &std::path::Path,
    format: LogFormat,
    otlp: Option<String>,
) -> Result<Option<SdkTracerProvider>, String> {
    let file = path
        .parent()
        .map(std::fs::create_dir_all)
        .and_then(Result::ok)
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .ok()
        });
    let Some(file) = file else { return Ok(None) };
    telemetry::install(
        settings(LevelFilter::INFO, format, false, otlp),
        std::sync::Mutex::new(file),
    )
    .map(Some)
}

/// Logging (errors only, unless RUST_LOG says otherwise) and tracing to stderr.
fn log_to_stderr(
    colour: bool,
    format: LogFormat,
    otlp: Option<String>,
) -> Result<Option<SdkTracerProvider>, String> {
    telemetry::install(
        settings(LevelFilter::ERROR, format, colour, otlp),
        std::io::stderr,
    )
    .map(Some)
}

/// tarpc logs each call that failed (`DeadlineExceeded` at ERROR, say) where the main reports
/// it itself: its lines stay out of the log unless `RUST_LOG` asks for them.
const QUIET: &[&str] = &["tarpc"];

fn settings(level: LevelFilter, format: LogFormat, ansi: bool, otlp: Option<String>) -> Settings {
    Settings {
        quiet: QUIET,
        service: "ringshop",
        instance: telemetry::MAIN.into(),
        otlp,
        level,
        format,
        ansi,
        ring: DEFAULT_RING,
    }
}
