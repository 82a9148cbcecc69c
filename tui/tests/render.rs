//! The TUI drawn on ratatui's TestBackend: text snapshots of every tab at 80×24 and 160×48
//! (insta), the states that matter (loading, empty, stale, error toast, notification, dialogs),
//! NO_COLOR, and a sweep of sizes that must never panic.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;
use ringshop_shared::{NodeId, OrderId, OrderLine, ProductId, Stage};
use ringshop_tui::action::Action;
use ringshop_tui::app::{App, CartLine, LogLine, MemberRow, Mode, OrderRow, ProductRow, Tab};
use ringshop_tui::theme::Theme;
use ringshop_tui::views;

fn node(n: &str) -> NodeId {
    NodeId::new(n).expect("valid")
}

fn product(
    id: &str,
    name: &str,
    category: &str,
    price: u64,
    stock: u32,
    at: &str,
    stale: bool,
) -> ProductRow {
    ProductRow {
        id: ProductId::new(id).expect("valid"),
        name: name.into(),
        category: category.into(),
        price_cents: price,
        stock,
        node: node(at),
        hit: true,
        age: Duration::from_millis(1500),
        stale,
    }
}

fn member(name: &str, port: u16, status: &'static str, share: f64) -> MemberRow {
    MemberRow {
        name: node(name),
        addr: SocketAddr::from(([127, 0, 0, 1], port)),
        status,
        heartbeat: Duration::from_millis(300),
        share,
        actors: (status == "UP").then_some(4),
        hits: (status == "UP").then_some(120),
        misses: (status == "UP").then_some(9),
    }
}

fn order_id(n: u8) -> OrderId {
    format!("00000000-0000-4000-8000-0000000000{n:02}")
        .parse()
        .expect("valid")
}

/// An app with data, as after the first loads; deterministic (no clock in what is drawn).
fn loaded() -> App {
    let mut app = App::new(
        true,
        false,
        Duration::from_secs(1),
        "/tmp/ringshop/tui.log".into(),
    );
    app.epoch = 4;
    app.members = vec![
        member("n1", 7001, "UP", 0.343),
        member("n2", 7002, "DEAD", 0.0),
        member("n3", 7003, "UP", 0.657),
    ];
    app.products = vec![
        product(
            "tea-kettle",
            "Stovetop tea kettle",
            "kitchen",
            3450,
            25,
            "n1",
            false,
        ),
        product("mug", "Stoneware mug", "tea", 1200, 60, "n3", false),
        product("teapot", "Porcelain teapot", "tea", 3900, 14, "n1", true),
        product("atlas", "World atlas", "books", 3500, 0, "n3", false),
    ];
    app.cart = vec![
        CartLine {
            product: ProductId::new("mug").expect("valid"),
            name: "Stoneware mug".into(),
            price_cents: 1200,
            qty: 2,
        },
        CartLine {
            product: ProductId::new("teapot").expect("valid"),
            name: "Porcelain teapot".into(),
            price_cents: 3900,
            qty: 1,
        },
    ];
    app.orders = vec![
        OrderRow {
            id: order_id(1),
            stage: Stage::Done,
            node: node("n3"),
            lines: vec![OrderLine {
                product: ProductId::new("mug").expect("valid"),
                qty: 2,
            }],
            total_cents: 2400,
            reason: None,
            elapsed: Duration::from_millis(3100),
        },
        OrderRow {
            id: order_id(2),
            stage: Stage::Failed,
            node: node("n1"),
            lines: vec![OrderLine {
                product: ProductId::new("atlas").expect("valid"),
                qty: 1,
            }],
            total_cents: 3500,
            reason: Some("atlas: 1 wanted but only 0 left".into()),
            elapsed: Duration::from_millis(40),
        },
    ];
    app.log.push_back(LogLine {
        what: "quote mug".into(),
        node: Some(node("n3")),
        hit: Some(true),
        latency: Duration::from_micros(420),
        failover: false,
        error: None,
    });
    app.log.push_back(LogLine {
        what: "checkout".into(),
        node: Some(node("n1")),
        hit: None,
        latency: Duration::from_millis(3),
        failover: true,
        error: None,
    });
    app
}

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
    app.in_flight = 0;
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
