//! `ringshop`: the main. Parses the command line, sets up logging, and runs either the screen
//! (the interactive TUI) or a headless verb; the one place a failure becomes an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use ringshop_tui::screen::{self, Options};
use ringshop_tui::verbs;
use ringshop_tui::verbs::args::{Cli, DemoArgs, Verb};
use ringshop_tui::verbs::failure::{Failure, Kind};

/// The exit code of each kind of failure, as `--help` documents them.
fn exit_code(kind: Kind) -> u8 {
    match kind {
        Kind::Usage | Kind::Invalid => 2,
        Kind::Unreachable => 3,
        Kind::NotFound => 4,
        Kind::Refused => 5,
        Kind::Cluster | Kind::Request | Kind::Timeout | Kind::Embedded | Kind::Terminal => 1,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let tui = cli.wants_tui();
    if tui {
        // The screen owns the terminal: its log goes to a file, never to the terminal.
        log_to_file(&screen::log_path());
    } else {
        log_to_stderr();
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("ringshop: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (json, result) = runtime.block_on(async move {
        match cli.verb {
            Some(verb) => (verb.target().json, verbs::run(verb).await),
            None if tui => (false, run_screen(cli.tui).await),
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
                (cli.tui.target.json, verbs::run(demo).await)
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            if json {
                let doc =
                    serde_json::json!({"error": {"kind": f.kind.as_str(), "message": f.message}});
                eprintln!("{doc}");
            } else {
                eprintln!("ringshop: {}", f.message);
            }
            ExitCode::from(exit_code(f.kind))
        }
    }
}

/// The interactive TUI on the target cluster; the terminal is restored on every way out.
async fn run_screen(args: verbs::args::TuiArgs) -> Result<(), Failure> {
    let (cluster, embedded) = args.target.open(args.ttl).await?;
    let options = Options {
        embedded: args.target.nodes.is_empty(),
        read_only: args.read_only,
        refresh: args.refresh,
        customer: args.customer,
        log_path: screen::log_path(),
    };
    screen::run(cluster, embedded, options)
        .await
        .map_err(|e| Failure::new(Kind::Terminal, format!("terminal error: {e}")))
}

fn filter(default: &str) -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default))
}

fn log_to_file(path: &std::path::Path) {
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
    if let Some(file) = file {
        tracing_subscriber::fmt()
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .with_env_filter(filter("info"))
            .init();
    }
}

fn log_to_stderr() {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_env_filter(filter("error"))
        .init();
}
