//! The real `ringshop` binary in a real terminal (a pty read through a vt100 parser), driven
//! as a person would: open it, search, add two products, check out, wait for the notification,
//! find the order, open the cluster, stop a node, buy again, quit; the terminal is back to
//! normal afterwards (no alternate screen) and the exit status is 0.

use std::time::Duration;

mod terminal;
use terminal::Terminal;

#[test]
fn a_person_buys_twice_stopping_a_node_between_and_quits_cleanly() {
    let mut screen = Terminal::screen(&[], 110, 30);
    let long = Duration::from_secs(20);

    screen.wait_for("Products (40)", long);
    screen.keys("/kettle\r");
    screen.wait_for("Products /kettle (1 of 40)", long);
    screen.keys("\r");
    screen.wait_for("How many tea-kettle?", long);
    screen.keys("\x7f2\r");
    screen.wait_for("added 2 × Stovetop tea kettle", long);
    screen.keys("\x1b");
    screen.keys("/mug\r");
    screen.wait_for("(1 of 40)", long);
    screen.keys("a\r");
    screen.wait_for("added 1 × Stoneware mug", long);
    screen.keys("2");
    screen.wait_for("Cart · total 81.00", long);
    screen.keys("c");
    screen.wait_for("Buy 3 items for 81.00?", long);
    screen.keys("y");
    screen.wait_for("Bought 3 items on", long);
    screen.keys("3");
    screen.wait_for("done", long);
    screen.keys("4");
    screen.wait_for("Members (3)", long);
    screen.keys("x");
    screen.wait_for("? Its ids fail over", long);
    screen.keys("y");
    screen.wait_for("killed n1", long);
    // The screen knows what it just did: the row says so at once, not seconds later.
    screen.wait_for("n1     DEAD", Duration::from_millis(1000));
    screen.wait_for("2/3 nodes up", Duration::from_millis(1000));
    screen.keys("1\x1b");
    screen.keys("/pen\r");
    screen.wait_for("Fountain pen", long);
    screen.keys("a\r2c");
    screen.wait_for("Buy 1 item for", long);
    screen.keys("y");
    screen.wait_for("Bought 1 item on", long);
    screen.keys("q");

    assert!(screen.exit_status(Duration::from_secs(15)), "exit status");
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        screen.restored(),
        "the alternate screen was left and the cursor is shown again"
    );
}

