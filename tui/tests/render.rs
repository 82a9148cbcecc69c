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

#[path = "render/papercuts.rs"]
mod papercuts;

fn render(app: &App, theme: Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    terminal
        .draw(|frame| views::draw(app, &theme, frame))
        .expect("draws");
    terminal
}

fn text(app: &App, width: u16, height: u16) -> String {
    let terminal = render(app, Theme::new(true), width, height);
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
    app.update(Action::failed("products", "no member is up"));
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
    assert!(!screen.contains("waiting"), "{screen}");
}

#[test]
fn a_checkout_waiting_on_a_member_names_it_in_the_gauge_and_the_orders_row() {
    let mut app = loaded();
    let started = Instant::now();
    app.now = started;
    let mut order = app.orders[0].clone();
    order.stage = Stage::Reserving;
    order.waiting = Some(fixtures::node("n2"));
    app.update(Action::Order(order.clone()));
    app.tab = Tab::Cart;
    app.checkout = Some((order, started));
    let cart = text(&app, 80, 24);
    assert!(
        cart.contains("reserving on n3 · 30% · waiting for n2"),
        "{cart}"
    );
    app.tab = Tab::Orders;
    let orders = text(&app, 80, 24);
    assert!(orders.contains("waiting for n2"), "{orders}");
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

/// The states the size sweep draws: every tab as it is and with `?` open, and each kind of
/// dialog over the tab it opens on, with three toasts (one long) stacked.
fn sweep_states() -> Vec<App> {
    let mut states = Vec::new();
    for tab in Tab::ALL {
        for mode in [Mode::Normal, Mode::Help] {
            let mut app = loaded();
            app.tab = tab;
            app.mode = mode;
            states.push(app);
        }
    }
    let over = |tab: Tab, mode: Mode| {
        let mut app = loaded();
        app.tab = tab;
        app.mode = mode;
        app.toast("Bought 3 items on n2 in 3.1 s", false);
        app.toast(
            "checkout of 9f2c41d0 failed: the mug is out of stock on n3 (asked for 4, 2 left); nothing was charged and the holds went back",
            true,
        );
        app.toast("added 2 × Stoneware mug to the cart", false);
        app
    };
    states.push(over(Tab::Orders, Mode::OrderDetail(order_id(2))));
    states.push(over(Tab::Shop, Mode::Filter("mug".into())));
    states.push(over(Tab::Shop, Mode::Palette("st".into())));
    states.push(over(Tab::Cluster, Mode::MemberDetail(fixtures::node("n2"))));
    let mut kill = over(Tab::Cluster, Mode::Normal);
    kill.update(Action::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('x'),
    )));
    assert!(matches!(kill.mode, Mode::Confirm(_)));
    states.push(kill);
    states
}

/// TUI.md 5: every size from 1×1 to 250×80 is drawn (each in one of the states, in turn, and
/// every state at the edges), none panics, and below 60×15 the one line says so.
#[test]
fn every_size_from_1x1_to_250x80_draws_without_a_panic() {
    let states = sweep_states();
    let edges = [
        (1, 1),
        (59, 80),
        (250, 14),
        (59, 14),
        (60, 15),
        (61, 16),
        (60, 80),
        (250, 15),
        (250, 80),
    ];
    for app in &states {
        for (w, h) in edges {
            let _ = render(app, Theme::new(true), w, h);
        }
    }
    let mut drawn = 0usize;
    for w in 1..=250u16 {
        for h in 1..=80u16 {
            let app = &states[(usize::from(w) * 3 + usize::from(h)) % states.len()];
            let terminal = render(app, Theme::new(w % 2 == 0), w, h);
            drawn += 1;
            if w < 60 || h < 15 {
                let buffer = terminal.backend().buffer();
                let first: String = (0..w).map(|x| buffer[(x, 0)].symbol()).collect();
                let says = format!("terminal too small: need 60×15, have {w}×{h}");
                let first = first.trim_end();
                assert!(says.starts_with(first), "at {w}×{h}: {first:?}");
                assert!(w < 8 || first.len() >= 8, "at {w}×{h}: {first:?}");
            }
        }
    }
    assert_eq!(drawn, 250 * 80);
}

