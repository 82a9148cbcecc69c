//! The bindings themselves: the global ones, each tab's, and each dialog's. The order within a
//! scope is the order `?` lists them in.

use super::binding::Scope::{Always, Global, In, On};
use super::binding::{Binding, Command as C, Key as K, bind};
use crate::screen::app::{Dialog, Tab};

const NONE: Option<u8> = None;
const fn p(priority: u8) -> Option<u8> {
    Some(priority)
}
const DOWN: &[K] = &[K::Down, K::Char('j')];
const UP: &[K] = &[K::Up, K::Char('k')];

pub const BINDINGS: &[Binding] = &[
    bind(Global, &[K::Char('?')], C::Help, "help", p(0)),
    bind(Global, &[K::Char('q')], C::Quit, "quit", p(0)),
    bind(Always, &[K::Ctrl('c')], C::Quit, "quit (always)", NONE),
    bind(Global, &[K::Tab], C::NextTab, "next tab", p(8)),
    bind(Global, &[K::BackTab], C::PrevTab, "previous tab", NONE),
    bind(Global, &[K::Char('1')], C::GoTab(Tab::Shop), "shop", NONE),
    bind(Global, &[K::Char('2')], C::GoTab(Tab::Cart), "cart", NONE),
    bind(
        Global,
        &[K::Char('3')],
        C::GoTab(Tab::Orders),
        "orders",
        NONE,
    ),
    bind(
        Global,
        &[K::Char('4')],
        C::GoTab(Tab::Cluster),
        "cluster",
        NONE,
    ),
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
    bind(
        Global,
        &[K::Char('f')],
        C::Freeze,
        "freeze / unfreeze",
        NONE,
    ),
    // Tabs.
    bind(
        On(Tab::Shop),
        &[K::Enter, K::Char('a')],
        C::Add,
        "add to cart",
        p(1),
    ),
    bind(
        On(Tab::Shop),
        &[K::Char('t')],
        C::Category,
        "next category",
        p(3),
    ),
    bind(
        On(Tab::Cart),
        &[K::Char('c')],
        C::Checkout,
        "check out",
        p(1),
    ),
    bind(On(Tab::Cart), &[K::Char('+')], C::More, "one more", p(2)),
    bind(On(Tab::Cart), &[K::Char('-')], C::Less, "one less", p(2)),
    bind(
        On(Tab::Cart),
        &[K::Char('d')],
        C::Remove,
        "remove line",
        p(3),
    ),
    bind(On(Tab::Cart), &[K::Char('u')], C::Undo, "undo remove", p(4)),
    bind(On(Tab::Orders), &[K::Enter], C::Open, "show order", p(1)),
    bind(
        On(Tab::Cluster),
        &[K::Char('x')],
        C::KillNode,
        "kill node",
        p(1),
    ),
    bind(
        On(Tab::Cluster),
        &[K::Char('l')],
        C::LeaveNode,
        "node leaves",
        p(2),
    ),
    bind(
        On(Tab::Cluster),
        &[K::Char('s')],
        C::StartNode,
        "start node",
        p(2),
    ),
    bind(
        On(Tab::Cluster),
        &[K::Char('o')],
        C::SortNext,
        "sort by next column",
        p(4),
    ),
    bind(
        On(Tab::Cluster),
        &[K::Char('O')],
        C::SortReverse,
        "reverse sort",
        NONE,
    ),
    bind(
        On(Tab::Demo),
        &[K::Char('d')],
        C::RunDemo,
        "run the demo cycle",
        p(1),
    ),
    // Dialogs: only their own keys (and ctrl-c) work while one is open.
    bind(
        In(Dialog::Help),
        &[K::Esc, K::Char('?'), K::Char('q')],
        C::Close,
        "close",
        p(0),
    ),
    bind(In(Dialog::Help), DOWN, C::Down, "scroll down", p(1)),
    bind(In(Dialog::Help), UP, C::Up, "scroll up", p(1)),
    bind(
        In(Dialog::Filter),
        &[K::Enter],
        C::Accept,
        "keep the filter",
        p(1),
    ),
    bind(In(Dialog::Filter), &[K::Esc], C::Cancel, "clear it", p(0)),
    bind(In(Dialog::Filter), &[K::Backspace], C::Erase, "erase", p(2)),
    bind(
        In(Dialog::Quantity),
        &[K::Enter],
        C::Accept,
        "add to cart",
        p(1),
    ),
    bind(In(Dialog::Quantity), &[K::Esc], C::Cancel, "cancel", p(0)),
    bind(
        In(Dialog::Quantity),
        &[K::Backspace],
        C::Erase,
        "erase",
        p(2),
    ),
    bind(In(Dialog::Confirm), &[K::Char('y')], C::Yes, "yes", p(0)),
    bind(
        In(Dialog::Confirm),
        &[K::Char('n'), K::Esc],
        C::No,
        "no (any other key)",
        p(0),
    ),
    bind(
        In(Dialog::OrderDetail),
        &[K::Esc, K::Enter, K::Char('q')],
        C::Close,
        "close",
        p(0),
    ),
    bind(
        In(Dialog::Discard),
        &[K::Esc, K::Char('y')],
        C::Yes,
        "discard the text",
        p(0),
    ),
    bind(
        In(Dialog::Discard),
        &[K::Char('n')],
        C::No,
        "keep editing (any key)",
        p(1),
    ),
];