#[test]
fn at_80x24_a_filter_prompts_at_once_esc_asks_before_discarding_and_dialogs_show_their_keys() {
    let mut screen = Terminal::screen(&[], 80, 24);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    // The Demo tab filters too: `/` prompts at once and what follows is text, not tabs.
    screen.keys("5/");
    screen.wait_for("/▏", long);
    screen.keys("n3");
    screen.wait_for("/n3▏", long);
    assert!(screen.text().contains("Demo: ids 1-4"), "{}", screen.text());
    screen.keys("\x1b");
    screen.wait_for("discard the filter /n3?", long);
    screen.keys("\x1b");
    screen.wait_for("/ filter", long);
    // The kill question wraps and keeps its answer line.
    screen.keys("4x");
    screen.wait_for("next owners.", long);
    screen.wait_for("y yes  n/esc no", long);
    screen.keys("n?");
    screen.wait_for("Typing a filter (/)", long);
    screen.keys("q");
    screen.wait_for("x kill node", long);
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

#[test]
fn read_only_offers_no_node_controls() {
    let mut screen = Terminal::screen(&["--read-only"], 100, 30);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    screen.keys("4");
    screen.wait_for("Members (3)", long);
    screen.wait_for("s sort by next column", long);
    assert!(!screen.text().contains("kill node"), "{}", screen.text());
    screen.keys("?");
    screen.wait_for("Keys · Cluster", long);
    assert!(!screen.text().contains("kill node"), "{}", screen.text());
    screen.keys("qq");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

#[test]
fn the_screen_comes_back_by_itself_after_every_node_was_killed_and_one_started_again() {
    let mut screen = Terminal::screen(&[], 100, 30);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    screen.keys("4");
    screen.wait_for("3/3 nodes up", long);
    for n in 1..=3 {
        screen.keys("x");
        screen.wait_for("y yes", long);
        screen.keys("y");
        screen.wait_for(&format!("killed n{n}"), long);
        screen.keys("j");
    }
    screen.wait_for("0/3 nodes up", long);
    // The store keeps n1's name until its old row is past suspicion (2 s).
    std::thread::sleep(Duration::from_secs(3));
    screen.keys("gu");
    screen.wait_for("started n1", long);
    // No key from here on: the client finds n1 where it was and the screen follows.
    screen.wait_for("1/3 nodes up", long);
    screen.wait_for("n1     UP", long);
    // Products are quoted again, all 40 by n1, the one node up.
    screen.wait_for("quotes ×40", long);
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

/// Issue 12: a checkout's trace from the Orders tab, then a log line's: the waterfall shows
/// the job on the order's owner and the reservations on the products' owners.
#[test]
fn a_person_opens_the_trace_of_a_checkout_and_of_a_log_line() {
    let mut screen = Terminal::screen(&[], 140, 40);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    screen.keys("/kettle\r");
    screen.wait_for("(1 of 40)", long);
    screen.keys("\r");
    screen.wait_for("How many tea-kettle?", long);
    screen.keys("\r");
    screen.keys("\x1b/mug\r");
    screen.wait_for("(1 of 40)", long);
    screen.keys("a\r2c");
    screen.wait_for("Buy 2 items for", long);
    screen.keys("y");
    screen.wait_for("Bought 2 items on", long);
    screen.keys("3t");
    screen.wait_for(" Trace ", long);
    for row in [
        "checkout",
        "Shard.checkout",
        "job",
        "reserving",
        "Shard.reserve",
        "turn",
        "paying",
    ] {
        screen.wait_for(row, long);
    }
    screen.wait_for("spans on main,", long);
    screen.keys("\x1b");
    // The log: L picks the newest line, enter opens its trace.
    screen.keys("L");
    screen.wait_for("enter show its trace", long);
    screen.keys("\r");
    screen.wait_for(" Trace ", long);
    screen.wait_for("spans on main", long);
    // Esc, then q once the trace has closed (sent together on a loaded machine, the terminal
    // would read them as one alt-q).
    screen.keys("\x1b");
    screen.wait_for("q quit", long);
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)), "exit status");
}

