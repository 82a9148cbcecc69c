//! The `ringshop` binary as a user runs it: the demo end to end, and the exit codes.

use std::process::Command;
use std::time::Duration;

mod terminal;

const BIN: &str = env!("CARGO_BIN_EXE_ringshop");

#[test]
fn the_demo_runs_on_the_embedded_cluster_hits_then_new_values() {
    let (code, stdout, stderr) = run(&["demo", "--ttl", "1s", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let passes: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    assert_eq!(passes.len(), 3);
    let rows = |p: usize| passes[p]["rows"].as_array().expect("rows").clone();
    for p in 0..3 {
        assert_eq!(rows(p).len(), 4, "ids 1-4");
    }
    for i in 0..4 {
        let (a, b, c) = (&rows(0)[i], &rows(1)[i], &rows(2)[i]);
        assert_eq!(a["hit"], false);
        assert_eq!(b["hit"], true);
        assert_eq!(c["hit"], false);
        assert_eq!(a["node"], b["node"], "same node while kept");
        assert_eq!(a["node"], c["node"], "placement does not change");
        assert_eq!(a["value"], b["value"], "same value while kept");
        let v = a["value"].as_u64().expect("a number");
        assert!((1..=1000).contains(&v));
    }
}

#[test]
fn kill_one_shows_the_stopped_nodes_ids_failing_over() {
    let (code, stdout, stderr) = run(&["demo", "--ttl", "200ms", "--kill-one"]);
    assert_eq!(code, Some(0), "{stderr}");
    let fourth = stdout.split("pass 4").nth(1).expect("a fourth pass");
    assert!(fourth.contains("failover from n"), "{stdout}");
    assert!(stderr.contains("killed n"));
}

#[test]
fn no_reachable_node_exits_3_with_a_json_error_on_stderr() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("addr")
        .to_string(); // the listener is dropped here, so nothing listens
    let (code, stdout, stderr) = run(&["demo", "--nodes", &free, "--json"]);
    assert_eq!(code, Some(3));
    assert!(stdout.is_empty());
    let err = json_error(&stderr);
    assert_eq!(err["error"]["kind"], "unreachable");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains(&free)
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(run(&["demo", "--ids", "x"]).0, Some(2));
    let (code, _, stderr) = run(&["demo", "--kill-one", "--nodes", "7001"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--kill-one"));
}

/// Runs `ringshop ARGS` (on an embedded cluster) with stdin closed and a home of its own;
/// (code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, String, String) {
    let home = tempfile::tempdir().expect("a temporary folder");
    run_in(home.path(), args)
}

/// Runs `ringshop ARGS` with `home` as HOME, its state in `home/state` and its config in
/// `home/config`.
fn run_in(home: &std::path::Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn json_error(stderr: &str) -> serde_json::Value {
    serde_json::from_str(stderr.trim())
        .unwrap_or_else(|e| panic!("stderr is not one JSON error ({e}): {stderr}"))
}

#[test]
fn products_lists_the_catalog_with_the_node_of_each_quote() {
    let (code, stdout, _) = run(&["products", "--category", "tea", "--json"]);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let rows = doc["products"].as_array().expect("products");
    assert_eq!(rows.len(), 8);
    assert!(
        rows.iter()
            .all(|r| r["node"].as_str().is_some_and(|n| n.starts_with('n')))
    );
    let (code, _, stderr) = run(&["products", "--search", "zzz", "--json"]);
    assert_eq!(code, Some(4));
    assert_eq!(json_error(&stderr)["error"]["kind"], "not_found");
}

#[test]
fn buy_reports_each_stage_and_ends_bought() {
    let (code, stdout, stderr) = run(&["buy", "mug:2", "--yes", "--json", "--customer", "ada"]);
    assert_eq!(code, Some(0), "{stderr}");
    let events: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON document per line"))
        .collect();
    let stages: Vec<&str> = events.iter().filter_map(|e| e["stage"].as_str()).collect();
    assert_eq!(stages.first(), Some(&"accepted"));
    assert_eq!(stages.last(), Some(&"done"));
    let last = events.last().expect("events");
    assert_eq!(last["event"], "bought");
    assert_eq!(last["items"], 2);
}

#[test]
fn buy_failures_have_their_own_exit_codes_and_json_errors() {
    let (code, _, stderr) = run(&["buy", "no-such-thing", "--yes", "--json"]);
    assert_eq!(code, Some(4));
    assert_eq!(json_error(&stderr)["error"]["kind"], "not_found");
    let (code, _, stderr) = run(&["buy", "atlas:20", "--yes", "--json"]);
    assert_eq!(code, Some(5));
    let err = json_error(&stderr);
    assert_eq!(err["error"]["kind"], "refused");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("only 10 left")
    );
    let (code, _, stderr) = run(&["buy", "mug:0", "--yes"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("out of range"));
    let (code, _, stderr) = run(&["buy", "mug"]);
    assert_eq!(code, Some(2), "no prompt off a terminal");
    assert!(stderr.contains("--yes"));
}

#[test]
fn order_and_orders_answer_or_say_what_is_wrong() {
    let (code, _, stderr) = run(&["order", "not-a-uuid", "--json"]);
    assert_eq!(code, Some(2));
    assert!(
        json_error(&stderr)["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("is not an id: an order or trace id is hex digits")
    );
    let (code, _, stderr) = run(&["order", "67e55044-10b1-426f-9247-bb680e5fe0c8", "--json"]);
    assert_eq!(code, Some(4));
    assert_eq!(json_error(&stderr)["error"]["kind"], "not_found");
    let (code, stdout, _) = run(&["orders", "--json"]);
    assert_eq!(code, Some(0));
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert!(
        doc["orders"].as_array().is_some_and(Vec::is_empty),
        "a fresh embedded cluster has none"
    );
}

#[test]
fn argument_errors_with_json_are_json_and_exit_2() {
    let (code, stdout, stderr) = run(&["demo", "--ttl", "soon", "--json"]);
    assert_eq!(code, Some(2));
    assert!(stdout.is_empty());
    let err = json_error(&stderr);
    assert_eq!(err["error"]["kind"], "usage");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("--ttl"),
        "{stderr}"
    );
    let (code, _, stderr) = run(&["products", "--no-such-flag", "--json"]);
    assert_eq!(code, Some(2));
    assert_eq!(json_error(&stderr)["error"]["kind"], "usage");
    let (code, _, stderr) = run(&["demo", "--ttl", "soon"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error:"),
        "plain text without --json: {stderr}"
    );
}

#[test]
fn color_always_colours_the_cluster_table_and_never_and_no_color_do_not() {
    let (code, stdout, stderr) = run(&["cluster", "--color", "always"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\x1b[32mUP"), "{stdout}");
    let (code, stdout, _) = run(&["cluster", "--color", "never"]);
    assert_eq!(code, Some(0));
    assert!(!stdout.contains('\x1b'), "{stdout}");
    let (code, stdout, _) = run(&["cluster"]);
    assert_eq!(code, Some(0));
    assert!(!stdout.contains('\x1b'), "auto off a terminal: {stdout}");
    let (code, _, stderr) = run(&["cluster", "--color", "sometimes"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("sometimes"), "{stderr}");
}

#[test]
fn answering_no_at_the_buy_prompt_is_not_a_failure() {
    let mut term = terminal::Terminal::start(&["buy", "mug:2"], &[], 24, 100);
    term.wait_for("[y/N]", Duration::from_secs(20));
    term.keys("n\r");
    assert!(
        term.exit_status(Duration::from_secs(20)),
        "a \"no\" exits 0"
    );
    term.wait_for("not bought", Duration::from_secs(5));
}

#[test]
fn certs_connects_the_main_to_a_tls_node_and_without_them_it_is_unreachable() {
    use ringshop_node::{Config, certs, serve};
    use ringshop_shared::NodeId;
    use ringshop_shared::transport::{Role, Security};
    let dir = tempfile::tempdir().expect("temp dir");
    let certs_dir = dir.path().join("certs");
    let n1 = NodeId::new("n1").expect("valid");
    certs::init(&certs_dir).expect("CA");
    certs::node(&certs_dir, &n1, &["127.0.0.1".into()]).expect("node certificate");
    certs::client(&certs_dir, &NodeId::new("main").expect("valid")).expect("client certificate");
    let tls = certs::load(&certs_dir, Role::Node, &n1).expect("loads");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let node = runtime
        .block_on(serve(
            Config::new(n1, "127.0.0.1:0".parse().expect("an address"))
                .with_db(dir.path().join("c.db"))
                .with_security(Security::Tls(std::sync::Arc::new(tls))),
        ))
        .expect("a TLS node starts");
    let addr = node.addr().to_string();
    let dir_arg = certs_dir.to_str().expect("a UTF-8 path");
    let (code, stdout, stderr) = run(&["products", "--nodes", &addr, "--certs", dir_arg, "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"node\":\"n1\""), "{stdout}");
    let (code, _, stderr) = run(&["products", "--nodes", &addr, "--json"]);
    assert_eq!(code, Some(3), "no certificate, no cluster: {stderr}");
    // A client certificate the folder does not hold is named, with the command that makes it.
    let (code, _, stderr) = run(&[
        "products",
        "--nodes",
        &addr,
        "--certs",
        dir_arg,
        "--cert-name",
        "bob",
        "--json",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.contains("client.bob.crt is missing")
            && stderr.contains("ringshop-node certs client bob"),
        "{stderr}"
    );
    runtime.block_on(node.kill());
}

/// Writes `text` as the config file of `home` (as `run_in` sets it up).
fn write_config(home: &std::path::Path, text: &str) -> std::path::PathBuf {
    let dir = home.join("config").join("ringshop");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let path = dir.join("config.toml");
    std::fs::write(&path, text).expect("writes");
    path
}

#[test]
fn info_says_the_version_the_paths_and_that_it_would_start_an_embedded_cluster() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let h = home.path().display().to_string();
    let (code, stdout, stderr) = run_in(home.path(), &["info"]);
    assert_eq!(code, Some(0), "{stderr}");
    for line in [
        format!("ringshop {}", env!("CARGO_PKG_VERSION")),
        format!("config  {h}/config/ringshop/config.toml (not there: the defaults apply)"),
        format!("log     {h}/state/ringshop/tui.log"),
        format!("state   {h}/state/ringshop"),
        format!("cart    {h}/state/ringshop/cart-guest.json (guest: empty)"),
        "joins   an embedded cluster of 3 nodes in this process".to_string(),
    ] {
        assert!(stdout.contains(&line), "{line:?} in:\n{stdout}");
    }
    assert!(stderr.is_empty(), "{stderr}");
}

#[test]
fn info_json_says_where_the_cluster_comes_from_flags_then_config() {
    let home = tempfile::tempdir().expect("a temporary folder");
    write_config(
        home.path(),
        "join = [\"7001\", \"127.0.0.1:7002\"]\nmouse = false\n",
    );
    let cart = home.path().join("state/ringshop/cart-ada.json");
    std::fs::create_dir_all(cart.parent().expect("a folder")).expect("mkdir");
    std::fs::write(
        &cart,
        r#"{"version":1,"customer":"ada","lines":[{"product":"mug","name":"Stoneware mug","price_cents":1200,"qty":2}]}"#,
    )
    .expect("writes");
    let (code, stdout, stderr) = run_in(home.path(), &["info", "--json", "--customer", "ada"]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(doc["config"]["found"], true);
    assert_eq!(doc["config"]["applied"], true);
    assert_eq!(doc["config"]["settings"]["mouse"], false);
    assert_eq!(doc["join"]["from"], "config");
    assert_eq!(
        doc["join"]["nodes"],
        serde_json::json!(["127.0.0.1:7001", "127.0.0.1:7002"])
    );
    assert_eq!(doc["cart"]["items"], 2);
    assert_eq!(doc["cart"]["path"], cart.display().to_string());
    assert!(
        doc["log"]
            .as_str()
            .is_some_and(|l| l.ends_with("state/ringshop/tui.log")),
        "{doc}"
    );
    let (_, stdout, _) = run_in(home.path(), &["info", "--json", "--join", "7009"]);
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["join"]["from"], "flags", "flags win");
    assert_eq!(doc["join"]["nodes"], serde_json::json!(["127.0.0.1:7009"]));
    assert!(cart.exists(), "info touches nothing");
}

#[test]
fn a_bad_config_file_is_listed_by_info_and_warned_about_by_a_verb_which_runs_on() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let path = write_config(
        home.path(),
        "join = \"7001\"\ncolour = \"never\"\nmouse = 3\n",
    );
    let (code, stdout, _) = run_in(home.path(), &["info"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("(ignored, the defaults apply: 2 problems)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:2: unknown key \"colour\"", path.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}:3: mouse is true or false", path.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains("joins   an embedded cluster"),
        "a bad file's join is not used: {stdout}"
    );
    // A verb says so on stderr and runs on the defaults (here: an embedded cluster).
    let (code, stdout, stderr) = run_in(home.path(), &["cluster", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.contains("\"members\""), "{stdout}");
    let warning: serde_json::Value =
        serde_json::from_str(stderr.lines().next().unwrap_or("")).expect("a JSON warning");
    let message = warning["warning"]["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with(&format!("{}:2:", path.display())),
        "{message}"
    );
    assert!(message.contains("and 1 more"), "{message}");
}

#[test]
fn info_lists_the_files_keys_and_theme_and_a_key_clash_by_its_line() {
    let home = tempfile::tempdir().expect("a temporary folder");
    let path = write_config(
        home.path(),
        "[keys]\ncheckout = \"C\"\n[theme]\nkey = \"light-magenta\"\n",
    );
    let (code, stdout, stderr) = run_in(home.path(), &["info", "--json"]);
    assert_eq!(code, Some(0), "{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(doc["config"]["applied"], true, "{doc}");
    assert_eq!(
        doc["config"]["settings"]["keys"],
        serde_json::json!([{"action": "checkout", "keys": ["C"]}])
    );
    assert_eq!(
        doc["config"]["settings"]["theme"],
        serde_json::json!({"key": "LightMagenta"})
    );
    let (_, stdout, _) = run_in(home.path(), &["info"]);
    assert!(
        stdout.contains("keys: checkout on C, theme: key LightMagenta"),
        "{stdout}"
    );

    std::fs::write(&path, "[keys]\ncheckout = \"q\"\nkill_node = \"ctrl-k\"\n").expect("writes");
    let (code, stdout, _) = run_in(home.path(), &["info"]);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("(ignored, the defaults apply: 2 problems)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "{}:3: kill_node stops a node: it may not sit on ctrl-k",
            path.display()
        )),
        "{stdout}"
    );
    // A clash is found once every key is known; an earlier problem is reported with it.
    std::fs::write(&path, "[keys]\ncheckout = \"q\"\n").expect("writes");
    let (_, stdout, _) = run_in(home.path(), &["info"]);
    assert!(
        stdout.contains(&format!(
            "{}:2: key q would be both quit and checkout on the Cart tab",
            path.display()
        )),
        "{stdout}"
    );
}

#[test]
fn the_config_files_join_is_the_cluster_a_verb_joins_unless_a_flag_says_otherwise() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("addr")
        .to_string(); // nothing listens once the listener is dropped
    let home = tempfile::tempdir().expect("a temporary folder");
    write_config(home.path(), &format!("join = \"{free}\"\n"));
    let (code, _, stderr) = run_in(home.path(), &["products", "--json"]);
    assert_eq!(code, Some(3), "{stderr}");
    assert!(
        stderr.contains(&free),
        "the config's node was tried: {stderr}"
    );
    // With --join the flag wins (another unused port).
    let other = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("addr")
        .to_string();
    let (code, _, stderr) = run_in(home.path(), &["products", "--json", "--join", &other]);
    assert_eq!(code, Some(3));
    assert!(
        stderr.contains(&other) && !stderr.contains(&free),
        "{stderr}"
    );
}

/// An address nothing listens on.
fn free_addr() -> String {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .to_string()
}

#[test]
fn usage_errors_exit_2_before_any_cluster_is_asked_even_an_unreachable_one() {
    let nowhere = free_addr();
    let cases: [(&[&str], &str); 7] = [
        (
            &["buy", "mug:99999999999999999999", "--yes"],
            "quantity 99999999999999999999 is too large; order 1 to 20",
        ),
        (&["buy", "mug:0", "--yes"], "out of range"),
        (&["buy", "mug"], "--yes"),
        (
            &["order", "ab-cde"],
            "is 5 hex digits, too short to name one id: give at least 6",
        ),
        (&["trace", "xyz123"], "is not an id"),
        (
            &["demo", "--ttl", "0s"],
            "shorter than the shortest TTL, 1 ms",
        ),
        (&["cluster", "--watch", "--count", "0"], "--count"),
    ];
    for (args, says) in cases {
        let mut args = args.to_vec();
        args.extend(["--join", &nowhere]);
        let (code, _, stderr) = run(&args);
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    for flag in ["--deadline", "--refresh"] {
        let (code, _, stderr) = run(&["cluster", flag, "0ms", "--join", &nowhere]);
        assert_eq!(code, Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("no time at all"), "{flag}: {stderr}");
    }
    // Without --join too: nothing is started to find out.
    let (code, _, stderr) = run(&["demo", "--ttl", "0s", "--json"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(json_error(&stderr)["error"]["kind"], "usage");
    // The control: well-formed, the same cluster is unreachable (3).
    assert_eq!(run(&["buy", "mug", "--yes", "--join", &nowhere]).0, Some(3));
}

#[test]
fn several_join_addresses_are_all_tried_as_repeated_flags_or_a_list() {
    let (a, b, c) = (free_addr(), free_addr(), free_addr());
    let list = format!("{b},{c}");
    let (code, _, stderr) = run(&["products", "--join", &a, "--join", &list]);
    assert_eq!(code, Some(3), "{stderr}");
    for addr in [&a, &b, &c] {
        assert!(stderr.contains(addr.as_str()), "{addr} tried: {stderr}");
    }
}

#[test]
fn a_node_that_never_answers_is_one_message_without_tarpcs_log_lines() {
    // Accepts connections and never answers: every call runs into its deadline.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = silent.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            held.push(conn);
        }
    });
    let args = ["products", "--join", addr.as_str(), "--deadline", "300ms"];
    let (code, _, stderr) = run(&args);
    assert_eq!(code, Some(3), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one message: {stderr}");
    assert!(stderr.contains("did not answer ping: the request exceeded its deadline"));
    assert!(!stderr.contains("tarpc"), "{stderr}");
    // RUST_LOG asks for them: there they are.
    let out = Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tarpc::client"), "{stderr}");
}

#[test]
fn no_member_is_up_says_what_was_tried_never_0_tried_after_trying() {
    use ringshop_node::{Config, serve};
    use std::io::BufRead;
    let dir = tempfile::tempdir().expect("temp dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let node = runtime
        .block_on(serve(
            Config::new(
                ringshop_shared::NodeId::new("n1").expect("valid"),
                "127.0.0.1:0".parse().expect("an address"),
            )
            .with_db(dir.path().join("c.db")),
        ))
        .expect("a node starts");
    let addr = node.addr().to_string();
    let mut watch = Command::new(BIN)
        .args([
            "cluster",
            "--watch",
            "--json",
            "--refresh",
            "100ms",
            "--join",
            &addr,
        ])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let stdout = watch.stdout.take().expect("stdout");
    let mut first = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut first)
        .expect("reads a table");
    assert!(first.contains("\"n1\""), "{first}");
    runtime.block_on(node.kill());
    drop(node);
    let out = watch.wait_with_output().expect("the watch ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("no member is up: "), "{stderr}");
    assert!(!stderr.contains("0 tried"), "{stderr}");
    assert!(
        stderr.contains("the 1 member tried did not answer")
            || stderr.contains("the one active member this client knows of cannot be reached"),
        "{stderr}"
    );
}

/// TUI.md 27/28: `--help` documents the exit codes, the environment and examples; `-h` is the
/// short form.
#[test]
fn help_documents_exit_codes_environment_and_examples_and_h_is_short() {
    let (code, long, _) = run(&["--help"]);
    assert_eq!(code, Some(0));
    for part in [
        "Exit codes",
        "2  usage",
        "3  ",
        "6  store full",
        "NO_COLOR",
        "RUST_LOG",
        "Examples",
        "ringshop buy",
    ] {
        assert!(long.contains(part), "{part:?} in --help:\n{long}");
    }
    let (code, short, _) = run(&["-h"]);
    assert_eq!(code, Some(0));
    assert!(short.len() < long.len(), "-h is shorter than --help");
}

/// TUI.md 25: every key of a verb's JSON is snake_case (here the shop, the members and the
/// info document, on an embedded cluster).
#[test]
fn json_keys_are_snake_case_on_every_verb() {
    fn keys_of(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    keys_of(v, out);
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| keys_of(v, out)),
            _ => {}
        }
    }
    for args in [
        &["products", "--json"][..],
        &["cluster", "--json"][..],
        &["info", "--json"][..],
    ] {
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        let mut keys = Vec::new();
        // One document, or one per line.
        match serde_json::from_str::<serde_json::Value>(&stdout) {
            Ok(doc) => keys_of(&doc, &mut keys),
            Err(_) => {
                for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
                    let doc: serde_json::Value = serde_json::from_str(line).expect("JSON lines");
                    keys_of(&doc, &mut keys);
                }
            }
        }
        assert!(!keys.is_empty(), "{args:?}: {stdout}");
        for k in keys {
            assert!(
                k.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                "{args:?}: {k:?} is not snake_case"
            );
        }
    }
}

/// TUI.md 26 on a real terminal: `cluster` colours its status words there (auto), and with
/// NO_COLOR set it colours nothing.
#[test]
fn on_a_terminal_auto_colours_and_no_color_does_not() {
    let coloured = terminal::Terminal::start(&["cluster"], &[], 24, 160);
    coloured.wait_for("UP", Duration::from_secs(20));
    assert!(coloured.coloured_cells() > 0, "{}", coloured.text());
    let plain = terminal::Terminal::start(&["cluster"], &[("NO_COLOR", "1")], 24, 160);
    plain.wait_for("UP", Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(plain.coloured_cells(), 0, "{}", plain.text());
}
