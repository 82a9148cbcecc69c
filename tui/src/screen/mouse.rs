//! The mouse (TUI.md 23). A left click or the wheel, read against where the last frame drew
//! things (`HitMap`), becomes the action a key would have made, so every click has a key and
//! goes through the one key table: a tab title is that tab's number key, a footer hint is its
//! key, the wheel is ↓/↑ (where they move something: never an answer to a yes/no question), a
//! click on the selected row is enter (so a double click opens). Selecting another row and
//! sorting by a column heading are `Action::Pointer`s, applied here; j/k and s/S reach the
//! same places. While a dialog is open only the footer's keys and the wheel act on it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Position;

use super::action::{Action, Pointer};
use super::app::{App, Mode, Tab};
use super::effect::Effect;
use super::hits::{HitMap, hit};
use super::keys::{BINDINGS, Command, Focus, Key, command_for};

/// The action `event` makes on the frame `map` describes, if any.
pub fn action(map: &HitMap, event: MouseEvent) -> Option<Action> {
    let focus = map.focus?;
    let at = Position::new(event.column, event.row);
    match event.kind {
        MouseEventKind::Down(MouseButton::Left) => click(map, focus, at),
        MouseEventKind::ScrollDown => wheel(map, focus, at, Key::Down),
        MouseEventKind::ScrollUp => wheel(map, focus, at, Key::Up),
        _ => None,
    }
}

fn click(map: &HitMap, focus: Focus, at: Position) -> Option<Action> {
    if let Some(key) = hit(&map.hints, at) {
        return Some(Action::Key(key_event(key)));
    }
    let Focus::Tab(tab) = focus else {
        return None;
    };
    if let Some(to) = hit(&map.tabs, at) {
        return key_for(focus, Command::GoTab(to)).map(|k| Action::Key(key_event(k)));
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
fn wheel(map: &HitMap, focus: Focus, at: Position, key: Key) -> Option<Action> {
    let over = match focus {
        Focus::Tab(_) => map.view.contains(at),
        Focus::Dialog(_) => true,
    };
    let moves = matches!(
        command_for(focus, &key_event(key)),
        Some(Command::Up | Command::Down)
    );
    (over && moves).then(|| Action::Key(key_event(key)))
}

/// The first key that makes `command` at `focus`.
fn key_for(focus: Focus, command: Command) -> Option<Key> {
    BINDINGS
        .iter()
        .filter(|b| b.command == command)
        .flat_map(|b| b.keys.iter().copied())
        .find(|k| command_for(focus, &key_event(*k)) == Some(command))
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
