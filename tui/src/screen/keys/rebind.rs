//! The config file's `[keys]` laid over the key table (TUI.md 22). An action's keys replace
//! its keys on every tab it works on; the keys of dialogs (y/n, esc, enter) and ctrl-c are
//! fixed. Refused, each with its line: an action that does not exist, a key that is not one,
//! ctrl-c, a destructive action on a ctrl chord or a movement key (TUI.md 10), and two actions
//! on one key where both would work. Any problem and no key is changed at all.

use std::collections::HashMap;

use super::binding::{Command, Key, Scope};
use super::{BINDINGS, Keymap, name};
use crate::files::config::{Problem, Rebind};
use crate::screen::app::rows::Tab;

/// Every action the config file may bind, as it spells them.
pub fn actions() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for b in BINDINGS.iter().filter(|b| rebindable(b.scope)) {
        if let Some(action) = b.command.action().filter(|a| !names.contains(a)) {
            names.push(action);
        }
    }
    names
}

fn rebindable(scope: Scope) -> bool {
    matches!(scope, Scope::Global | Scope::On(_))
}

impl Keymap {
    /// The default table with `rebinds` laid over it, or every problem with its line.
    pub fn with(rebinds: &[Rebind]) -> Result<Keymap, Vec<Problem>> {
        let mut keymap = Keymap::default();
        let mut problems = Vec::new();
        // The line that set each binding's keys, where the file set them.
        let mut set_on: Vec<Option<usize>> = vec![None; BINDINGS.len()];
        for rebind in rebinds {
            let problem = |message: String| Problem {
                line: Some(rebind.line),
                message,
            };
            let targets: Vec<usize> = BINDINGS
                .iter()
                .enumerate()
                .filter(|(_, b)| rebindable(b.scope) && b.command.action() == Some(&rebind.action))
                .map(|(i, _)| i)
                .collect();
            let Some(&first) = targets.first() else {
                problems.push(problem(format!(
                    "unknown action {:?} under [keys]; the actions are {}",
                    rebind.action,
                    actions().join(", ")
                )));
                continue;
            };
            let keys: Vec<Key> = match rebind.keys.iter().map(|k| Key::parse(k)).collect() {
                Ok(keys) => keys,
                Err(message) => {
                    problems.push(problem(format!("{}: {message}", rebind.action)));
                    continue;
                }
            };
            if let Err(message) = allowed(BINDINGS[first].command, &rebind.action, &keys) {
                problems.push(problem(message));
                continue;
            }
            for i in targets {
                keymap.keys[i] = dedup(&keys);
                set_on[i] = Some(rebind.line);
            }
        }
        problems.extend(keymap.clashes(&set_on));
        problems.sort_by_key(|p| p.line);
        if problems.is_empty() {
            Ok(keymap)
        } else {
            Err(problems)
        }
    }

    /// Two commands on one key where both would work (a tab's own and the global ones), each
    /// blamed on the line that made it.
    fn clashes(&self, set_on: &[Option<usize>]) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut reported: Vec<(Key, usize)> = Vec::new();
        for tab in Tab::ALL {
            let mut owner: HashMap<Key, usize> = HashMap::new();
            for (i, b) in BINDINGS.iter().enumerate() {
                if !matches!(b.scope, Scope::Global) && b.scope != Scope::On(tab) {
                    continue;
                }
                for key in &self.keys[i] {
                    let Some(&j) = owner.get(key) else {
                        owner.insert(*key, i);
                        continue;
                    };
                    let (a, b2) = (&BINDINGS[j], b);
                    if a.command == b2.command {
                        continue;
                    }
                    let Some(line) = set_on[i].or(set_on[j]) else {
                        continue;
                    };
                    if reported.contains(&(*key, line)) {
                        continue;
                    }
                    reported.push((*key, line));
                    let whom = |b: &super::Binding| b.command.action().unwrap_or(b.label);
                    problems.push(Problem {
                        line: Some(line),
                        message: format!(
                            "key {} would be both {} and {} on the {} tab",
                            name(*key),
                            whom(a),
                            whom(b2),
                            tab.title()
                        ),
                    });
                }
            }
        }
        problems
    }
}

/// Whether `command` may sit on `keys`.
fn allowed(command: Command, action: &str, keys: &[Key]) -> Result<(), String> {
    if keys.contains(&Key::Ctrl('c')) {
        return Err(format!("{action}: ctrl-c always quits and cannot be bound"));
    }
    if command.destructive() {
        if let Some(key) = keys
            .iter()
            .find(|k| matches!(k, Key::Ctrl(_)) || k.moves() || **k == Key::Enter)
        {
            return Err(format!(
                "{action} stops a node: it may not sit on {} (a ctrl chord, enter or a movement key)",
                name(*key)
            ));
        }
    }
    Ok(())
}

fn dedup(keys: &[Key]) -> Vec<Key> {
    let mut out: Vec<Key> = Vec::new();
    for key in keys {
        if !out.contains(key) {
            out.push(*key);
        }
    }
    out
}
