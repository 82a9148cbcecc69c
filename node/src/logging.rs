//! The log filter both binaries use: `RUST_LOG` as target=level directives (`info`,
//! `warn,ringshop_node=debug`), else a default level. `tracing_subscriber`'s `Targets` reads
//! them without the regex engine `EnvFilter` brings (about 12 s of a clean release build on two
//! cores); span and field filters are not supported, and a `RUST_LOG` that does not parse falls
//! back to the default, as before.
//!
//! `RUST_LOG` chooses the events the log writes, never the spans a line's trace id is read
//! from ([`with_spans`]): a per-crate directive (`ringshop_node=debug`) would otherwise hide
//! tarpc's span of each request, which carries it.
//!
//! Also the node's panic hook ([`log_panics`]): a panic anywhere in the node (a task's, say:
//! contained to that task) is one `error` line in the node's log. The TUI does not use it: its
//! own hook restores the terminal first.

use std::panic::PanicHookInfo;

use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets, filter_fn};
use tracing_subscriber::layer::Filter;

/// The filter from `RUST_LOG`, or everything at `default` and above but the `quiet` targets.
pub fn filter(default: LevelFilter, quiet: &[&str]) -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| {
            quiet
                .iter()
                .fold(Targets::new().with_default(default), |t, target| {
                    t.with_target(*target, LevelFilter::OFF)
                })
        })
}

/// The log layer's filter: `events` (`filter`'s) for events; a span passes if `events` or
/// `spans` (what the tracing layers see, `telemetry::span_filter`) lets it, so the spans that
/// carry a trace id stay in every log line's scope whatever `RUST_LOG` says. The log writes no
/// line for a span itself; it only reads the span's trace tag.
pub fn with_spans<S>(events: Targets, spans: Targets) -> impl Filter<S> + use<S>
where
    S: tracing::Subscriber,
{
    // A hint of its own, or `and` would have none and the log would enable every callsite.
    let is_span = filter_fn(|meta| meta.is_span()).with_max_level_hint(LevelFilter::TRACE);
    events.or(spans.and(is_span))
}

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
        assert!(text.contains("logging.rs:"), "{text}");
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

    #[test]
    fn directives_parse_into_levels_per_target() {
        let targets: Targets = "warn,ringshop_node=debug".parse().expect("parses");
        assert!(targets.would_enable("ringshop_node::server", &tracing::Level::DEBUG));
        assert!(!targets.would_enable("tarpc::server", &tracing::Level::INFO));
        assert!(targets.would_enable("tarpc::server", &tracing::Level::WARN));
    }
}
