use super::*;
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
                        let got = command_for(focus, &event(*key));
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
        command_for(filter, &event(Key::Char('q'))),
        None,
        "q is text"
    );
    assert_eq!(
        command_for(filter, &event(Key::Char('4'))),
        None,
        "4 is text"
    );
    assert_eq!(
        command_for(filter, &event(Key::Ctrl('c'))),
        Some(Command::QuitNow)
    );
    assert_eq!(
        command_for(Focus::Dialog(Dialog::Confirm), &event(Key::Enter)),
        None,
        "enter never confirms"
    );
}

#[test]
fn every_dialog_closes_with_esc_and_says_so_in_its_footer() {
    for dialog in Dialog::ALL {
        let focus = Focus::Dialog(dialog);
        assert!(
            command_for(focus, &event(Key::Esc)).is_some(),
            "{dialog:?}: esc does something"
        );
        for width in [20u16, 60, 200] {
            let footer = footer(focus, true, width);
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
        let help = help(tab, true);
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
    let filter = help(Tab::Demo, true);
    assert!(
        filter.iter().any(|s| s.title == Dialog::Filter.title()),
        "the filter's keys are in ? on every tab"
    );
}

#[test]
fn the_footer_keeps_help_and_quit_even_when_narrow_and_only_shows_table_entries() {
    for tab in Tab::ALL {
        for width in [20u16, 80, 200] {
            let footer = footer(Focus::Tab(tab), true, width);
            assert_eq!(footer[0], ("?".to_string(), "help"), "{tab:?} at {width}");
            assert_eq!(footer[1], ("q".to_string(), "quit"), "{tab:?} at {width}");
            for (_, label) in &footer {
                assert!(
                    help(tab, true)
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
    let on = footer(Focus::Tab(Tab::Cluster), true, 200);
    assert_eq!(controls(on), 3);
    let off = footer(Focus::Tab(Tab::Cluster), false, 200);
    assert_eq!(controls(off), 0);
    let help_off: Vec<_> = help(Tab::Cluster, false)
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
