//! Running a `:` line: the verb named, what its key would need set up first (the tab, the
//! selected row, the typed text), then the key table's command through `update`'s own code.
//! A typo names the closest verb; a bad argument names what there is.

use ringshop_shared::prefix::IdPrefix;
use ringshop_shared::{NodeId, ProductId};

use super::{Arg, SORTS, Verb, closest, find};
use crate::screen::app::{App, Mode, Tab};
use crate::screen::effect::Effect;
use crate::screen::keys::Command;

impl App {
    /// Enter on the command line: runs it, or says why not (naming the closest verb).
    pub(crate) fn run_command_line(&mut self, text: &str) -> Vec<Effect> {
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
        if verb.arg == Arg::Order && !rest.is_empty() && !self.lists_order(rest) {
            // Not an order listed here: a typed id (>= 6 hex digits) is looked up in the
            // cluster, as enter on the Orders filter does (the order, else the trace).
            if let Ok(prefix) = IdPrefix::parse(rest) {
                self.toast(format!("looking for the order or trace {prefix}…"), false);
                return vec![Effect::FindId(prefix)];
            }
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
    /// The listed orders whose id starts with `prefix` (case and dashes aside).
    fn listed_orders(&self, prefix: &str) -> Vec<ringshop_shared::OrderId> {
        let bare = |t: &str| t.to_lowercase().replace('-', "");
        let prefix = bare(prefix);
        self.orders
            .iter()
            .filter(|o| bare(&o.id.to_string()).starts_with(&prefix))
            .map(|o| o.id)
            .collect()
    }

    fn lists_order(&self, prefix: &str) -> bool {
        !self.listed_orders(prefix).is_empty()
    }

    fn select_order(&mut self, prefix: &str) -> Result<(), String> {
        let matching = self.listed_orders(prefix);
        let id = match matching.as_slice() {
            [id] => *id,
            [] => return Err(format!("no order here starts with {prefix:?}")),
            many => {
                let shown: Vec<String> = many
                    .iter()
                    .take(5)
                    .map(|id| id.to_string()[..13].to_string())
                    .collect();
                return Err(format!(
                    "{} orders start with {prefix:?}: {}{}; type more of it",
                    many.len(),
                    shown.join(", "),
                    if many.len() > 5 { ", …" } else { "" }
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
