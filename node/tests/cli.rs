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

#[test]
fn the_help_names_the_memory_store() {
    let out = Command::new(BIN).arg("--help").output().expect("runs");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains(":memory:"), "{help}");
}

/// Starts the node as `node` says; the running child and the line it prints once listening.
fn listening(node: &mut Command) -> (std::process::Child, String) {
    let mut child = node
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("piped");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("prints its address");
    (child, line)
}

/// Starts the node as `node` says, reads the line it prints once listening, and kills it.
fn first_line(node: &mut Command) -> String {
    let (mut child, line) = listening(node);
    let _ = child.kill();
    let _ = child.wait();
    line
}

#[test]
fn a_node_on_the_memory_store_starts_as_a_cluster_of_its_own_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let line = first_line(
        Command::new(BIN)
            .args([
                "--name",
                "mem",
                "--listen",
                "127.0.0.1:0",
                "--db",
                ":memory:",
            ])
            .current_dir(dir.path()),
    );
    assert!(
        line.starts_with("ringshop-node mem listening on 127.0.0.1:"),
        "{line}"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("lists").collect();
    assert!(left.is_empty(), "no database file: {left:?}");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_node_gracefully_with_exit_0() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (mut child, line) = listening(
        Command::new(BIN)
            .args(["--name", "sig", "--listen", "127.0.0.1:0"])
            .arg("--db")
            .arg(dir.path().join("c.db")),
    );
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
fn a_non_loopback_listen_without_certs_exits_2_naming_certs_and_insecure() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Refused before binding: nothing listens on the wildcard address.
    let out = Command::new(BIN)
        .args([
            "--listen",
            "0.0.0.0:0",
            "--advertise",
            "127.0.0.1:0",
            "--db",
        ])
        .arg(dir.path().join("c.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address")
            && err.contains("--certs DIR")
            && err.contains("--insecure"),
        "{err}"
    );
}

#[test]
fn a_wildcard_listen_without_advertise_exits_2_naming_advertise() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .args(["--listen", "0.0.0.0:7001", "--insecure", "--db"])
        .arg(dir.path().join("c.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("add --advertise IP:PORT"), "{err}");
}

/// `ringshop-node ARGS` in `dir`, which must succeed; its stdout.
fn certs_command(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().expect("runs");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_certs_commands_make_the_files_a_tls_node_starts_with() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = dir.path().join("certs");
    let certs = certs.to_str().expect("a UTF-8 path");
    let made = certs_command(&["certs", "init", certs]);
    assert!(made.contains("ca.crt") && made.contains("ca.key"), "{made}");
    let made = certs_command(&[
        "certs",
        "node",
        "n1",
        "127.0.0.1",
        "localhost",
        "--certs",
        certs,
    ]);
    assert!(
        made.contains("node.n1.crt") && made.contains("node.n1.key"),
        "{made}"
    );
    let made = certs_command(&["certs", "client", "main", "--certs", certs]);
    assert!(made.contains("client.main.crt"), "{made}");
    // A second init would orphan every certificate: refused, exit 1.
    let again = Command::new(BIN)
        .args(["certs", "init", certs])
        .output()
        .expect("runs");
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    // A node whose certificate is missing names the file and the command that makes it.
    let out = Command::new(BIN)
        .args([
            "--name",
            "n2",
            "--listen",
            "127.0.0.1:0",
            "--certs",
            certs,
            "--db",
        ])
        .arg(dir.path().join("c.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("node.n2.crt is missing")
            && err.contains("ringshop-node certs node n2 HOST..."),
        "{err}"
    );
    // n1 starts with its certificate.
    let line = first_line(
        Command::new(BIN)
            .args([
                "--name",
                "n1",
                "--listen",
                "127.0.0.1:0",
                "--certs",
                certs,
                "--db",
            ])
            .arg(dir.path().join("c.db")),
    );
    assert!(
        line.starts_with("ringshop-node n1 listening on 127.0.0.1:"),
        "{line}"
    );
}

#[test]
fn a_client_certificate_cannot_start_a_node() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = dir.path().join("certs");
    let certs = certs.to_str().expect("a UTF-8 path");
    certs_command(&["certs", "init", certs]);
    certs_command(&["certs", "client", "n1", "--certs", certs]);
    // node.n1.* is a client's certificate under a node's name.
    for ext in ["crt", "key"] {
        std::fs::copy(
            dir.path().join(format!("certs/client.n1.{ext}")),
            dir.path().join(format!("certs/node.n1.{ext}")),
        )
        .expect("copies");
    }
    let out = Command::new(BIN)
        .args([
            "--name",
            "n1",
            "--listen",
            "127.0.0.1:0",
            "--certs",
            certs,
            "--db",
        ])
        .arg(dir.path().join("c.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds a client certificate"), "{err}");
}

#[test]
fn a_node_whose_certificate_does_not_name_its_advertised_ip_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = dir.path().join("certs");
    let certs = certs.to_str().expect("a UTF-8 path");
    certs_command(&["certs", "init", certs]);
    certs_command(&["certs", "node", "n1", "10.0.0.1", "--certs", certs]);
    let out = Command::new(BIN)
        .args([
            "--name",
            "n1",
            "--listen",
            "127.0.0.1:0",
            "--certs",
            certs,
            "--db",
        ])
        .arg(dir.path().join("c.db"))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not name 127.0.0.1") && err.contains("certs node n1 127.0.0.1"),
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
