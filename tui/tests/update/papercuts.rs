//! The shopper's papercuts (issue 20.7): the Demo's rows scroll, the Cluster tab reads rates
//! and p99 from successive snapshots and opens a member's detail, node controls explain why
//! they do nothing under `--read-only`, `/` reopens with its text selected, and a toast is
//! one message per change, in the log pane and the log file.

use std::time::Duration;

use crossterm::event::KeyCode;
use ringshop_shared::latency;
use ringshop_tui::client::MemberState::Up;
use ringshop_tui::client::{MemberRow, MemberStats};
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{App, Mode, Tab};

use super::fixtures::{demo_pass, demo_row, member, node};
use super::{app, key, press};

#[test]
fn the_demo_selection_moves_through_every_pass_and_follows_new_rows_unless_moved() {
    let mut app = app();
    press(&mut app, "5");
    let pass = || demo_pass((1..=4).map(|id| demo_row(id, "n1")).collect());
    app.update(Action::DemoPass(pass()));
    assert_eq!(app.demo_list.selected, 3, "on the newest row");
    app.update(Action::DemoPass(pass()));
    assert_eq!(
        app.demo_list.selected, 7,
        "it follows the rows as they come"
    );
    press(&mut app, "g");
    assert_eq!(app.demo_list.selected, 0, "pass 1 is reachable");
    app.update(Action::DemoPass(pass()));
    assert_eq!(
        app.demo_list.selected, 0,
        "moved up: it stays where it was put"
    );
    press(&mut app, "G");
    assert_eq!(app.demo_list.selected, 11);
}

/// A member that reports `requests` answered so far, all of them in about `micros`, after
/// `uptime_s` seconds.
fn reporting(name: &str, uptime_s: u64, requests: u64, micros: u64) -> MemberRow {
    let mut m = member(name, Up, 0.5);
    let mut counts = vec![0; latency::BUCKETS];
    counts[latency::bucket_of(micros)] = requests;
    m.stats = Some(MemberStats {
        uptime: Duration::from_secs(uptime_s),
        latency: counts,
        ..m.stats.unwrap_or_default()
    });
    m
}

#[test]
fn successive_snapshots_give_each_node_its_requests_per_second_and_p99() {
    let mut app = app();
    let snapshot = |uptime, requests| Action::Members {
        epoch: 3,
        members: vec![reporting("n1", uptime, requests, 900)],
    };
    app.update(snapshot(100, 1000));
    app.update(snapshot(102, 1100));
    let history = &app.history[&node("n1")];
    assert_eq!(history.rate(), Some(50.0), "100 requests over its own 2 s");
    let p99 = history.p99.expect("a p99");
    assert!(
        p99 >= Duration::from_micros(900) && p99 <= Duration::from_micros(1024),
        "{p99:?}"
    );
    press(&mut app, "f");
    app.update(snapshot(104, 1300));
    assert_eq!(
        app.history[&node("n1")].rates.len(),
        1,
        "frozen: no new sample"
    );
}

#[test]
fn enter_on_a_member_opens_its_detail_and_esc_closes_it() {
    let mut app = app();
    press(&mut app, "4j");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.mode, Mode::MemberDetail(node("n2")));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn read_only_explains_every_node_control_instead_of_ignoring_it() {
    let mut ro = App::new(true, true, Duration::from_secs(1), "log".into());
    ro.update(Action::Members {
        epoch: 1,
        members: vec![member("n1", Up, 1.0)],
    });
    press(&mut ro, "4");
    for k in ["x", "D", "u"] {
        ro.toasts.clear();
        press(&mut ro, k);
        assert_eq!(ro.mode, Mode::Normal, "{k}: no question");
        assert!(
            ro.toasts.iter().any(|t| t.text.contains("--read-only")),
            "{k}: {:?}",
            ro.toasts
        );
    }
}

#[test]
fn slash_reopens_with_its_text_selected_typing_replaces_it_and_backspace_edits_it() {
    let mut app = app();
    press(&mut app, "/tea");
    app.update(key(KeyCode::Enter));
    press(&mut app, "/");
    assert_eq!(app.mode, Mode::Filter("tea".into()));
    assert!(app.input_selected, "the old text shows selected");
    press(&mut app, "m");
    assert_eq!(app.shop.filter, "m", "typing replaced it");
    assert!(!app.input_selected);
    press(&mut app, "ug");
    assert_eq!(app.shop.filter, "mug", "then typing goes on");
    app.update(key(KeyCode::Enter));
    press(&mut app, "/");
    app.update(key(KeyCode::Backspace));
    assert_eq!(app.shop.filter, "mu", "backspace edits the old text");
    press(&mut app, "d");
    assert_eq!(app.shop.filter, "mud");
    app.update(key(KeyCode::Esc));
    assert!(
        matches!(app.mode, Mode::Discard(_)),
        "esc asks before clearing"
    );
}

#[test]
fn a_repeated_error_is_one_toast_counted_and_one_log_line_and_logged_to_the_file_once() {
    let mut app = app();
    for _ in 0..12 {
        press(&mut app, "2");
        app.cart.clear();
        press(&mut app, "c");
    }
    let errors: Vec<_> = app.toasts.iter().filter(|t| t.error).collect();
    assert_eq!(errors.len(), 1);
    let empty = "the cart is empty: add products on the Shop tab (1)";
    assert_eq!(errors[0].shown(), format!("✗ {empty} ×12"));
    assert_eq!(
        app.outbox,
        vec![empty.to_string()],
        "the log file has it once"
    );
    let lines = app.log.iter().filter(|l| l.error.as_deref() == Some(empty));
    assert_eq!(lines.map(|l| l.count).collect::<Vec<_>>(), vec![12]);
    // Shown while it repeats: counted, logged once.
    app.outbox.clear();
    app.update(Action::failed("orders", "no member is up"));
    for _ in 0..11 {
        app.update(Action::failed("orders", "no member is up"));
    }
    let toast = app
        .toasts
        .iter()
        .find(|t| t.text.starts_with("orders"))
        .expect("toast");
    assert_eq!(toast.shown(), "✗ orders: no member is up ×12");
    assert_eq!(app.outbox, vec!["orders: no member is up".to_string()]);
    let lines = app.log.iter().filter(|l| l.what == "orders").count();
    assert_eq!(lines, 1, "one log line, counted");
    // A changed error is a new message.
    app.update(Action::failed("orders", "node n1: busy"));
    assert_eq!(app.outbox.len(), 2);
}

#[test]
fn every_toast_is_in_the_log_pane_whole() {
    let mut app = app();
    let long = "No trace of that order here: only orders checked out in this session have one, so try the Orders tab";
    app.toast(long, true);
    app.toast("added 2 × Stovetop tea kettle to the cart", false);
    let texts: Vec<String> = app
        .log
        .iter()
        .map(|l| format!("{}{}", l.what, l.error.clone().unwrap_or_default()))
        .collect();
    assert!(texts.iter().any(|t| t == long), "{texts:?}");
    assert!(
        texts.iter().any(|t| t.starts_with("added 2 ×")),
        "{texts:?}"
    );
    assert_eq!(app.tab, Tab::Shop);
}
