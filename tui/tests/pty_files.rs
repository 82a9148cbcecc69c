//! The user's files through the real binary in a pty (TUI.md 30 and 22): the cart survives a
//! quit (after its one question) and a SIGKILL; a corrupt cart file is set aside with a toast
//! naming it; a bad config file is a toast naming path:line, and the TUI runs on defaults.

use std::path::Path;
use std::time::Duration;

mod terminal;
use terminal::Terminal;

const LONG: Duration = Duration::from_secs(20);

/// The cart file of the default customer under `home` (as `Terminal::screen_in` sets it up).
fn cart_file(home: &Path) -> std::path::PathBuf {
    home.join("ringshop").join("cart-guest.json")
}

/// Adds `qty` of the one product `filter` finds; waits for the toast that says so.
fn add(screen: &mut Terminal, filter: &str, qty: &str, added: &str) {
    screen.keys(&format!("/{filter}\r"));
    screen.wait_for("(1 of 40)", LONG);
    screen.keys("\r");
    screen.wait_for("How many", LONG);
    screen.keys(&format!("{qty}\r"));
    screen.wait_for(added, LONG);
    screen.keys("\x1b");
}

#[test]
fn the_cart_is_there_again_after_quitting_and_q_asks_once_first() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let mut screen = Terminal::screen_in(home.path(), &[], 110, 30);
    screen.wait_for("Products (40)", LONG);
    add(&mut screen, "kettle", "", "added 1 × Stovetop tea kettle");
    add(&mut screen, "mug", "2", "added 2 × Stoneware mug");
    screen.keys("q");
    screen.wait_for("Quit? your cart of 3 items is kept for next time", LONG);
    screen.keys("\r");
    screen.wait_for("q quit", LONG);
    assert!(!screen.text().contains("Quit?"), "enter is no");
    screen.keys("qy");
    assert!(screen.exit_status(Duration::from_secs(15)), "exit status");
    assert!(cart_file(home.path()).exists());

    let mut again = Terminal::screen_in(home.path(), &[], 110, 30);
    again.wait_for("cart: 3", LONG);
    again.keys("2");
    again.wait_for("Stovetop tea kettle", LONG);
    again.wait_for("Stoneware mug", LONG);
    again.wait_for("Cart · total", LONG);
    again.keys("\x03");
    assert!(
        again.exit_status(Duration::from_secs(15)),
        "ctrl-c quits at once"
    );
}

#[test]
fn the_cart_is_there_again_after_a_sigkill() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let mut screen = Terminal::screen_in(home.path(), &[], 110, 30);
    screen.wait_for("Products (40)", LONG);
    add(&mut screen, "mug", "2", "added 2 × Stoneware mug");
    // What the screen shows is on disk: kill at once, no chance to save anything.
    screen.kill_hard();

    let mut again = Terminal::screen_in(home.path(), &[], 110, 30);
    again.wait_for("cart: 2", LONG);
    again.keys("2");
    again.wait_for("Stoneware mug", LONG);
    again.keys("\x03");
    assert!(again.exit_status(Duration::from_secs(15)));
}

#[test]
fn a_corrupt_cart_file_is_set_aside_with_a_toast_naming_it() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let file = cart_file(home.path());
    std::fs::create_dir_all(file.parent().expect("a folder")).expect("mkdir");
    std::fs::write(&file, "{\"version\":1,\"lines\":[").expect("writes");
    let mut screen = Terminal::screen_in(home.path(), &[], 150, 40);
    screen.wait_for("cart-guest.json is not a cart", LONG);
    screen.wait_for("set aside as", LONG);
    screen.wait_for("Products (40)", LONG);
    let aside: Vec<String> = std::fs::read_dir(file.parent().expect("a folder"))
        .expect("readable")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("cart-guest.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "kept for the user to look at");
    screen.keys("q");
    assert!(
        screen.exit_status(Duration::from_secs(15)),
        "empty cart: no question"
    );
}

