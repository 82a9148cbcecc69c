//! The screen: the interactive TUI, an Elm-style loop. A key press (or an effect's result, or
//! a tick) becomes an `Action`; `App::update` (`update.rs`, with `commands.rs` and
//! `dialog_keys.rs` for what the key table's commands do on a tab and in a dialog, and
//! `results.rs` for what effects' results do) is the only code that changes `App` and returns
//! `Effect`s; the `Runner` runs each effect on its own task through the client and sends its
//! result back as an action; `views/` draws `App` and nothing else. `keys.rs` is the one key
//! table (tabs and dialogs) the dispatch, the footer and the `?` overlay all read; the `:`
//! command line (`palette.rs`) names the same commands. `checkout.rs` keeps this session's
//! order (placed once, followed until it ends or `following.rs` gives up).

pub mod action;
pub mod app;
mod checkout;
mod commands;
mod dialog_keys;
pub mod effect;
mod event_loop;
mod following;
pub mod hits;
mod keep;
pub mod keys;
pub mod mouse;
mod palette;
mod results;
mod runner;
mod stock;
mod terminal;
pub mod theme;
mod update;
pub mod views;

use std::path::PathBuf;
use std::time::Duration;

use ringshop_shared::shop::GUEST;

use self::action::Action;
use self::app::App;
use self::keep::{CartKeeper, KEEP};
use self::keys::Keymap;
use self::runner::Runner;
use crate::client::{Cluster, Embedded};
use crate::files::config::Palette;
use crate::files::paths::Dirs;

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
    /// Each role's colour (the config file's `[theme]` over the 16-colour defaults).
    pub palette: Palette,
    /// The key table (the config file's `[keys]` over the defaults).
    pub keys: Keymap,
    /// Capture the mouse (clicks, the wheel); off, the terminal's own drag-select works.
    pub mouse: bool,
    /// Where the customer's cart is kept between runs.
    pub cart_file: PathBuf,
    /// Problems found before the screen opened (the config file's), shown as its first toasts.
    pub notices: Vec<String>,
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
    let mut app = App::new(
        options.embedded,
        options.read_only,
        options.refresh,
        options.log_path.display().to_string(),
    );
    let customer = options.customer.clone();
    let (mut keeper, cart, problem) = CartKeeper::open(
        options.cart_file.clone(),
        customer.unwrap_or_else(|| GUEST.to_string()),
    );
    app.cart = cart;
    app.keys = options.keys.clone();
    for notice in &options.notices {
        app.update(Action::failed("config", notice));
    }
    if let Some(problem) = problem {
        tracing::warn!("{problem}");
        app.update(Action::failed(KEEP, problem));
    }
    let outcome = match terminal::init(options.mouse) {
        Ok(mut tty) => {
            let theme = theme::Theme {
                color: options.color,
                palette: options.palette,
            };
            let outcome = event_loop::run(&mut tty, app, theme, &runner, rx, &mut keeper).await;
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
/// `~/.local/state/ringshop/tui.log`, else the temporary folder (`files::paths`).
pub fn log_path() -> PathBuf {
    Dirs::from_env().log_file()
}
