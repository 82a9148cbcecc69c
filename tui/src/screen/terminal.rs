//! The terminal: raw mode and the alternate screen on the way in, both undone on the way out,
//! on an error, and on a panic anywhere (a spawned task's too): the panic hook restores the
//! terminal, prints the panic, and exits, so the app never runs on a cooked terminal.

use std::io::{Stdout, stdout};

use crossterm::event::DisableMouseCapture;
#[cfg(windows)]
use crossterm::event::EnableMouseCapture;
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Tty = Terminal<CrosstermBackend<Stdout>>;

/// Held while a frame is drawn, and by the panic hook from the moment it restores the terminal.
static DRAWING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Draws one frame, unless a panic is giving the terminal back (then waits for the exit).
pub fn draw(tty: &mut Tty, frame: impl FnOnce(&mut ratatui::Frame)) -> std::io::Result<()> {
    let _drawing = DRAWING.lock().unwrap_or_else(|p| p.into_inner());
    tty.draw(frame).map(drop)
}

/// Enters raw mode and the alternate screen (capturing the mouse when `mouse`), and installs
/// the panic hook.
pub fn init(mouse: bool) -> std::io::Result<Tty> {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        // A panic on another thread than the screen's: wait for a frame being drawn to end,
        // and keep the screen from drawing again (it would hide the cursor and paint over the
        // restored terminal while the panic prints). The screen's own thread panicking while
        // it draws holds the lock already: go on without it after a moment.
        let _no_more_frames = (0..50).find_map(|_| match DRAWING.try_lock() {
            Ok(guard) => Some(guard),
            Err(std::sync::TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(2));
                None
            }
        });
        restore();
        previous(info);
        std::process::exit(101);
    }));
    enable_raw_mode()?;
    let mut out = stdout();
    let entered = execute!(out, EnterAlternateScreen).and_then(|()| {
        if mouse {
            execute!(out, CaptureClicks)
        } else {
            Ok(())
        }
    });
    if let Err(e) = entered {
        restore();
        return Err(e);
    }
    Terminal::new(CrosstermBackend::new(out))
}

/// Mouse reports of presses, releases and the wheel only (xterm's normal tracking, with the
/// SGR and RXVT encodings for columns past 223), not `EnableMouseCapture`'s motion tracking: a
/// pointer moving over the screen wakes nothing, as the TUI uses no motion.
struct CaptureClicks;

impl crossterm::Command for CaptureClicks {
    fn write_ansi(&self, f: &mut impl std::fmt::Write) -> std::fmt::Result {
        f.write_str("\x1b[?1000h\x1b[?1015h\x1b[?1006h")
    }

    #[cfg(windows)]
    fn execute_winapi(&self) -> std::io::Result<()> {
        EnableMouseCapture.execute_winapi()
    }
}

/// Leaves the alternate screen and raw mode; safe to call more than once.
pub fn restore() {
    let _ = execute!(
        stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = disable_raw_mode();
}
