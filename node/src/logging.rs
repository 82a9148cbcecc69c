//! The log filter both binaries use: `RUST_LOG` as target=level directives (`info`,
//! `warn,ringshop_node=debug`), else a default level. `tracing_subscriber`'s `Targets` reads
//! them without the regex engine `EnvFilter` brings (about 12 s of a clean release build on two
//! cores); span and field filters are not supported, and a `RUST_LOG` that does not parse falls
//! back to the default, as before.

use tracing_subscriber::filter::{LevelFilter, Targets};

/// The filter from `RUST_LOG`, or everything at `default` and above.
pub fn filter(default: LevelFilter) -> Targets {
    std::env::var("RUST_LOG")
        .ok()
        .and_then(|directives| directives.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(default))
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
