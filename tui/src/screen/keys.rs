//! The one key table. Dispatch (`command_for`), the footer hints (`footer`) and the `?`
//! overlay (`help`) are all read from `BINDINGS` (in `keys/table.rs`), so they cannot drift
//! apart: the tabs' keys, the global ones, and each dialog's (help, filter, quantity, yes/no,
//! an order's or a member's detail, the `:` command line, the "discard typed text?"
//! question). The command line's verbs (`palette.rs`) name the same commands. Node controls
//! are marked, so the footer and `?` leave them out where nodes cannot be controlled here.

mod binding;
mod rebind;
mod table;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub use self::binding::{Binding, Command, Key, Scope};
pub use self::table::BINDINGS;
use super::app::mode::Dialog;
use super::app::rows::Tab;

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

/// The key table as it applies in this run: `BINDINGS`, with the keys the config file's
/// `[keys]` gives laid over them (`Keymap::with`). Dispatch, the footer and `?` all read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    /// The keys of each binding, in `BINDINGS`' order.
    keys: Vec<Vec<Key>>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap {
            keys: BINDINGS.iter().map(|b| b.keys.to_vec()).collect(),
        }
    }
}

impl Keymap {
    /// Every binding with the keys it has here.
    fn bound(&self) -> impl Iterator<Item = (&'static Binding, &[Key])> {
        BINDINGS.iter().zip(self.keys.iter().map(Vec::as_slice))
    }

    /// The command of `event` at `focus`: ctrl-c first, then a dialog's own bindings, or the
    /// tab's own and then the global ones. None: the key means nothing there (in a text input,
    /// a character is then text).
    pub fn command_for(&self, focus: Focus, event: &KeyEvent) -> Option<Command> {
        let key = key_of(event)?;
        scopes(focus).into_iter().find_map(|scope| {
            self.bound()
                .find(|(b, keys)| b.scope == scope && keys.contains(&key))
                .map(|(b, _)| b.command)
        })
    }

    /// The first key that makes `command` at `focus` (a click's key).
    pub fn key_for(&self, focus: Focus, command: Command) -> Option<Key> {
        self.bound()
            .filter(|(b, _)| b.command == command)
            .flat_map(|(_, keys)| keys.iter().copied())
            .find(|k| self.command_for(focus, &key_event(*k)) == Some(command))
    }

    /// The name of the key that makes `command` on `tab`, for a hint that tells it ("press d").
    pub fn key_name(&self, tab: Tab, command: Command) -> String {
        self.key_for(Focus::Tab(tab), command)
            .map_or_else(|| "?".to_string(), name)
    }

    /// The first key of the binding a footer hint shows (its keys' text and its label).
    pub fn key_of_hint(&self, keys: &str, label: &str) -> Option<Key> {
        self.bound()
            .find(|(b, bound)| b.label == label && keys_text(bound) == keys)
            .and_then(|(_, bound)| bound.first().copied())
    }

    fn entries(&self, scope: Scope, node_controls: bool) -> Vec<(String, &'static str)> {
        self.bound()
            .filter(|(b, _)| b.scope == scope && (node_controls || !b.command.controls_nodes()))
            .map(|(b, keys)| (keys_text(keys), b.label))
            .collect()
    }

    /// Every binding that works on `tab`: its own, the global ones, and those of each dialog
    /// that can open there. Node controls only when `node_controls`.
    pub fn help(&self, tab: Tab, node_controls: bool) -> Vec<Section> {
        let mut everywhere = self.entries(Scope::Global, node_controls);
        everywhere.extend(self.entries(Scope::Always, node_controls));
        let mut sections = vec![
            Section {
                title: format!("{} tab", tab.title()),
                entries: self.entries(Scope::On(tab), node_controls),
            },
            Section {
                title: "Every tab".into(),
                entries: everywhere,
            },
        ];
        sections.extend(dialogs_of(tab, node_controls).into_iter().map(|d| Section {
            title: d.title().into(),
            entries: self.entries(Scope::In(d), node_controls),
        }));
        sections.retain(|s| !s.entries.is_empty());
        sections
    }

    /// Footer hints at `focus` that fit in `width` columns, by priority. On a tab `? help` and
    /// `q quit` come first, in a dialog its own way out (esc): those are never dropped.
    pub fn footer(
        &self,
        focus: Focus,
        node_controls: bool,
        width: u16,
    ) -> Vec<(String, &'static str)> {
        let mut hints: Vec<(&Binding, &[Key])> = self
            .bound()
            .filter(|(b, _)| b.hint.is_some() && scopes(focus).contains(&b.scope))
            .filter(|(b, _)| node_controls || !b.command.controls_nodes())
            .collect();
        hints.sort_by_key(|(b, _)| b.hint);
        let mut used = 0usize;
        let mut out = Vec::new();
        for (b, keys) in hints {
            let item = (keys_text(keys), b.label);
            let cost = item.0.chars().count() + 1 + item.1.chars().count() + 2;
            if b.hint == Some(0) || used + cost <= usize::from(width) {
                used += cost;
                out.push(item);
            }
        }
        out
    }
}

fn keys_text(keys: &[Key]) -> String {
    keys.iter().map(|k| name(*k)).collect::<Vec<_>>().join("/")
}

/// The key press a terminal sends for `key`.
pub fn key_event(key: Key) -> KeyEvent {
    let plain = |code| KeyEvent::new(code, KeyModifiers::NONE);
    match key {
        Key::Char(c) if c.is_ascii_uppercase() => {
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::SHIFT)
        }
        Key::Char(c) => plain(KeyCode::Char(c)),
        Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        Key::Enter => plain(KeyCode::Enter),
        Key::Esc => plain(KeyCode::Esc),
        Key::Tab => plain(KeyCode::Tab),
        Key::BackTab => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
        Key::Backspace => plain(KeyCode::Backspace),
        Key::Up => plain(KeyCode::Up),
        Key::Down => plain(KeyCode::Down),
        Key::PageUp => plain(KeyCode::PageUp),
        Key::PageDown => plain(KeyCode::PageDown),
    }
}

#[cfg(test)]
mod tests;
