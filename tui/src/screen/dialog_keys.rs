//! What keys do while a dialog is open (called by `update` once the key table has found the
//! dialog's command, or found none): the help scrolls and closes, a filter, a quantity or a
//! `:` command is typed, kept (or run), erased or (after asking, when it holds text) thrown
//! away, a yes/no question is answered. Characters a text input does not bind are its text;
//! a filter reopened on its old text has it selected until the next key (a character
//! replaces it, backspace edits it).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use ringshop_shared::prefix::IdPrefix;

use super::app::{App, Confirm, Mode, Tab};
use super::effect::Effect;
use super::keys::Command;

/// Most digits a quantity takes.
const QTY_DIGITS: usize = 3;

impl App {
    pub(super) fn on_dialog_command(&mut self, command: Command) -> Vec<Effect> {
        // A selected filter text stays selected only until the next key.
        self.input_selected = false;
        match (self.mode.clone(), command) {
            (Mode::Help, Command::Down) => {
                let lines: usize = self
                    .keys
                    .help(self.tab, self.node_controls())
                    .iter()
                    .map(|s| s.entries.len() + 1)
                    .sum();
                self.help_scroll = (self.help_scroll + 1).min(lines);
            }
            (Mode::Help, Command::Up) => self.help_scroll = self.help_scroll.saturating_sub(1),
            (
                Mode::Help | Mode::OrderDetail(_) | Mode::LogPick(_) | Mode::MemberDetail(_),
                Command::Close,
            ) => {
                self.help_scroll = 0;
                self.mode = Mode::Normal;
            }
            (Mode::OrderDetail(id), Command::Trace) => return self.order_trace(id),
            (Mode::LogPick(i), Command::Up) => self.mode = Mode::LogPick(i.saturating_sub(1)),
            (Mode::LogPick(i), Command::Down) => {
                self.mode = Mode::LogPick((i + 1).min(self.log.len().saturating_sub(1)))
            }
            (Mode::LogPick(i), Command::Trace) => match self.log.get(i).and_then(|l| l.trace) {
                Some(trace) => return self.open_trace(trace),
                None => self.toast(
                    "That line has no trace (it was not part of an action)",
                    true,
                ),
            },
            (Mode::Trace(_), Command::Close) => {
                self.mode = Mode::Normal;
                self.trace = None;
                self.trace_scroll = 0;
            }
            (Mode::Trace(_), Command::Down) => {
                let rows = self.trace.as_ref().map_or(0, |w| w.rows.len());
                self.trace_scroll = (self.trace_scroll + 1).min(rows.saturating_sub(1));
            }
            (Mode::Trace(_), Command::Up) => {
                self.trace_scroll = self.trace_scroll.saturating_sub(1)
            }
            (Mode::Trace(trace), Command::Refresh) => return vec![Effect::LoadTrace(trace)],
            (Mode::Filter(text), Command::Accept) => {
                self.mode = Mode::Normal;
                return self.find_typed_id(&text);
            }
            (Mode::Filter(text), Command::Cancel) if text.is_empty() => self.mode = Mode::Normal,
            (Mode::Palette(text), Command::Cancel) if text.is_empty() => self.mode = Mode::Normal,
            (Mode::Quantity { input, .. }, Command::Cancel) if input.is_empty() => {
                self.mode = Mode::Normal
            }
            (
                typing @ (Mode::Filter(_) | Mode::Quantity { .. } | Mode::Palette(_)),
                Command::Cancel,
            ) => {
                self.mode = Mode::Discard(Box::new(typing));
            }
            // Backspace on a selected text edits it (the selection goes, one character too).
            (Mode::Filter(mut text), Command::Erase) => {
                text.pop();
                self.set_filter(text);
            }
            (Mode::Palette(mut text), Command::Erase) => {
                text.pop();
                self.mode = Mode::Palette(text);
            }
            (Mode::Palette(text), Command::Complete) => {
                self.mode = Mode::Palette(self.complete(&text));
            }
            (Mode::Palette(text), Command::Accept) => {
                self.mode = Mode::Normal;
                return self.run_command_line(&text);
            }
            (Mode::Quantity { product, mut input }, Command::Erase) => {
                input.pop();
                self.mode = Mode::Quantity { product, input };
            }
            (Mode::Quantity { product, input }, Command::Accept) => {
                self.mode = Mode::Normal;
                self.add_to_cart(&product, &input);
            }
            (Mode::Confirm(confirm), Command::Yes) => {
                self.mode = Mode::Normal;
                return self.confirmed(confirm);
            }
            (Mode::Confirm(_), Command::No) => self.mode = Mode::Normal,
            (Mode::Discard(typing), Command::Yes) => {
                // A discarded filter is cleared; a quantity or a command line just goes.
                if let Mode::Filter(_) = *typing {
                    self.set_filter(String::new());
                }
                self.mode = Mode::Normal;
            }
            (Mode::Discard(typing), Command::No) => self.mode = *typing,
            _ => {}
        }
        Vec::new()
    }

    /// A key the dialog does not bind: text in a text input, no to a question.
    pub(super) fn on_dialog_other_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let typed = match key.code {
            KeyCode::Char(c)
                if !c.is_control() && !key.modifiers.contains(KeyModifiers::CONTROL) =>
            {
                Some(c)
            }
            _ => None,
        };
        let selected = std::mem::take(&mut self.input_selected);
        match (self.mode.clone(), typed) {
            (Mode::Filter(mut text), Some(c)) => {
                if selected {
                    text.clear(); // the selected old text is replaced
                }
                text.push(c);
                self.set_filter(text);
            }
            (Mode::Palette(mut text), Some(c)) => {
                text.push(c);
                self.mode = Mode::Palette(text);
            }
            (Mode::Quantity { product, mut input }, Some(c))
                if c.is_ascii_digit() && input.len() < QTY_DIGITS =>
            {
                input.push(c);
                self.mode = Mode::Quantity { product, input };
            }
            // Enter alone never confirms: any key but y is no.
            (Mode::Confirm(_), _) => self.mode = Mode::Normal,
            // Any key but esc/y keeps the text.
            (Mode::Discard(typing), _) => self.mode = *typing,
            _ => {}
        }
        Vec::new()
    }

    /// A filter on the Orders tab that matches no listed order but is an id prefix (at least
    /// six hex digits): the cluster is asked for the order, else the trace, it names.
    fn find_typed_id(&mut self, text: &str) -> Vec<Effect> {
        if self.tab != Tab::Orders || !self.visible_orders().is_empty() {
            return Vec::new();
        }
        let Ok(prefix) = IdPrefix::parse(text) else {
            return Vec::new();
        };
        self.toast(format!("looking for the order or trace {prefix}…"), false);
        vec![Effect::FindId(prefix)]
    }

    /// Types `text` as the focused list's filter (it applies as it is typed).
    fn set_filter(&mut self, text: String) {
        let list = self.list_mut();
        list.filter = text.clone();
        list.selected = 0;
        self.mode = Mode::Filter(text);
    }

    fn confirmed(&mut self, confirm: Confirm) -> Vec<Effect> {
        match confirm {
            Confirm::KillNode { name, .. } => {
                self.failing.remove(&format!("kill {name}"));
                vec![Effect::KillNode(name)]
            }
            Confirm::LeaveNode { name, .. } => {
                self.failing.remove(&format!("leave {name}"));
                vec![Effect::LeaveNode(name)]
            }
            Confirm::Quit { .. } => {
                self.quit = true;
                Vec::new()
            }
            Confirm::Checkout { lines, .. } => self.confirmed_checkout(lines),
        }
    }
}