/// TUI.md 32 and 22a with `--join`: with nothing up the screen opens and says where it looks;
/// the node started there shows without a key (products too); killed, the screen waits again;
/// started again on its address, it shows again.
#[test]
fn joined_with_nothing_up_the_screen_waits_and_shows_the_node_that_starts_without_a_key() {
    use ringshop_node::{Config, NodeHandle, serve};
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port"); // dropped: nothing listens there
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let start = || -> NodeHandle {
        let config = || {
            Config::new(ringshop_shared::NodeId::new("n1").expect("valid"), free)
                .with_db(dir.path().join("c.db"))
        };
        // Again on its address: the store keeps the name while the old row looks alive.
        for _ in 0..100 {
            if let Ok(node) = runtime.block_on(serve(config())) {
                return node;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("n1 did not start at {free}");
    };
    let mut screen = Terminal::screen(&["--join", &free.to_string()], 110, 30);
    let long = Duration::from_secs(20);
    screen.wait_for(&format!("waiting for nodes at {free} …"), long);
    screen.wait_for("0/0 nodes up", long);

    let node = start();
    screen.wait_for("1/1 nodes up", long);
    screen.wait_for("Products (40)", long);
    assert!(!screen.text().contains("waiting for"), "{}", screen.text());

    runtime.block_on(node.kill());
    drop(node);
    screen.wait_for(&format!("waiting for nodes at {free} …"), long);
    let _again = start();
    screen.wait_for("1/1 nodes up", long);
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

/// TUI.md 31: an order id typed short in the Orders filter, for an order this screen does not
/// list (another customer's), is looked up in the cluster on enter and opens.
#[test]
fn an_order_id_typed_short_in_the_orders_filter_opens_that_order() {
    use ringshop_node::{Config, serve};
    use ringshop_shared::{NewOrder, NodeId, OrderLine, ProductId};
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let config = Config::new(
        NodeId::new("n1").expect("valid"),
        "127.0.0.1:0".parse().expect("an address"),
    )
    .with_db(dir.path().join("c.db"));
    let node = runtime.block_on(serve(config)).expect("a node starts");
    let id = "abcdef12-0000-4000-8000-000000000001";
    runtime.block_on(async {
        let client = ringshop_tui::Cluster::connect(&[node.addr()], Default::default())
            .await
            .expect("connects");
        let order = NewOrder {
            id: id.parse().expect("a UUID"),
            customer: "bob".into(),
            lines: vec![OrderLine {
                product: ProductId::new("mug").expect("valid"),
                qty: 1,
            }],
        };
        client.checkout(&order).await.expect("placed");
    });
    let mut screen = Terminal::screen(&["--join", &node.addr().to_string()], 110, 30);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    screen.keys("3/ABCDEF-12\r");
    screen.wait_for(&format!("order  {id}"), long);
    screen.keys("\x1bq");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

/// TUI.md 11, 6 and 7 as a person sees them: with NO_COLOR=1 not one cell is coloured (and
/// without it many are, so the count can tell), the active tab is bold and reversed, the
/// selection still shows as ▶, PgDn moves it a page, and Ctrl-C quits at once and gives the
/// terminal back.
#[test]
fn no_color_colours_nothing_the_active_tab_is_reversed_and_ctrl_c_restores_the_terminal() {
    let long = Duration::from_secs(20);
    let coloured = Terminal::screen(&[], 100, 30);
    coloured.wait_for("Products (40)", long);
    coloured.wait_for("stock", long);
    assert!(coloured.coloured_cells() > 0, "{}", coloured.text());
    drop(coloured);

    let mut screen = Terminal::start(&[], &[("NO_COLOR", "1")], 30, 100);
    screen.wait_for("Products (40)", long);
    screen.wait_for("▶ atlas", long);
    assert_eq!(screen.coloured_cells(), 0, "{}", screen.text());
    let shop = screen.find(" 1 Shop ").expect("the tab bar");
    assert!(screen.bold_reversed((shop.0 + 1, shop.1)), "the active tab");
    let cart = screen.find(" 2 Cart ").expect("the tab bar");
    assert!(
        !screen.bold_reversed((cart.0 + 1, cart.1)),
        "an inactive tab"
    );
    // A page down moves the selection off the first row (the marker follows it).
    screen.send("\x1b[6~");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!screen.text().contains("▶ atlas"), "{}", screen.text());
    assert!(screen.text().contains('▶'), "{}", screen.text());
    screen.keys("\x03");
    assert!(screen.exit_status(Duration::from_secs(15)), "exit status");
    std::thread::sleep(Duration::from_millis(100));
    assert!(screen.restored(), "ctrl-c gave the terminal back");
}

/// TUI.md 13: a panic anywhere (here in a spawned task, on a key that debug builds panic on
/// when asked) gives the terminal back, prints the panic and exits with an error.
#[test]
fn a_panic_in_a_task_gives_the_terminal_back() {
    let env = [("RINGSHOP_TEST_PANIC_KEY", "%"), ("RUST_BACKTRACE", "0")];
    let mut screen = Terminal::start(&[], &env, 30, 100);
    screen.wait_for("Products (40)", Duration::from_secs(20));
    assert!(!screen.restored(), "the TUI has the terminal");
    screen.keys("%");
    assert!(
        !screen.exit_status(Duration::from_secs(15)),
        "a panic is a failure"
    );
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        screen.restored(),
        "the panic hook gave the terminal back: {}",
        screen.text()
    );
    assert!(
        screen.text().contains("a panic on purpose"),
        "the panic is printed: {}",
        screen.text()
    );
}