#[test]
fn a_bad_config_file_is_a_toast_naming_its_line_and_the_defaults_apply() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let dir = home.path().join("config").join("ringshop");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("config.toml"),
        "color = \"never\"\nmouse = maybe\n",
    )
    .expect("writes");
    let mut screen = Terminal::screen_in(home.path(), &[], 150, 40);
    screen.wait_for("config/ringshop/config.toml:2:", LONG);
    screen.wait_for("maybe is not a value", LONG);
    screen.wait_for("Products (40)", LONG);
    assert!(screen.mouse_captured(), "the defaults: the mouse is on");
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));

    // A good file applies: mouse = false leaves the mouse to the terminal.
    std::fs::write(dir.join("config.toml"), "mouse = false\n").expect("writes");
    let mut screen = Terminal::screen_in(home.path(), &[], 100, 30);
    screen.wait_for("Products (40)", LONG);
    assert!(!screen.mouse_captured());
    screen.keys("q");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

#[test]
fn the_config_files_keys_and_theme_are_what_the_screen_uses() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let dir = home.path().join("config").join("ringshop");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(
        dir.join("config.toml"),
        "[keys]\ncheckout = \"C\"\ntab_cart = [\"2\", \"b\"]\n\n[theme]\nkey = \"#ff00ff\"\n",
    )
    .expect("writes");
    let mut screen = Terminal::screen_in(home.path(), &[], 120, 30);
    screen.wait_for("Products (40)", LONG);
    add(&mut screen, "kettle", "", "added 1 × Stovetop tea kettle");
    screen.keys("b");
    // The footer names the new key, in the theme's colour.
    let at = screen.wait_at("C check out", LONG);
    assert_eq!(
        screen.fg(at),
        vt100::Color::Rgb(255, 0, 255),
        "{}",
        screen.text()
    );
    screen.keys("c");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !screen.text().contains("Buy 1 item for"),
        "c is free now:\n{}",
        screen.text()
    );
    screen.keys("C");
    screen.wait_for("Buy 1 item for", LONG);
    screen.keys("n");
    screen.keys("q");
    screen.wait_for("Quit?", LONG);
    screen.keys("y");
    assert!(screen.exit_status(Duration::from_secs(15)));

    // A clash is the file's problem like any other: a toast with its line, and the defaults.
    std::fs::write(dir.join("config.toml"), "[keys]\n\ncheckout = \"q\"\n").expect("writes");
    let mut screen = Terminal::screen_in(home.path(), &[], 150, 30);
    screen.wait_for("config.toml:3: key", LONG);
    screen.wait_for("q would be both quit and checkout on the Cart tab", LONG);
    screen.keys("2");
    screen.wait_for("c check out", LONG);
    screen.keys("q");
    screen.wait_for("Quit?", LONG);
    screen.keys("y");
    assert!(screen.exit_status(Duration::from_secs(15)));
}

#[test]
fn an_unwritable_state_dir_is_one_toast_and_the_tui_runs_on() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let blocker = home.path().join("state");
    std::fs::write(&blocker, "a file where the state folder should be").expect("writes");
    let (h, state) = (home.path().to_string_lossy(), blocker.to_string_lossy());
    let config = home.path().join("config");
    let env = [
        ("HOME", h.as_ref()),
        ("XDG_STATE_HOME", state.as_ref()),
        ("XDG_CONFIG_HOME", &config.to_string_lossy()),
    ];
    let mut screen = Terminal::start(&[], &env, 40, 150);
    screen.wait_for("Products (40)", LONG);
    // An error toast stays until the next key: look before the next one.
    screen.keys("/mug\r\r\r");
    screen.wait_for("✗ cart: cannot keep the cart in", LONG);
    screen.keys("\x1b");
    add(&mut screen, "kettle", "", "added 1 × Stovetop tea kettle");
    screen.wait_for("×2", LONG);
    assert!(
        !screen.text().contains("✗ cart:"),
        "toasted once:\n{}",
        screen.text()
    );
    screen.keys("q");
    screen.wait_for("could not be kept", LONG);
    screen.keys("y");
    assert!(screen.exit_status(Duration::from_secs(15)));
}
