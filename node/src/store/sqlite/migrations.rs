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
    (
        3,
        r#"
-- Single activation across nodes. Every membership change is also written to members_log in
-- the same statement's transaction, one row per epoch, so a node that missed epochs replays
-- them one at a time instead of jumping (a jump could hide an owner in between). Each member
-- acknowledges the newest epoch it has applied (acked_epoch): a new owner serves an id it
-- gained only once every live member has acknowledged that epoch. Votes record which
-- members found a member unreachable; enough votes declare it dead.
ALTER TABLE members ADD COLUMN acked_epoch INTEGER NOT NULL DEFAULT 0;
CREATE TABLE members_log (
    epoch       INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    addr        TEXT NOT NULL,
    incarnation INTEGER NOT NULL,
    status      TEXT NOT NULL
);
DROP TRIGGER members_joined;
DROP TRIGGER members_changed;
CREATE TRIGGER members_joined AFTER INSERT ON members
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'epoch';
    INSERT INTO members_log (epoch, name, addr, incarnation, status)
        SELECT value, NEW.name, NEW.addr, NEW.incarnation, NEW.status FROM meta WHERE key = 'epoch';
END;
CREATE TRIGGER members_changed AFTER UPDATE OF addr, incarnation, status ON members
WHEN OLD.addr IS NOT NEW.addr OR OLD.incarnation IS NOT NEW.incarnation OR OLD.status IS NOT NEW.status
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'epoch';
    INSERT INTO members_log (epoch, name, addr, incarnation, status)
        SELECT value, NEW.name, NEW.addr, NEW.incarnation, NEW.status FROM meta WHERE key = 'epoch';
END;
CREATE TABLE votes (
    target      TEXT NOT NULL,
    incarnation INTEGER NOT NULL,
    voter       TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (target, incarnation, voter)
);
"#,
    ),
    (
        4,
        r#"
-- The books hold under any fault. On top of migration 2's stock invariant:
--   a hold belongs to one line of an open order, and is never held again once released or
--   sold; an order is done only with every line sold, and fails only with none sold, giving
--   its holds back as it fails. So once no order is open, nothing is held and every product's
--   sold units are exactly the units of its done orders.
-- A hold carries when it was taken (the store's clock, ms) so the reaper leaves young holds
-- alone; holds from before this version read 0 (old enough to be reaped if stray).
ALTER TABLE reservations ADD COLUMN held_ms INTEGER NOT NULL DEFAULT 0;
CREATE INDEX reservations_held ON reservations (held_ms) WHERE state = 'held';
-- Checked inside the inserting statement, so nothing can come between the check and the hold.
-- It fires on a conflicting insert too: a line of a final order is refused, held or not.
CREATE TRIGGER reservation_for_open_order BEFORE INSERT ON reservations
BEGIN
    SELECT RAISE(ABORT, 'no open order line')
        WHERE NOT EXISTS (SELECT 1 FROM orders o
            WHERE o.id = NEW.order_id AND o.stage NOT IN ('done', 'failed')
              AND instr(',' || o.lines || ',', ',' || NEW.product || ':' || NEW.qty || ',') > 0);
END;
CREATE TRIGGER reservation_final BEFORE UPDATE OF state ON reservations
WHEN OLD.state <> 'held' AND NEW.state IS NOT OLD.state
BEGIN
    SELECT RAISE(ABORT, 'a released or sold hold is final');
END;
CREATE TRIGGER reservation_sold_while_paying BEFORE UPDATE OF state ON reservations
WHEN OLD.state = 'held' AND NEW.state = 'sold'
BEGIN
    SELECT RAISE(ABORT, 'a hold is sold only while its order is paying')
        WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id = NEW.order_id AND stage = 'paying');
END;
-- Lines are 'product:qty' joined by ','; product ids hold neither character.
CREATE TRIGGER order_done_when_sold BEFORE UPDATE OF stage ON orders
WHEN NEW.stage = 'done' AND OLD.stage <> 'done'
BEGIN
    SELECT RAISE(ABORT, 'an order is done only when every line is sold')
        WHERE (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
            <> length(NEW.lines) - length(replace(NEW.lines, ',', '')) + 1;
END;
CREATE TRIGGER order_failed_unsold BEFORE UPDATE OF stage ON orders
WHEN NEW.stage = 'failed' AND OLD.stage <> 'failed'
BEGIN
    SELECT RAISE(ABORT, 'an order with sold lines cannot fail')
        WHERE EXISTS (SELECT 1 FROM reservations WHERE order_id = NEW.id AND state = 'sold');
END;
-- Failing an order gives back what it holds in the same statement, so no failed order keeps
-- a hold whatever crashes next.
CREATE TRIGGER order_failed_releases AFTER UPDATE OF stage ON orders
WHEN NEW.stage = 'failed' AND OLD.stage <> 'failed'
BEGIN
    UPDATE reservations SET state = 'released' WHERE order_id = NEW.id AND state = 'held';
END;
"#,
    ),
    (
        5,
        r#"
-- The trace the order was placed in (W3C traceparent), so a job resumed later, here or on
-- another node, goes on in the checkout's trace. NULL when the placing call was not traced.
ALTER TABLE orders ADD COLUMN trace_parent TEXT;
"#,
    ),
    (
        6,
        r#"
-- An order's lines in a table of their own, keyed by order and product (an order lists a
-- product once), with their place in the order as it was placed, instead of the text
-- 'product:qty,...' in orders.lines. Existing orders' lines move here, then the column goes.
CREATE TABLE order_lines (
    order_id TEXT NOT NULL,
    line     INTEGER NOT NULL,
    product  TEXT NOT NULL,
    qty      INTEGER NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, product)
);
INSERT INTO order_lines (order_id, line, product, qty)
WITH RECURSIVE split (order_id, line, item, rest) AS (
    SELECT id, 0, NULL, lines || ',' FROM orders
    UNION ALL
    SELECT order_id, line + 1, substr(rest, 1, instr(rest, ',') - 1),
           substr(rest, instr(rest, ',') + 1)
    FROM split WHERE rest <> ''
)
SELECT order_id, line, substr(item, 1, instr(item, ':') - 1),
       CAST(substr(item, instr(item, ':') + 1) AS INTEGER)
