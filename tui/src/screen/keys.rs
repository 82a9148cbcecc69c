//! The one key table. Dispatch (`command_for`), the footer hints (`footer`) and the `?`
//! overlay (`help`) are all read from `BINDINGS`, so they cannot drift apart.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::app::Tab;

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Quit,
    Help,
    NextTab,
    PrevTab,
    GoTab(Tab),
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    Open,
    Back,
    Filter,
    Category,
    Add,
    More,
    Less,
    Remove,
    Undo,
    Checkout,
    Refresh,
    Freeze,
    KillNode,
    LeaveNode,
    StartNode,
    SortNext,
    SortReverse,
    RunDemo,
}

/// Where a binding works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Global,
    On(Tab),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Up,
    Down,
    PageUp,
    PageDown,
}

pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub command: Command,
    pub label: &'static str,
    /// Footer priority, lower first; None: only in the `?` overlay.
    pub hint: Option<u8>,
}

use Command as C;
use Key as K;
use Scope::{Global, On};

pub const BINDINGS: &[Binding] = &[
    Binding {
        scope: Global,
        keys: &[K::Char('?')],
        command: C::Help,
        label: "help",
        hint: Some(0),
    },
    Binding {
        scope: Global,
        keys: &[K::Char('q')],
        command: C::Quit,
        label: "quit",
        hint: Some(0),
    },
    Binding {
        scope: Global,
        keys: &[K::Ctrl('c')],
        command: C::Quit,
        label: "quit (always)",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Tab],
        command: C::NextTab,
        label: "next tab",
        hint: Some(8),
    },
    Binding {
        scope: Global,
        keys: &[K::BackTab],
        command: C::PrevTab,
        label: "previous tab",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('1')],
        command: C::GoTab(Tab::Shop),
        label: "shop",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('2')],
        command: C::GoTab(Tab::Cart),
        label: "cart",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('3')],
        command: C::GoTab(Tab::Orders),
        label: "orders",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('4')],
        command: C::GoTab(Tab::Cluster),
        label: "cluster",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('5')],
        command: C::GoTab(Tab::Demo),
        label: "demo",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Down, K::Char('j')],
        command: C::Down,
        label: "down",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Up, K::Char('k')],
        command: C::Up,
        label: "up",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('g')],
        command: C::Top,
        label: "first",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('G')],
        command: C::Bottom,
        label: "last",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::PageDown],
        command: C::PageDown,
        label: "page down",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::PageUp],
        command: C::PageUp,
        label: "page up",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('/')],
        command: C::Filter,
        label: "filter",
        hint: Some(5),
    },
    Binding {
        scope: Global,
        keys: &[K::Esc],
        command: C::Back,
        label: "back / clear filter",
        hint: None,
    },
    Binding {
        scope: Global,
        keys: &[K::Char('r')],
        command: C::Refresh,
        label: "refresh",
        hint: Some(9),
    },
    Binding {
        scope: Global,
        keys: &[K::Char('f')],
        command: C::Freeze,
        label: "freeze / unfreeze",
        hint: None,
    },
    Binding {
        scope: On(Tab::Shop),
        keys: &[K::Enter, K::Char('a')],
        command: C::Add,
        label: "add to cart",
        hint: Some(1),
    },
    Binding {
        scope: On(Tab::Shop),
        keys: &[K::Char('t')],
        command: C::Category,
        label: "next category",
        hint: Some(3),
    },
    Binding {
        scope: On(Tab::Cart),
        keys: &[K::Char('c')],
        command: C::Checkout,
        label: "check out",
        hint: Some(1),
    },
    Binding {
        scope: On(Tab::Cart),
        keys: &[K::Char('+')],
        command: C::More,
        label: "one more",
        hint: Some(2),
    },
    Binding {
        scope: On(Tab::Cart),
        keys: &[K::Char('-')],
        command: C::Less,
        label: "one less",
        hint: Some(2),
    },
    Binding {
        scope: On(Tab::Cart),
        keys: &[K::Char('d')],
        command: C::Remove,
        label: "remove line",
        hint: Some(3),
    },
    Binding {
        scope: On(Tab::Cart),
        keys: &[K::Char('u')],
        command: C::Undo,
        label: "undo remove",
        hint: Some(4),
    },
    Binding {
        scope: On(Tab::Orders),
        keys: &[K::Enter],
        command: C::Open,
        label: "show order",
        hint: Some(1),
    },
    Binding {
        scope: On(Tab::Cluster),
        keys: &[K::Char('x')],
        command: C::KillNode,
        label: "kill node",
        hint: Some(1),
    },
    Binding {
        scope: On(Tab::Cluster),
        keys: &[K::Char('l')],
        command: C::LeaveNode,
        label: "node leaves",
        hint: Some(2),
    },
    Binding {
        scope: On(Tab::Cluster),
        keys: &[K::Char('s')],
        command: C::StartNode,
        label: "start node",
        hint: Some(2),
    },
    Binding {
        scope: On(Tab::Cluster),
        keys: &[K::Char('o')],
        command: C::SortNext,
        label: "sort by next column",
        hint: Some(4),
    },
    Binding {
        scope: On(Tab::Cluster),
        keys: &[K::Char('O')],
        command: C::SortReverse,
        label: "reverse sort",
        hint: None,
    },
    Binding {
        scope: On(Tab::Demo),
        keys: &[K::Char('d')],
        command: C::RunDemo,
        label: "run the demo cycle",
        hint: Some(1),
    },
];

fn key_of(event: &KeyEvent) -> Option<Key> {
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    Some(match event.code {
        KeyCode::Char(c) if ctrl => Key::Ctrl(c.to_ascii_lowercase()),
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        _ => return None,
    })
}

/// The command of `event` on `tab`: the tab's own bindings first, then the global ones.
pub fn command_for(tab: Tab, event: &KeyEvent) -> Option<Command> {
    let key = key_of(event)?;
    let find = |scope: Scope| {
        BINDINGS
            .iter()
            .find(|b| b.scope == scope && b.keys.contains(&key))
            .map(|b| b.command)
    };
    find(On(tab)).or_else(|| find(Global))
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

/// Every binding that works on `tab` (its own first), as (keys, label).
pub fn help(tab: Tab) -> Vec<(String, &'static str)> {
    let own = BINDINGS.iter().filter(|b| b.scope == On(tab));
    let global = BINDINGS.iter().filter(|b| b.scope == Global);
    own.chain(global).map(|b| (keys_text(b), b.label)).collect()
}

/// Footer hints for `tab` that fit in `width` columns, by priority; `? help` and `q quit`
/// always come first, so they are never dropped.
pub fn footer(tab: Tab, width: u16) -> Vec<(String, &'static str)> {
    let mut hints: Vec<&Binding> = BINDINGS
        .iter()
        .filter(|b| b.hint.is_some() && (b.scope == Global || b.scope == On(tab)))
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
#[path = "keys_tests.rs"]
mod tests;
