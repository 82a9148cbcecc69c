//! The bindings themselves: the global ones, each tab's, and each dialog's. The order within a
//! scope is the order `?` lists them in; in the footer, hints go by priority (0: never
//! dropped), then by this order.

use super::binding::Scope::{self, Always, Global, In, On};
use super::binding::{Binding, Command as C, Key as K, bind};
use crate::screen::app::mode::Dialog;
use crate::screen::app::rows::Tab;

const NONE: Option<u8> = None;
const fn p(priority: u8) -> Option<u8> {
    Some(priority)
}
const DOWN: &[K] = &[K::Down, K::Char('j')];
const UP: &[K] = &[K::Up, K::Char('k')];

const SHOP: Scope = On(Tab::Shop);
const CART: Scope = On(Tab::Cart);
const ORDERS: Scope = On(Tab::Orders);
const CLUSTER: Scope = On(Tab::Cluster);
const DEMO: Scope = On(Tab::Demo);
const HELP: Scope = In(Dialog::Help);
const FILTER: Scope = In(Dialog::Filter);
const QUANTITY: Scope = In(Dialog::Quantity);
const CONFIRM: Scope = In(Dialog::Confirm);
const DETAIL: Scope = In(Dialog::OrderDetail);
const DISCARD: Scope = In(Dialog::Discard);
const LOG: Scope = In(Dialog::LogPick);
const TRACE: Scope = In(Dialog::Trace);
const PALETTE: Scope = In(Dialog::Palette);
const MEMBER: Scope = In(Dialog::MemberDetail);

#[rustfmt::skip]
pub const BINDINGS: &[Binding] = &[
    bind(Global, &[K::Char('?')], C::Help, "help", p(0)),
    bind(Global, &[K::Char('q')], C::Quit, "quit", p(0)),
    bind(Always, &[K::Ctrl('c')], C::QuitNow, "quit (always)", NONE),
    bind(Global, &[K::Tab], C::NextTab, "next tab", p(8)),
    bind(Global, &[K::BackTab], C::PrevTab, "previous tab", NONE),
    bind(Global, &[K::Char('1')], C::GoTab(Tab::Shop), "shop", NONE),
    bind(Global, &[K::Char('2')], C::GoTab(Tab::Cart), "cart", NONE),
    bind(Global, &[K::Char('3')], C::GoTab(Tab::Orders), "orders", NONE),
    bind(Global, &[K::Char('4')], C::GoTab(Tab::Cluster), "cluster", NONE),
    bind(Global, &[K::Char('5')], C::GoTab(Tab::Demo), "demo", NONE),
    bind(Global, DOWN, C::Down, "down", NONE),
    bind(Global, UP, C::Up, "up", NONE),
    bind(Global, &[K::Char('g')], C::Top, "first", NONE),
    bind(Global, &[K::Char('G')], C::Bottom, "last", NONE),
    bind(Global, &[K::PageDown], C::PageDown, "page down", NONE),
    bind(Global, &[K::PageUp], C::PageUp, "page up", NONE),
    bind(Global, &[K::Char('/')], C::Filter, "filter", p(5)),
    bind(Global, &[K::Esc], C::Back, "clear the filter", NONE),
    bind(Global, &[K::Char('r')], C::Refresh, "refresh", p(9)),
    bind(Global, &[K::Char('f')], C::Freeze, "freeze / unfreeze", NONE),
    bind(Global, &[K::Char('L')], C::PickLog, "pick a log line", p(10)),
    bind(Global, &[K::Char(':')], C::Palette, "command", p(6)),
    // Tabs.
    bind(SHOP, &[K::Enter, K::Char('a')], C::Add, "add to cart", p(1)),
    bind(SHOP, &[K::Char('t')], C::Category, "next category", p(3)),
    bind(CART, &[K::Char('c')], C::Checkout, "check out", p(1)),
    bind(CART, &[K::Char('+')], C::More, "one more", p(2)),
    bind(CART, &[K::Char('-')], C::Less, "one less", p(2)),
    bind(CART, &[K::Char('d')], C::Remove, "remove line", p(3)),
    bind(CART, &[K::Char('u')], C::Undo, "undo remove", p(4)),
    bind(ORDERS, &[K::Enter], C::Open, "show order", p(1)),
    bind(ORDERS, &[K::Char('t')], C::Trace, "trace", p(2)),
    bind(CLUSTER, &[K::Enter], C::Open, "show member", p(3)),
    bind(CLUSTER, &[K::Char('x')], C::KillNode, "kill node", p(1)),
    bind(CLUSTER, &[K::Char('D')], C::LeaveNode, "node leaves", p(2)),
    bind(CLUSTER, &[K::Char('u')], C::StartNode, "start node", p(2)),
    bind(CLUSTER, &[K::Char('s')], C::SortNext, "sort by next column", p(4)),
    bind(CLUSTER, &[K::Char('S')], C::SortReverse, "reverse sort", NONE),
    bind(DEMO, &[K::Char('d')], C::RunDemo, "run the demo cycle", p(1)),
    // Dialogs: only their own keys (and ctrl-c) work while one is open.
    bind(HELP, &[K::Esc, K::Char('?'), K::Char('q')], C::Close, "close", p(0)),
    bind(HELP, DOWN, C::Down, "scroll down", p(1)),
    bind(HELP, UP, C::Up, "scroll up", p(1)),
    bind(FILTER, &[K::Enter], C::Accept, "keep the filter", p(0)),
    bind(FILTER, &[K::Esc], C::Cancel, "clear it", p(0)),
    bind(FILTER, &[K::Backspace], C::Erase, "erase", p(2)),
    bind(QUANTITY, &[K::Enter], C::Accept, "add to cart", p(0)),
    bind(QUANTITY, &[K::Esc], C::Cancel, "cancel", p(0)),
    bind(QUANTITY, &[K::Backspace], C::Erase, "erase", p(2)),
    bind(CONFIRM, &[K::Char('y')], C::Yes, "yes", p(0)),
    bind(CONFIRM, &[K::Char('n'), K::Esc], C::No, "no (any other key)", p(0)),
    bind(DETAIL, &[K::Esc, K::Enter, K::Char('q')], C::Close, "close", p(0)),
    bind(DETAIL, &[K::Char('t')], C::Trace, "trace", p(1)),
    bind(LOG, &[K::Enter], C::Trace, "show its trace", p(0)),
    bind(LOG, &[K::Esc, K::Char('q')], C::Close, "back", p(0)),
    bind(LOG, UP, C::Up, "older", p(1)),
    bind(LOG, DOWN, C::Down, "newer", p(1)),
    bind(TRACE, &[K::Esc, K::Char('q')], C::Close, "close", p(0)),
    bind(TRACE, DOWN, C::Down, "scroll down", p(1)),
    bind(TRACE, UP, C::Up, "scroll up", p(1)),
    bind(TRACE, &[K::Char('r')], C::Refresh, "gather again", p(2)),
    bind(PALETTE, &[K::Enter], C::Accept, "run it", p(0)),
    bind(PALETTE, &[K::Esc], C::Cancel, "cancel", p(0)),
    bind(PALETTE, &[K::Tab], C::Complete, "complete", p(1)),
    bind(PALETTE, &[K::Backspace], C::Erase, "erase", p(2)),
    bind(MEMBER, &[K::Esc, K::Enter, K::Char('q')], C::Close, "close", p(0)),
    bind(DISCARD, &[K::Esc, K::Char('y')], C::Yes, "discard the text", p(0)),
    bind(DISCARD, &[K::Char('n')], C::No, "keep editing (any key)", p(1)),
];
