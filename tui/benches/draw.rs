//! How long one frame takes to draw at 160×48 (TestBackend, so only our drawing and ratatui's
//! diff are measured, not a terminal), for every tab with a full catalog, cart, orders and log.
//! Run with `cargo bench -p ringshop-tui --bench draw`. Target (TUI.md 17): under 1 ms.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ringshop_shared::{NodeId, OrderId, OrderLine, ProductId, Stage};
use ringshop_tui::app::{App, CartLine, LogLine, MemberRow, OrderRow, ProductRow, Tab};
use ringshop_tui::theme::Theme;
use ringshop_tui::views;

const FRAMES: usize = 2_000;

fn app() -> App {
    let mut app = App::new(true, false, Duration::from_secs(1), "log".into());
    let n = |i: usize| NodeId::new(format!("n{}", i % 3 + 1)).expect("valid");
    for i in 0..40 {
        app.products.push(ProductRow {
            id: ProductId::new(format!("product-{i}")).expect("valid"),
            name: format!("Product number {i}"),
            category: ["kitchen", "tea", "books", "garden", "tools"][i % 5].into(),
            price_cents: 1000 + i as u64 * 37,
            stock: 10 + i as u32,
            node: n(i),
            hit: i % 2 == 0,
            age: Duration::from_millis(i as u64 * 10),
            stale: i % 13 == 0,
        });
    }
    for i in 0..3 {
        app.members.push(MemberRow {
            name: n(i),
            addr: SocketAddr::from(([127, 0, 0, 1], 7001 + i as u16)),
            status: "UP",
            heartbeat: Duration::from_millis(200),
            share: 1.0 / 3.0,
            actors: Some(12),
            hits: Some(300),
            misses: Some(20),
        });
        app.latencies
            .insert(n(i), (0..60).map(|v| 200 + v * 7).collect());
    }
    for i in 0..5 {
        app.cart.push(CartLine {
            product: ProductId::new(format!("product-{i}")).expect("valid"),
            name: format!("Product number {i}"),
            price_cents: 1000,
            qty: 1 + i as u32,
        });
    }
    for i in 0..30 {
        app.orders.push(OrderRow {
            id: OrderId::random(),
            stage: if i % 4 == 0 {
                Stage::Failed
            } else {
                Stage::Done
            },
            node: n(i),
            lines: vec![OrderLine {
                product: ProductId::new("product-1").expect("valid"),
                qty: 2,
            }],
            total_cents: 2000,
            reason: None,
            elapsed: Duration::from_millis(3000),
        });
    }
    for i in 0..200 {
        app.log.push_back(LogLine {
            what: format!("quote product-{i}"),
            node: Some(n(i)),
            hit: Some(i % 2 == 0),
            latency: Duration::from_micros(300 + i as u64),
            failover: i % 50 == 0,
            error: None,
        });
    }
    app
}

fn main() {
    let mut app = app();
    let theme = Theme { color: true };
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
