//! Versioned schema migrations, applied in order at start under one write lock, so nodes that
//! start at once on a fresh file do not race. A migration is never edited once released: a
//! change is a new version.

/// (version, SQL). Versions start at 1 and have no gaps.
pub const MIGRATIONS: &[(i64, &str)] = &[(
    1,
    r#"
CREATE TABLE members (
    name         TEXT PRIMARY KEY,
    addr         TEXT NOT NULL,
    incarnation  INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('joining', 'active', 'leaving', 'left', 'dead')),
    heartbeat_ms INTEGER NOT NULL,
    joined_ms    INTEGER NOT NULL
);
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('epoch', 0);
-- The epoch moves with every membership change, in the same statement's transaction.
CREATE TRIGGER members_joined AFTER INSERT ON members
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'epoch';
END;
CREATE TRIGGER members_changed AFTER UPDATE OF addr, incarnation, status ON members
WHEN OLD.addr IS NOT NEW.addr OR OLD.incarnation IS NOT NEW.incarnation OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'epoch';
END;
"#,
)];

/// The newest schema version this release knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}
