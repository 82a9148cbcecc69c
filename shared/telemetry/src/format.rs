//! The two log line formats (`LogFormat`): one readable line per event, or one JSON object
//! per line, each saying the trace of the innermost span with a trace tag (`tags`). Formats
//! only: which events are written is the filter's business (`filter`).

use std::fmt;

use tracing::Subscriber;
use tracing::field::{Field, Visit};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::tags::TraceTag;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event, with `trace=` and the first 8 digits of its trace id.
    #[default]
    Text,
    /// One JSON object per line: timestamp, level, target, fields, trace_id, span_id, span.
    Json,
}

/// The log line formats.
pub(crate) struct Lines {
    pub(crate) format: LogFormat,
}

impl<S, N> FormatEvent<S, N> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        // The innermost span with a trace tag says the trace; the innermost span, its name.
        let mut tag = None;
        let mut innermost = None;
        if let Some(scope) = ctx.event_scope() {
            for span in scope {
                innermost.get_or_insert_with(|| span.name());
                if let Some(t) = span.extensions().get::<TraceTag>() {
                    tag = Some(*t);
                    break;
                }
            }
        }
        let meta = event.metadata();
        let now = now();
        match self.format {
            LogFormat::Text => {
                let level = *meta.level();
                if writer.has_ansi_escapes() {
                    let colour = match level {
                        tracing::Level::ERROR => "\x1b[31m",
                        tracing::Level::WARN => "\x1b[33m",
                        tracing::Level::INFO => "\x1b[32m",
                        _ => "\x1b[2m",
                    };
                    write!(writer, "\x1b[2m{now}\x1b[0m {colour}{level:>5}\x1b[0m ")?;
                } else {
                    write!(writer, "{now} {level:>5} ")?;
                }
                if let Some(t) = tag {
                    write!(writer, "trace={} ", t.trace.short())?;
                }
                write!(writer, "{}: ", meta.target())?;
                ctx.field_format().format_fields(writer.by_ref(), event)?;
                writeln!(writer)
            }
            LogFormat::Json => {
                let mut fields = JsonFields::default();
                event.record(&mut fields);
                let mut doc = serde_json::Map::new();
                doc.insert("timestamp".into(), now.into());
                doc.insert("level".into(), meta.level().as_str().into());
                doc.insert("target".into(), meta.target().into());
                if let Some(t) = tag {
                    doc.insert("trace_id".into(), t.trace.to_string().into());
                    if let Some(s) = t.span {
                        doc.insert("span_id".into(), format!("{s:016x}").into());
                    }
                }
                if let Some(name) = innermost {
                    doc.insert("span".into(), name.into());
                }
                doc.insert("fields".into(), serde_json::Value::Object(fields.0));
                writeln!(writer, "{}", serde_json::Value::Object(doc))
            }
        }
    }
}

#[derive(Default)]
struct JsonFields(serde_json::Map<String, serde_json::Value>);

impl Visit for JsonFields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}").into());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.into());
    }
}

/// Now as tracing-subscriber's default lines print it (RFC 3339, UTC).
fn now() -> String {
    use tracing_subscriber::fmt::time::FormatTime;
    let mut s = String::new();
    let _ = tracing_subscriber::fmt::time::SystemTime.format_time(&mut Writer::new(&mut s));
    s
}
