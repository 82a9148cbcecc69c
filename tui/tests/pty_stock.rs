//! Live stock as a person sees it: the real `ringshop` binary in a pty, joined to a running
//! cluster, shows another shopper's purchase (made by another main, in this test) without a
//! key: the stock drops, marked ▼, its cache column says `live` and its age grows by itself.

use std::time::{Duration, Instant};

use ringshop_node::{Config, serve};
use ringshop_shared::{NewOrder, NodeId, OrderId, OrderLine, ProductId};
use ringshop_tui::{Cluster, ClusterConfig};

mod terminal;
use terminal::Terminal;

#[test]
fn another_shoppers_purchase_shows_in_the_shop_without_a_key() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let nodes: Vec<_> = (1..=2)
        .map(|i| {
            let name = NodeId::new(format!("n{i}")).expect("valid");
            let config = Config::new(name, "127.0.0.1:0".parse().expect("an address"))
                .with_db(dir.path().join("cluster.db"));
            runtime.block_on(serve(config)).expect("a node starts")
        })
        .collect();
    let join = nodes[0].addr().to_string();
    let mut screen = Terminal::screen(&["--join", &join], 110, 30);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    screen.keys("/teapot\r");
    screen.wait_for("Products /teapot (1 of 40)", long);
    screen.wait_for("     14  n", long);

    let buyer = runtime
        .block_on(Cluster::connect(
            &[nodes[1].addr()],
            ClusterConfig::default(),
        ))
        .expect("another main connects");
    let order = NewOrder {
        id: OrderId::random(),
        customer: "bob".into(),
        lines: vec![OrderLine {
            product: ProductId::new("teapot").expect("valid"),
            qty: 2,
        }],
    };
    let bought = Instant::now();
    runtime
        .block_on(buyer.checkout(&order))
        .expect("the order is accepted");
    screen.wait_for("12▼", long);
    eprintln!(
        "another main's purchase on the screen after {:?}",
        bought.elapsed()
    );
    let row = |screen: &Terminal| {
        let text = screen.text();
        text.lines()
            .find(|l| l.contains("Porcelain teapot"))
            .map(str::to_string)
            .unwrap_or_default()
    };
    assert!(row(&screen).contains("live"), "{}", row(&screen));
    // Its age grows as the screen ticks, with no key pressed.
    let age = |row: String| {
        row.split_once("live").map(|(_, age)| {
            age.trim_matches(|c: char| c == '│' || c.is_whitespace())
                .to_string()
        })
    };
    let first = age(row(&screen));
    std::thread::sleep(Duration::from_millis(1200));
    assert_ne!(age(row(&screen)), first, "{}", row(&screen));

    screen.keys("\x1bq");
    assert!(screen.exit_status(Duration::from_secs(15)));
    drop(buyer);
    for node in nodes {
        runtime.block_on(node.kill());
    }
}
