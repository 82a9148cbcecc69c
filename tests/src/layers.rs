//! A crate's shape, read from its source: every file's imports (`use` paths and
//! `crate::`/`super::` paths in code, unit tests aside) resolved to the file that defines them.
//! `tests/layers.rs` checks with it that no file imports a file that imports it back and that
//! each crate's layers only look down.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path: `["client", "cluster"]` for `src/client/cluster.rs`; `[]` for lib.rs.
pub type Module = Vec<String>;

/// Each file and the files it imports.
pub type Graph = BTreeMap<Module, BTreeSet<Module>>;

/// Every `.rs` file under `dir`, into `out`.
pub fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
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
    let Some(close) = tree.rfind('}').filter(|close| *close > open) else {
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
fn resolve(modules: &BTreeSet<Module>, own: &str, from: &Module, path: &str) -> Option<Module> {
    let path = path.split(" as ").next()?.trim();
    let mut segments = path
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "*");
    let mut at: Module = from.clone();
    let first = segments.next()?;
    match first {
        "crate" => at.clear(),
        name if name == own => at.clear(),
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

/// Every file of the crate at `src` (its Rust name `own`, as `own::a::b` paths in it name it)
/// and the files it imports.
pub fn imports(src: &Path, own: &str) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let texts: Vec<(Module, String)> = files
        .iter()
        .filter_map(|f| {
            let module = module_of(src, f)?;
            let text = std::fs::read_to_string(f).expect("a source file is readable");
            // Unit tests may look anywhere in their own file's module; comments (a doc link
            // to a sibling) import nothing.
            let text = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let text: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
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
            if let Some(target) = resolve(&modules, own, module, &path)
                && target != *module
            {
                to.insert(target);
            }
        }
        graph.insert(module.clone(), to);
    }
    graph
}

/// A module as a message names it: `client/cluster`, or `lib`.
pub fn name(m: &Module) -> String {
    if m.is_empty() {
        "lib".into()
    } else {
        m.join("/")
    }
}

/// Every module `from` reaches through imports (itself excluded unless in a cycle).
pub fn reach(graph: &Graph, from: &Module) -> BTreeSet<Module> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<Module> = graph.get(from).into_iter().flatten().cloned().collect();
    while let Some(m) = stack.pop() {
        if seen.insert(m.clone()) {
            stack.extend(graph.get(&m).into_iter().flatten().cloned());
        }
    }
    seen
}

/// The first cycle in `graph`: a file, and one it imports that imports it back.
pub fn cycle(graph: &Graph) -> Option<(Module, Module)> {
    graph.iter().find_map(|(from, to)| {
        to.iter()
            .find(|target| reach(graph, target).contains(from))
            .map(|target| (from.clone(), target.clone()))
    })
}
