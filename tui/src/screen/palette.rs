//! The `:` command line (TUI.md 24): every action of the key table by name (`:tab orders`,
//! `:stop n3`, `:buy mug 2`, `:trace 1c33`, `:q`), with tab completion over the names and
//! their arguments. A command is not a second way to do things: it names a key table
//! `Command`, sets up what a key would need first (the tab, the selected row, the typed
//! text), and runs that command through the same `update` code, so a destructive one still
//! asks y/n and `--read-only` still explains. A test checks that every command here is one
//! of the key table's, and every key table action is here (movement aside).

use ringshop_shared::{NodeId, ProductId};

use super::app::{App, Mode, SortColumn, Tab};
use super::effect::Effect;
use super::keys::Command;

/// What a verb's argument names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    /// A tab's name (required).
    Tab,
    /// A member's name (optional: the selected one).
    Node,
    /// A product id and an optional quantity (required).
    Product,
    /// An order id or a unique prefix of it (optional: the selected one).
    Order,
    /// Free text (the filter).
    Text,
    /// A sort column (optional: the next one).
    Sort,
    /// A category (optional: the next one).
    Category,
}

/// One `:` verb: its name, the key table command it runs, its argument, and what it does.
pub struct Verb {
    pub name: &'static str,
    pub command: Command,
    pub arg: Arg,
    pub help: &'static str,
}

const fn verb(name: &'static str, command: Command, arg: Arg, help: &'static str) -> Verb {
    Verb {
        name,
        command,
        arg,
        help,
    }
}

/// Every verb, in the order completion offers them.
#[rustfmt::skip]
pub const VERBS: &[Verb] = &[
    verb("tab", Command::GoTab(Tab::Shop), Arg::Tab, "go to a tab: shop, cart, orders, cluster, demo"),
    verb("buy", Command::Add, Arg::Product, "add a product to the cart: buy mug 2"),
    verb("more", Command::More, Arg::None, "one more of the selected cart line"),
    verb("less", Command::Less, Arg::None, "one less of the selected cart line"),
    verb("remove", Command::Remove, Arg::None, "remove the selected cart line"),
    verb("undo", Command::Undo, Arg::None, "put the removed cart line back"),
    verb("checkout", Command::Checkout, Arg::None, "check the cart out (asks y/n)"),
    verb("open", Command::Open, Arg::Order, "show an order (or, on the Cluster tab, a member)"),
    verb("trace", Command::Trace, Arg::Order, "show the trace of an order's checkout"),
    verb("stop", Command::KillNode, Arg::Node, "kill a node, as a crash would (asks y/n)"),
    verb("leave", Command::LeaveNode, Arg::Node, "let a node leave, handing its ids over (asks y/n)"),
    verb("start", Command::StartNode, Arg::Node, "start a stopped node again"),
    verb("member", Command::Open, Arg::Node, "show a member's detail"),
    verb("sort", Command::SortNext, Arg::Sort, "sort the members: name, status, share, actors, hits, p99, rate"),
    verb("reverse", Command::SortReverse, Arg::None, "reverse the members' sort"),
    verb("demo", Command::RunDemo, Arg::None, "run the demo cycle"),
    verb("category", Command::Category, Arg::Category, "show one category of products"),
    verb("filter", Command::Filter, Arg::Text, "filter the list shown: filter tea"),
    verb("clear", Command::Back, Arg::None, "clear the list's filter"),
    verb("refresh", Command::Refresh, Arg::None, "read everything again now"),
    verb("freeze", Command::Freeze, Arg::None, "freeze / unfreeze the live views"),
    verb("log", Command::PickLog, Arg::None, "pick a line of the event log"),
    verb("help", Command::Help, Arg::None, "every key"),
    verb("quit", Command::Quit, Arg::None, "quit (also :q)"),
    verb("q", Command::Quit, Arg::None, "quit"),
];

/// The sort columns by the names the command line takes.
const SORTS: [(&str, SortColumn); 7] = [
    ("name", SortColumn::Name),
    ("status", SortColumn::State),
    ("share", SortColumn::Share),
    ("actors", SortColumn::Actors),
    ("hits", SortColumn::HitRate),
    ("p99", SortColumn::P99),
    ("rate", SortColumn::Rate),
];

fn find(name: &str) -> Option<&'static Verb> {
    VERBS.iter().find(|v| v.name == name)
}

/// Edit distance between two short words (for "did you mean").
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// The verb `name` most likely meant: fewest edits away, and one with the same first letter
/// wins a tie (frz: freeze, not tab).
fn closest(name: &str) -> Option<&'static Verb> {
    VERBS.iter().min_by_key(|v| {
        distance(name, v.name) + usize::from(v.name.chars().next() != name.chars().next())
    })
}

/// The longest text every one of `words` starts with.
fn common_prefix(words: &[String]) -> String {
    let Some(first) = words.first() else {
        return String::new();
    };
    let mut end = first.len();
    for w in &words[1..] {
        end = first
            .char_indices()
            .zip(w.chars())
            .take_while(|((_, a), b)| a == b)
            .last()
            .map_or(0, |((i, a), _)| (i + a.len_utf8()).min(end));
    }
    first[..end].to_string()
}

