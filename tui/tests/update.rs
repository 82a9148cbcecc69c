//! `update` as a specification: keys and results in, state and effects out, per tab.

use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyEventState, KeyModifiers};
use ringshop_shared::{OrderLine, Stage};
use ringshop_tui::client::MemberState::{Dead, Up};
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{App, Cache, Confirm, Mode, Tab};
use ringshop_tui::screen::effect::Effect;

mod fixtures;
use fixtures::{member, node, pid};

#[path = "update/checkout.rs"]
mod checkout;
#[path = "update/dialogs.rs"]
mod dialogs;
#[path = "update/mouse.rs"]
mod mouse;
#[path = "update/nodes.rs"]
mod nodes;
#[path = "update/palette.rs"]
mod palette;
#[path = "update/papercuts.rs"]
mod papercuts;
#[path = "update/quit.rs"]
mod quit;
#[path = "update/stock.rs"]
mod stock;

pub(crate) fn key(code: KeyCode) -> Action {
    Action::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ch(c: char) -> Action {
    key(KeyCode::Char(c))
}

pub(crate) fn press(app: &mut App, keys: &str) -> Vec<Effect> {
    keys.chars().flat_map(|c| app.update(ch(c))).collect()
}

fn product(id: &str, category: &str, price: u64) -> ringshop_tui::screen::app::ProductRow {
    let mut p = fixtures::product(
        id,
        &format!("The {id}"),
        category,
        price,
        10,
        "n1",
        Cache::Miss,
    );
    p.age = Duration::ZERO;
    p
}

pub(crate) fn app() -> App {
    let mut app = App::new(true, false, Duration::from_secs(1), "log".into());
    app.update(Action::Products(vec![
        product("mug", "tea", 1200),
        product("teapot", "tea", 3900),
        product("atlas", "books", 3500),
    ]));
    app.update(Action::Members {
        epoch: 3,
        members: vec![
            member("n1", Up, 0.3),
            member("n2", Up, 0.4),
            member("n3", Dead, 0.0),
        ],
    });
    app
}

#[test]
fn number_keys_and_tab_move_between_tabs() {
    let mut app = app();
    press(&mut app, "4");
    assert_eq!(app.tab, Tab::Cluster);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.tab, Tab::Demo);
    app.update(key(KeyCode::Tab));
    assert_eq!(app.tab, Tab::Shop, "it wraps");
    app.update(key(KeyCode::BackTab));
    assert_eq!(app.tab, Tab::Demo);
}

#[test]
fn help_opens_and_closes_and_q_quits_outside_text_input() {
    let mut app = app();
    press(&mut app, "?");
    assert_eq!(app.mode, Mode::Help);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
    press(&mut app, "/q");
    assert!(!app.quit, "q is text in a filter");
    assert_eq!(app.shop.filter, "q");
    app.update(Action::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(app.quit, "ctrl-c always quits");
}

#[test]
fn only_key_presses_count() {
    let mut app = app();
    let release = KeyEvent {
        code: KeyCode::Char('4'),
        modifiers: KeyModifiers::NONE,
        kind: KeyEventKind::Release,
        state: KeyEventState::NONE,
    };
    app.update(Action::Key(release));
    assert_eq!(app.tab, Tab::Shop);
}

#[test]
fn shop_filters_with_slash_and_esc_clears_it() {
    let mut app = app();
    press(&mut app, "/tea");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.visible_products().len(), 1);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.visible_products().len(), 3);
    press(&mut app, "t");
    assert_eq!(app.category.as_deref(), Some("books"));
    assert_eq!(app.visible_products().len(), 1);
    press(&mut app, "t");
    assert_eq!(app.category.as_deref(), Some("tea"));
    press(&mut app, "t");
    assert_eq!(app.category, None, "the cycle ends on all");
}

#[test]
fn enter_asks_a_quantity_and_adds_it_to_the_cart() {
    let mut app = app();
    press(&mut app, "j");
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.mode, Mode::Quantity { .. }));
    app.update(key(KeyCode::Backspace));
    press(&mut app, "3");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.cart.len(), 1);
    assert_eq!(
        (app.cart[0].product.as_str(), app.cart[0].qty),
        ("teapot", 3)
    );
    press(&mut app, "a");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.cart[0].qty, 4, "the same product adds to its line");
    press(&mut app, "a");
    app.update(key(KeyCode::Backspace));
    press(&mut app, "0");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.cart[0].qty, 4, "a bad quantity adds nothing");
    assert!(app.toasts.iter().any(|t| t.error));
}

