//! One clock (DESIGN.md, issue 21 item 3): in node/, shared/, shared/telemetry/ and the main's
//! cluster client (tui/src/client/, which the simulator runs on its own time) time is read
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
    lines_with(dir, allowed, &["Instant::now", "SystemTime::now"], false)
}

/// Every line of code under `dir` (but `allowed`, and test files when `skip_tests`) that
/// holds one of `needles`, as `file:line: text`.
fn lines_with(dir: &Path, allowed: &Path, needles: &[&str], skip_tests: bool) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut found = Vec::new();
    for file in files {
        if file.canonicalize().ok() == allowed.canonicalize().ok() {
            continue;
        }
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if skip_tests && (name == "tests.rs" || name.ends_with("_tests.rs")) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a source file is readable");
        for (i, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if needles.iter().any(|n| code.contains(n)) {
                found.push(format!("{}:{}: {}", file.display(), i + 1, line.trim()));
            }
        }
    }
    found
}

#[test]
fn node_shared_and_the_client_read_time_only_through_the_clock_module() {
    let root = workspace();
    let allowed = root.join(CLOCK_MODULE);
    let mut found = Vec::new();
    for dir in [
        "node/src",
        "shared/src",
        "shared/telemetry/src",
        "tui/src/client",
    ] {
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

/// The same replay needs the same iteration order: a std map's random keys would give each
/// run of a seed its own (`ringshop_shared::hash`). Test files may use std's maps.
#[test]
fn node_shared_and_the_client_keep_maps_that_a_simulator_can_fix() {
    let root = workspace();
    let allowed = root.join("shared/src/hash.rs");
    let mut found = Vec::new();
    for dir in ["node/src", "shared/src", "tui/src/client"] {
        found.extend(lines_with(
            &root.join(dir),
            &allowed,
            &["HashMap", "HashSet", "RandomState"],
            true,
        ));
    }
    assert!(
        found.is_empty(),
        "std hash map outside shared/src/hash.rs (use ringshop_shared::hash::Map or Set):\n{}",
        found.join("\n")
    );
}
