//! What only the SQLite backend has: files that can be damaged or out of reach, reopening, and
//! a full disk that must never turn an acknowledged write into a lost one.

use std::net::SocketAddr;
use std::path::PathBuf;

use ringshop_shared::{NewOrder, NodeId, OrderId, ProductId, Stage};

use super::*;
use crate::store::{Catalog, Orders, Roster};

fn n(name: &str) -> NodeId {
    NodeId::new(name).expect("valid")
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[tokio::test]
async fn a_corrupt_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("junk.db");
    std::fs::write(&path, vec![0x42u8; 8192]).expect("writes junk");
    let err = SqliteStore::open(&path).await.err().expect("refused");
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err}");
    assert!(err.to_string().contains("junk.db"));
}

#[tokio::test]
async fn an_unwritable_place_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"not a folder").expect("writes");
    let err = SqliteStore::open(&file.join("sub").join("x.db"))
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, StoreError::Open { .. }), "{err}");
    assert!(err.to_string().contains("a-file"));
}

#[tokio::test]
async fn reopening_keeps_the_data_and_does_not_migrate_twice() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.db");
    {
        let store = SqliteStore::open(&path).await.expect("opens");
        store
            .join(&n("n1"), addr(7001), Duration::from_secs(2))
            .await
            .expect("joins");
    }
    let store = SqliteStore::open(&path).await.expect("reopens");
    let m = store.membership().await.expect("members");
    assert_eq!((m.epoch, m.members.len()), (1, 1));
}

/// A store with plenty of mugs on a small tmpfs (None: skipped, it said why).
async fn on_small_disk(label: &str) -> Option<(ringshop_testpg::SmallDisk, PathBuf, SqliteStore)> {
    let disk = ringshop_testpg::SmallDisk::mount(label, 4)?;
    let path = disk.path().join("s.db");
    let store = SqliteStore::open(&path).await.expect("opens");
    let entries = [crate::store::test_support::entry(
        "mug", "Mug", "tea", 1200, 100_000,
    )];
    store.seed(&entries).await.expect("seeds");
    Some((disk, path, store))
}

/// A new one-mug order, its customer's name long enough that a few fill a page.
fn mug_order(i: usize) -> NewOrder {
    NewOrder {
        id: OrderId::random(),
        customer: format!("c{i}-{}", "x".repeat(200)),
        lines: vec![ringshop_shared::OrderLine {
            product: ProductId::new("mug").expect("valid"),
            qty: 1,
        }],
    }
}

/// Creates `orders` on `store` (all at once when `together`, so the writer commits them in
/// groups), then frees the disk and reopens the file: every order the store answered Ok must be
/// in it, and every other answer must say the store is full. Returns how many were refused.
async fn acknowledged_only_once_committed(
    disk: &ringshop_testpg::SmallDisk,
    path: &std::path::Path,
    store: SqliteStore,
    orders: Vec<NewOrder>,
    together: bool,
) -> usize {
    let store = std::sync::Arc::new(store);
    let create = |order: NewOrder| {
        let store = store.clone();
        async move { store.create_order(&order, 1200, &n("n1"), None).await }
    };
    let mut answers = Vec::new();
    if together {
        let tries = orders.iter().map(|o| tokio::spawn(create(o.clone())));
        for answer in futures::future::join_all(tries).await {
            answers.push(answer.expect("the task ran"));
        }
    } else {
        for order in &orders {
            answers.push(create(order.clone()).await);
        }
    }
    let (mut acked, mut full) = (Vec::new(), 0);
    for (order, answer) in orders.iter().zip(answers) {
        match answer {
            Ok(stored) => {
                assert_eq!(stored.order.id, order.id);
                acked.push(order.id);
            }
            Err(e) => {
                assert!(matches!(e, StoreError::Full { .. }), "{e}");
                full += 1;
            }
        }
    }
    disk.free();
    drop(store);
    let reopened = SqliteStore::open(path).await.expect("reopens");
    for id in &acked {
        assert!(
            reopened.order(*id).await.expect("reads").is_some(),
            "order {id} was acknowledged on a full disk and is not stored ({} acknowledged, {full} refused)",
            acked.len()
        );
    }
    full
}

