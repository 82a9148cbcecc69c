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
use super::terminal::Tty;
use super::theme::Theme;
use super::views;

/// How often the loop ticks (spinners, toasts, refresh timing).
const TICK: Duration = Duration::from_millis(200);

pub async fn run(
    terminal: &mut Tty,
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
        terminal.draw(|frame| hits = views::draw_mapped(&app, &theme, frame))?;
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) => Action::Key(key),
                Some(Ok(Event::Mouse(pointer))) => match mouse::action(&hits, pointer) {
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
