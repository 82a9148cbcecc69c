//! Dialogs and text inputs through the key table: the filter's prompt on every tab (the demo
//! too), asking before typed text is thrown away, the quantity's placeholder, the help's
//! scrolling, an order's detail.

use crossterm::event::KeyCode;
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{Mode, Tab};
use ringshop_tui::screen::effect::Effect;

use ringshop_shared::Stage;

use super::fixtures::{demo_pass, demo_row};
use super::{app, key, press};

#[test]
fn slash_opens_the_filter_on_every_tab_and_what_follows_is_text() {
    for tab in Tab::ALL {
        let mut app = app();
        app.tab = tab;
        press(&mut app, "/");
        assert_eq!(app.mode, Mode::Filter(String::new()), "{tab:?}");
        press(&mut app, "n3q");
        assert_eq!(app.tab, tab, "{tab:?}: 3 is text, not a tab");
        assert!(!app.quit, "q is text");
        assert_eq!(app.list().filter, "n3q");
    }
}

#[test]
fn the_demo_passes_filter_like_every_list() {
    let mut app = app();
    app.update(Action::DemoPass(demo_pass(vec![
        demo_row(1, "n1"),
        demo_row(2, "n3"),
        demo_row(3, "n3"),
    ])));
    press(&mut app, "5/n3");
    app.update(key(KeyCode::Enter));
    let shown: Vec<u64> = app
        .visible_demo()
        .iter()
        .flat_map(|(_, rows)| rows.iter().map(|r| r.id))
        .collect();
    assert_eq!(shown, vec![2, 3]);
    assert_eq!((app.tab, app.demo_rows()), (Tab::Demo, 3));
}

#[test]
fn esc_in_a_filter_with_text_asks_first_and_a_second_esc_or_y_discards() {
    let mut app = app();
    press(&mut app, "/tea");
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Discard(_)), "it asks");
    assert_eq!(app.shop.filter, "tea", "nothing is lost yet");
    press(&mut app, "n");
    assert_eq!(app.mode, Mode::Filter("tea".into()), "n keeps editing");
    press(&mut app, "s");
    assert_eq!(app.shop.filter, "teas", "and typing goes on");
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    assert_eq!(
        (app.mode.clone(), app.shop.filter.as_str()),
        (Mode::Normal, "")
    );
    press(&mut app, "/x");
    app.update(key(KeyCode::Esc));
    press(&mut app, "y");
    assert_eq!(
        (app.mode.clone(), app.shop.filter.as_str()),
        (Mode::Normal, "")
    );
    press(&mut app, "/");
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal, "an empty filter closes at once");
}

#[test]
fn esc_in_a_typed_quantity_asks_first_and_an_untouched_one_closes() {
    let mut app = app();
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal, "nothing typed: closes at once");
    app.update(key(KeyCode::Enter));
    press(&mut app, "12");
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.mode, Mode::Discard(_)));
    press(&mut app, "x");
    assert!(
        matches!(&app.mode, Mode::Quantity { input, .. } if input == "12"),
        "any other key keeps the text"
    );
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.cart.is_empty(), "discarded, nothing added");
}

#[test]
fn help_scrolls_with_j_and_k_and_closes_with_q() {
    let mut app = app();
    press(&mut app, "?jj");
    assert_eq!((app.mode.clone(), app.help_scroll), (Mode::Help, 2));
    press(&mut app, "k");
    assert_eq!(app.help_scroll, 1);
    press(&mut app, "4");
    assert_eq!(app.tab, Tab::Shop, "keys outside the help's own do nothing");
    press(&mut app, "q");
    assert_eq!(app.mode, Mode::Normal);
    assert!(!app.quit, "q closes the help, it does not quit");
}

#[test]
fn a_log_lines_trace_and_an_orders_trace_open_the_trace_view() {
    use ringshop_shared::trace::TraceId;
    let mut app = super::fixtures::loaded();
    let traced = TraceId(0xfeed);
    let n = app.log.len();
    app.log[n - 2].trace = Some(traced);
    app.log[n - 1].trace = None;
    // L picks the newest line; up goes to the older one; enter opens its trace and asks for it.
    assert!(press(&mut app, "L").is_empty());
    assert_eq!(app.mode, Mode::LogPick(n - 1));
    assert!(
        app.update(key(KeyCode::Enter)).is_empty(),
        "the newest has no trace"
    );
    assert!(
        app.toasts
            .iter()
            .any(|t| t.error && t.text.contains("no trace"))
    );
    app.update(key(KeyCode::Up));
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::LoadTrace(traced)]
    );
    assert_eq!(app.mode, Mode::Trace(traced));
    // r gathers again; esc closes and forgets it.
    assert_eq!(press(&mut app, "r"), vec![Effect::LoadTrace(traced)]);
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.trace.is_none());
    // An order placed by an untraced call has no trace; one checked out here has its own.
    app.tab = Tab::Orders;
    app.orders_list.selected = 0;
    let order = app.visible_orders()[0].id;
    assert!(press(&mut app, "t").is_empty());
    assert!(
        app.toasts
            .iter()
            .any(|t| t.text.contains("That order has no trace"))
    );
    app.update(Action::OrderTrace(order, TraceId(0xbeef)));
    assert_eq!(
        press(&mut app, "t"),
        vec![Effect::LoadTrace(TraceId(0xbeef))]
    );
    app.update(key(KeyCode::Esc));
    // From the order's detail too.
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::OrderDetail(order));
    assert_eq!(
        press(&mut app, "t"),
        vec![Effect::LoadTrace(TraceId(0xbeef))]
    );
}

