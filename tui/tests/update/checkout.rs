//! This session's checkout: one order per confirmed cart, a slot freed when following gives
//! up or the call fails (the same cart then is the same order), orders read again take their
//! new stage, and an open order's time runs on.

use std::time::Duration;

use crossterm::event::KeyCode;
use ringshop_shared::Stage;
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{Confirm, Mode};
use ringshop_tui::screen::effect::Effect;

use super::fixtures::order;
use super::{app, checked_out, key, mine, press};

fn with_a_mug() -> ringshop_tui::screen::app::App {
    let mut app = app();
    press(&mut app, "a");
    app.update(key(KeyCode::Enter));
    app
}

fn checkouts(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Checkout { .. }))
        .count()
}

#[test]
fn c_y_c_y_quickly_places_the_cart_once() {
    let mut app = with_a_mug();
    let effects = press(&mut app, "2cycy");
    assert_eq!(checkouts(&effects), 1, "{effects:?}");
    assert_eq!(app.mode, Mode::Normal, "the second c asked nothing");
    // Its toast went with the next key (y); the message stays in the log.
    assert!(
        app.outbox.iter().any(|m| m.contains("is being placed")),
        "{:?}",
        app.outbox
    );
    // Still refused once accepted and while it runs.
    let id = app.placing.as_ref().map(|p| p.id).expect("placing");
    app.update(Action::Order(mine(id, Stage::Accepted)));
    press(&mut app, "1a");
    app.update(key(KeyCode::Enter));
    assert_eq!(checkouts(&press(&mut app, "2cy")), 0);
    assert!(
        app.outbox
            .iter()
            .any(|m| m.contains("one checkout at a time"))
    );
}

#[test]
fn a_confirm_dialog_left_open_cannot_place_a_second_order() {
    let mut app = with_a_mug();
    let first = checked_out(&mut app);
    // A question opened before (say by the command line) and answered after: refused.
    app.mode = Mode::Confirm(Confirm::Checkout {
        lines: app.placing.clone().expect("placing").lines,
        summary: "Buy 1 item?".into(),
    });
    assert_eq!(checkouts(&press(&mut app, "y")), 0);
    assert_eq!(app.placing.as_ref().map(|p| p.id), Some(first));
}

#[test]
fn a_failed_checkout_call_frees_the_slot_keeps_the_cart_and_retries_as_the_same_order() {
    let mut app = with_a_mug();
    let first = checked_out(&mut app);
    app.update(Action::CheckoutFailed {
        order: first,
        error: "no member is up".into(),
    });
    assert!(app.placing.is_none(), "the slot is free");
    assert_eq!(app.cart.len(), 1, "the cart is kept");
    let again = checked_out(&mut app);
    assert_eq!(
        again, first,
        "the cluster may have it: the same id places it once"
    );
    // Another cart is another order.
    app.update(Action::CheckoutFailed {
        order: again,
        error: "no member is up".into(),
    });
    press(&mut app, "+");
    assert_ne!(checked_out(&mut app), first);
}

#[test]
fn following_that_gives_up_frees_the_checkout_and_says_how_to_see_the_order_later() {
    let mut app = with_a_mug();
    let id = checked_out(&mut app);
    app.update(Action::Order(mine(id, Stage::Paying)));
    assert!(app.checkout.is_some());
    app.update(Action::FollowGaveUp {
        order: id,
        error: "no member is up (3 tried)".into(),
        after: Duration::from_secs(31),
    });
    assert!(app.checkout.is_none(), "no spinner, no blocked checkout");
    let toast = app.toasts.iter().find(|t| t.error).expect("an error toast");
    assert!(
        toast.text.contains("stopped following order"),
        "{}",
        toast.text
    );
    assert!(toast.text.contains("may still finish"), "{}", toast.text);
    assert!(toast.text.contains("r on the Orders tab"), "{}", toast.text);
    assert!(
        app.outbox.iter().any(|m| m.contains("stopped following")),
        "in the log file too"
    );
    // The order stays listed, at the stage last seen; a new cart can be checked out.
    assert_eq!(app.orders[0].stage, Stage::Paying);
    press(&mut app, "1a");
    app.update(key(KeyCode::Enter));
    assert_eq!(checkouts(&press(&mut app, "2cy")), 1);
}

#[test]
fn r_reads_the_stage_of_orders_already_listed_and_never_goes_back() {
    let mut app = app();
    let paying = order(7, Stage::Paying, "n1", &[("mug", 1)], 1200);
    app.update(Action::Orders(vec![paying.clone()]));
    assert_eq!(press(&mut app, "r").len(), 3, "members, products, orders");
    let mut done = paying.clone();
    done.stage = Stage::Done;
    app.update(Action::Orders(vec![done]));
    assert_eq!(app.orders.len(), 1);
    assert_eq!(
        app.orders[0].stage,
        Stage::Done,
        "the stage read replaces the old"
    );
    app.update(Action::Orders(vec![paying]));
    assert_eq!(
        app.orders[0].stage,
        Stage::Done,
        "an older read does not undo it"
    );
}

#[test]
fn an_open_orders_time_runs_on_and_an_ended_ones_is_its_duration() {
    let mut app = with_a_mug();
    let id = checked_out(&mut app);
    let mut paying = mine(id, Stage::Paying);
    paying.elapsed = Duration::from_millis(4);
    app.update(Action::Order(paying.clone()));
    let start = app.now;
    app.update(Action::Tick(start + Duration::from_secs(2)));
    let (took, open) = app.order_elapsed(&app.orders[0]);
    assert!(open);
    assert_eq!(
        took,
        Duration::from_millis(2004),
        "4 ms to paying, 2 s since"
    );
    let mut done = paying;
    done.stage = Stage::Done;
    done.elapsed = Duration::from_millis(2810);
    app.update(Action::Order(done));
    app.update(Action::Tick(start + Duration::from_secs(9)));
    assert_eq!(
        app.order_elapsed(&app.orders[0]),
        (Duration::from_millis(2810), false),
        "ended: what it took, not time since"
    );
}
