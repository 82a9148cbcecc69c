//! The key table's tests: every binding dispatches, the overlay and the footer read the table.

use super::*;

fn press(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

const TABS: [Tab; 5] = [Tab::Shop, Tab::Cart, Tab::Orders, Tab::Cluster, Tab::Demo];

#[test]
fn every_binding_dispatches_to_its_command_on_its_tabs() {
    for tab in TABS {
        for b in BINDINGS
            .iter()
            .filter(|b| b.scope == Global || b.scope == On(tab))
        {
            for key in b.keys {
                let event = match key {
                    Key::Char(c) => press(KeyCode::Char(*c)),
                    Key::Ctrl(c) => KeyEvent::new(KeyCode::Char(*c), KeyModifiers::CONTROL),
                    Key::Enter => press(KeyCode::Enter),
                    Key::Esc => press(KeyCode::Esc),
                    Key::Tab => press(KeyCode::Tab),
                    Key::BackTab => press(KeyCode::BackTab),
                    Key::Up => press(KeyCode::Up),
                    Key::Down => press(KeyCode::Down),
                    Key::PageUp => press(KeyCode::PageUp),
                    Key::PageDown => press(KeyCode::PageDown),
                };
                let shadowed = b.scope == Global
                    && BINDINGS
                        .iter()
                        .any(|o| o.scope == On(tab) && o.keys.contains(key));
                if !shadowed {
                    assert_eq!(command_for(tab, &event), Some(b.command), "{tab:?} {key:?}");
                }
            }
        }
    }
}

#[test]
fn the_help_overlay_lists_every_binding_of_the_tab_and_the_global_ones() {
    for tab in TABS {
        let help = help(tab);
        let expected = BINDINGS
            .iter()
            .filter(|b| b.scope == Global || b.scope == On(tab))
            .count();
        assert_eq!(help.len(), expected, "{tab:?}");
        for b in BINDINGS
            .iter()
            .filter(|b| b.scope == Global || b.scope == On(tab))
        {
            assert!(
                help.iter().any(|(_, label)| *label == b.label),
                "{tab:?} misses {}",
                b.label
            );
        }
    }
}

#[test]
fn the_footer_keeps_help_and_quit_even_when_narrow_and_only_shows_table_entries() {
    for tab in TABS {
        for width in [20u16, 80, 200] {
            let footer = footer(tab, width);
            assert_eq!(footer[0], ("?".to_string(), "help"), "{tab:?} at {width}");
            assert_eq!(footer[1], ("q".to_string(), "quit"), "{tab:?} at {width}");
            for (_, label) in &footer {
                assert!(
                    help(tab).iter().any(|(_, l)| l == label),
                    "{label} is in the table"
                );
            }
        }
    }
}

#[test]
fn no_destructive_key_is_a_ctrl_chord_or_a_navigation_key() {
    let navigation = ['j', 'k', 'g', 'G'];
    for b in BINDINGS
        .iter()
        .filter(|b| matches!(b.command, C::KillNode | C::LeaveNode | C::Remove))
    {
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