#[test]
fn removing_a_cart_line_is_instant_and_u_undoes_it_while_its_toast_shows() {
    let mut app = app();
    press(&mut app, "a");
    app.update(key(KeyCode::Enter));
    press(&mut app, "2d");
    assert!(app.cart.is_empty());
    press(&mut app, "u");
    assert_eq!(app.cart.len(), 1);
    press(&mut app, "d");
    let later = Instant::now() + Duration::from_secs(4);
    app.update(Action::Tick(later));
    press(&mut app, "u");
    assert!(app.cart.is_empty(), "too late to undo");
}

#[test]
fn checkout_asks_first_enter_alone_never_confirms_and_y_sends_the_lines() {
    let mut app = app();
    press(&mut app, "2c");
    assert!(
        app.toasts.iter().any(|t| t.error),
        "an empty cart cannot be checked out"
    );
    press(&mut app, "1a");
    app.update(key(KeyCode::Enter));
    press(&mut app, "2c");
    assert!(matches!(app.mode, Mode::Confirm(Confirm::Checkout { .. })));
    assert!(app.update(key(KeyCode::Enter)).is_empty());
    assert_eq!(app.mode, Mode::Normal, "enter is no");
    press(&mut app, "c");
    let effects = press(&mut app, "y");
    let lines = vec![OrderLine {
        product: pid("mug"),
        qty: 1,
    }];
    let [Effect::Checkout { lines: sent, .. }] = effects.as_slice() else {
        panic!("one checkout, got {effects:?}");
    };
    assert_eq!(sent, &lines);
}

/// The order `update` minted for the cart's checkout (`c y`).
pub(crate) fn checked_out(app: &mut App) -> ringshop_shared::OrderId {
    let effects = press(app, "2cy");
    match effects.as_slice() {
        [Effect::Checkout { id, .. }] => *id,
        other => panic!("one checkout, got {other:?}"),
    }
}

fn order(stage: Stage) -> ringshop_shared::Order {
    fixtures::order(1, stage, "n2", &[("mug", 2)], 2400)
}

/// This session's order `id` at `stage`.
pub(crate) fn mine(id: ringshop_shared::OrderId, stage: Stage) -> ringshop_shared::Order {
    let mut o = order(stage);
    o.id = id;
    o
}

#[test]
fn the_order_shows_its_stages_and_ends_in_a_notification() {
    let mut app = app();
    press(&mut app, "a");
    app.update(key(KeyCode::Enter));
    let id = checked_out(&mut app);
    let order = |stage| mine(id, stage);
    app.update(Action::Order(order(Stage::Accepted)));
    assert!(
        app.cart.is_empty(),
        "the cart is emptied once the order is accepted"
    );
    app.update(Action::Order(order(Stage::Paying)));
    assert_eq!(
        app.checkout.as_ref().map(|(o, _)| o.stage),
        Some(Stage::Paying)
    );
    let effects = app.update(Action::Order(order(Stage::Done)));
    assert_eq!(effects, vec![Effect::LoadProducts], "stock is read again");
    assert!(app.checkout.is_none());
    assert!(
        app.toasts
            .iter()
            .any(|t| !t.error && t.text.starts_with("Bought 2 items on n2"))
    );
    assert_eq!(app.orders.len(), 1);
    press(&mut app, "3");
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.mode, Mode::OrderDetail(_)));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn error_toasts_stay_until_the_next_key_and_info_toasts_fade() {
    let mut app = app();
    app.update(Action::failed("boom", "it broke"));
    app.toast("fine", false);
    app.update(Action::Tick(Instant::now() + Duration::from_secs(5)));
    assert_eq!(
        app.toasts.len(),
        1,
        "the info toast faded, the error stayed"
    );
    press(&mut app, "j");
    assert!(app.toasts.is_empty());
    for i in 0..5 {
        app.toast(format!("t{i}"), false);
    }
    assert_eq!(app.toasts.len(), 3, "at most three");
}

#[test]
fn stopping_a_node_asks_naming_it_and_a_refresh_cannot_retarget_the_dialog() {
    let mut app = app();
    press(&mut app, "4jx");
    let Mode::Confirm(Confirm::KillNode { name, addr }) = app.mode.clone() else {
        panic!("a dialog, got {:?}", app.mode);
    };
    assert_eq!((name.as_str(), addr.port()), ("n2", 7002));
    // A refresh re-sorts and changes the rows under the dialog.
    app.update(Action::Members {
        epoch: 4,
        members: vec![member("n0", Up, 0.5), member("n2", Up, 0.5)],
    });
    let effects = press(&mut app, "y");
    assert_eq!(effects, vec![Effect::KillNode(node("n2"))]);
    press(&mut app, "Gu");
    assert!(
        app.toasts.iter().any(|t| t.error),
        "n2 is up: nothing to start"
    );
}