impl App {
    /// The values `arg` can take here, for completion.
    fn values(&self, arg: Arg) -> Vec<String> {
        match arg {
            Arg::None | Arg::Text => Vec::new(),
            Arg::Tab => Tab::ALL.iter().map(|t| t.title().to_lowercase()).collect(),
            Arg::Node => self.members.iter().map(|m| m.name.to_string()).collect(),
            Arg::Product => self.products.iter().map(|p| p.id.to_string()).collect(),
            Arg::Order => self.orders.iter().map(|o| o.id.to_string()).collect(),
            Arg::Sort => SORTS.iter().map(|(n, _)| n.to_string()).collect(),
            Arg::Category => {
                let mut cats: Vec<String> =
                    self.products.iter().map(|p| p.category.clone()).collect();
                cats.sort();
                cats.dedup();
                cats
            }
        }
    }

    /// What `text` (the command line so far) could become: whole lines, in order.
    pub fn completions(&self, text: &str) -> Vec<String> {
        let text = text.trim_start().trim_start_matches(':');
        match text.split_once(' ') {
            None => VERBS
                .iter()
                .filter(|v| v.name.starts_with(text))
                .map(|v| v.name.to_string())
                .collect(),
            Some((name, rest)) => {
                let Some(verb) = find(name) else {
                    return Vec::new();
                };
                let rest = rest.trim_start();
                if rest.contains(' ') {
                    return Vec::new(); // past the argument (a quantity): nothing to offer
                }
                self.values(verb.arg)
                    .into_iter()
                    .filter(|v| v.starts_with(rest))
                    .map(|v| format!("{name} {v}"))
                    .collect()
            }
        }
    }

    /// Tab: the line completed as far as it is unambiguous (a whole verb that takes an
    /// argument gets its space).
    pub(super) fn complete(&self, text: &str) -> String {
        let candidates = self.completions(text);
        let mut done = match candidates.len() {
            0 => return text.to_string(),
            1 => candidates[0].clone(),
            _ => common_prefix(&candidates),
        };
        if done.len() < text.trim_start_matches(':').len() {
            return text.to_string();
        }
        if candidates.len() == 1
            && !done.contains(' ')
            && find(&done).is_some_and(|v| v.arg != Arg::None)
        {
            done.push(' ');
        }
        done
    }

    /// Enter on the command line: runs it, or says why not (naming the closest verb).
    pub(super) fn run_command_line(&mut self, text: &str) -> Vec<Effect> {
        let text = text.trim().trim_start_matches(':').trim();
        if text.is_empty() {
            return Vec::new();
        }
        let (name, rest) = text.split_once(' ').unwrap_or((text, ""));
        let rest = rest.trim();
        let Some(verb) = find(name) else {
            let hint =
                closest(name).map_or(String::new(), |v| format!("; did you mean :{}?", v.name));
            self.toast(format!("no command :{name}{hint} (tab completes)"), true);
            return Vec::new();
        };
        if rest.is_empty() && matches!(verb.arg, Arg::Tab | Arg::Product) {
            self.toast(
                format!(":{} needs an argument: {}", verb.name, verb.help),
                true,
            );
            return Vec::new();
        }
        match self.prepare(verb, rest) {
            Ok(Some(command)) => self.on_command(command),
            Ok(None) => Vec::new(),
            Err(why) => {
                self.toast(why, true);
                Vec::new()
            }
        }
    }

