//! Live stock as a person and a script see it, from the real `ringshop` binary joined to a
//! running cluster while another main (this test) buys: in a pty the Shop shows the purchase
//! without a key (the stock drops, marked ▼, its cache column says `live`, its age grows by
//! itself), and `ringshop products --watch` prints it as it happens.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ringshop_node::{Config, NodeHandle, serve};
use ringshop_shared::{NewOrder, NodeId, OrderId, OrderLine, ProductId};
use ringshop_tui::{Cluster, ClusterConfig};

mod terminal;
use terminal::{BIN, Terminal};

/// Two nodes in this process on one database (the default catalog: 14 teapots), and the
/// runtime they run on.
fn cluster(dir: &tempfile::TempDir) -> (tokio::runtime::Runtime, Vec<NodeHandle>) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let nodes = (1..=2)
        .map(|i| {
            let name = NodeId::new(format!("n{i}")).expect("valid");
            let config = Config::new(name, "127.0.0.1:0".parse().expect("an address"))
                .with_db(dir.path().join("cluster.db"));
            runtime.block_on(serve(config)).expect("a node starts")
        })
        .collect();
    (runtime, nodes)
}

/// Another main buys `qty` teapots through `node`; accepted (its stock is held) on return.
fn buy_teapots(runtime: &tokio::runtime::Runtime, node: &NodeHandle, qty: u32) {
    let buyer = runtime
        .block_on(Cluster::connect(&[node.addr()], ClusterConfig::default()))
        .expect("another main connects");
    let order = NewOrder {
        id: OrderId::random(),
        customer: "bob".into(),
        lines: vec![OrderLine {
            product: ProductId::new("teapot").expect("valid"),
            qty,
        }],
    };
    runtime
        .block_on(buyer.checkout(&order))
        .expect("the order is accepted");
}

#[test]
fn another_shoppers_purchase_shows_in_the_shop_without_a_key() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (runtime, nodes) = cluster(&dir);
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
    for node in nodes {
        runtime.block_on(node.kill());
    }
}

#[test]
fn products_watch_prints_each_change_as_it_happens() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (runtime, nodes) = cluster(&dir);
    let join = nodes[0].addr().to_string();
    let args = ["products", "--join", &join, "--search", "tea", "--watch"];
    let mut watch = Command::new(BIN)
        .args(args.iter().chain(&["--json", "--count", "1"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ringshop starts");
    let mut lines = BufReader::new(watch.stdout.take().expect("its stdout")).lines();
    let mut next = || lines.next().expect("a line").expect("readable");
    let table: serde_json::Value = serde_json::from_str(&next()).expect("JSON");
    assert!(
        table["products"].as_array().is_some_and(|p| p.len() > 1),
        "{table}"
    );
    buy_teapots(&runtime, &nodes[1], 3);
    let change: serde_json::Value = serde_json::from_str(&next()).expect("JSON");
    assert_eq!(
        (
            &change["event"],
            &change["id"],
            &change["stock"],
            &change["was"]
        ),
        (&"stock".into(), &"teapot".into(), &11.into(), &14.into()),
        "{change}"
    );
    assert!(
        watch.wait().expect("it ends").success(),
        "--count 1: it ends after one change, exit 0"
    );
    // As text: the change on a line of its own.
    let mut watch = Command::new(BIN)
        .args(args.iter().chain(&["--count", "1"]))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ringshop starts");
    let mut lines = BufReader::new(watch.stdout.take().expect("its stdout")).lines();
    let mut next = || lines.next().expect("a line").expect("readable");
    while !next().starts_with("teapot") {}
    buy_teapots(&runtime, &nodes[1], 1);
    let line = next();
    let (change, owner) = line.rsplit_once(' ').expect("the owner last");
    assert_eq!(
        change,
        "teapot         stock 11 → 10      39.00            "
    );
    assert!(["n1", "n2"].contains(&owner), "{line}");
    assert!(watch.wait().expect("it ends").success());
    for node in nodes {
        runtime.block_on(node.kill());
    }
}
