//! The key table's vocabulary: what a key asks for (`Command`), where a binding works
//! (`Scope`), the keys themselves, and one binding. Plain data.

use crate::screen::app::{Dialog, Tab};

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Quits; asks first while the cart holds items (it is kept for next time either way).
    Quit,
    /// Quits at once, whatever is open (ctrl-c).
    QuitNow,
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
    /// Picks a line of the event log (its trace opens with enter).
    PickLog,
    /// Opens the trace of the order or log line at hand.
    Trace,
    /// Opens the `:` command line.
    Palette,
    /// Completes what was typed (the command line's tab).
    Complete,
    /// Closes a dialog that asks nothing (help, an order's detail).
    Close,
    /// Takes what was typed (a filter, a quantity).
    Accept,
    /// Leaves a text input; asks first when it holds typed text.
    Cancel,
    /// Erases the last character typed.
    Erase,
    Yes,
    No,
}

impl Command {
    /// Kills, lets leave or starts a node: offered only where nodes can be controlled from
    /// here (an embedded cluster, not `--read-only`).
    pub fn controls_nodes(self) -> bool {
        matches!(
            self,
            Command::KillNode | Command::LeaveNode | Command::StartNode
        )
    }
}

/// Where a binding works.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Everywhere, even in a dialog or a text input (ctrl-c).
    Always,
    /// On every tab, when no dialog is open.
    Global,
    /// On one tab, when no dialog is open; before the global bindings.
    On(Tab),
    /// In one dialog (only its own bindings and `Always` work there).
    In(Dialog),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Ctrl(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
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
    /// Footer priority, lower first (0: never dropped); None: only in the `?` overlay.
    pub hint: Option<u8>,
}

/// One binding, on one line of the table.
pub const fn bind(
    scope: Scope,
    keys: &'static [Key],
    command: Command,
    label: &'static str,
    hint: Option<u8>,
) -> Binding {
    Binding {
        scope,
        keys,
        command,
        label,
        hint,
    }
}
