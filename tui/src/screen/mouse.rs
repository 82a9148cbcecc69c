//! The mouse (TUI.md 23). A left click or the wheel, read against where the last frame drew
//! things (`HitMap`), becomes the action a key would have made, so every click has a key and
//! goes through the one key table: a tab title is that tab's number key, a footer hint is its
//! key, the wheel is ↓/↑ (where they move something: never an answer to a yes/no question), a
//! click on the selected row is enter (so a double click opens). Selecting another row and
//! sorting by a column heading are `Action::Pointer`s, applied here; j/k and s/S reach the
//! same places. While a dialog is open only the footer's keys and the wheel act on it.

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::action::{Action, Pointer};
use super::app::{App, Mode, Tab};
use super::effect::Effect;
use super::hits::{HitMap, hit};
use super::keys::{Command, Focus, Key, Keymap, key_event};

/// The action `event` makes on the frame `map` describes, if any, with the keys of `keys`.
pub fn action(map: &HitMap, keys: &Keymap, event: MouseEvent) -> Option<Action> {
    let focus = map.focus?;
    let at = Position::new(event.column, event.row);
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => click(map, keys, focus, at),
        MouseEventKind::ScrollDown => wheel(keys, map, focus, at, Key::Down),
        MouseEventKind::ScrollUp => wheel(keys, map, focus, at, Key::Up),
        _ => None,
    }
}

fn click(map: &HitMap, keys: &Keymap, focus: Focus, at: Position) -> Option<Action> {
    if let Some(key) = hit(&map.hints, at) {
        return Some(Action::Key(key_event(key)));
    }
    let Focus::Tab(tab) = focus else {
        return None;
    };
    if let Some(to) = hit(&map.tabs, at) {
        return keys
            .key_for(focus, Command::GoTab(to))
            .map(|k| Action::Key(key_event(k)));
    }
    if let Some(by) = hit(&map.headings, at) {
        return Some(Action::Pointer(Pointer::Sort(by)));
    }
    let list = map.list?;
    let row = list.row_at(at)?;
    Some(if row == list.selected {
        Action::Key(key_event(Key::Enter))
    } else {
        Action::Pointer(Pointer::Select { tab, row })
    })
}

/// ↓/↑ over the tab's view, or in a dialog that scrolls with them.
fn wheel(keys: &Keymap, map: &HitMap, focus: Focus, at: Position, key: Key) -> Option<Action> {
    let over = match focus {
        Focus::Tab(_) => map.view.contains(at),
        Focus::Dialog(_) => true,
    };
    let moves = matches!(
        keys.command_for(focus, &key_event(key)),
        Some(Command::Up | Command::Down)
    );
    (over && moves).then(|| Action::Key(key_event(key)))
}

impl App {
    /// A click on a row selects it; one on a sortable heading sorts by it (again: reversed).
    /// Like a key, it clears error toasts; with a dialog open it does nothing.
    pub(super) fn on_pointer(&mut self, pointer: Pointer) -> Vec<Effect> {
        self.toasts.retain(|t| !t.error);
        if self.mode != Mode::Normal {
            return Vec::new();
        }
        match pointer {
            Pointer::Select { tab, row } if tab == self.tab => self.move_selection(|_, _| row),
            Pointer::Sort(by) if self.tab == Tab::Cluster => {
                let selected = self.selected_member();
                if self.sort == by {
                    self.sort_reversed = !self.sort_reversed;
                } else {
                    self.sort = by;
                    self.sort_reversed = false;
                }
                self.follow_member(selected);
            }
            _ => {}
        }
        Vec::new()
    }
}