FROM split WHERE item IS NOT NULL;
-- The rules that read the lines read them from the table.
DROP TRIGGER reservation_for_open_order;
CREATE TRIGGER reservation_for_open_order BEFORE INSERT ON reservations
BEGIN
    SELECT RAISE(ABORT, 'no open order line')
        WHERE NOT EXISTS (SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id
            WHERE o.id = NEW.order_id AND o.stage NOT IN ('done', 'failed')
              AND l.product = NEW.product AND l.qty = NEW.qty);
END;
DROP TRIGGER order_done_when_sold;
CREATE TRIGGER order_done_when_sold BEFORE UPDATE OF stage ON orders
WHEN NEW.stage = 'done' AND OLD.stage <> 'done'
BEGIN
    SELECT RAISE(ABORT, 'an order is done only when every line is sold')
        WHERE (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
            <> (SELECT COUNT(*) FROM order_lines WHERE order_id = NEW.id);
END;
ALTER TABLE orders DROP COLUMN lines;
-- A new order and its lines go in with one statement (so in one transaction, with no lock
-- held between statements): an insert into this view, its lines as a JSON array of
-- [product, qty]. An id stored already keeps its order and its lines.
CREATE VIEW new_orders (id, customer, lines, total_cents, owner, created_ms, trace_parent) AS
    SELECT id, customer, NULL, total_cents, owner, created_ms, trace_parent FROM orders WHERE 0;
CREATE TRIGGER new_order INSTEAD OF INSERT ON new_orders
WHEN NOT EXISTS (SELECT 1 FROM orders WHERE id = NEW.id)
BEGIN
    INSERT INTO orders (id, customer, total_cents, stage, owner, created_ms, updated_ms,
                        trace_parent)
        VALUES (NEW.id, NEW.customer, NEW.total_cents, 'accepted', NEW.owner, NEW.created_ms,
                NEW.created_ms, NEW.trace_parent);
    INSERT INTO order_lines (order_id, line, product, qty)
        SELECT NEW.id, key + 1, json_extract(value, '$[0]'), json_extract(value, '$[1]')
        FROM json_each(NEW.lines);
END;
"#,
    ),
    (
        7,
        r#"
-- order_lines without a rowid: the key (order_id, product) is the table itself, one b-tree
-- instead of a table and the index of its key, so storing an order writes one page fewer.
-- The triggers that name the table go while it is swapped and come back as they were.
DROP TRIGGER reservation_for_open_order;
DROP TRIGGER order_done_when_sold;
DROP TRIGGER new_order;
CREATE TABLE order_lines_keyed (
    order_id TEXT NOT NULL,
    line     INTEGER NOT NULL,
    product  TEXT NOT NULL,
    qty      INTEGER NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, product)
) WITHOUT ROWID;
INSERT INTO order_lines_keyed (order_id, line, product, qty)
    SELECT order_id, line, product, qty FROM order_lines;
