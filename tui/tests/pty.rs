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

#[test]
fn a_person_buys_twice_stopping_a_node_between_and_quits_cleanly() {
    let state = tempfile::tempdir().expect("a temporary folder");
    let pair = native_pty_system()
        .openpty(PtySize {
            rows: 30,
            cols: 110,
            pixel_width: 0,
            pixel_height: 0,
        })
        .expect("a pty");
    let mut command = CommandBuilder::new(BIN);
    command.env("TERM", "xterm-256color");
    command.env("XDG_STATE_HOME", state.path());
    let mut child = pair.slave.spawn_command(command).expect("ringshop starts");
    drop(pair.slave);
    let parser = Arc::new(Mutex::new(vt100::Parser::new(30, 110, 0)));
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
    let mut screen = Screen {
        parser: parser.clone(),
        writer: pair.master.take_writer().expect("a writer"),
    };
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

    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "ringshop did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
    std::thread::sleep(Duration::from_millis(100));
    let p = parser.lock().expect("parser");
    assert!(
        !p.screen().alternate_screen(),
        "the alternate screen was left"
    );
    assert!(!p.screen().hide_cursor(), "the cursor is shown again");
}
