use super::*;
use crate::files::config::Rebind;
use crate::screen::app::Dialog;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn event(key: Key) -> KeyEvent {
    match key {
        Key::Char(c) => press(KeyCode::Char(c)),
        Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL),
        Key::Enter => press(KeyCode::Enter),
        Key::Esc => press(KeyCode::Esc),
        Key::Tab => press(KeyCode::Tab),
        Key::BackTab => press(KeyCode::BackTab),
        Key::Backspace => press(KeyCode::Backspace),
        Key::Up => press(KeyCode::Up),
        Key::Down => press(KeyCode::Down),
        Key::PageUp => press(KeyCode::PageUp),
        Key::PageDown => press(KeyCode::PageDown),
    }
}

fn focuses() -> Vec<Focus> {
    let tabs = Tab::ALL.into_iter().map(Focus::Tab);
    tabs.chain(Dialog::ALL.into_iter().map(Focus::Dialog))
        .collect()
}

#[test]
fn every_binding_dispatches_to_its_command_where_it_works() {
    for focus in focuses() {
        let scopes = scopes(focus);
        for (rank, scope) in scopes.iter().enumerate() {
            for b in BINDINGS.iter().filter(|b| b.scope == *scope) {
                for key in b.keys {
                    let shadowed = scopes[..rank].iter().any(|s| {
                        BINDINGS
                            .iter()
                            .any(|o| o.scope == *s && o.keys.contains(key))
                    });
                    if !shadowed {
                        let got = Keymap::default().command_for(focus, &event(*key));
                        assert_eq!(got, Some(b.command), "{focus:?} {key:?}");
                    }
                }
            }
        }
    }
}

#[test]
fn in_a_dialog_only_its_own_keys_and_ctrl_c_work() {
    let filter = Focus::Dialog(Dialog::Filter);
    assert_eq!(
        Keymap::default().command_for(filter, &event(Key::Char('q'))),
        None,
        "q is text"
    );
    assert_eq!(
        Keymap::default().command_for(filter, &event(Key::Char('4'))),
        None,
        "4 is text"
    );
    assert_eq!(
        Keymap::default().command_for(filter, &event(Key::Ctrl('c'))),
        Some(Command::QuitNow)
    );
    assert_eq!(
        Keymap::default().command_for(Focus::Dialog(Dialog::Confirm), &event(Key::Enter)),
        None,
        "enter never confirms"
    );
}

#[test]
fn every_dialog_closes_with_esc_and_says_so_in_its_footer() {
    for dialog in Dialog::ALL {
        let focus = Focus::Dialog(dialog);
        assert!(
            Keymap::default()
                .command_for(focus, &event(Key::Esc))
                .is_some(),
            "{dialog:?}: esc does something"
        );
        for width in [20u16, 60, 200] {
            let footer = Keymap::default().footer(focus, true, width);
            assert!(
                footer.iter().any(|(k, _)| k.contains("esc")),
                "{dialog:?} at {width}: {footer:?}"
            );
        }
    }
}

#[test]
fn the_help_overlay_lists_every_binding_of_the_tab_the_global_ones_and_its_dialogs() {
    for tab in Tab::ALL {
        let help = Keymap::default().help(tab, true);
        let listed: Vec<&str> = help
            .iter()
            .flat_map(|s| s.entries.iter().map(|(_, l)| *l))
            .collect();
        let mut scopes = vec![Scope::Always, Scope::Global, Scope::On(tab)];
        scopes.extend(dialogs_of(tab, true).into_iter().map(Scope::In));
        let expected: Vec<&Binding> = BINDINGS
            .iter()
            .filter(|b| scopes.contains(&b.scope))
            .collect();
        assert_eq!(listed.len(), expected.len(), "{tab:?}");
        for b in expected {
            assert!(listed.contains(&b.label), "{tab:?} misses {}", b.label);
        }
    }
    let filter = Keymap::default().help(Tab::Demo, true);
    assert!(
        filter.iter().any(|s| s.title == Dialog::Filter.title()),
        "the filter's keys are in ? on every tab"
    );
}

#[test]
fn the_footer_keeps_help_and_quit_even_when_narrow_and_only_shows_table_entries() {
    for tab in Tab::ALL {
        for width in [20u16, 80, 200] {
            let footer = Keymap::default().footer(Focus::Tab(tab), true, width);
            assert_eq!(footer[0], ("?".to_string(), "help"), "{tab:?} at {width}");
            assert_eq!(footer[1], ("q".to_string(), "quit"), "{tab:?} at {width}");
            for (_, label) in &footer {
                assert!(
                    Keymap::default()
                        .help(tab, true)
                        .iter()
                        .any(|s| s.entries.iter().any(|(_, l)| l == label)),
                    "{label} is in the table"
                );
            }
        }
    }
}

#[test]
fn without_node_controls_neither_the_footer_nor_help_offers_them() {
    let controls = |entries: Vec<(String, &'static str)>| {
        entries
            .into_iter()
            .filter(|(_, l)| ["kill node", "node leaves", "start node"].contains(l))
            .count()
    };
    let on = Keymap::default().footer(Focus::Tab(Tab::Cluster), true, 200);
    assert_eq!(controls(on), 3);
    let off = Keymap::default().footer(Focus::Tab(Tab::Cluster), false, 200);
    assert_eq!(controls(off), 0);
    let help_off: Vec<_> = Keymap::default()
        .help(Tab::Cluster, false)
        .into_iter()
        .flat_map(|s| s.entries)
        .collect();
    assert_eq!(controls(help_off), 0);
    assert!(
        !dialogs_of(Tab::Cluster, false).contains(&Dialog::Confirm),
        "no kill/leave question either"
    );
}

