//! What a binary asks `install` for: its names, its log (level, quiet targets, format,
//! colours), the size of its span ring and an optional OTLP collector. Plain data; reading
//! flags into it is the binaries' business.

use tracing_subscriber::filter::LevelFilter;

use crate::format::LogFormat;

/// What `install` sets up.
pub struct Settings {
    /// The OpenTelemetry service name (`ringshop-node`, `ringshop`) and this process's
    /// instance (the node's name; `main`).
    pub service: &'static str,
    pub instance: String,
    /// Also export the kept spans to this OTLP/HTTP collector (`otlp::endpoint` form).
    pub otlp: Option<String>,
    /// Log lines at this level and above (`RUST_LOG` overrides it, as `filter::filter`).
    pub level: LevelFilter,
    /// Targets whose log lines the default (no `RUST_LOG`) leaves out: the main's own
    /// messages say what failed, so tarpc's internals (`tarpc`) would only repeat them.
    pub quiet: &'static [&'static str],
    pub format: LogFormat,
    /// Colours in text lines.
    pub ansi: bool,
    /// How many finished spans to keep for `spans`; 0 keeps none.
    pub ring: usize,
}
