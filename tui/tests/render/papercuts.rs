//! Drawing the papercut fixes (issue 20.6/7): hints and toasts whole at 60, 80 and wider (a
//! long toast points to the log), a member's detail, heartbeat ages that grow, an open
//! order's live time, the Demo scrolled back to pass 1, the reopened filter's selection, and
//! the command line's prompt with its candidates.

use std::time::Duration;

use ratatui::style::Modifier;
use ringshop_shared::Stage;
use ringshop_tui::client::MemberState;
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{Mode, Tab};
use ringshop_tui::screen::theme::Theme;

use super::fixtures::{demo_pass, demo_row, fresh, loaded, node, order};
use super::{joined, render, text};

#[test]
fn empty_hints_show_whole_at_60_80_and_wider() {
    let hints = [
        (
            Tab::Cart,
            "the cart is empty: pick products on the Shop tab (1) with enter",
        ),
        (
            Tab::Orders,
            "no orders yet: fill the cart (2) and press c to check out",
        ),
        (
            Tab::Demo,
            "press d to run the cycle: each id lands on one node and keeps its value for the TTL",
        ),
    ];
    for (tab, hint) in hints {
        let mut app = fresh();
        app.tab = tab;
        for width in [60, 80, 120, 200] {
            let screen = text(&app, width, 24);
            assert!(
                joined(&screen).contains(hint),
                "{tab:?} at {width}:\n{screen}"
            );
        }
    }
}

#[test]
fn a_toast_shows_whole_wrapped_and_a_longer_one_points_to_the_log() {
    let whole = "No trace of that order here: only orders checked out in this session have one";
    let mut app = loaded();
    app.toast(whole, true);
    for width in [60, 80] {
        let screen = text(&app, width, 24);
        assert!(joined(&screen).contains(whole), "{width}:\n{screen}");
    }
    let long = "stopped following order 1c334175 after 31 s without an answer (no member is up \
                (3 tried); start a node or check the addresses); it may still finish: r on the \
                Orders tab (3) reads its stage";
    let mut app = loaded();
    app.toast(long, true);
    let screen = text(&app, 60, 15);
    insta::assert_snapshot!("long_toast_60x15", screen);
    // The log pane grows for the newest toast (the view keeps its 5 lines): it is whole.
    assert!(joined(&screen).contains(long), "{screen}");
    assert!(!screen.contains("see log"), "{screen}");
    // Only one longer than the screen can hold is cut, and says where the rest is.
    let mut app = loaded();
    app.toast(long.repeat(3), true);
    let screen = text(&app, 60, 15);
    assert!(screen.contains("…see log (L)"), "{screen}");
    assert_eq!(
        screen.lines().last(),
        text(&loaded(), 60, 15).lines().last(),
        "never over the footer"
    );
    let mut app = loaded();
    app.toast(long, true);
    for (w, h) in [(80, 24), (120, 30)] {
        let screen = text(&app, w, h);
        assert!(joined(&screen).contains(long), "{w}×{h}:\n{screen}");
        assert!(!screen.contains("see log"), "{w}×{h}:\n{screen}");
    }
    assert_eq!(
        screen.lines().last(),
        text(&loaded(), 60, 15).lines().last(),
        "never over the footer"
    );
}

#[test]
fn enter_on_a_member_shows_all_it_reports() {
    let mut app = loaded();
    app.tab = Tab::Cluster;
    app.mode = Mode::MemberDetail(node("n3"));
    let screen = text(&app, 80, 24);
    insta::assert_snapshot!("member_detail_80x24", screen);
    for part in [
        "127.0.0.1:7003",
        "UP",
        "incarnation 1",
        "epoch 4",
        "ring share 65.7%",
        "120 hits, 9 misses",
        "p99 0.87 ms",
        "58/s",
        "store ok",
        "heartbeat every 250 ms, suspicion 2.0 s",
        "busy 0",
        "fenced 0",
    ] {
        assert!(joined(&screen).contains(part), "{part}:\n{screen}");
    }
    app.mode = Mode::MemberDetail(node("n2"));
    assert!(joined(&text(&app, 80, 24)).contains("no counters: it is not running"));
}

#[test]
fn the_beat_of_a_member_that_does_not_beat_grows_and_a_left_one_has_none() {
    let mut app = loaded();
    app.tab = Tab::Cluster;
    app.members[2].state = MemberState::Left;
    app.now = app.members_at + Duration::from_secs(5);
    let screen = text(&app, 160, 48);
    let row = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(&format!("{name}     ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("n1").contains(" 0.3s"), "UP: as read: {}", row("n1"));
    assert!(
        row("n2").contains(" 5.3s"),
        "DEAD: read + 5 s: {}",
        row("n2")
    );
    assert!(row("n3").contains('—'), "LEFT: none: {}", row("n3"));
}

#[test]
fn an_open_order_shows_its_time_so_far_ticking() {
    let mut app = loaded();
    app.tab = Tab::Orders;
    let mut paying = order(5, Stage::Paying, "n1", &[("mug", 1)], 1200);
    paying.elapsed = Duration::from_millis(4);
    app.update(Action::Orders(vec![paying]));
    app.now += Duration::from_millis(2500);
    let screen = text(&app, 80, 24);
    assert!(screen.contains("2.5 s so far"), "{screen}");
    assert!(!screen.contains("4.00 ms"), "{screen}");
    assert!(
        screen.contains("3.1 s"),
        "a done order: what it took: {screen}"
    );
}

#[test]
fn the_demo_scrolls_back_to_pass_1_at_80x24() {
    let mut app = loaded();
    app.tab = Tab::Demo;
    for n in 1..=3 {
        let mut pass = demo_pass((1..=4).map(|id| demo_row(id, "n1")).collect());
        pass.pass = n;
        app.update(Action::DemoPass(pass));
    }
    assert!(
        !text(&app, 80, 24).contains("pass 1 ·"),
        "the newest rows show"
    );
    app.update(Action::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('g'),
    )));
    let screen = text(&app, 80, 24);
    insta::assert_snapshot!("demo_top_80x24", screen);
    assert!(screen.contains("pass 1 ·"), "{screen}");
}

#[test]
fn a_reopened_filter_shows_its_text_selected() {
    let mut app = loaded();
    app.mode = Mode::Filter("tea".into());
    app.input_selected = true;
    let terminal = render(&app, Theme::new(false), 80, 24);
    let buffer = terminal.backend().buffer();
    let footer = 23;
    assert_eq!(buffer[(0, footer)].symbol(), "/");
    for x in 1..=3 {
        let cell = &buffer[(x, footer)];
        assert!(cell.modifier.contains(Modifier::REVERSED), "{x}: {cell:?}");
    }
    assert!(!buffer[(0, footer)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn the_command_line_prompts_in_the_footer_with_its_candidates_and_keys() {
    let mut app = loaded();
    app.mode = Mode::Palette("st".into());
    let screen = text(&app, 80, 24);
    let footer = screen.lines().nth(23).unwrap_or_default();
    assert!(footer.starts_with(":st▏ stop start"), "{footer}");
    assert!(
        footer.contains("enter run it") && footer.contains("esc cancel"),
        "{footer}"
    );
}

#[test]
fn a_confirmed_checkout_shows_at_once_while_the_order_is_placed() {
    let mut app = loaded();
    app.tab = Tab::Cart;
    let effects = app.update(Action::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('c'),
    )));
    assert!(effects.is_empty());
    app.update(Action::Key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('y'),
    )));
    let screen = text(&app, 80, 24);
    assert!(screen.contains("placing the order…"), "{screen}");
}
