//! The real `ringshop` binary in a real terminal (a pty read through a vt100 parser), driven
//! as a person would: open it, search, add two products, check out, wait for the notification,
//! find the order, open the cluster, stop a node, buy again, quit; the terminal is back to
//! normal afterwards (no alternate screen) and the exit status is 0.

use std::time::Duration;

mod terminal;
use terminal::Terminal;

#[test]
fn a_person_buys_twice_stopping_a_node_between_and_quits_cleanly() {
    let state = tempfile::tempdir().expect("a temporary folder");
    let state_home = state.path().to_string_lossy().into_owned();
    let mut screen = Terminal::start(&[], &[("XDG_STATE_HOME", &state_home)], 30, 110);
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
