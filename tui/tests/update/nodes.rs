//! Effects' results: a node killed, left or started shows at once and holds against snapshots
//! that do not show it yet; a ring change reloads products; one failure is one message.

use std::time::Duration;

use ringshop_tui::client::MemberState::{Dead, Down, Joining, Up};
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::effect::Effect;

use super::fixtures::{member, node};
use super::{app, press};

fn state_of(app: &ringshop_tui::screen::app::App, name: &str) -> ringshop_tui::client::MemberState {
    app.members
        .iter()
        .find(|m| m.name.as_str() == name)
        .map(|m| m.state)
        .expect("a member")
}

#[test]
fn a_killed_node_is_dead_at_once_and_stays_so_until_a_snapshot_agrees() {
    let mut app = app();
    let effects = app.update(Action::NodeStopped {
        name: node("n2"),
        graceful: false,
    });
    assert_eq!(effects, vec![Effect::LoadMembers, Effect::LoadProducts]);
    assert_eq!(state_of(&app, "n2"), Dead);
    // The cluster has not noticed yet: the snapshot still says UP.
    let members = vec![
        member("n1", Up, 0.3),
        member("n2", Up, 0.4),
        member("n3", Dead, 0.0),
    ];
    app.update(Action::Members { epoch: 3, members });
    assert_eq!(state_of(&app, "n2"), Dead, "what the screen did holds");
    // The catch-up refreshes come shortly after, bounded.
    let soon = app.now + Duration::from_secs(2);
    let effects = app.update(Action::Tick(soon));
    assert!(effects.contains(&Effect::LoadProducts), "{effects:?}");
    let later = soon + Duration::from_secs(3);
    assert!(
        app.update(Action::Tick(later))
            .contains(&Effect::LoadProducts)
    );
    let much_later = later + Duration::from_secs(3);
    assert!(
        !app.update(Action::Tick(much_later))
            .contains(&Effect::LoadProducts)
    );
}

#[test]
fn when_the_ring_changes_products_are_read_again_for_their_new_owners() {
    let mut app = app();
    let same = vec![
        member("n1", Up, 0.3),
        member("n2", Up, 0.4),
        member("n3", Dead, 0.0),
    ];
    let effects = app.update(Action::Members {
        epoch: 3,
        members: same,
    });
    assert!(effects.is_empty(), "nothing moved");
    let moved = vec![
        member("n1", Up, 0.5),
        member("n2", Dead, 0.0),
        member("n3", Dead, 0.0),
    ];
    let effects = app.update(Action::Members {
        epoch: 4,
        members: moved,
    });
    assert_eq!(effects, vec![Effect::LoadProducts]);
}

#[test]
fn a_started_node_joins_at_once_and_is_up_when_the_snapshot_says_so() {
    let mut app = app();
    let effects = press(&mut app, "4Gu");
    assert_eq!(effects, vec![Effect::StartNode(node("n3"))]);
    app.update(Action::NodeStarted(node("n3")));
    assert_eq!(state_of(&app, "n3"), Joining);
    let members = vec![
        member("n1", Up, 0.3),
        member("n2", Up, 0.4),
        member("n3", Up, 0.3),
    ];
    app.update(Action::Members { epoch: 4, members });
    assert_eq!(state_of(&app, "n3"), Up);
}

#[test]
fn a_repeated_failure_is_one_log_line_and_one_toast_with_a_count() {
    let mut app = app();
    let lines = app.log.len();
    for _ in 0..12 {
        app.update(Action::failed("members", "no member is up"));
    }
    assert_eq!(app.log.len(), lines + 1, "logged once");
    let line = app.log.back().expect("a line");
    assert_eq!((line.what.as_str(), line.count), ("members", 12));
    assert_eq!(line.error.as_deref(), Some("no member is up"), "said once");
    assert_eq!(app.toasts.len(), 1);
    assert_eq!(app.toasts[0].shown(), "✗ members: no member is up ×12");
    press(&mut app, "j");
    app.update(Action::failed("members", "no member is up"));
    assert!(
        app.toasts.is_empty(),
        "not toasted again on the next refresh"
    );
    app.update(Action::failed("members", "another reason"));
    assert_eq!(app.toasts.len(), 1, "a new error is new news");
    assert_eq!(app.log.len(), lines + 2);
}

#[test]
fn when_no_member_answers_none_is_counted_up() {
    let mut app = app();
    app.update(Action::failed("members", "no member is up"));
    assert!(app.members.iter().all(|m| m.state != Up));
    assert_eq!(state_of(&app, "n1"), Down);
    // Once the members answer again, the failure is over: the next one is news again.
    let members = vec![member("n1", Up, 0.5), member("n2", Up, 0.5)];
    app.update(Action::Members { epoch: 5, members });
    press(&mut app, "j");
    app.update(Action::failed("members", "no member is up"));
    assert_eq!(app.toasts.len(), 1);
}

#[test]
fn the_same_failure_after_a_success_in_between_is_still_one_toast() {
    let mut app = app();
    app.update(Action::failed("products", "no member is up"));
    app.update(Action::Products(Vec::new()));
    app.update(Action::failed("products", "no member is up"));
    let toasts: Vec<String> = app.toasts.iter().map(|t| t.shown()).collect();
    assert_eq!(toasts, vec!["✗ products: no member is up ×2".to_string()]);
}

#[test]
fn while_nothing_answers_the_screen_waits_quietly_and_reads_everything_again_once_a_member_does() {
    let mut app = app();
    let seed: std::net::SocketAddr = "127.0.0.1:7001".parse().expect("an address");
    app.update(Action::Searching(vec![seed]));
    for what in ["members", "products", "orders"] {
        app.update(Action::failed(what, "no member is up (1 tried)"));
    }
    assert!(
        app.toasts.is_empty(),
        "the header says it waits; no toast for the background reads"
    );
    assert!(
        app.log.iter().any(|l| l.what == "members"),
        "but they are logged"
    );
    app.update(Action::failed("checkout", "no member is up (1 tried)"));
    assert_eq!(app.toasts.len(), 1, "a person's own action is told");
    // A member answers: the listing, then products and orders again, without a key.
    app.update(Action::Searching(Vec::new()));
    let effects = app.update(Action::Members {
        epoch: 1,
        members: vec![member("n1", Up, 1.0)],
    });
    assert_eq!(effects, vec![Effect::LoadProducts, Effect::LoadOrders]);
    assert!(app.searching.is_empty());
}
