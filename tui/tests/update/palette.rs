//! The `:` command line: it runs the key table's commands by name, through the same code (a
//! destructive one still asks), completes with tab, and names the closest verb for a typo.

use crossterm::event::KeyCode;
use ringshop_tui::screen::app::{App, Confirm, Mode, Tab};
use ringshop_tui::screen::effect::Effect;

use super::fixtures::node;
use super::{app, key, press};

/// Types `:` then `line`, then enter; the effects of it all.
fn command(app: &mut App, line: &str) -> Vec<Effect> {
    let mut effects = press(app, ":");
    effects.extend(press(app, line));
    effects.extend(app.update(key(KeyCode::Enter)));
    effects
}

#[test]
fn colon_opens_a_prompt_whose_characters_are_text() {
    let mut app = app();
    press(&mut app, ":q4");
    assert_eq!(app.mode, Mode::Palette("q4".into()));
    assert!(!app.quit && app.tab == Tab::Shop, "q and 4 are text");
    app.update(key(KeyCode::Backspace));
    assert_eq!(app.mode, Mode::Palette("q".into()));
    app.update(key(KeyCode::Esc));
    assert!(
        matches!(app.mode, Mode::Discard(_)),
        "esc asks before throwing text away"
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn tab_goes_to_a_tab_and_q_quits() {
    let mut app = app();
    command(&mut app, "tab orders");
    assert_eq!(app.tab, Tab::Orders);
    command(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn stop_and_leave_name_their_node_and_still_ask() {
    let mut app = app();
    assert!(command(&mut app, "stop n2").is_empty(), "nothing before y");
    let Mode::Confirm(Confirm::KillNode { name, .. }) = app.mode.clone() else {
        panic!("a question, got {:?}", app.mode);
    };
    assert_eq!((name, app.tab), (node("n2"), Tab::Cluster));
    assert_eq!(press(&mut app, "y"), vec![Effect::KillNode(node("n2"))]);
    command(&mut app, "leave n1");
    assert!(matches!(
        app.mode,
        Mode::Confirm(Confirm::LeaveNode { ref name, .. }) if name == &node("n1")
    ));
    press(&mut app, "n");
    assert_eq!(
        command(&mut app, "start n3"),
        vec![Effect::StartNode(node("n3"))]
    );
    command(&mut app, "stop n9");
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("no member \"n9\""))
    );
}

#[test]
fn buy_adds_to_the_cart_and_checkout_asks() {
    let mut app = app();
    command(&mut app, "buy teapot 2");
    assert_eq!(app.cart.len(), 1);
    assert_eq!(
        (app.cart[0].product.as_str(), app.cart[0].qty),
        ("teapot", 2)
    );
    command(&mut app, "buy mug");
    assert_eq!(app.cart[1].qty, 1, "no quantity: one");
    command(&mut app, "buy mug 99");
    assert_eq!(app.cart[1].qty, 1, "the quantity dialog's own checks apply");
    command(&mut app, "checkout");
    assert!(matches!(app.mode, Mode::Confirm(Confirm::Checkout { .. })));
    assert_eq!(app.tab, Tab::Cart);
}

#[test]
fn filter_refresh_freeze_help_and_trace() {
    let mut app = app();
    command(&mut app, "filter tea");
    assert_eq!(app.shop.filter, "tea");
    assert_eq!(command(&mut app, "refresh").len(), 3);
    command(&mut app, "freeze");
    assert!(app.frozen);
    command(&mut app, "help");
    assert_eq!(app.mode, Mode::Help);
    app.update(key(KeyCode::Esc));
    app.update(ringshop_tui::screen::action::Action::Order(
        super::fixtures::order(3, ringshop_shared::Stage::Done, "n1", &[("mug", 1)], 1200),
    ));
    let prefix: String = app.orders[0].id.to_string().chars().take(8).collect();
    command(&mut app, &format!("trace {prefix}"));
    assert_eq!(app.tab, Tab::Orders);
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.starts_with("That order has no trace")),
        "the trace command's own answer: {:?}",
        app.toasts
    );
}

#[test]
fn an_unknown_verb_names_the_closest_one() {
    let mut app = app();
    assert!(command(&mut app, "frezee").is_empty());
    let toast = app.toasts.iter().find(|t| t.error).expect("a toast");
    assert!(
        toast.text.contains("did you mean :freeze?"),
        "{}",
        toast.text
    );
}

#[test]
fn tab_completes_verbs_and_their_arguments() {
    let mut app = app();
    press(&mut app, ":che");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.mode, Mode::Palette("checkout".into()));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    press(&mut app, ":st");
    app.update(key(KeyCode::Tab));
    assert_eq!(
        app.mode,
        Mode::Palette("st".into()),
        "stop or start: as far as it is sure"
    );
    assert_eq!(app.completions("st"), vec!["stop", "start"]);
    press(&mut app, "o");
    app.update(key(KeyCode::Tab));
    assert_eq!(
        app.mode,
        Mode::Palette("stop ".into()),
        "a verb with an argument gets its space"
    );
    press(&mut app, "n");
    assert_eq!(app.completions("stop n").len(), 3, "every member");
    press(&mut app, "2");
    app.update(key(KeyCode::Tab));
    assert_eq!(app.mode, Mode::Palette("stop n2".into()));
    assert_eq!(app.completions("tab c"), vec!["tab cart", "tab cluster"]);
    assert_eq!(app.completions("buy te"), vec!["buy teapot"]);
}

#[test]
fn an_order_id_typed_on_the_command_line_is_found_here_or_looked_up_in_the_cluster() {
    use ringshop_shared::Stage;
    let mut app = app();
    for n in [1, 2] {
        app.update(ringshop_tui::screen::action::Action::Order(
            super::fixtures::order(n, Stage::Done, "n1", &[("mug", 1)], 1200),
        ));
    }
    // Two listed orders share "00000000-0000": the candidates are named.
    command(&mut app, "open 000000000000");
    let said = app
        .toasts
        .last()
        .map(|t| t.text.clone())
        .unwrap_or_default();
    assert!(
        said.starts_with("2 orders start with") && said.contains("00000000-0000"),
        "{said}"
    );
    // One of them, typed without its dashes: selected and opened here, nothing asked.
    let bare = super::fixtures::order_id(2).to_string().replace('-', "");
    let effects = command(&mut app, &format!("open {bare}"));
    assert!(effects.is_empty(), "{effects:?}");
    assert_eq!(app.mode, Mode::OrderDetail(super::fixtures::order_id(2)));
    app.update(key(KeyCode::Esc));
    // Not listed here: at least 6 hex digits are asked of the cluster, as the Orders filter does.
    let effects = command(&mut app, "trace ABCDEF12");
    assert!(
        matches!(effects.as_slice(), [Effect::FindId(p)] if p.to_string().starts_with("abcdef12")),
        "{effects:?}"
    );
}
