//! The TUI drawn on ratatui's TestBackend: text snapshots of every tab at 80×24 and 160×48
//! (insta), the states that matter (loading, empty, stale, error toast, notification, dialogs),
//! NO_COLOR, and a sweep of sizes that must never panic.

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ringshop_shared::Stage;
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{App, Mode, Tab};
use ringshop_tui::screen::theme::Theme;
use ringshop_tui::screen::views;

mod fixtures;
use fixtures::{loaded, order_id};

fn render(app: &App, theme: Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| views::draw(app, &theme, frame))
        .expect("draws");
    terminal
}

fn text(app: &App, width: u16, height: u16) -> String {
    let terminal = render(app, Theme { color: true }, width, height);
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buffer.area.height {
        let mut line = String::new();
        for x in 0..buffer.area.width {
            line.push_str(buffer[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn every_tab_at_80x24_and_160x48() {
    for tab in Tab::ALL {
        let mut app = loaded();
        app.tab = tab;
        for (w, h) in [(80, 24), (160, 48)] {
            insta::assert_snapshot!(
                format!("{}_{w}x{h}", tab.title().to_lowercase()),
                text(&app, w, h)
            );
        }
    }
}

#[test]
fn loading_and_empty_states() {
    let mut app = App::new(false, false, Duration::from_secs(1), "log".into());
    insta::assert_snapshot!("shop_loading_80x24", text(&app, 80, 24));
    app.tab = Tab::Cart;
    insta::assert_snapshot!("cart_empty_80x24", text(&app, 80, 24));
    app.tab = Tab::Orders;
    insta::assert_snapshot!("orders_empty_80x24", text(&app, 80, 24));
}

#[test]
fn an_error_toast_a_notification_and_dialogs() {
    let mut app = loaded();
    app.update(Action::Failed("products: no member is up".into()));
    insta::assert_snapshot!("error_toast_80x24", text(&app, 80, 24));
    let mut app = loaded();
    app.toast("Bought 3 items on n2 in 3.1 s", false);
    insta::assert_snapshot!("notification_80x24", text(&app, 80, 24));
    let mut app = loaded();
    app.tab = Tab::Cluster;
    app.mode = Mode::Help;
    insta::assert_snapshot!("help_cluster_80x24", text(&app, 80, 24));
    let mut app = loaded();
    app.tab = Tab::Orders;
    app.mode = Mode::OrderDetail(order_id(2));
    insta::assert_snapshot!("order_detail_80x24", text(&app, 80, 24));
}

#[test]
fn the_checkout_gauge_shows_the_stage_and_node() {
    let mut app = loaded();
    app.tab = Tab::Cart;
    let started = Instant::now();
    app.now = started;
    let mut order = app.orders[0].clone();
    order.stage = Stage::Reserving;
    order.id = order_id(9);
    app.checkout = Some((order, started));
    let screen = text(&app, 80, 24);
    assert!(screen.contains("reserving on n3 · 30%"), "{screen}");
}

#[test]
fn too_small_says_so_and_growing_restores_the_view() {
    let app = loaded();
    let small = text(&app, 59, 20);
    assert_eq!(
        small.lines().next(),
        Some("terminal too small: need 60×15, have 59×20")
    );
    let big = text(&app, 80, 24);
    assert!(big.contains("Products"));
}

#[test]
fn no_size_from_1x1_to_250x80_panics() {
    let mut app = loaded();
    app.mode = Mode::Help;
    for tab in Tab::ALL {
        app.tab = tab;
        for w in (1..=250).step_by(13).chain([59, 60, 61, 250]) {
            for h in (1..=80).step_by(7).chain([14, 15, 16, 80]) {
                let _ = render(&app, Theme { color: true }, w, h);
            }
        }
    }
}

#[test]
fn with_no_color_nothing_is_coloured_and_the_selection_still_shows() {
    let app = loaded();
    let terminal = render(&app, Theme { color: false }, 80, 24);
    let buffer = terminal.backend().buffer();
    for cell in buffer.content() {
        assert_eq!(cell.fg, Color::Reset, "no foreground colour");
        assert_eq!(cell.bg, Color::Reset, "no background colour");
    }
    let screen = text(&app, 80, 24);
    assert!(screen.contains("▶ "), "the ▶ marker marks the selection");
    let marked = (0..buffer.area.height).any(|y| {
        (0..buffer.area.width).any(|x| {
            let cell = &buffer[(x, y)];
            cell.symbol() == "▶" && cell.modifier.contains(ratatui::style::Modifier::REVERSED)
        })
    });
    assert!(marked, "the selected row is reversed");
}
