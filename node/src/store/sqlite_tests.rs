use super::*;

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
