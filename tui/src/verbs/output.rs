//! How verbs write: data on stdout, one line at a time, flushed (so a pipe sees each line as
//! it happens); messages go to stderr with `eprintln!`.

use std::io::Write;

/// Writes one line of data to stdout.
pub fn out(line: impl std::fmt::Display) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}
