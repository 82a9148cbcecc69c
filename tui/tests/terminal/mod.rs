//! The real `ringshop` binary in a real terminal: a pty whose output goes through a vt100
//! parser, so a test reads the screen a person would see and types as a person would.
#![allow(dead_code)] // each includer uses its own part

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const BIN: &str = env!("CARGO_BIN_EXE_ringshop");

pub struct Terminal {
    parser: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    // Kept open: dropping the pty's master would hang up the child.
    _master: Box<dyn MasterPty + Send>,
    // The TUI's log folder, removed at the end.
    _state: Option<tempfile::TempDir>,
}

impl Terminal {
    /// Starts `ringshop ARGS` in a `rows`×`cols` terminal with `env` set.
    pub fn start(args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Terminal {
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
        for (k, v) in env {
            command.env(k, v);
        }
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
        Terminal {
            parser,
            writer: pair.master.take_writer().expect("a writer"),
            child,
            _master: pair.master,
            _state: None,
        }
    }

    /// The TUI (`ringshop ARGS`, on an embedded cluster unless ARGS say otherwise) in a
    /// `cols`×`rows` terminal, its log in a temporary folder.
    pub fn screen(args: &[&str], cols: u16, rows: u16) -> Terminal {
        let state = tempfile::tempdir().expect("a temporary folder");
        let home = state.path().to_string_lossy().into_owned();
        let mut terminal = Terminal::start(args, &[("XDG_STATE_HOME", &home)], rows, cols);
        terminal._state = Some(state);
        terminal
    }

    /// What the TUI wrote to its log file so far (empty when it has none).
    pub fn log_text(&self) -> String {
        self._state
            .as_ref()
            .and_then(|d| std::fs::read_to_string(d.path().join("ringshop/tui.log")).ok())
            .unwrap_or_default()
    }

    /// The screen's text now.
    pub fn text(&self) -> String {
        self.parser
            .lock()
            .map(|p| p.screen().contents())
            .unwrap_or_default()
    }

    /// Waits (bounded) until the screen shows `what`.
    pub fn wait_for(&self, what: &str, limit: Duration) {
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

    /// Types `keys`, one byte at a time at a person's pace (which also keeps Esc apart from
    /// the next key).
    pub fn keys(&mut self, keys: &str) {
        for b in keys.bytes() {
            self.writer.write_all(&[b]).expect("writes a key");
            self.writer.flush().expect("flushes");
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// Waits (bounded) for the program to end; whether it succeeded.
    pub fn exit_status(&mut self, limit: Duration) -> bool {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return status.success();
            }
            assert!(
                started.elapsed() < limit,
                "ringshop did not end in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the terminal is back to normal: no alternate screen, the cursor shown.
    pub fn restored(&self) -> bool {
        self.parser
            .lock()
            .map(|p| !p.screen().alternate_screen() && !p.screen().hide_cursor())
            .unwrap_or(false)
    }
}