#[test]
fn a_dead_node_can_be_started_and_read_only_hides_both() {
    let mut app = app();
    press(&mut app, "4G");
    assert_eq!(press(&mut app, "u"), vec![Effect::StartNode(node("n3"))]);
    let mut ro = App::new(true, true, Duration::from_secs(1), "log".into());
    ro.update(Action::Members {
        epoch: 1,
        members: vec![member("n1", Up, 1.0)],
    });
    press(&mut ro, "4x");
    assert_eq!(ro.mode, Mode::Normal);
    assert!(ro.toasts.iter().any(|t| t.text.contains("--read-only")));
}

#[test]
fn sorting_follows_the_column_and_reverses() {
    let mut app = app();
    press(&mut app, "4ss");
    let shares: Vec<f64> = app.visible_members().iter().map(|m| m.share).collect();
    assert_eq!(shares, vec![0.0, 0.3, 0.4], "by share");
    press(&mut app, "S");
    let shares: Vec<f64> = app.visible_members().iter().map(|m| m.share).collect();
    assert_eq!(shares, vec![0.4, 0.3, 0.0], "reversed");
}

#[test]
fn d_runs_the_demo_once_at_a_time_and_f_freezes_the_live_views() {
    let mut app = app();
    assert_eq!(press(&mut app, "5d"), vec![Effect::RunDemo]);
    assert!(press(&mut app, "d").is_empty());
    press(&mut app, "f");
    assert!(app.frozen);
    let later = Instant::now() + Duration::from_secs(10);
    assert!(
        app.update(Action::Tick(later)).is_empty(),
        "frozen: no refresh"
    );
    press(&mut app, "f");
    assert_eq!(
        app.update(Action::Tick(later + Duration::from_secs(2))),
        vec![Effect::LoadMembers]
    );
}

#[test]
fn the_cluster_selection_follows_the_node_across_refreshes_and_re_sorts() {
    let mut app = app();
    press(&mut app, "4j");
    let selected = |app: &App| app.visible_members()[app.cluster.selected].name.to_string();
    assert_eq!(selected(&app), "n2");
    press(&mut app, "ssS");
    assert_eq!(selected(&app), "n2", "after sorting by share, reversed");
    app.update(Action::Members {
        epoch: 4,
        members: vec![
            member("n0", Up, 0.9),
            member("n1", Up, 0.3),
            member("n2", Up, 0.4),
        ],
    });
    assert_eq!(selected(&app), "n2", "after a refresh adds a node");
}

#[test]
fn in_flight_counts_every_effect_until_the_runner_says_it_finished() {
    let mut app = App::new(true, false, Duration::from_secs(1), "log".into());
    let started = app.start();
    assert_eq!(app.in_flight, started.len());
    let refresh = press(&mut app, "r");
    assert_eq!(app.in_flight, started.len() + refresh.len());
    for _ in 0..started.len() + refresh.len() {
        app.update(Action::Finished);
    }
    assert_eq!(app.in_flight, 0);
    // A failure is a result, not the end of an effect: only `Finished` counts down, and it
    // never goes below zero.
    app.update(Action::failed("quotes", "no answer"));
    app.update(Action::Finished);
    assert_eq!(app.in_flight, 0);
    // Checkout, node controls and the demo are effects like any other.
    press(&mut app, "5d");
    assert_eq!(app.in_flight, 1, "the demo runs");
}

#[test]
fn shift_d_lets_a_node_leave_after_asking_and_x_kills_after_asking() {
    let mut app = app();
    press(&mut app, "4jD");
    let Mode::Confirm(Confirm::LeaveNode { name, .. }) = app.mode.clone() else {
        panic!("a dialog, got {:?}", app.mode);
    };
    assert_eq!(name.as_str(), "n2");
    assert_eq!(press(&mut app, "y"), vec![Effect::LeaveNode(node("n2"))]);
    press(&mut app, "x");
    assert!(matches!(app.mode, Mode::Confirm(Confirm::KillNode { .. })));
    assert!(press(&mut app, "n").is_empty(), "no is the default");
    assert_eq!(app.mode, Mode::Normal);
}
