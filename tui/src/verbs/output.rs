//! How verbs write: data on stdout, one line at a time, flushed (so a pipe sees each line as
//! it happens); messages go to stderr with `eprintln!`.

use std::io::Write;

/// Writes one line of data to stdout.
pub fn out(line: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Writes one JSON document (an object) on stdout with the trace id of the verb's action
/// added as `trace_id` (when its trace is kept).
pub fn out_json(doc: serde_json::Value) {
    out(with_trace(doc));
}

/// `doc` (an object) with the trace id of the verb's action added as `trace_id`, when its
/// trace is kept.
pub fn with_trace(mut doc: serde_json::Value) -> serde_json::Value {
    if let (Some(obj), Some((trace, _))) = (
        doc.as_object_mut(),
        ringshop_telemetry::ids_of(&tracing::Span::current()),
    ) {
        obj.insert("trace_id".into(), trace.to_string().into());
    }
    doc
}

/// Colours for words in a table on stdout, or none (`--color`, NO_COLOR, not a terminal).
/// A word is padded before it is coloured, so columns stay aligned.
#[derive(Clone, Copy, Debug)]
pub struct Paint {
    pub on: bool,
}

impl Paint {
    fn wrap(self, code: &str, text: String) -> String {
        if self.on {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text
        }
    }
    pub fn ok(self, text: String) -> String {
        self.wrap("32", text)
    }
    pub fn warn(self, text: String) -> String {
        self.wrap("33", text)
    }
    pub fn bad(self, text: String) -> String {
        self.wrap("1;31", text)
    }
}
