//! The `ringshop` binary as a user runs it: the demo end to end, and the exit codes.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_ringshop");

#[test]
fn the_demo_runs_on_the_embedded_cluster_hits_then_new_values() {
    let out = Command::new(BIN)
        .args(["demo", "--ttl", "300ms", "--json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let passes: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
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
    let out = Command::new(BIN)
        .args(["demo", "--ttl", "200ms", "--kill-one"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fourth = stdout.split("pass 4").nth(1).expect("a fourth pass");
    assert!(fourth.contains("failover from n"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("killed n"));
}

#[test]
fn no_reachable_node_exits_3_with_a_json_error_on_stderr() {
    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("binds")
        .local_addr()
        .expect("addr")
        .to_string(); // the listener is dropped here, so nothing listens
    let out = Command::new(BIN)
        .args(["demo", "--nodes", &free, "--json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    assert!(out.stdout.is_empty());
    let err: serde_json::Value =
        serde_json::from_slice(&out.stderr).expect("stderr is one JSON document");
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
    let out = Command::new(BIN)
        .args(["demo", "--ids", "x"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(BIN)
        .args(["demo", "--kill-one", "--nodes", "7001"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--kill-one"));
}