/// A full disk (a tmpfs filled to the last byte) fails writes at their commit. Every write the
/// store answered Ok must be in the file, and the rest must say the store is full.
#[tokio::test]
async fn on_a_full_disk_a_write_is_acknowledged_only_once_committed() {
    let Some((disk, path, store)) = on_small_disk("the full-disk store test").await else {
        return;
    };
    disk.fill();
    let orders = (0..200).map(mug_order).collect();
    let full = acknowledged_only_once_committed(&disk, &path, store, orders, false).await;
    assert!(
        full > 0,
        "the disk was full, yet all 200 orders were stored"
    );
}

/// The same with the writes sent all at once, so the writer commits them in groups: a group
/// whose commit fails on the full disk fails every write in it.
#[tokio::test]
async fn on_a_full_disk_writes_committed_in_groups_are_acknowledged_only_once_committed() {
    let Some((disk, path, store)) = on_small_disk("the full-disk group commit test").await else {
        return;
    };
    disk.fill();
    let orders = (0..300).map(mug_order).collect();
    let full = acknowledged_only_once_committed(&disk, &path, store, orders, true).await;
    assert!(
        full > 0,
        "the disk was full, yet all 300 orders were stored"
    );
}

/// Orders stored while there was space, then moved on once the disk is full: every move the
/// store answered with a row is in the file; the others say the store is full.
#[tokio::test]
async fn on_a_full_disk_an_order_moves_on_only_once_committed() {
    let Some((disk, path, store)) = on_small_disk("the full-disk advance test").await else {
        return;
    };
    let mut orders = Vec::new();
    for i in 0..100 {
        let stored = store
            .create_order(&mug_order(i), 1200, &n("n1"), None)
            .await;
        orders.push(stored.expect("stored while there is space"));
    }
    disk.fill();
    let (mut moved, mut full) = (Vec::new(), 0);
    let reason = "y".repeat(2000);
    for o in &orders {
        let to = Stage::Failed;
        match store.advance(o, to, &n("n2"), Some(&reason)).await {
            Ok(Some(row)) => moved.push(row.order.id),
            Ok(None) => panic!("nobody else moved {}", o.order.id),
            Err(e) => {
                assert!(matches!(e, StoreError::Full { .. }), "{e}");
                full += 1;
            }
        }
    }
    disk.free();
    drop(store);
    let reopened = SqliteStore::open(&path).await.expect("reopens");
    for id in &moved {
        let stage = reopened
            .order(*id)
            .await
            .expect("reads")
            .map(|o| o.order.stage);
        assert_eq!(
            stage,
            Some(Stage::Failed),
            "order {id}: the move was acknowledged on a full disk and is not stored ({} acknowledged, {full} refused)",
            moved.len()
        );
    }
    assert!(full > 0, "the disk was full, yet all 100 moves were stored");
}

/// A database as the release before `order_lines` left it (schema version 5), with orders in
/// it, opened by this one: migration 6 moves every line into the table, in its place, and
/// migration 7 keeps them as it makes the table one without a rowid, with its rules back on it.
#[tokio::test]
async fn migrations_6_and_7_move_the_lines_of_stored_orders_into_their_keyed_table() {
    use sqlx::ConnectOptions;
    use sqlx::sqlite::SqliteConnectOptions;

    use crate::store::test_support::{old_database, old_lines_were_moved};

    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("v5.db");
    let mut old = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .connect()
        .await
        .expect("opens");
    old_database(&mut old, &migrations::MIGRATIONS[..5]).await;
    drop(old);
    let store = SqliteStore::open(&path).await.expect("opens and migrates");
    old_lines_were_moved(&store).await;
    assert_eq!(store.integrity_check().await.expect("checks"), "ok");
    let schema: Vec<(String, String)> = sqlx::query_as(
        "SELECT name, sql FROM sqlite_master WHERE sql LIKE '%order_lines%' ORDER BY name",
    )
    .fetch_all(&mut *store.reader.get().await)
    .await
    .expect("reads the schema");
    let names: Vec<&str> = schema.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "new_order",
            "order_done_when_sold",
            "order_lines",
            "reservation_for_open_order"
        ],
        "the table and the three triggers that read or fill it"
    );
    assert!(
        schema[2].1.ends_with("WITHOUT ROWID"),
        "order_lines is keyed by its primary key alone: {}",
        schema[2].1
    );
}