    /// Sets up what `verb`'s key would need first (tab, selection, text); the command to run
    /// then, or None when the setting up was all of it.
    fn prepare(&mut self, verb: &Verb, arg: &str) -> Result<Option<Command>, String> {
        let command = verb.command;
        match verb.arg {
            Arg::None => {
                if matches!(command, Command::More | Command::Less | Command::Remove) {
                    self.tab = Tab::Cart;
                }
                if command == Command::Checkout {
                    self.tab = Tab::Cart;
                }
                if matches!(command, Command::SortReverse) {
                    self.tab = Tab::Cluster;
                }
                Ok(Some(command))
            }
            Arg::Tab => {
                let tab = Tab::ALL
                    .into_iter()
                    .find(|t| t.title().eq_ignore_ascii_case(arg))
                    .ok_or_else(|| {
                        format!(
                            "no tab {arg:?}; the tabs: {}",
                            self.values(Arg::Tab).join(", ")
                        )
                    })?;
                Ok(Some(Command::GoTab(tab)))
            }
            // Without text: the filter's prompt, as `/` opens it.
            Arg::Text if arg.is_empty() => Ok(Some(command)),
            Arg::Text => {
                let list = self.list_mut();
                list.filter = arg.to_string();
                list.selected = 0;
                Ok(None)
            }
            Arg::Node => {
                self.tab = Tab::Cluster;
                if !arg.is_empty() {
                    self.select_member(arg)?;
                }
                Ok(Some(command))
            }
            Arg::Order => {
                if !arg.is_empty() {
                    self.tab = Tab::Orders;
                    self.select_order(arg)?;
                } else if command == Command::Trace || self.tab != Tab::Cluster {
                    self.tab = Tab::Orders;
                }
                Ok(Some(command))
            }
            Arg::Product => {
                let mut words = arg.split_whitespace();
                let id = words.next().unwrap_or_default();
                let qty = words.next().unwrap_or_default().to_string();
                let product = ProductId::new(id)
                    .ok()
                    .filter(|p| self.products.iter().any(|x| &x.id == p))
                    .ok_or_else(|| format!("no product {id:?} in the shop (tab completes ids)"))?;
                // As if it were picked and its quantity typed: the quantity dialog's own checks.
                self.mode = Mode::Quantity {
                    product,
                    input: qty,
                };
                self.on_dialog_command(Command::Accept);
                Ok(None)
            }
            Arg::Sort => {
                self.tab = Tab::Cluster;
                if arg.is_empty() {
                    return Ok(Some(command));
                }
                let (_, column) = SORTS
                    .iter()
                    .find(|(n, _)| *n == arg)
                    .ok_or_else(|| format!("no sort column {arg:?}; the columns: name, status, share, actors, hits, p99, rate"))?;
                let selected = self.selected_member();
                self.sort = *column;
                self.follow_member(selected);
                Ok(None)
            }
            Arg::Category => {
                self.tab = Tab::Shop;
                if arg.is_empty() {
                    return Ok(Some(command));
                }
                if !self.values(Arg::Category).iter().any(|c| c == arg) {
                    return Err(format!(
                        "no category {arg:?}; the categories: {}",
                        self.values(Arg::Category).join(", ")
                    ));
                }
                self.category = Some(arg.to_string());
                self.shop.selected = 0;
                Ok(None)
            }
        }
    }

    /// Selects member `name` on the Cluster tab (its filter cleared if it hides it).
    fn select_member(&mut self, name: &str) -> Result<(), String> {
        let node = NodeId::new(name)
            .ok()
            .filter(|n| self.members.iter().any(|m| &m.name == n))
            .ok_or_else(|| {
                format!(
                    "no member {name:?}; the members: {}",
                    self.values(Arg::Node).join(", ")
                )
            })?;
        if !self.visible_members().iter().any(|m| m.name == node) {
            self.cluster.filter.clear();
        }
        self.follow_member(Some(node));
        Ok(())
    }

    /// Selects the order whose id starts with `prefix` on the Orders tab.
    fn select_order(&mut self, prefix: &str) -> Result<(), String> {
        let prefix = prefix.to_lowercase();
        let matching: Vec<_> = self
            .orders
            .iter()
            .filter(|o| o.id.to_string().starts_with(&prefix))
            .map(|o| o.id)
            .collect();
        let id = match matching.as_slice() {
            [id] => *id,
            [] => return Err(format!("no order here starts with {prefix:?}")),
            many => {
                return Err(format!(
                    "{} orders start with {prefix:?}; type more of it",
                    many.len()
                ));
            }
        };
        if !self.visible_orders().iter().any(|o| o.id == id) {
            self.orders_list.filter.clear();
        }
        if let Some(i) = self.visible_orders().iter().position(|o| o.id == id) {
            self.orders_list.selected = i;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screen::keys::{BINDINGS, Scope};

    /// The key table's commands the command line leaves to their keys: moving around, and itself.
    const NOT_VERBS: &[Command] = &[
        Command::Up,
        Command::Down,
        Command::Top,
        Command::Bottom,
        Command::PageUp,
        Command::PageDown,
        Command::NextTab,
        Command::PrevTab,
        Command::Palette,
    ];

    #[test]
    fn every_verb_runs_a_command_of_the_key_table() {
        for v in VERBS {
            assert!(
                BINDINGS.iter().any(|b| b.command == v.command),
                ":{} runs {:?}, which no key does",
                v.name,
                v.command
            );
        }
    }

    #[test]
    fn every_action_of_the_key_table_has_a_verb_but_moving_around() {
        let actions = BINDINGS
            .iter()
            .filter(|b| matches!(b.scope, Scope::Global | Scope::On(_)))
            .map(|b| b.command);
        for command in actions {
            let named = VERBS.iter().any(|v| match (v.command, command) {
                (Command::GoTab(_), Command::GoTab(_)) => true,
                (a, b) => a == b,
            });
            assert!(
                named || NOT_VERBS.contains(&command),
                "{command:?} has a key but no :verb"
            );
        }
    }

    #[test]
    fn verbs_are_told_apart_and_the_closest_is_the_likely_typo() {
        for (i, a) in VERBS.iter().enumerate() {
            assert!(
                VERBS[i + 1..].iter().all(|b| b.name != a.name),
                "{}",
                a.name
            );
        }
        for typo in ["frezee", "frz"] {
            assert_eq!(closest(typo).map(|v| v.name), Some("freeze"), "{typo}");
        }
        assert_eq!(common_prefix(&["stop".into(), "start".into()]), "st");
    }
}
