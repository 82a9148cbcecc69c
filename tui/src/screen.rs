//! The screen: the interactive TUI, an Elm-style loop. A key press (or an effect's result, or
//! a tick) becomes an `Action`; `App::update` (`update.rs`, with `commands.rs` and
//! `dialog_keys.rs` for what the key table's commands do on a tab and in a dialog, and
//! `results.rs` for what effects' results do) is the only code that changes `App` and returns
//! `Effect`s; the `Runner` runs each effect on its own task through the client and sends its
//! result back as an action; `views/` draws `App` and nothing else. `keys.rs` is the one key
//! table (tabs and dialogs) the dispatch, the footer and the `?` overlay all read.

pub mod action;
pub mod app;
mod commands;
mod dialog_keys;
pub mod effect;
mod event_loop;
pub mod keys;
mod results;
mod runner;
mod stock;
mod terminal;
pub mod theme;
mod update;
pub mod views;

use std::path::PathBuf;
use std::time::Duration;

use self::app::App;
use self::runner::Runner;
use crate::client::{Cluster, Embedded};

/// How the screen runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The cluster is embedded (its nodes can be stopped and started from the screen).
    pub embedded: bool,
    /// Hide stopping and starting nodes.
    pub read_only: bool,
    /// How often live views refresh.
    pub refresh: Duration,
    /// Whose orders these are (default: guest).
    pub customer: Option<String>,
    /// Where the log goes (shown in `?`).
    pub log_path: PathBuf,
    /// Draw in colour (else only bold, reverse and the ▶ marker).
    pub color: bool,
}

/// Runs the TUI on `cluster` until the user quits; the terminal is restored on every way out.
/// An embedded cluster is stopped gracefully at the end.
pub async fn run(
    cluster: Cluster,
    embedded: Option<Embedded>,
    options: Options,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let runner = Runner::new(cluster, embedded, options.customer.clone(), tx);
    let app = App::new(
        options.embedded,
        options.read_only,
        options.refresh,
        options.log_path.display().to_string(),
    );
    let outcome = match terminal::init() {
        Ok(mut tty) => {
            let theme = theme::Theme {
                color: options.color,
            };
            let outcome = event_loop::run(&mut tty, app, theme, &runner, rx).await;
            terminal::restore();
            outcome
        }
        Err(e) => Err(std::io::Error::new(
            e.kind(),
            format!("cannot open the terminal: {e}"),
        )),
    };
    runner.shutdown().await;
    outcome
}

/// Where the TUI writes its log: `$XDG_STATE_HOME/ringshop/tui.log`, else
/// `~/.local/state/ringshop/tui.log`, else the temporary folder.
pub fn log_path() -> PathBuf {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("ringshop").join("tui.log")
}
