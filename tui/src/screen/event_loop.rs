//! The render loop: terminal events, actions from effects, and a tick, each turned into
//! `update`, then the cart kept (if it changed) and a draw, whose hit map the next mouse event
//! is read against. It never awaits the network: effects run on their own tasks.

use std::time::{Duration, Instant};

use crossterm::event::{Event, EventStream};
use futures::StreamExt;
use tokio::sync::mpsc;

use super::action::Action;
use super::app::App;
use super::hits::HitMap;
use super::keep::CartKeeper;
use super::mouse;
use super::runner::Runner;
use super::terminal::{self, Tty};
use super::theme::Theme;
use super::views;

/// How often the loop ticks (spinners, toasts, refresh timing).
const TICK: Duration = Duration::from_millis(200);

pub async fn run(
    tty: &mut Tty,
    mut app: App,
    theme: Theme,
    runner: &Runner,
    mut actions: mpsc::UnboundedReceiver<Action>,
    keeper: &mut CartKeeper,
) -> std::io::Result<()> {
    let mut events = EventStream::new();
    let mut hits = HitMap::default();
    let mut tick = tokio::time::interval(TICK);
    for effect in app.start() {
        runner.spawn(effect);
    }
    loop {
        terminal::draw(tty, |frame| hits = views::draw_mapped(&app, &theme, frame))?;
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Action::Key(key),
                Some(Ok(Event::Mouse(pointer))) => match mouse::action(&hits, &app.keys, pointer) {
                    Some(action) => action,
                    None => continue,
                },
                Some(Ok(Event::Resize(w, h))) => Action::Resize(w, h),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            },
            Some(action) = actions.recv() => action,
            _ = tick.tick() => Action::Tick(Instant::now()),
        };
        #[cfg(debug_assertions)]
        panic_on_purpose(&action);
        for effect in app.update(action) {
            runner.spawn(effect);
        }
        // The cart is on disk before the frame that shows it.
        if let Some(kept) = keeper.keep(&app.cart) {
            app.update(kept);
        }
        // Every error the screen shows, once per change, is also in the log file.
        for message in app.outbox.drain(..) {
            tracing::warn!(target: "ringshop::screen", "{message}");
        }
        if app.quit {
            return Ok(());
        }
    }
}

/// Debug builds only: the key `RINGSHOP_TEST_PANIC_KEY` names panics in a spawned task, so a
/// test can see the panic hook give the terminal back (tui/tests/pty.rs).
#[cfg(debug_assertions)]
fn panic_on_purpose(action: &Action) {
    let Action::Key(key) = action else {
        return;
    };
    let wanted = std::env::var("RINGSHOP_TEST_PANIC_KEY")
        .ok()
        .and_then(|v| v.chars().next());
    if wanted.is_some_and(|c| key.code == crossterm::event::KeyCode::Char(c)) {
        tokio::spawn(async { panic!("a panic on purpose (RINGSHOP_TEST_PANIC_KEY)") });
    }
}
