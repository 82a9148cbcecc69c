//! The one key table. Dispatch (`command_for`), the footer hints (`footer`) and the `?`
//! overlay (`help`) are all read from `BINDINGS` (in `keys/table.rs`), so they cannot drift
//! apart: the tabs' keys, the global ones, and each dialog's (help, filter, quantity, yes/no,
//! an order's or a member's detail, the `:` command line, the "discard typed text?"
//! question). The command line's verbs (`palette.rs`) name the same commands. Node controls
//! are marked, so the footer and `?` leave them out where nodes cannot be controlled here.

mod binding;
mod table;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use self::binding::{Binding, Command, Key, Scope};
pub use self::table::BINDINGS;
use super::app::{Dialog, Tab};

/// Where keys go: a tab's view, or a dialog open over it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Focus {
    Tab(Tab),
    Dialog(Dialog),
}

fn key_of(event: &KeyEvent) -> Option<Key> {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        _ => return None,
    })
}

/// The scopes that apply at `focus`, in the order they are searched.
fn scopes(focus: Focus) -> Vec<Scope> {
    match focus {
        Focus::Tab(tab) => vec![Scope::Always, Scope::On(tab), Scope::Global],
        Focus::Dialog(dialog) => vec![Scope::Always, Scope::In(dialog)],
    }
}

/// The command of `event` at `focus`: ctrl-c first, then a dialog's own bindings, or the tab's
/// own and then the global ones. None: the key means nothing there (in a text input, a
/// character is then text).
pub fn command_for(focus: Focus, event: &KeyEvent) -> Option<Command> {
    let key = key_of(event)?;
    scopes(focus).into_iter().find_map(|scope| {
        BINDINGS
            .iter()
            .find(|b| b.scope == scope && b.keys.contains(&key))
            .map(|b| b.command)
    })
}

/// A key as the footer and the overlay spell it.
pub fn name(key: Key) -> String {
    match key {
        Key::Char(' ') => "space".into(),
        Key::Char(c) => c.to_string(),
        Key::Ctrl(c) => format!("ctrl-{c}"),
        Key::Enter => "enter".into(),
        Key::Esc => "esc".into(),
        Key::Tab => "tab".into(),
        Key::BackTab => "shift-tab".into(),
        Key::Backspace => "bksp".into(),
        Key::Up => "↑".into(),
        Key::Down => "↓".into(),
        Key::PageUp => "pgup".into(),
        Key::PageDown => "pgdn".into(),
    }
}

fn keys_text(b: &Binding) -> String {
    b.keys
        .iter()
        .map(|k| name(*k))
        .collect::<Vec<_>>()
        .join("/")
}

/// The dialogs that can open on `tab`.
pub fn dialogs_of(tab: Tab, node_controls: bool) -> Vec<Dialog> {
    Dialog::ALL
        .into_iter()
        .filter(|d| match d {
            Dialog::Help | Dialog::Filter | Dialog::Discard => true,
            Dialog::Quantity => tab == Tab::Shop,
            Dialog::Confirm => tab == Tab::Cart || (tab == Tab::Cluster && node_controls),
            Dialog::OrderDetail => tab == Tab::Orders,
            Dialog::MemberDetail => tab == Tab::Cluster,
            Dialog::Palette => true,
            Dialog::LogPick | Dialog::Trace => true,
        })
        .collect()
}

/// One part of the `?` overlay: a heading and its (keys, label) entries.
#[derive(Clone, Debug, PartialEq)]
pub struct Section {
    pub title: String,
    pub entries: Vec<(String, &'static str)>,
}

fn entries(scope: Scope, node_controls: bool) -> Vec<(String, &'static str)> {
    BINDINGS
        .iter()
        .filter(|b| b.scope == scope && (node_controls || !b.command.controls_nodes()))
        .map(|b| (keys_text(b), b.label))
        .collect()
}

/// Every binding that works on `tab`: its own, the global ones, and those of each dialog that
/// can open there. Node controls only when `node_controls`.
pub fn help(tab: Tab, node_controls: bool) -> Vec<Section> {
    let mut everywhere = entries(Scope::Global, node_controls);
    everywhere.extend(entries(Scope::Always, node_controls));
    let mut sections = vec![
        Section {
            title: format!("{} tab", tab.title()),
            entries: entries(Scope::On(tab), node_controls),
        },
        Section {
            title: "Every tab".into(),
            entries: everywhere,
        },
    ];
    sections.extend(dialogs_of(tab, node_controls).into_iter().map(|d| Section {
        title: d.title().into(),
        entries: entries(Scope::In(d), node_controls),
    }));
    sections.retain(|s| !s.entries.is_empty());
    sections
}

/// Footer hints at `focus` that fit in `width` columns, by priority. On a tab `? help` and
/// `q quit` come first, in a dialog its own way out (esc): those are never dropped.
pub fn footer(focus: Focus, node_controls: bool, width: u16) -> Vec<(String, &'static str)> {
    let mut hints: Vec<&Binding> = BINDINGS
        .iter()
        .filter(|b| b.hint.is_some() && scopes(focus).contains(&b.scope))
        .filter(|b| node_controls || !b.command.controls_nodes())
        .collect();
    hints.sort_by_key(|b| b.hint);
    let mut used = 0usize;
    let mut out = Vec::new();
    for b in hints {
        let item = (keys_text(b), b.label);
        let cost = item.0.chars().count() + 1 + item.1.chars().count() + 2;
        if b.hint == Some(0) || used + cost <= usize::from(width) {
            used += cost;
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests;
