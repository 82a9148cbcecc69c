//! The crate's shape, checked: every file's imports (`use` paths and `crate::`/`super::`
//! paths in code, unit tests aside) resolved to the file that defines them; then no file
//! imports a file that imports it back (directly or through others), and the layers only look
//! down: screen → client, verbs → client, never client → screen/verbs, never screen ↔ verbs;
//! every layer may use `files` (the user's own files), which uses none. And only the embedded
//! cluster names the node crate.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path: `["client", "cluster"]` for `src/client/cluster.rs`; `[]` for lib.rs.
type Module = Vec<String>;

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).expect("src is readable");
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn module_of(src: &Path, file: &Path) -> Option<Module> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.last().map(String::as_str) {
        Some("main") if parts.len() == 1 => return None, // the binary: it may import anything
        Some("lib") if parts.len() == 1 => parts.clear(),
        Some("mod") => {
            parts.pop();
        }
        _ => {}
    }
    Some(parts)
}

/// `use a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        return vec![tree.to_string()];
    };
    let Some(close) = tree.rfind('}') else {
        return Vec::new();
    };
    let prefix = &tree[..open];
    let mut parts = Vec::new();
    let (mut depth, mut current) = (0, String::new());
    for ch in tree[open + 1..close].chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if ch == ',' && depth == 0 {
            parts.push(std::mem::take(&mut current));
        } else {
            current.push(ch);
        }
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| expand(&format!("{prefix}{}", p.trim())))
        .collect()
}

/// The file `path` (written in `from`) resolves to: its deepest module that is a file.
fn resolve(modules: &BTreeSet<Module>, from: &Module, path: &str) -> Option<Module> {
    let path = path.split(" as ").next()?.trim();
    let mut segments = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "*");
    let mut at: Module = from.clone();
    let first = segments.next()?;
    match first {
        "crate" | "ringshop_tui" => at.clear(),
        "self" => {}
        "super" => {
            at.pop();
        }
        name => {
            let mut child = at.clone();
            child.push(name.to_string());
            if !modules.contains(&child) {
                return None; // another crate, or an item of this file
            }
            at = child;
        }
    }
    for segment in segments {
        if segment == "super" {
            at.pop();
            continue;
        }
        let mut child = at.clone();
        child.push(segment.to_string());
        if !modules.contains(&child) {
            break;
        }
        at = child;
    }
    Some(at)
}

fn imports(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let texts: Vec<(Module, String)> = files
        .iter()
        .filter_map(|f| {
            let module = module_of(src, f)?;
            let text = std::fs::read_to_string(f).expect("a source file is readable");
            // Unit tests may look anywhere in their own file's module.
            let text = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            Some((module, text))
        })
        .collect();
    let modules: BTreeSet<Module> = texts.iter().map(|(m, _)| m.clone()).collect();
    let mut graph = BTreeMap::new();
    for (module, text) in &texts {
        let mut to = BTreeSet::new();
        let mut paths = Vec::new();
        for statement in text.split(';') {
            let statement = statement.trim();
            let body = statement
                .strip_prefix("pub use ")
                .or_else(|| statement.strip_prefix("pub(crate) use "))
                .or_else(|| statement.strip_prefix("use "))
                .or_else(|| statement.rsplit_once("\nuse ").map(|(_, b)| b))
                .or_else(|| statement.rsplit_once("\npub use ").map(|(_, b)| b));
            if let Some(body) = body {
                paths.extend(expand(&body.replace('\n', " ")));
            }
        }
        for word in text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':')) {
            // `super::{a, b}` leaves `super::` here: the `use` above read it.
            let word = word.trim_end_matches(':');
            if word.starts_with("crate::") || word.starts_with("super::") {
                paths.push(word.to_string());
            }
        }
        for path in paths {
            if let Some(target) = resolve(&modules, module, &path)
                && target != *module
            {
                to.insert(target);
            }
        }
        graph.insert(module.clone(), to);
    }
    graph
}

fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("/")
    }
}

#[test]
fn no_file_imports_a_file_that_imports_it_back() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = imports(&src);
    assert!(graph.len() > 30, "found the crate's files: {}", graph.len());
    for (from, to) in &graph {
        for target in to {
            let reaches_back = reach(&graph, target).contains(from);

            assert!(
                !reaches_back,
                "{} imports {}, which imports it back",
                name(from),
                name(target)
            );
        }
    }
}

#[test]
fn the_layers_only_look_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = imports(&src);
    let layer = |m: &Module| m.first().cloned().unwrap_or_default();
    let mut seen = 0;
    for (from, to) in &graph {
        for target in to {
            let (a, b) = (layer(from), layer(target));
            // `files` (the user's config, log and cart files) is below every layer.
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
fn only_the_embedded_cluster_uses_the_node_crate() {
    // The main reaches nodes over the wire (client/) and logs through ringshop-telemetry; the
    // node crate is only for starting real nodes in this process.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
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

#[test]
fn a_planted_cycle_is_found() {
    // The checker itself: a client file importing the screen must be caught by both rules.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let src = dir.path();
    std::fs::create_dir_all(src.join("client")).expect("mkdir");
    std::fs::create_dir_all(src.join("screen")).expect("mkdir");
    std::fs::write(src.join("lib.rs"), "pub mod client;\npub mod screen;\n").expect("write");
    std::fs::write(src.join("client/mod.rs"), "mod a;\n").expect("write");
    std::fs::write(src.join("client/a.rs"), "use crate::screen::b::Thing;\n").expect("write");
    std::fs::write(src.join("screen/mod.rs"), "mod b;\n").expect("write");
    std::fs::write(
        src.join("screen/b.rs"),
        "use crate::client::a::Other;\npub struct Thing;\n",
    )
    .expect("write");
    let graph = imports(src);
    let a: Module = vec!["client".into(), "a".into()];
    let b: Module = vec!["screen".into(), "b".into()];
    assert!(
        graph[&a].contains(&b) && graph[&b].contains(&a),
        "{graph:?}"
    );
    assert!(reach(&graph, &b).contains(&a));
}

/// Every module `from` reaches through imports (itself excluded unless in a cycle).
fn reach(graph: &BTreeMap<Module, BTreeSet<Module>>, from: &Module) -> BTreeSet<Module> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Module> = graph.get(from).into_iter().flatten().cloned().collect();
    while let Some(m) = stack.pop() {
        if seen.insert(m.clone()) {
            stack.extend(graph.get(&m).into_iter().flatten().cloned());
        }
    }
    seen
}
