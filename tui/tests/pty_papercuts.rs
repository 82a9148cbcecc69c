//! The shopper's papercuts (issue 20.6/7) in the real binary, in a pty, as a person meets
//! them: `c y c y` typed fast buys once; an error toast is in the log file; `--read-only` says
//! why a node control did nothing; the `:` command line runs the key table's actions (a
//! destructive one still asks); the Cluster tab shows each node's p99 and requests/s from its
//! own counters, and enter opens a member's detail; `D` (not `l`) lets a node leave.

use std::time::Duration;

mod terminal;
use terminal::Terminal;

const LONG: Duration = Duration::from_secs(20);

#[test]
fn c_y_c_y_typed_fast_buys_the_cart_once_and_errors_reach_the_log_file() {
    let mut screen = Terminal::screen(&[], 100, 30);
    screen.wait_for("Products (40)", LONG);
    screen.keys("2c");
    screen.wait_for("the cart is empty", LONG);
    screen.keys("1/mug\r");
    screen.wait_for("(1 of 40)", LONG);
    screen.keys("a\r");
    screen.wait_for("added 1 × Stoneware mug", LONG);
    screen.keys("2c");
    screen.wait_for("Buy 1 item for", LONG);
    screen.keys("ycy");
    screen.wait_for("Bought 1 item on", LONG);
    screen.keys("3");
    screen.wait_for("Orders (1)", LONG);
    std::thread::sleep(Duration::from_millis(500));
    screen.keys("r");
    std::thread::sleep(Duration::from_millis(1000));
    assert!(screen.text().contains("Orders (1)"), "{}", screen.text());
    let log = screen.log_text();
    assert!(
        log.contains("the cart is empty"),
        "the error toast is in tui.log:\n{log}"
    );
    assert!(
        log.contains("is being placed") || log.contains("one checkout at a time"),
        "{log}"
    );
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

#[test]
fn read_only_says_why_node_controls_do_nothing() {
    let mut screen = Terminal::screen(&["--read-only"], 100, 30);
    screen.wait_for("Products (40)", LONG);
    screen.keys("4");
    screen.wait_for("Members (3)", LONG);
    screen.keys("x");
    screen.wait_for("--read-only", LONG);
    screen.keys("D");
    screen.wait_for("--read-only", LONG);
    assert!(
        !screen.text().contains("Kill node"),
        "no question: {}",
        screen.text()
    );
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

#[test]
fn the_command_line_runs_actions_and_the_cluster_tab_reads_the_nodes_own_latency() {
    let mut screen = Terminal::screen(&[], 120, 36);
    screen.wait_for("Products (40)", LONG);
    screen.keys(":tab clu\t\r");
    screen.wait_for("Members (3)", LONG);
    screen.wait_for("req/s", LONG);
    // A refresh is traffic: each node times its requests, the screen reads their p99 from
    // two snapshots of the node's counters.
    screen.keys("r\r");
    screen.wait_for("Member n1", LONG);
    screen.wait_for("incarnation 1", LONG);
    screen.wait_for("ms (last 10 s)", LONG);
    screen.keys("\x1b");
    screen.keys(":frz\r");
    screen.wait_for("did you mean :freeze?", LONG);
    screen.keys(":stop n2\r");
    screen.wait_for("Kill n2 at 127.0.0.1", LONG);
    screen.keys("n");
    // D lets the selected node leave (after asking); l is a movement key and does nothing.
    screen.keys("l");
    assert!(!screen.text().contains("Let n"), "{}", screen.text());
    screen.keys("D");
    screen.wait_for("leave? It hands its ids", LONG);
    screen.keys("y");
    screen.wait_for("left; it handed its ids", LONG);
    screen.keys(":q\r");
    assert!(screen.exit_status(Duration::from_secs(15)));
}