#[test]
fn no_destructive_key_is_a_ctrl_chord_or_a_navigation_key() {
    let navigation = ['h', 'j', 'k', 'l', 'g', 'G'];
    for b in BINDINGS.iter().filter(|b| {
        matches!(
            b.command,
            Command::KillNode | Command::LeaveNode | Command::Remove
        )
    }) {
        for k in b.keys {
            assert!(!matches!(k, Key::Ctrl(_)), "{} on a ctrl chord", b.label);
            assert!(
                !matches!(k, Key::Char(c) if navigation.contains(c)),
                "{} next to navigation",
                b.label
            );
        }
    }
}

fn rebind(action: &str, keys: &[&str], line: usize) -> Rebind {
    Rebind {
        action: action.into(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
        line,
    }
}

/// The one problem `rebinds` make: on `line`, its message containing `says`.
fn refused(rebinds: &[Rebind], line: usize, says: &str) {
    let problems = Keymap::with(rebinds).expect_err("refused");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].line, Some(line), "{problems:?}");
    assert!(problems[0].message.contains(says), "{problems:?}");
}

#[test]
fn the_default_table_has_no_clash_and_every_action_has_a_name() {
    assert_eq!(Keymap::with(&[]), Ok(Keymap::default()));
    let actions = rebind::actions();
    for b in BINDINGS
        .iter()
        .filter(|b| matches!(b.scope, Scope::Global | Scope::On(_)))
    {
        assert!(b.command.action().is_some(), "{:?} has no name", b.command);
    }
    for name in [
        "quit",
        "checkout",
        "kill_node",
        "tab_cluster",
        "down",
        "command_line",
    ] {
        assert!(actions.contains(&name), "{name} in {actions:?}");
    }
}

#[test]
fn a_rebound_action_dispatches_shows_and_clicks_on_its_new_keys_only() {
    let keys = Keymap::with(&[
        rebind("checkout", &["C"], 2),
        rebind("down", &["down", "n"], 3),
        rebind("kill_node", &["X"], 4),
    ])
    .expect("no clash");
    let cart = Focus::Tab(Tab::Cart);
    assert_eq!(
        keys.command_for(cart, &event(Key::Char('C'))),
        Some(Command::Checkout)
    );
    assert_eq!(
        keys.command_for(cart, &event(Key::Char('c'))),
        None,
        "c is free now"
    );
    let footer = keys.footer(cart, true, 200);
    assert!(
        footer.contains(&("C".to_string(), "check out")),
        "{footer:?}"
    );
    assert_eq!(keys.key_of_hint("C", "check out"), Some(Key::Char('C')));
    assert_eq!(keys.key_of_hint("c", "check out"), None);
    // Down works on every tab with its new keys, and j is free; a dialog's scroll is fixed.
    for tab in Tab::ALL {
        let on = Focus::Tab(tab);
        assert_eq!(
            keys.command_for(on, &event(Key::Char('n'))),
            Some(Command::Down)
        );
        assert_eq!(keys.command_for(on, &event(Key::Char('j'))), None);
    }
    let help = Focus::Dialog(Dialog::Help);
    assert_eq!(
        keys.command_for(help, &event(Key::Char('j'))),
        Some(Command::Down)
    );
    let sections = keys.help(Tab::Cluster, true);
    let cluster = &sections[0].entries;
    assert!(
        cluster.contains(&("X".to_string(), "kill node")),
        "{cluster:?}"
    );
    assert_eq!(keys.key_for(cart, Command::Checkout), Some(Key::Char('C')));
}

#[test]
fn bad_rebinds_are_refused_with_their_line() {
    refused(
        &[rebind("chekout", &["C"], 7)],
        7,
        "unknown action \"chekout\"",
    );
    refused(&[rebind("close", &["x"], 2)], 2, "unknown action \"close\"");
    refused(
        &[rebind("checkout", &["ctrl-"], 3)],
        3,
        "ctrl- takes one letter",
    );
    refused(&[rebind("checkout", &["hyper-x"], 3)], 3, "is not a key");
    refused(&[rebind("quit", &["ctrl-c"], 4)], 4, "ctrl-c always quits");
    refused(&[rebind("kill_node", &["ctrl-k"], 5)], 5, "stops a node");
    refused(&[rebind("kill_node", &["j"], 5)], 5, "movement key");
    refused(&[rebind("node_leaves", &["enter"], 6)], 6, "stops a node");
    refused(&[rebind("node_leaves", &["down"], 6)], 6, "stops a node");
}

#[test]
fn two_actions_on_one_key_where_both_work_are_refused() {
    refused(
        &[rebind("checkout", &["q"], 3)],
        3,
        "key q would be both quit and checkout on the Cart tab",
    );
    refused(
        &[rebind("sort", &["1"], 9)],
        9,
        "key 1 would be both tab_shop and sort on the Cluster tab",
    );
    // The same key on two tabs is no clash: each tab has its own.
    assert!(
        Keymap::with(&[rebind("checkout", &["t"], 1)]).is_ok(),
        "t is the Shop's and the Orders'"
    );
    // Moving quit away frees q for another action.
    assert!(Keymap::with(&[rebind("quit", &["Q"], 1), rebind("checkout", &["q"], 2)]).is_ok());
}
