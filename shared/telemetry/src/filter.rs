//! Which events the log writes and which spans the tracing layers see. The log: `RUST_LOG` as
//! target=level directives (`info`, `warn,ringshop_node=debug`), else a default level.
//! `tracing_subscriber`'s `Targets` reads them without the regex engine `EnvFilter` brings
//! (about 12 s of a clean release build on two cores); span and field filters are not
//! supported, and a `RUST_LOG` that does not parse falls back to the default, as before.
//!
//! `RUST_LOG` chooses the events the log writes, never the spans a line's trace id is read
//! from ([`with_spans`]): a per-crate directive (`ringshop_node=debug`) would otherwise hide
//! tarpc's span of each request, which carries it.

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
/// `spans` (what the tracing layers see, [`span_filter`]) lets it, so the spans that carry a
/// trace id stay in every log line's scope whatever `RUST_LOG` says. The log writes no line
/// for a span itself; it only reads the span's trace tag.
pub fn with_spans<S>(events: Targets, spans: Targets) -> impl Filter<S> + use<S>
where
    S: tracing::Subscriber,
{
    // A hint of its own, or `and` would have none and the log would enable every callsite.
    let is_span = filter_fn(|meta| meta.is_span()).with_max_level_hint(LevelFilter::TRACE);
    events.or(spans.and(is_span))
}

/// What the tracing layers see: spans and events at info and above, whatever the log shows (a
/// verb logs only errors). Every layer has a filter: one without enables every debug and
/// trace callsite of every crate (tarpc writes several per request).
pub fn span_filter() -> Targets {
    Targets::new().with_default(LevelFilter::INFO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_parse_into_levels_per_target() {
        let targets: Targets = "warn,ringshop_node=debug".parse().expect("parses");
        assert!(targets.would_enable("ringshop_node::server", &tracing::Level::DEBUG));
        assert!(!targets.would_enable("tarpc::server", &tracing::Level::INFO));
        assert!(targets.would_enable("tarpc::server", &tracing::Level::WARN));
    }
}
