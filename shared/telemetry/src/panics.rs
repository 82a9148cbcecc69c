//! The node's panic hook ([`log_panics`]): a panic anywhere in the node (a task's, say:
//! contained to that task) is one `error` line in the node's log. The TUI does not use it: its
//! own hook restores the terminal first.

use std::panic::PanicHookInfo;

/// Routes every panic of this process through the log, once: one `error` line ("panicked")
/// with the thread, the location and the message, in place of the default hook's text on
/// stderr and its backtrace (`RUST_BACKTRACE`); a panic where nothing would log an error (no
/// subscriber yet, or `RUST_LOG` turns it off) is one line on stderr instead. For the node
/// binary, after its log is installed.
pub fn log_panics() {
    std::panic::set_hook(Box::new(log_panic));
}

fn log_panic(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(a panic without a message)");
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let current = std::thread::current();
    let thread = current.name().unwrap_or("unnamed");
    if tracing::enabled!(tracing::Level::ERROR) {
        tracing::error!(thread, %location, message, "panicked");
    } else {
        eprintln!("thread {thread} panicked at {location}: {message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_one_error_line_with_its_location_and_message() {
        let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || Writer(writer.clone()))
            .finish();
        let previous = std::panic::take_hook();
        log_panics();
        let panicked = std::thread::Builder::new()
            .name("doomed".into())
            .spawn(move || {
                tracing::subscriber::with_default(subscriber, || {
                    let n: u32 = "x".len() as u32;
                    panic!("bad input {n}");
                })
            })
            .expect("spawns")
            .join();
        std::panic::set_hook(previous);
        assert!(panicked.is_err());
        let text = String::from_utf8(lines.lock().expect("unpoisoned").clone()).expect("utf-8");
        assert_eq!(text.lines().count(), 1, "{text}");
        assert!(text.contains("ERROR"), "{text}");
        assert!(text.contains("panicked"), "{text}");
        assert!(text.contains("bad input 1"), "{text}");
        assert!(text.contains("thread=\"doomed\""), "{text}");
        assert!(text.contains("panics.rs:"), "{text}");
    }

    struct Writer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Writer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
}
