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
            ..Config::default()
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
    one_problem("[tui]\nmouse = true\n", 2, "unknown table [tui]");
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
    let found = problems("color = pink\nmouse = true\nspeed = 3\n[[x]]\nmouse = false\n");
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

#[test]
fn keys_and_theme_tables_are_read_in_order_with_their_lines() {
    let text = "color = \"always\"\n\n[keys]\ncheckout = \"C\"\ndown = [\"down\", \"n\"]\n\n[theme]\nkey = \"light-magenta\"\nbar = 208\nok = \"#00ff80\"\n";
    let config = parse(text).expect("a good file");
    assert_eq!(config.color, Some(Color::Always));
    assert_eq!(
        config.keys,
        vec![
            Rebind {
                action: "checkout".into(),
                keys: vec!["C".into()],
                line: 4
            },
            Rebind {
                action: "down".into(),
                keys: vec!["down".into(), "n".into()],
                line: 5
            },
        ]
    );
    use ratatui::style::Color as Paint;
    assert_eq!(config.theme.key, Paint::LightMagenta);
    assert_eq!(config.theme.bar, Paint::Indexed(208));
    assert_eq!(config.theme.ok, Paint::Rgb(0, 0xff, 0x80));
    assert_eq!(config.theme.error, Palette::default().error, "untouched");
}

#[test]
fn bad_tables_and_their_entries_name_their_line() {
    one_problem(
        "[theme]\nkey = \"chartreuse-ish\"\n",
        2,
        "is not a colour name",
    );
    one_problem("[theme]\nkey = 300\n", 2, "not a colour index");
    one_problem(
        "[theme]\nbackground = \"red\"\n",
        2,
        "unknown role \"background\"",
    );
    one_problem("[keys]\ncheckout = 3\n", 2, "written in quotes");
    one_problem("[keys]\ncheckout = []\n", 2, "at least one key");
    one_problem("[[keys]]\n", 1, "arrays of tables");
    one_problem("[keys\n", 1, "one bare word");
    one_problem(
        "[keys]\n[theme]\n[keys]\n",
        3,
        "opened twice (first on line 1)",
    );
    one_problem(
        "[keys]\nquit = \"x\"\nquit = \"y\"\n",
        3,
        "set twice (first on line 2)",
    );
    // The same name at the top and in a table is two keys, not one set twice.
    one_problem(
        "mouse = true\n[keys]\nmouse = \"m\"\n[plugins]\na = 1\nb = 2\n",
        5,
        "unknown table [plugins]",
    );
    // A top-level key after a table heading belongs to the table.
    let config = parse("[theme]\nkey = \"red\"\n").expect("good");
    assert_eq!(config.mouse, None);
}

#[test]
fn a_rejected_file_applies_nothing() {
    let mut loaded = Loaded {
        path: Some("/c/config.toml".into()),
        found: true,
        problems: Vec::new(),
        config: parse("mouse = false\n[keys]\ncheckout = \"q\"\n").expect("good syntax"),
    };
    loaded.reject(vec![Problem {
        line: Some(3),
        message: "key q would be both quit and checkout on the Cart tab".into(),
    }]);
    assert_eq!(loaded.config, Config::default());
    assert_eq!(
        loaded.summary().expect("a problem"),
        "/c/config.toml:3: key q would be both quit and checkout on the Cart tab; the config file is ignored, defaults used"
    );
}