DROP TABLE order_lines;
ALTER TABLE order_lines_keyed RENAME TO order_lines;
CREATE TRIGGER reservation_for_open_order BEFORE INSERT ON reservations
BEGIN
    SELECT RAISE(ABORT, 'no open order line')
        WHERE NOT EXISTS (SELECT 1 FROM orders o JOIN order_lines l ON l.order_id = o.id
            WHERE o.id = NEW.order_id AND o.stage NOT IN ('done', 'failed')
              AND l.product = NEW.product AND l.qty = NEW.qty);
END;
CREATE TRIGGER order_done_when_sold BEFORE UPDATE OF stage ON orders
WHEN NEW.stage = 'done' AND OLD.stage <> 'done'
BEGIN
    SELECT RAISE(ABORT, 'an order is done only when every line is sold')
        WHERE (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
            <> (SELECT COUNT(*) FROM order_lines WHERE order_id = NEW.id);
END;
CREATE TRIGGER new_order INSTEAD OF INSERT ON new_orders
WHEN NOT EXISTS (SELECT 1 FROM orders WHERE id = NEW.id)
BEGIN
    INSERT INTO orders (id, customer, total_cents, stage, owner, created_ms, updated_ms,
                        trace_parent)
        VALUES (NEW.id, NEW.customer, NEW.total_cents, 'accepted', NEW.owner, NEW.created_ms,
                NEW.created_ms, NEW.trace_parent);
    INSERT INTO order_lines (order_id, line, product, qty)
        SELECT NEW.id, key + 1, json_extract(value, '$[0]'), json_extract(value, '$[1]')
        FROM json_each(NEW.lines);
END;
"#,
    ),
    (
        8,
        r#"
-- The move to done is the sale: in the same statement, an order that is paying sells every
-- line it holds, and the move is refused (the sale with it) unless every line is then sold. So
-- finishing an order is one write and one commit instead of a sale and a move. Lines already
-- sold stay sold; an order that is not paying sells nothing (then only an order sold before
-- may become done). The order's row is not yet written when this runs, so the sale's own
-- rule (sold only while the order is paying) reads the stage the order had.
DROP TRIGGER order_done_when_sold;
CREATE TRIGGER order_done_when_sold BEFORE UPDATE OF stage ON orders
WHEN NEW.stage = 'done' AND OLD.stage <> 'done'
BEGIN
    UPDATE reservations SET state = 'sold'
        WHERE order_id = NEW.id AND state = 'held' AND OLD.stage = 'paying';
    SELECT RAISE(ABORT, 'an order is done only when every line is sold')
        WHERE (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
            <> (SELECT COUNT(*) FROM order_lines WHERE order_id = NEW.id);
END;
"#,
    ),
];

/// The newest schema version this release knows.
pub fn latest() -> i64 {
    crate::store::newest(MIGRATIONS)
}
