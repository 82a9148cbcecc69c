//! What only the PostgreSQL backend has: URLs and servers that can be wrong or away,
//! migrations raced by nodes starting at once, and the server's clock as the only clock.

use std::net::SocketAddr;
use std::time::Duration;

use ringshop_shared::NodeId;

use super::*;
use crate::store::{Roster, now_ms};

fn n(name: &str) -> NodeId {
    NodeId::new(name).expect("valid")
}

#[tokio::test]
async fn a_malformed_url_is_a_clear_error_naming_the_form() {
    let err = PgStore::connect("postgres://u:secret@host:notaport/db")
        .await
        .err()
        .expect("refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::BadUrl { .. }), "{text}");
    assert!(text.contains("postgres://USER"), "{text}");
    assert!(!text.contains("secret"), "the password stays out: {text}");
}

#[tokio::test]
async fn a_server_that_is_not_there_is_a_clear_error_naming_the_fix() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let url = format!("postgres://ringshop:pw@127.0.0.1:{port}/shop");
    let err = PgStore::connect(&url).await.err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{text}");
    assert!(
        text.contains(&format!("127.0.0.1:{port}")) && text.contains("server is running"),
        "{text}"
    );
    assert!(!text.contains(":pw@"), "the password stays out: {text}");
}

#[tokio::test]
async fn a_database_that_does_not_exist_is_a_clear_error_naming_the_fix() {
    let Some(db) = ringshop_testpg::database("missing_db") else {
        return;
    };
    let url = db.server().url("no_such_database");
    let err = PgStore::connect(&url).await.err().expect("refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Unreachable { .. }), "{text}");
    assert!(text.contains("createdb"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_connecting_at_once_to_a_fresh_database_migrate_it_once() {
    let Some(db) = ringshop_testpg::database("migrate_once") else {
        return;
    };
    let connects = (0..6).map(|_| {
        let url = db.url.clone();
        tokio::spawn(async move { PgStore::connect(&url).await })
    });
    let mut stores = Vec::new();
    for c in futures::future::join_all(connects).await {
        stores.push(c.expect("task").expect("every node connects"));
    }
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_version")
        .fetch_all(&stores[0].shop)
        .await
        .expect("reads");
    let every: Vec<i64> = (1..=super::migrations::latest()).collect();
    assert_eq!(versions, every, "each migration applied once");
    assert_eq!(every.len(), super::migrations::MIGRATIONS.len());
}

#[tokio::test]
async fn liveness_is_judged_on_the_servers_clock_even_an_hour_behind_the_nodes() {
    let Some(db) = ringshop_testpg::database("server_clock") else {
        return;
    };
    let store = PgStore::connect(&db.url).await.expect("connects");
    // The server's clock an hour behind this machine's.
    sqlx::raw_sql(
        "CREATE OR REPLACE FUNCTION ringshop_now_ms() RETURNS bigint LANGUAGE sql STABLE
         AS $$ SELECT (extract(epoch FROM now()) * 1000)::bigint - 3600000 $$",
    )
    .execute(&store.shop)
    .await
    .expect("moves the server's clock");
    let addr = SocketAddr::from(([127, 0, 0, 1], 7001));
    store
        .join(&n("n1"), addr, Duration::from_secs(2))
        .await
        .expect("joins");
    assert!(store.heartbeat(&n("n1"), 1).await.expect("beats"));
    let stamped: i64 = sqlx::query_scalar("SELECT heartbeat_ms FROM members")
        .fetch_one(&store.shop)
        .await
        .expect("reads");
    let behind = now_ms() - stamped;
    assert!(
        (3_590_000..3_610_000).contains(&behind),
        "stamped on the server's clock, an hour behind this machine's: {behind} ms"
    );
    assert!(
        store
            .reap(Duration::from_secs(2))
            .await
            .expect("reaps")
            .is_empty(),
        "a node judged by its own clock would look an hour silent"
    );
    let m = store.membership().await.expect("lists");
    assert!(m.members[0].heartbeat_age < Duration::from_secs(1));
}

/// A database as the release before `order_lines` left it (schema version 3), with orders in
/// it, opened by this one: migration 4 moves every line into the table, in its place.
#[tokio::test]
async fn migration_4_moves_the_lines_of_stored_orders_into_their_table() {
    use sqlx::Connection;

    use crate::store::test_support::{old_database, old_lines_were_moved};

    let Some(db) = ringshop_testpg::database("old_lines") else {
        return;
    };
    let mut old = sqlx::PgConnection::connect(&db.url)
        .await
        .expect("connects");
    old_database(&mut old, &migrations::MIGRATIONS[..3]).await;
    old.close().await.expect("closes");
    let store = PgStore::connect(&db.url)
        .await
        .expect("connects and migrates");
    old_lines_were_moved(&store).await;
}
