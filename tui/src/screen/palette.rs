//! The `:` command line (TUI.md 24): every action of the key table by name (`:tab orders`,
//! `:stop n3`, `:buy mug 2`, `:trace 1c33`, `:q`), with tab completion over the names and
//! their arguments. A command is not a second way to do things: it names a key table
//! `Command`, sets up what a key would need first (the tab, the selected row, the typed
//! text), and runs that command through the same `update` code, so a destructive one still
//! asks y/n and `--read-only` still explains. A test checks that every command here is one
//! of the key table's, and every key table action is here (movement aside).

use super::app::{App, SortColumn, Tab};
use super::keys::Command;

mod run;

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
}

#[cfg(test)]
mod tests;
