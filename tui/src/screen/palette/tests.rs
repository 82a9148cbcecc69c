use super::*;
use crate::screen::keys::{BINDINGS, Scope};

/// The key table's commands the command line leaves to their keys: moving around, and itself.
const NOT_VERBS: &[Command] = &[
    Command::Up,
    Command::Down,
    Command::Top,
    Command::Bottom,
    Command::PageUp,
    Command::PageDown,
    Command::NextTab,
    Command::PrevTab,
    Command::Palette,
];

#[test]
fn every_verb_runs_a_command_of_the_key_table() {
    for v in VERBS {
        assert!(
            BINDINGS.iter().any(|b| b.command == v.command),
            ":{} runs {:?}, which no key does",
            v.name,
            v.command
        );
    }
}

#[test]
fn every_action_of_the_key_table_has_a_verb_but_moving_around() {
    let actions = BINDINGS
        .iter()
        .filter(|b| matches!(b.scope, Scope::Global | Scope::On(_)))
        .map(|b| b.command);
    for command in actions {
        let named = VERBS.iter().any(|v| match (v.command, command) {
            (Command::GoTab(_), Command::GoTab(_)) => true,
            (a, b) => a == b,
        });
        assert!(
            named || NOT_VERBS.contains(&command),
            "{command:?} has a key but no :verb"
        );
    }
}

#[test]
fn verbs_are_told_apart_and_the_closest_is_the_likely_typo() {
    for (i, a) in VERBS.iter().enumerate() {
        assert!(
            VERBS[i + 1..].iter().all(|b| b.name != a.name),
            "{}",
            a.name
        );
    }
    for typo in ["frezee", "frz"] {
        assert_eq!(closest(typo).map(|v| v.name), Some("freeze"), "{typo}");
    }
    assert_eq!(common_prefix(&["stop".into(), "start".into()]), "st");
}
