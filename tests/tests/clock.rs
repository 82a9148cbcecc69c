//! One clock (DESIGN.md, issue 21 item 3): in node/, shared/ and shared/telemetry/ time is read
//! only through `ringshop_shared::clock` (tokio's clock, which tests pause, and the calendar
//! for stamps). A direct `Instant::now` or `SystemTime::now` anywhere else fails here; the
//! scan is shown to catch planted reads and to ignore comments.

use std::path::{Path, PathBuf};

use ringshop_tests::layers::rust_files;

/// The one file allowed to read the machine's clocks, relative to the workspace.
const CLOCK_MODULE: &str = "shared/src/clock.rs";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every line under `dir` that reads a clock directly, as `file:line: text`; comments (whole
/// lines and the tail after `//`) read nothing.
fn direct_reads(dir: &Path, allowed: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut found = Vec::new();
    for file in files {
        if file.canonicalize().ok() == allowed.canonicalize().ok() {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if code.contains("Instant::now") || code.contains("SystemTime::now") {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn node_and_shared_read_time_only_through_the_clock_module() {
    let root = workspace();
    let allowed = root.join(CLOCK_MODULE);
    let mut found = Vec::new();
    for dir in ["node/src", "shared/src", "shared/telemetry/src"] {
        found.extend(direct_reads(&root.join(dir), &allowed));
    }
    assert!(
        found.is_empty(),
        "time read outside {CLOCK_MODULE} (use ringshop_shared::clock::now or wall):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scan_catches_planted_reads_and_ignores_comments() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let nested = dir.path().join("membership");
    std::fs::create_dir(&nested).expect("a nested folder");
    std::fs::write(
        nested.join("lease.rs"),
        "//! Reads `Instant::now` in a comment only.\n\
         fn a() { let t = std::time::Instant::now(); } // one\n\
         fn b() { slot.get_or_insert_with(Instant::now); }\n\
         fn c() { let stamp = SystemTime::now(); }\n\
         fn d() { let t = clock::now(); } // not Instant::now\n",
    )
    .expect("a planted file");
    let allowed = dir.path().join("clock.rs");
    std::fs::write(&allowed, "pub fn now() -> Instant { Instant::now() }\n").expect("clock.rs");
    let found = direct_reads(dir.path(), &allowed);
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found.iter().all(|f| f.contains("lease.rs")), "{found:#?}");
}
