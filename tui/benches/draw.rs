//! How long one frame takes to draw at 160×48 (TestBackend, so only our drawing and ratatui's
//! diff are measured, not a terminal), for every tab with a full catalog, cart, orders and log.
//! Run with `cargo bench -p ringshop-tui --bench draw`. Target (TUI.md 17): under 1 ms.

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ringshop_tui::screen::app::Tab;
use ringshop_tui::screen::theme::Theme;
use ringshop_tui::screen::views;

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

const FRAMES: usize = 2_000;

fn main() {
    let mut app = fixtures::busy();
    let theme = Theme::new(true);
    let mut terminal = Terminal::new(TestBackend::new(160, 48)).expect("terminal");
    println!(
        "one frame at 160×48, {FRAMES} frames per tab (TestBackend: drawing + diff, no terminal)\n"
    );
    for tab in Tab::ALL {
        app.tab = tab;
        let mut times = Vec::with_capacity(FRAMES);
        for _ in 0..FRAMES {
            let t = Instant::now();
            terminal
                .draw(|f| views::draw(&app, &theme, f))
                .expect("draws");
            times.push(t.elapsed());
        }
        times.sort();
        let mean = times.iter().sum::<Duration>() / FRAMES as u32;
        println!(
            "{:<8} mean {:>6.0} µs   p50 {:>6.0} µs   p99 {:>6.0} µs",
            tab.title(),
            mean.as_secs_f64() * 1e6,
            times[FRAMES / 2].as_secs_f64() * 1e6,
            times[FRAMES * 99 / 100].as_secs_f64() * 1e6
        );
    }
}
