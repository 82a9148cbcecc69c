//! The `ringshop-node` binary as a user runs it: flags, errors and exit codes, graceful stop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ringshop-node");

#[test]
fn an_unknown_flag_is_a_usage_error_with_exit_2() {
    let out = Command::new(BIN)
        .arg("--frobnicate")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--frobnicate"));
}

#[test]
fn a_bad_ttl_or_name_is_named_in_the_error() {
    let out = Command::new(BIN)
        .args(["--ttl", "soon"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"soon\" is not a duration"));
    let out = Command::new(BIN)
        .args(["--name", "bad name"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid node name"));
}

#[test]
fn a_suspicion_too_short_for_the_heartbeat_is_a_usage_error_naming_both() {
    let out = Command::new(BIN)
        .args(["--heartbeat", "1s", "--suspicion", "1200ms"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--suspicion 1200 ms is too short for --heartbeat 1000 ms"),
        "{err}"
    );
}

#[test]
fn a_port_in_use_is_a_clear_error_with_exit_1() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("binds");
    let addr = taken.local_addr().expect("addr").to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .args(["--listen", &addr])
        .arg("--db")
        .arg(dir.path().join("c.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot listen on") && err.contains(&addr),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_node_gracefully_with_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(BIN)
        .args(["--name", "sig", "--listen", "127.0.0.1:0"])
        .arg("--db")
        .arg(dir.path().join("c.db"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("prints its address");
    assert!(
        line.starts_with("ringshop-node sig listening on 127.0.0.1:"),
        "{line}"
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "did not stop within 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_corrupt_database_is_a_clear_error_with_exit_1() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("junk.db");
    std::fs::write(&db, vec![7u8; 4096]).expect("writes");
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("junk.db") && err.contains("not a ringshop database"),
        "{err}"
    );
}

#[test]
fn a_second_node_with_a_live_name_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("c.db");
    let mut first = Command::new(BIN)
        .args(["--name", "twin", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    let stdout = first.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("prints its address");
    let holder = line
        .trim()
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let out = Command::new(BIN)
        .args(["--name", "twin", "--listen", "127.0.0.1:0", "--db"])
        .arg(&db)
        .output()
        .expect("runs");
    let _ = first.kill();
    let _ = first.wait();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("twin is held by a live node") && err.contains(&holder),
        "{err}"
    );
}

#[test]
fn a_database_url_of_another_kind_is_refused_with_exit_2_and_makes_no_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .args([
            "--listen",
            "127.0.0.1:0",
            "--db",
            "mysql://shop:secret@db/shop",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mysql://") && err.contains("postgres://USER"),
        "{err}"
    );
    assert!(!err.contains("secret"), "the password stays out: {err}");
    assert!(
        !dir.path().join("mysql:").exists(),
        "no folder named mysql:"
    );
    let out = Command::new(BIN)
        .current_dir(dir.path())
        .env("RINGSHOP_DB", "mysql://db/shop")
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("$RINGSHOP_DB"));
}

#[test]
fn a_postgres_server_that_is_not_there_is_a_clear_error_with_exit_1() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://ringshop:secret@127.0.0.1:{port}/shop");
    let out = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--db", &url])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("postgres://ringshop:***@127.0.0.1:{port}/shop"))
            && err.contains("check the server is running"),
        "{err}"
    );
    assert!(!err.contains("secret"), "the password stays out: {err}");
}
