//! The key table's vocabulary: what a key asks for (`Command`), where a binding works
//! (`Scope`), the keys themselves, and one binding. Plain data.

use crate::screen::app::mode::Dialog;
use crate::screen::app::rows::Tab;

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

    /// Stops a node or throws work away: never on a ctrl chord or a movement key (TUI.md 10),
    /// however the config file binds it.
    pub fn destructive(self) -> bool {
        matches!(self, Command::KillNode | Command::LeaveNode)
    }

    /// Moves the selection or the view: the keys a destructive command must keep away from.
    pub fn moves(self) -> bool {
        matches!(
            self,
            Command::Up
                | Command::Down
                | Command::Top
                | Command::Bottom
                | Command::PageUp
                | Command::PageDown
                | Command::NextTab
                | Command::PrevTab
                | Command::GoTab(_)
        )
    }

    /// Its name under the config file's `[keys]`; None for the keys of dialogs and ctrl-c,
    /// which are fixed (a yes/no question must always answer to y/n and esc).
    pub fn action(self) -> Option<&'static str> {
        Some(match self {
            Command::Quit => "quit",
            Command::Help => "help",
            Command::NextTab => "next_tab",
            Command::PrevTab => "previous_tab",
            Command::GoTab(Tab::Shop) => "tab_shop",
            Command::GoTab(Tab::Cart) => "tab_cart",
            Command::GoTab(Tab::Orders) => "tab_orders",
            Command::GoTab(Tab::Cluster) => "tab_cluster",
            Command::GoTab(Tab::Demo) => "tab_demo",
            Command::Up => "up",
            Command::Down => "down",
            Command::Top => "first",
            Command::Bottom => "last",
            Command::PageUp => "page_up",
            Command::PageDown => "page_down",
            Command::Open => "open",
            Command::Back => "clear_filter",
            Command::Filter => "filter",
            Command::Category => "next_category",
            Command::Add => "add",
            Command::More => "one_more",
            Command::Less => "one_less",
            Command::Remove => "remove",
            Command::Undo => "undo",
            Command::Checkout => "checkout",
            Command::Refresh => "refresh",
            Command::Freeze => "freeze",
            Command::KillNode => "kill_node",
            Command::LeaveNode => "node_leaves",
            Command::StartNode => "start_node",
            Command::SortNext => "sort",
            Command::SortReverse => "reverse_sort",
            Command::RunDemo => "run_demo",
            Command::PickLog => "pick_log",
            Command::Trace => "trace",
            Command::Palette => "command_line",
            Command::QuitNow
            | Command::Complete
            | Command::Close
            | Command::Accept
            | Command::Cancel
            | Command::Erase
            | Command::Yes
            | Command::No => return None,
        })
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

impl Key {
    /// A key as the config file names it: one character ("x", "X", "+"), "ctrl-x", or enter,
    /// esc, tab, shift-tab, backspace, up, down, pgup, pgdn, space (the footer's names too).
    pub fn parse(text: &str) -> Result<Key, String> {
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return match c {
                c if c.is_control() => Err(format!("{text:?} is a control character")),
                '↑' => Ok(Key::Up),
                '↓' => Ok(Key::Down),
                c => Ok(Key::Char(c)),
            };
        }
        let lower = text.to_ascii_lowercase();
        if let Some(rest) = lower.strip_prefix("ctrl-") {
            let mut chars = rest.chars();
            return match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphanumeric() => Ok(Key::Ctrl(c)),
                _ => Err(format!(
                    "{text:?}: ctrl- takes one letter or digit, as in \"ctrl-x\""
                )),
            };
        }
        Ok(match lower.as_str() {
            "enter" | "return" => Key::Enter,
            "esc" | "escape" => Key::Esc,
            "tab" => Key::Tab,
            "shift-tab" | "backtab" => Key::BackTab,
            "backspace" | "bksp" => Key::Backspace,
            "up" => Key::Up,
            "down" => Key::Down,
            "pgup" | "pageup" | "page_up" => Key::PageUp,
            "pgdn" | "pagedown" | "page_down" => Key::PageDown,
            "space" => Key::Char(' '),
            _ => {
                return Err(format!(
                    "{text:?} is not a key: write one character, \"ctrl-x\", or enter, esc, tab, shift-tab, backspace, up, down, pgup, pgdn, space"
                ));
            }
        })
    }

    /// A movement key whatever the key table says: the arrows, pages, tab and vim's h/j/k/l.
    pub fn moves(self) -> bool {
        matches!(
            self,
            Key::Up
                | Key::Down
                | Key::PageUp
                | Key::PageDown
                | Key::Tab
                | Key::BackTab
                | Key::Char('h' | 'j' | 'k' | 'l' | 'g' | 'G')
        )
    }
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
