//! `ringshop`: the main. Parses the command line and runs it; everything else is in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use ringshop_tui::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
        )
        .init();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(cli)),
        Err(e) => {
            eprintln!("ringshop: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
