use std::net::SocketAddr;
use std::time::Duration;

use super::*;

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("an address")
}

/// The problems of `text` as (line, message).
fn problems(text: &str) -> Vec<(Option<usize>, String)> {
    parse(text)
        .expect_err("a bad file")
        .into_iter()
        .map(|p| (p.line, p.message))
        .collect()
}

/// The one problem of `text`: on `line`, its message containing `says`.
fn one_problem(text: &str, line: usize, says: &str) {
    let found = problems(text);
    assert_eq!(found.len(), 1, "{text:?}: {found:?}");
    assert_eq!(found[0].0, Some(line), "{text:?}: {found:?}");
    assert!(found[0].1.contains(says), "{text:?}: {found:?}");
}

#[test]
fn a_good_file_sets_each_key() {
    let text = r#"
# ringshop settings
color = "never"     # no colour
mouse = false
refresh = '500ms'
join = [
  "127.0.0.1:7001",   # the first node
  "7002",
  7003,
]
"#;
    let config = parse(text).expect("a good file");
    assert_eq!(
        config,
        Config {
            color: Some(Color::Never),
            mouse: Some(false),
            refresh: Some(Duration::from_millis(500)),
            join: vec![
                addr("127.0.0.1:7001"),
                addr("127.0.0.1:7002"),
                addr("127.0.0.1:7003")
            ],
        }
    );
}

#[test]
fn an_empty_file_or_one_key_leaves_the_rest_unset() {
    assert_eq!(parse("").expect("empty"), Config::default());
    assert_eq!(
        parse("\n# nothing\n\r\n").expect("comments"),
        Config::default()
    );
    let config = parse("join = \"localhost:7001\"\r\n").expect("one node, CRLF");
    assert_eq!(config.join.len(), 1);
    assert_eq!(config.mouse, None);
    assert_eq!(parse("join = []").expect("no nodes").join, vec![]);
}

#[test]
fn syntax_errors_name_their_line() {
    one_problem(
        "mouse = true\ncolor = auto\n",
        2,
        "text needs quotes: \"auto\"",
    );
    one_problem("\n\ncolor \"auto\"\n", 3, "expected = after color");
    one_problem("refresh = \"1s\n", 1, "not closed");
    one_problem("[tui]\nmouse = true\n", 1, "tables");
    one_problem("tui.mouse = true", 1, "dotted keys");
    one_problem("\"mouse\" = true", 1, "expected a key");
    one_problem("mouse =\n", 1, "value is missing");
    one_problem("mouse = true false\n", 1, "one key = value per line");
    one_problem("join = [\n \"7001\"\n \"7002\"\n]\n", 3, "expected , or ]");
    one_problem("x = 1\njoin = [\"7001\",\n", 2, "not closed");
    one_problem("color = \"a\\qb\"", 1, "unknown escape");
}

#[test]
fn unknown_keys_and_bad_values_name_their_line_and_what_would_do() {
    one_problem(
        "colour = \"auto\"",
        1,
        "unknown key \"colour\"; the keys are color, mouse",
    );
    one_problem(
        "\ncolor = \"pink\"",
        2,
        "\"auto\", \"always\" or \"never\", not \"pink\"",
    );
    one_problem("mouse = \"no\"", 1, "true or false, not \"no\"");
    one_problem("mouse = 1", 1, "true or false, not 1");
    one_problem("refresh = \"soon\"", 1, "not a duration");
    one_problem("refresh = 1", 1, "in quotes");
    one_problem(
        "join = [\n  \"7001\",\n  \"somewhere:70000\",\n]",
        3,
        "join:",
    );
    one_problem("join = [70000]", 1, "not a port");
    one_problem(
        "mouse = true\nmouse = false",
        2,
        "set twice (first on line 1)",
    );
}

#[test]
fn every_bad_line_is_reported_not_only_the_first() {
    let found = problems("color = pink\nmouse = true\nspeed = 3\n[x]\nmouse = false\n");
    let lines: Vec<Option<usize>> = found.iter().map(|p| p.0).collect();
    assert_eq!(lines, [Some(1), Some(4)], "syntax first: {found:?}");
    let found = problems("colour = 1\nmouse = 2\n");
    let lines: Vec<Option<usize>> = found.iter().map(|p| p.0).collect();
    assert_eq!(lines, [Some(1), Some(2)], "{found:?}");
}

#[test]
fn load_says_where_it_looked_and_a_bad_file_applies_nothing() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("config.toml");
    let missing = load(Some(&path));
    assert!(!missing.found && missing.problems.is_empty());
    assert_eq!(missing.config, Config::default());
    assert_eq!(load(None).path, None);

    std::fs::write(&path, "mouse = false\ncolor = \"pink\"\n").expect("writes");
    let bad = load(Some(&path));
    assert!(bad.found);
    assert_eq!(
        bad.config,
        Config::default(),
        "mouse = false is not applied either"
    );
    let summary = bad.summary().expect("a problem");
    assert!(
        summary.starts_with(&format!("{}:2: color is", path.display())),
        "{summary}"
    );
    assert!(summary.ends_with("defaults used"), "{summary}");

    std::fs::write(&path, "mouse = false\n").expect("writes");
    let good = load(Some(&path));
    assert_eq!(good.summary(), None);
    assert_eq!(good.config.mouse, Some(false));

    let unreadable = load(Some(dir.path()));
    assert!(unreadable.found);
    assert!(
        unreadable.problem_lines()[0].contains("cannot be read"),
        "{:?}",
        unreadable.problems
    );
}
