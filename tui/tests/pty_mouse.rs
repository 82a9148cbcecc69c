//! The mouse through the real binary in a pty (TUI.md 23): SGR mouse sequences, as xterm sends
//! them, switch tabs, select and open rows, scroll with the wheel and press footer keys; with
//! `--no-mouse` the terminal is never asked to report the mouse, so its drag-select works.

use std::time::Duration;

mod terminal;
use terminal::Terminal;

const LONG: Duration = Duration::from_secs(20);

/// The row the ▶ marker is on.
fn marker_row(screen: &Terminal) -> u16 {
    screen.find("▶").map_or(u16::MAX, |(_, row)| row)
}

/// Waits (bounded) until the ▶ marker is on `row`.
fn wait_marker(screen: &Terminal, row: u16) {
    let started = std::time::Instant::now();
    while marker_row(screen) != row {
        assert!(
            started.elapsed() < LONG,
            "the marker is not on row {row}:\n{}",
            screen.text()
        );
        std::thread::sleep(Duration::from_millis(30));
    }
}

#[test]
fn clicks_and_the_wheel_switch_tabs_select_open_and_press_footer_keys() {
    let mut screen = Terminal::screen(&[], 100, 30);
    screen.wait_for("Products (40)", LONG);
    assert_eq!(
        screen.mouse_mode(),
        vt100::MouseProtocolMode::PressRelease,
        "clicks and the wheel, no motion: a moving pointer wakes nothing"
    );

    let cluster = screen.wait_at("4 Cluster", LONG);
    screen.click(cluster);
    screen.wait_for("Members (3)", LONG);
    let shop = screen.wait_at("1 Shop", LONG);
    screen.click(shop);
    screen.wait_for("Products (40)", LONG);

    // The wheel over the list moves the selection, one row a notch.
    let first = marker_row(&screen);
    let (_, header) = screen.wait_at("category", LONG);
    assert_eq!(first, header + 1, "the first row is selected");
    screen.wheel((20, first), true);
    screen.wheel((20, first), true);
    wait_marker(&screen, first + 2);
    screen.wheel((20, first), false);
    wait_marker(&screen, first + 1);

    // A click on a row selects it; on the selected row, opens it (enter: add to cart).
    screen.click((20, first + 4));
    wait_marker(&screen, first + 4);
    assert!(!screen.text().contains("How many"));
    screen.click((20, first + 4));
    screen.wait_for("How many", LONG);
    screen.keys("\x1b");

    // A footer hint is its key.
    let help = screen.wait_at("? help", LONG);
    screen.click(help);
    screen.wait_for("Keys · Shop", LONG);
    screen.keys("q");
    let quit = screen.wait_at("q quit", LONG);
    screen.click(quit);
    assert!(screen.exit_status(Duration::from_secs(15)), "exit status");
}

#[test]
fn no_mouse_leaves_the_mouse_to_the_terminal() {
    let mut screen = Terminal::screen(&["--no-mouse"], 100, 30);
    screen.wait_for("Products (40)", LONG);
    assert!(!screen.mouse_captured(), "no mouse reporting was asked for");
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}