#[test]
fn t_opens_the_trace_of_any_listed_order_also_one_placed_by_another_main() {
    use ringshop_shared::trace::TraceId;
    let mut app = super::fixtures::loaded();
    app.tab = Tab::Orders;
    app.orders_list.selected = 1;
    let order = app.visible_orders()[1].id;
    let placed_in = TraceId(0xcafe);
    if let Some(o) = app.orders.iter_mut().find(|o| o.id == order) {
        o.trace_id = Some(placed_in);
    }
    assert!(
        app.order_traces.is_empty(),
        "not checked out in this session"
    );
    assert_eq!(press(&mut app, "t"), vec![Effect::LoadTrace(placed_in)]);
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::OrderDetail(order));
    assert_eq!(press(&mut app, "t"), vec![Effect::LoadTrace(placed_in)]);
}

#[test]
fn the_orders_filter_finds_an_order_by_a_piece_of_its_id_or_trace_typed_without_dashes() {
    use ringshop_shared::trace::TraceId;
    let mut app = super::fixtures::loaded();
    let second = app.orders[1].id;
    let digits = second.0.simple().to_string();
    app.orders[1].trace_id = Some(TraceId(0xabcdef12_u128 << 96));
    app.tab = Tab::Orders;
    let dashed = second.to_string();
    for typed in [&digits[16..], &dashed[19..], "ABCDEF12"] {
        app.orders_list.filter = typed.to_lowercase();
        let ids: Vec<_> = app.visible_orders().iter().map(|o| o.id).collect();
        assert_eq!(ids, vec![second], "{typed}");
    }
}

#[test]
fn an_orders_filter_that_is_an_id_no_listed_order_has_asks_the_cluster_and_opens_it() {
    use ringshop_shared::prefix::IdPrefix;
    use ringshop_shared::trace::TraceId;
    let mut app = super::fixtures::loaded();
    app.tab = Tab::Orders;
    press(&mut app, "/abcdef12");
    assert_eq!(
        app.update(key(KeyCode::Enter)),
        vec![Effect::FindId(
            IdPrefix::parse("abcdef12").expect("a prefix")
        )]
    );
    assert!(app.toasts.iter().any(|t| t.text.contains("looking for")));
    // Listed (the filter shows it), not an id, or too short: a filter, nothing more.
    let listed = app.orders[0].id.0.simple().to_string();
    for typed in [&listed[20..], "done", "abc12"] {
        app.orders_list.filter.clear();
        press(&mut app, &format!("/{typed}"));
        assert!(app.update(key(KeyCode::Enter)).is_empty(), "{typed}");
    }
    // The order found (another customer's, not listed) opens; t opens its trace.
    let mut found = super::fixtures::order(9, Stage::Done, "n3", &[("mug", 1)], 1200);
    found.customer = "bob".into();
    found.trace_id = Some(TraceId(0xb0b));
    app.update(Action::FoundOrder(found.clone()));
    assert_eq!(app.mode, Mode::OrderDetail(found.id));
    assert!(app.orders_list.filter.is_empty(), "the filter is cleared");
    assert_eq!(
        press(&mut app, "t"),
        vec![Effect::LoadTrace(TraceId(0xb0b))]
    );
    app.update(key(KeyCode::Esc));
    assert_eq!(
        app.update(Action::FoundTrace(TraceId(0xfeed))),
        vec![Effect::LoadTrace(TraceId(0xfeed))]
    );
    assert_eq!(app.mode, Mode::Trace(TraceId(0xfeed)));
}

#[test]
fn a_failure_in_an_action_is_logged_with_its_trace() {
    use ringshop_shared::trace::TraceId;
    let mut app = super::fixtures::loaded();
    app.update(Action::Failed {
        what: "checkout".into(),
        error: "no member is up".into(),
        trace: Some(TraceId(7)),
    });
    let line = app.log.back().expect("logged");
    assert_eq!(
        (line.what.as_str(), line.trace),
        ("checkout", Some(TraceId(7)))
    );
}
