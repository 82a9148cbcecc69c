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
    // Its home (log, state, config), removed at the end.
    _state: Option<tempfile::TempDir>,
}

/// `home` as a run's home: HOME, its state in `home` (`home/ringshop/`: the log, the kept
/// carts) and its config in `home/config` (`home/config/ringshop/config.toml`).
fn home_env(home: &std::path::Path) -> [(&'static str, String); 3] {
    let text = home.to_string_lossy().into_owned();
    [
        ("HOME", text.clone()),
        ("XDG_STATE_HOME", text),
        (
            "XDG_CONFIG_HOME",
            home.join("config").to_string_lossy().into_owned(),
        ),
    ]
}

impl Terminal {
    /// Starts `ringshop ARGS` in a `rows`×`cols` terminal with `env` set, in a home of its own
    /// (a temporary folder, never the user's: `env` may name another).
    pub fn start(args: &[&str], env: &[(&str, &str)], rows: u16, cols: u16) -> Terminal {
        let home = tempfile::tempdir().expect("a temporary folder");
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
        for (k, v) in home_env(home.path()) {
            command.env(k, v);
        }
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
            _state: Some(home),
        }
    }

    /// The TUI (`ringshop ARGS`, on an embedded cluster unless ARGS say otherwise) in a
    /// `cols`×`rows` terminal, its home (log, state, config) in a temporary folder.
    pub fn screen(args: &[&str], cols: u16, rows: u16) -> Terminal {
        Terminal::start(args, &[], rows, cols)
    }

    /// The TUI with `home` as its home (HOME, its state in `home/ringshop/`, its config in
    /// `home/config/ringshop/config.toml`), so a second run finds what the first one left.
    pub fn screen_in(home: &std::path::Path, args: &[&str], cols: u16, rows: u16) -> Terminal {
        let env = home_env(home);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Terminal::start(args, &env, rows, cols)
    }

    /// Sends `bytes` in one write, as a terminal sends an escape sequence (a mouse event).
    pub fn send(&mut self, bytes: &str) {
        self.writer.write_all(bytes.as_bytes()).expect("writes");
        self.writer.flush().expect("flushes");
        std::thread::sleep(Duration::from_millis(40));
    }

    /// A left click at 0-based (`col`, `row`), pressed and released, as xterm's SGR mouse
    /// mode reports it.
    pub fn click(&mut self, (col, row): (u16, u16)) {
        self.send(&format!("\x1b[<0;{};{}M", col + 1, row + 1));
        self.send(&format!("\x1b[<0;{};{}m", col + 1, row + 1));
    }

    /// One notch of the wheel, down (or up), with the pointer at (`col`, `row`).
    pub fn wheel(&mut self, (col, row): (u16, u16), down: bool) {
        let button = if down { 65 } else { 64 };
        self.send(&format!("\x1b[<{button};{};{}M", col + 1, row + 1));
    }

    /// Where `what` is on the screen (column, row of its first cell), if it is.
    pub fn find(&self, what: &str) -> Option<(u16, u16)> {
        let parser = self.parser.lock().ok()?;
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        let width = what.chars().count() as u16;
        (0..rows).find_map(|row| {
            let cells: Vec<String> = (0..cols)
                .map(|col| {
                    screen
                        .cell(row, col)
                        .map_or(String::new(), |c| c.contents().to_string())
                })
                .map(|c| if c.is_empty() { " ".into() } else { c })
                .collect();
            (0..cols.saturating_sub(width - 1))
                .find(|&col| cells[usize::from(col)..usize::from(col + width)].concat() == what)
                .map(|col| (col, row))
        })
    }

    /// Waits (bounded) until `what` is on the screen; where it is.
    pub fn wait_at(&self, what: &str, limit: Duration) -> (u16, u16) {
        self.wait_for(what, limit);
        self.find(what)
            .unwrap_or_else(|| panic!("{what:?} moved away:\n{}", self.text()))
    }

    /// Whether the program asked the terminal to report the mouse.
    pub fn mouse_captured(&self) -> bool {
        self.mouse_mode() != vt100::MouseProtocolMode::None
    }

    /// What the program asked the terminal to report of the mouse.
    pub fn mouse_mode(&self) -> vt100::MouseProtocolMode {
        self.parser
            .lock()
            .map(|p| p.screen().mouse_protocol_mode())
            .unwrap_or_default()
    }

    /// Kills the program with SIGKILL (no chance to clean up, as a crash or `kill -9`).
    pub fn kill_hard(&mut self) {
        let pid = self.child.process_id().expect("a running child");
        let killed = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status()
            .expect("runs kill");
        assert!(killed.success());
        let _ = self.child.wait();
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
            // An Esc read together with the next byte is alt+that key: give the program time
            // to read it alone, even on a loaded machine.
            let pause = if b == 0x1b { 250 } else { 40 };
            std::thread::sleep(Duration::from_millis(pause));
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

    /// How many cells of the screen have a colour of their own (foreground or background).
    pub fn coloured_cells(&self) -> usize {
        let Ok(parser) = self.parser.lock() else {
            return 0;
        };
        let screen = parser.screen();
        let (rows, cols) = screen.size();
        (0..rows)
            .flat_map(|r| (0..cols).map(move |c| (r, c)))
            .filter_map(|(r, c)| screen.cell(r, c))
            .filter(|cell| {
                cell.fgcolor() != vt100::Color::Default || cell.bgcolor() != vt100::Color::Default
            })
            .count()
    }

    /// The foreground colour of the cell at (`col`, `row`).
    #[allow(dead_code)] // not every test binary that includes this module looks at colours
    pub fn fg(&self, (col, row): (u16, u16)) -> vt100::Color {
        self.parser
            .lock()
            .ok()
            .and_then(|p| p.screen().cell(row, col).map(|c| c.fgcolor()))
            .unwrap_or_default()
    }

    /// Whether the cell at (`col`, `row`) is drawn bold and reversed.
    pub fn bold_reversed(&self, (col, row): (u16, u16)) -> bool {
        self.parser
            .lock()
            .ok()
            .and_then(|p| p.screen().cell(row, col).map(|c| c.bold() && c.inverse()))
            .unwrap_or(false)
    }

    /// Whether the terminal is back to normal: no alternate screen, the cursor shown.
    pub fn restored(&self) -> bool {
        self.parser
            .lock()
            .map(|p| !p.screen().alternate_screen() && !p.screen().hide_cursor())
            .unwrap_or(false)
    }
}