#[test]
fn with_no_color_nothing_is_coloured_and_the_selection_still_shows() {
    let app = loaded();
    let terminal = render(&app, Theme::new(false), 80, 24);
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

/// The screen's lines joined, for sentences that may wrap.
fn joined(screen: &str) -> String {
    screen
        .replace(['│', '┌', '┐', '└', '┘'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_kill_dialog_shows_its_whole_question_and_its_keys_at_every_width() {
    let mut app = loaded();
    app.tab = Tab::Cluster;
    app.update(ringshop_tui::screen::action::Action::Key(
        crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('x')),
    ));
    assert!(matches!(app.mode, Mode::Confirm(_)));
    insta::assert_snapshot!("kill_dialog_80x24", text(&app, 80, 24));
    insta::assert_snapshot!("kill_dialog_160x48", text(&app, 160, 48));
    for (w, h) in [(60, 15), (80, 24), (120, 30), (160, 48)] {
        let screen = text(&app, w, h);
        let all = joined(&screen);
        assert!(
            all.contains("Its ids fail over to their next owners."),
            "{w}x{h}: {screen}"
        );
        assert!(
            all.contains("y yes") && all.contains("n/esc no"),
            "{w}x{h}: {screen}"
        );
    }
}

#[test]
fn at_60x15_help_shows_every_key_by_scrolling_and_addresses_keep_their_ports() {
    let mut app = loaded();
    app.tab = Tab::Cluster;
    let screen = text(&app, 60, 15);
    assert!(screen.contains("127.0.0.1:7001"), "{screen}");
    app.mode = Mode::Help;
    insta::assert_snapshot!("help_cluster_60x15", text(&app, 60, 15));
    let mut seen = String::new();
    for scroll in 0..40 {
        app.help_scroll = scroll;
        seen.push_str(&text(&app, 60, 15));
    }
    assert!(seen.contains(" of "), "it says where it is");
    for section in ringshop_tui::screen::keys::Keymap::default().help(Tab::Cluster, true) {
        for (_, label) in section.entries {
            assert!(seen.contains(label), "{label} is shown at 60×15");
        }
    }
}

#[test]
fn too_small_wraps_its_line() {
    let app = loaded();
    let screen = text(&app, 40, 10);
    assert!(
        joined(&screen).contains("terminal too small: need 60×15, have 40×10"),
        "{screen}"
    );
}

#[test]
fn the_filter_shows_its_prompt_at_once_on_every_tab() {
    for tab in Tab::ALL {
        let mut app = loaded();
        app.tab = tab;
        app.mode = Mode::Filter(String::new());
        let screen = text(&app, 80, 24);
        let footer = screen.lines().nth(23).unwrap_or_default();
        assert!(footer.starts_with("/▏"), "{tab:?}: {footer}");
        assert!(footer.contains("esc clear it"), "{tab:?}: {footer}");
    }
}

#[test]
fn toasts_cover_no_row_no_header_and_not_the_footer() {
    let mut app = loaded();
    for what in ["products", "orders", "quotes"] {
        app.update(Action::failed(what, "no member is up"));
    }
    let screen = text(&app, 80, 24);
    insta::assert_snapshot!("three_toasts_80x24", screen);
    let clean = text(&loaded(), 80, 24);
    for (y, (with, without)) in screen.lines().zip(clean.lines()).enumerate() {
        if y < 20 || y == 23 {
            assert_eq!(with, without, "line {y} is covered");
        }
    }
    assert!(screen.contains("✗ quotes: no member is up"));
}

#[test]
fn read_only_offers_no_node_controls() {
    let mut app = loaded();
    app.read_only = true;
    app.tab = Tab::Cluster;
    let screen = text(&app, 160, 48);
    app.mode = Mode::Help;
    let help = text(&app, 160, 48);
    for control in ["kill node", "node leaves", "start node"] {
        assert!(!screen.contains(control), "{control} in the footer");
        assert!(!help.contains(control), "{control} in ?");
    }
}

#[test]
fn a_category_shows_n_of_m_and_the_quantity_asks_before_discarding() {
    let mut app = loaded();
    app.category = Some("tea".into());
    assert!(text(&app, 80, 24).contains("Products · tea (t: next) (2 of 4)"));
    app.mode = Mode::Discard(Box::new(Mode::Quantity {
        product: fixtures::pid("mug"),
        input: "12".into(),
    }));
    insta::assert_snapshot!("quantity_discard_80x24", text(&app, 80, 24));
}

#[test]
fn at_60x15_every_member_shows_before_the_ring() {
    let mut app = loaded();
    app.tab = Tab::Cluster;
    let screen = text(&app, 60, 15);
    for name in ["n1", "n2", "n3"] {
        assert!(screen.contains(&format!("{name}     ")), "{name}: {screen}");
    }
}

#[test]
fn demo_rows_have_a_header_latency_and_their_ttl_counting_down() {
    let mut app = loaded();
    app.tab = Tab::Demo;
    let rows = vec![fixtures::demo_row(1, "n1"), fixtures::demo_row(2, "n3")];
    app.update(Action::DemoPass(fixtures::demo_pass(rows)));
    app.now += Duration::from_millis(1500);
    let screen = text(&app, 80, 24);
    insta::assert_snapshot!("demo_pass_80x24", screen);
    assert!(screen.contains("ttl left") && screen.contains("latency"));
    assert!(
        screen.contains("3.5 s"),
        "5 s of TTL, 1.5 s later: {screen}"
    );
    app.now += Duration::from_secs(4);
    assert!(text(&app, 80, 24).contains("expired"));
}

#[test]
fn the_trace_view_is_a_waterfall_of_the_checkout_across_nodes() {
    use ringshop_shared::trace::TraceId;
    let trace = TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736);
    let mut app = loaded();
    app.tab = Tab::Orders;
    app.mode = Mode::Trace(trace);
    let gathering = text(&app, 80, 24);
    assert!(
        gathering.contains("Gathering the spans of trace 4bf92f35"),
        "{gathering}"
    );
    app.update(Action::Trace(fixtures::waterfall(trace)));
    insta::assert_snapshot!("trace_80x24", text(&app, 80, 24));
    insta::assert_snapshot!("trace_160x48", text(&app, 160, 48));
    // A waterfall of another trace (an older request's answer) is not shown.
    let mut other = loaded();
    other.mode = Mode::Trace(TraceId(1));
    other.update(Action::Trace(fixtures::waterfall(trace)));
    assert!(other.trace.is_none());
}

#[test]
fn picking_a_log_line_marks_it_and_its_trace_is_shown() {
    use ringshop_shared::trace::TraceId;
    let mut app = loaded();
    for (i, line) in app.log.iter_mut().enumerate() {
        line.trace = Some(TraceId(
            0xabcd_0000_0000_0000_0000_0000_0000_0000 + i as u128,
        ));
    }
    let last = app.log.len() - 1;
    app.mode = Mode::LogPick(last - 1);
    let screen = text(&app, 80, 24);
    let marked: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains('▶') && l.contains("abcd0000"))
        .collect();
    assert_eq!(marked.len(), 1, "one log line marked:\n{screen}");
    assert!(
        screen
            .lines()
            .last()
            .unwrap_or("")
            .contains("enter show its trace"),
        "{screen}"
    );
}

#[test]
fn with_no_member_up_the_header_says_where_the_screen_looks() {
    let mut app = loaded();
    app.members.clear();
    app.searching = ["127.0.0.1:7001", "127.0.0.1:7002", "10.0.0.9:7000"]
        .iter()
        .map(|a| a.parse().expect("an address"))
        .collect();
    let screen = text(&app, 120, 24);
    let header = screen.lines().next().unwrap_or_default();
    assert!(
        header.ends_with(
            "0/0 nodes up · epoch 4 · waiting for nodes at 127.0.0.1:7001, 127.0.0.1:7002 (+1 more) …"
        ),
        "{header}"
    );
    app.searching.clear();
    assert!(!text(&app, 120, 24).contains("waiting for"));
}

#[test]
fn live_stock_marks_the_row_and_ages_it_and_the_cart_line_that_no_longer_fits() {
    let mut app = loaded();
    let now = app.now;
    let teapot = app
        .products
        .iter_mut()
        .find(|p| p.id.as_str() == "teapot")
        .expect("listed");
    // Another shopper bought 13 teapots: its owner said so a moment ago.
    (teapot.stock, teapot.was) = (1, Some((14, now)));
    teapot.cache = ringshop_tui::screen::app::Cache::Live;
    (teapot.age, teapot.seen_at) = (Duration::from_millis(2), now);
    app.cart[1].qty = 3;
    app.update(Action::Tick(now + Duration::from_millis(1500)));
    let shop = text(&app, 100, 24);
    let row = shop.lines().find(|l| l.contains("teapot")).expect("shown");
    assert!(row.contains("  1▼ n1     live   1.5 s"), "{row}");
    app.tab = Tab::Cart;
    let cart = text(&app, 80, 24);
    assert!(cart.contains("Porcelain teapot · only 1 left"), "{cart}");
    assert!(!cart.contains("mug · only"), "{cart}");
    app.update(Action::Tick(now + Duration::from_secs(4)));
    app.tab = Tab::Shop;
    let later = text(&app, 100, 24);
    let row = later.lines().find(|l| l.contains("teapot")).expect("shown");
    assert!(
        row.contains("  1  n1     live   4.0 s"),
        "the mark is gone: {row}"
    );
}

#[test]
fn a_frozen_screen_says_so_in_its_header() {
    let mut app = loaded();
    assert!(!text(&app, 80, 24).contains("FROZEN"));
    app.frozen = true;
    let screen = text(&app, 80, 24);
    let header = screen.lines().next().unwrap_or_default();
    assert!(header.contains("FROZEN (f)"), "{header}");
}
