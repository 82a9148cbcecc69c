//! Versioned schema migrations, applied in order at start under one write lock, so nodes that
//! start at once on a fresh file do not race. A migration is never edited once released: a
//! change is a new version.

/// (version, SQL). Versions start at 1 and have no gaps.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
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
    ),
    (
        2,
        r#"
-- The shop. The stock invariant, for every product, at every commit:
--   initial = stock_left + sold + (units of its reservations still 'held').
-- Reservations move held -> released | sold, once; the triggers below apply each move to the
-- product in the same statement, and refuse a reservation the stock cannot cover.
CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    category    TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    initial     INTEGER NOT NULL CHECK (initial >= 0),
    stock_left  INTEGER NOT NULL CHECK (stock_left >= 0),
    sold        INTEGER NOT NULL DEFAULT 0 CHECK (sold >= 0),
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE reservations (
    order_id TEXT NOT NULL,
    product  TEXT NOT NULL,
    qty      INTEGER NOT NULL CHECK (qty > 0),
    state    TEXT NOT NULL CHECK (state IN ('held', 'released', 'sold')),
    PRIMARY KEY (order_id, product)
);
CREATE TRIGGER reservation_held AFTER INSERT ON reservations
BEGIN
    SELECT RAISE(ABORT, 'unknown product')
        WHERE NOT EXISTS (SELECT 1 FROM products WHERE id = NEW.product);
    SELECT RAISE(ABORT, 'out of stock')
        WHERE (SELECT stock_left FROM products WHERE id = NEW.product) < NEW.qty;
    UPDATE products SET stock_left = stock_left - NEW.qty, version = version + 1
        WHERE id = NEW.product;
END;
CREATE TRIGGER reservation_released AFTER UPDATE OF state ON reservations
WHEN OLD.state = 'held' AND NEW.state = 'released'
BEGIN
    UPDATE products SET stock_left = stock_left + OLD.qty, version = version + 1
        WHERE id = OLD.product;
END;
CREATE TRIGGER reservation_sold AFTER UPDATE OF state ON reservations
WHEN OLD.state = 'held' AND NEW.state = 'sold'
BEGIN
    UPDATE products SET sold = sold + OLD.qty, version = version + 1 WHERE id = OLD.product;
END;
CREATE TABLE orders (
    id          TEXT PRIMARY KEY,
    customer    TEXT NOT NULL,
    lines       TEXT NOT NULL,
    total_cents INTEGER NOT NULL,
    stage       TEXT NOT NULL
                CHECK (stage IN ('accepted', 'reserving', 'paying', 'done', 'failed')),
    reason      TEXT,
    owner       TEXT NOT NULL,
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX orders_by_customer ON orders (customer, created_ms);
CREATE INDEX orders_open ON orders (stage) WHERE stage NOT IN ('done', 'failed');
"#,
    ),
    // Placeholder for another branch's membership migration 3; dropped at merge.
    (3, "SELECT 1;"),
];

/// The newest schema version this release knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}
