//! The real `ringshop` binary in a real terminal (a pty read through a vt100 parser), driven
//! as a person would: open it, search, add two products, check out, wait for the notification,
//! find the order, open the cluster, stop a node, buy again, quit; the terminal is back to
//! normal afterwards (no alternate screen) and the exit status is 0.

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

const BIN: &str = env!("CARGO_BIN_EXE_ringshop");

struct Screen {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    // Kept open: dropping the pty's master would hang up the child.
    _master: Box<dyn portable_pty::MasterPty + Send>,
}

impl Screen {
    fn text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits (bounded) until the screen shows `what`.
    fn wait_for(&self, what: &str, limit: Duration) {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.text().contains(what) {
                return;
            }
            std::thread::sleep(Duration::from_millis(30));
        }
        panic!(
            "{what:?} did not appear within {limit:?}; the screen:\n{}",
            self.text()
        );
    }

    fn keys(&mut self, keys: &str) {
        for b in keys.bytes() {
            self.writer.write_all(&[b]).expect("writes a key");
            self.writer.flush().expect("flushes");
            // A person types slower than this; it also keeps Esc apart from the next key.
            std::thread::sleep(Duration::from_millis(40));
        }
    }
}

/// The binary on an embedded cluster in a `cols`×`rows` pty, with `args`.
fn open(
    args: &[&str],
    cols: u16,
    rows: u16,
) -> (Screen, Box<dyn portable_pty::Child>, tempfile::TempDir) {
    let state = tempfile::tempdir().expect("a temporary folder");
    let pair = native_pty_system()
        .openpty(PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pty");
    let mut command = CommandBuilder::new(BIN);
    command.args(args);
    command.env("TERM", "xterm-256color");
    command.env("XDG_STATE_HOME", state.path());
    let child = pair.slave.spawn_command(command).expect("ringshop starts");
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
    let mut reader = pair.master.try_clone_reader().expect("a reader");
    let feed = parser.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            if let Ok(mut p) = feed.lock() {
                p.process(&buf[..n]);
            }
        }
    });
    let screen = Screen {
        parser,
        writer: pair.master.take_writer().expect("a writer"),
        _master: pair.master,
    };
    (screen, child, state)
}

/// Waits (bounded) for the child to exit; its status.
fn exit_status(child: &mut Box<dyn portable_pty::Child>) -> portable_pty::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "ringshop did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_person_buys_twice_stopping_a_node_between_and_quits_cleanly() {
    let (mut screen, mut child, _state) = open(&[], 110, 30);
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

    let status = exit_status(&mut child);
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(100));
    let p = screen.parser.lock().expect("parser");
    assert!(
        !p.screen().alternate_screen(),
        "the alternate screen was left"
    );
    assert!(!p.screen().hide_cursor(), "the cursor is shown again");
}

#[test]
fn at_80x24_a_filter_prompts_at_once_esc_asks_before_discarding_and_dialogs_show_their_keys() {
    let (mut screen, mut child, _state) = open(&[], 80, 24);
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
    assert!(exit_status(&mut child).success());
}

#[test]
fn read_only_offers_no_node_controls() {
    let (mut screen, mut child, _state) = open(&["--read-only"], 100, 30);
    let long = Duration::from_secs(20);
    screen.wait_for("Products (40)", long);
    screen.keys("4");
    screen.wait_for("Members (3)", long);
    screen.wait_for("o sort by next column", long);
    assert!(!screen.text().contains("kill node"), "{}", screen.text());
    screen.keys("?");
    screen.wait_for("Keys · Cluster", long);
    assert!(!screen.text().contains("kill node"), "{}", screen.text());
    screen.keys("qq");
    assert!(exit_status(&mut child).success());
}
