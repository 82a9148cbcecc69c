//! The crates' shape (DESIGN.md, issue 21 item 5): in tui/, node/ and shared/ no file imports
//! a file that imports it back (directly or through others), and each crate's layers only look
//! down. The checker (`ringshop_tests::layers`) is shown to catch a planted cycle and a planted
//! upward import.

use std::path::{Path, PathBuf};

use ringshop_tests::layers::{Graph, Module, cycle, imports, name, rust_files};

fn src(krate: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src")
}

fn no_cycle(graph: &Graph) {
    if let Some((from, to)) = cycle(graph) {
        panic!(
            "{} imports {}, which imports it back",
            name(&from),
            name(&to)
        );
    }
}

/// The top-level module of a file (its layer); "" for lib.rs.
fn layer(m: &Module) -> String {
    m.first().cloned().unwrap_or_default()
}

/// tui/: screen → client, verbs → client, never client → screen/verbs, never screen ↔ verbs;
/// every layer may use `files` (the user's own files), which uses none.
#[test]
fn tui_has_no_cycle_and_its_layers_only_look_down() {
    let graph = imports(&src("tui"), "ringshop_tui");
    assert!(graph.len() > 30, "found the crate's files: {}", graph.len());
    no_cycle(&graph);
    let mut seen = 0;
    for (from, to) in &graph {
        for target in to {
            let (a, b) = (layer(from), layer(target));
            let allowed = a == b
                || a.is_empty()
                || b == "files"
                || (b == "client" && (a == "screen" || a == "verbs"));
            assert!(
                allowed,
                "{} ({a}) imports {} ({b})",
                name(from),
                name(target)
            );
            seen += 1;
        }
    }
    assert!(seen > 50, "the imports were read: {seen}");
}

#[test]
fn only_the_embedded_cluster_uses_the_node_crate_in_tui() {
    // The main reaches nodes over the wire (client/) and logs through ringshop-telemetry; the
    // node crate is only for starting real nodes in this process.
    let src = src("tui");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 30, "found the crate's files: {}", files.len());
    let mut users: Vec<String> = files
        .iter()
        .filter(|f| {
            std::fs::read_to_string(f)
                .expect("a source file is readable")
                .contains("ringshop_node")
        })
        .filter_map(|f| Some(f.strip_prefix(&src).ok()?.display().to_string()))
        .collect();
    users.sort();
    assert_eq!(users, ["client/embedded.rs"]);
}

/// node/'s layers, top down: what starts and answers (server, handoff, config, the crate's
/// root), the shop's jobs, the actors and what routes and admits calls, the stock feed,
/// membership, and at the bottom the store, the connections to peers and the small leaves.
/// A file may import its own layer or one below; `*_tests` files (unit tests) any.
fn node_rank(layer: &str) -> Option<u8> {
    Some(match layer {
        "" | "server" | "handoff" | "config" | "main" => 6,
        "shop" => 5,
        "actors" | "holding" | "admission" | "route" => 4,
        "stock" => 3,
        "membership" => 2,
        "store" | "peers" => 1,
        "ticks" | "certs" | "planted" => 0,
        _ => return None,
    })
}

#[test]
fn node_has_no_cycle_and_its_layers_only_look_down() {
    let graph = imports(&src("node"), "ringshop_node");
    assert!(graph.len() > 30, "found the crate's files: {}", graph.len());
    no_cycle(&graph);
    let mut seen = 0;
    for (from, to) in &graph {
        let a = layer(from);
        if a.ends_with("_tests") {
            continue;
        }
        let Some(rank) = node_rank(&a) else {
            panic!(
                "{} is in no layer: give `{a}` a rank in node_rank",
                name(from)
            );
        };
        for target in to {
            let b = layer(target);
            let below = node_rank(&b).unwrap_or_else(|| panic!("`{b}` has no rank"));
            assert!(
                below <= rank,
                "{} ({a}, layer {rank}) imports {} ({b}, layer {below}): imports run down",
                name(from),
                name(target)
            );
            seen += 1;
        }
    }
    assert!(seen > 50, "the imports were read: {seen}");
}

#[test]
fn shared_has_no_cycle() {
    let graph = imports(&src("shared"), "ringshop_shared");
    assert!(graph.len() > 20, "found the crate's files: {}", graph.len());
    no_cycle(&graph);
}

#[test]
fn a_planted_cycle_and_a_planted_upward_import_are_found() {
    // The checker itself: a store file importing the server, which imports the store.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path();
    std::fs::create_dir_all(src.join("store")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "pub mod server;\npub mod store;\n").expect("write");
    std::fs::write(src.join("store.rs"), "mod sqlite;\n").expect("write");
    std::fs::write(
        src.join("store/sqlite.rs"),
        "// a comment naming crate::server::Nothing imports nothing\nuse crate::server::Thing;\n",
    )
    .expect("write");
    std::fs::write(
        src.join("server.rs"),
        "use ringshop_x::store::sqlite::Other;\npub struct Thing;\n",
    )
    .expect("write");
    let graph = imports(src, "ringshop_x");
    let sqlite: Module = vec!["store".into(), "sqlite".into()];
    let server: Module = vec!["server".into()];
    assert!(graph[&sqlite].contains(&server), "{graph:?}");
    assert!(graph[&server].contains(&sqlite), "{graph:?}");
    assert!(cycle(&graph).is_some());
    let (a, b) = (layer(&sqlite), layer(&server));
    assert!(
        node_rank(&a) < node_rank(&b),
        "store imports up into server: caught by the rank rule"
    );
    // Without the back edge there is no cycle, and the comment added no edge.
    std::fs::write(src.join("server.rs"), "pub struct Thing;\n").expect("write");
    let graph = imports(src, "ringshop_x");
    assert!(cycle(&graph).is_none(), "{graph:?}");
    assert_eq!(graph[&sqlite].len(), 1, "{graph:?}");
}
