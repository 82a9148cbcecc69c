//! PostgreSQL's schema migrations, applied in order at start inside one transaction that first
//! takes a transaction-scoped advisory lock, so nodes starting at once on a fresh database
//! wait for each other instead of racing. Their versions count on their own (SQLite's are in
//! `sqlite/migrations.rs`); a migration is never edited once released: a change is a new
//! version.
//!
//! Version 1 is SQLite's versions 1 to 4 in one: the same tables and the same rules, as
//! plpgsql triggers. Where SQLite's single writer makes a check-then-write safe, PostgreSQL's
//! concurrent writers need a lock, so every write that touches an order's holds locks the
//! order's row first (`FOR UPDATE`), then products in id order: one lock order everywhere,
//! so two writers never deadlock and no check is made on a snapshot a concurrent commit has
//! already made stale. Writes that need several statements are functions, called as one
//! statement (`ringshop_reserve`, `ringshop_sell`, `ringshop_release`,
//! `ringshop_release_stray`), which also saves round trips. Version 4 moves an order's lines
//! into a table of their own (SQLite's version 6).

/// The key of the advisory lock held while migrating ("ringshop" in ASCII).
pub const LOCK_KEY: i64 = 0x7269_6e67_7368_6f70;

/// (version, SQL). Versions start at 1 and have no gaps.
pub const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        r#"
-- The store's clock: the server's, in ms since the Unix epoch. Every heartbeat, vote, hold
-- and order time is stamped with it, and every silence and age measured against it.
CREATE FUNCTION ringshop_now_ms() RETURNS bigint LANGUAGE sql STABLE
    AS $$ SELECT (extract(epoch FROM now()) * 1000)::bigint $$;

-- Membership (the Orleans pattern): a row per member; the epoch in meta moves with every
-- change, and each change is logged with its epoch, in the changing statement's transaction.
CREATE TABLE members (
    name         text PRIMARY KEY,
    addr         text NOT NULL,
    incarnation  bigint NOT NULL,
    status       text NOT NULL CHECK (status IN ('joining', 'active', 'leaving', 'left', 'dead')),
    heartbeat_ms bigint NOT NULL,
    joined_ms    bigint NOT NULL,
    acked_epoch  bigint NOT NULL DEFAULT 0
);
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO meta (key, value) VALUES ('epoch', 0);
CREATE TABLE members_log (
    epoch       bigint PRIMARY KEY,
    name        text NOT NULL,
    addr        text NOT NULL,
    incarnation bigint NOT NULL,
    status      text NOT NULL
);
-- The meta row's lock orders concurrent changes: epochs follow commit order, one per change.
CREATE FUNCTION members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next bigint;
BEGIN
    UPDATE meta SET value = value + 1 WHERE key = 'epoch' RETURNING value INTO next;
    INSERT INTO members_log (epoch, name, addr, incarnation, status)
        VALUES (next, NEW.name, NEW.addr, NEW.incarnation, NEW.status);
    RETURN NULL;
END $$;
CREATE TRIGGER members_joined AFTER INSERT ON members
    FOR EACH ROW EXECUTE FUNCTION members_changed();
CREATE TRIGGER members_changed AFTER UPDATE OF addr, incarnation, status ON members
    FOR EACH ROW
    WHEN (OLD.addr IS DISTINCT FROM NEW.addr OR OLD.incarnation IS DISTINCT FROM NEW.incarnation
          OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION members_changed();
CREATE TABLE votes (
    target      text NOT NULL,
    incarnation bigint NOT NULL,
    voter       text NOT NULL,
    at_ms       bigint NOT NULL,
    PRIMARY KEY (target, incarnation, voter)
);

-- The shop. For every product, at every commit:
--   initial = stock_left + sold + (units of its reservations still 'held').
CREATE TABLE products (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    category    text NOT NULL,
    price_cents bigint NOT NULL CHECK (price_cents > 0),
    initial     bigint NOT NULL CHECK (initial >= 0),
    stock_left  bigint NOT NULL CHECK (stock_left >= 0),
    sold        bigint NOT NULL DEFAULT 0 CHECK (sold >= 0),
    version     bigint NOT NULL DEFAULT 0
);
-- Lines are 'product:qty' joined by ','; product ids hold neither character.
CREATE TABLE orders (
    id          text PRIMARY KEY,
    customer    text NOT NULL,
    lines       text NOT NULL,
    total_cents bigint NOT NULL,
    stage       text NOT NULL
                CHECK (stage IN ('accepted', 'reserving', 'paying', 'done', 'failed')),
    reason      text,
    owner       text NOT NULL,
    created_ms  bigint NOT NULL,
    updated_ms  bigint NOT NULL,
    version     bigint NOT NULL DEFAULT 0
);
CREATE INDEX orders_by_customer ON orders (customer, created_ms);
CREATE INDEX orders_open ON orders (stage) WHERE stage NOT IN ('done', 'failed');
CREATE TABLE reservations (
    order_id text NOT NULL,
    product  text NOT NULL,
    qty      bigint NOT NULL CHECK (qty > 0),
    state    text NOT NULL CHECK (state IN ('held', 'released', 'sold')),
    held_ms  bigint NOT NULL,
    PRIMARY KEY (order_id, product)
);
CREATE INDEX reservations_held ON reservations (held_ms) WHERE state = 'held';

CREATE FUNCTION ringshop_line_count(lines text) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT COALESCE(array_length(string_to_array(lines, ','), 1), 0)::bigint $$;

-- A hold belongs to one line of an open order. Checked (under the order's row lock) before
-- the row goes in, on a conflicting insert too: a line of a final order is refused, held or
-- not.
CREATE FUNCTION reservation_for_open_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM orders o
        WHERE o.id = NEW.order_id AND o.stage NOT IN ('done', 'failed')
          AND strpos(',' || o.lines || ',', ',' || NEW.product || ':' || NEW.qty || ',') > 0
        FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no open order line';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reservation_for_open_order BEFORE INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservation_for_open_order();

-- A new hold takes its stock in the same statement, or the statement fails: the conditional
-- UPDATE re-reads the product's row under its lock, so no interleaving oversells.
CREATE FUNCTION reservation_held() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE products SET stock_left = stock_left - NEW.qty, version = version + 1
        WHERE id = NEW.product AND stock_left >= NEW.qty;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT 1 FROM products WHERE id = NEW.product) THEN
            RAISE EXCEPTION 'unknown product';
        END IF;
        RAISE EXCEPTION 'out of stock';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reservation_held AFTER INSERT ON reservations
    FOR EACH ROW EXECUTE FUNCTION reservation_held();

-- Holds move held -> released | sold, once.
CREATE FUNCTION reservation_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a released or sold hold is final';
END $$;
CREATE TRIGGER reservation_final BEFORE UPDATE OF state ON reservations
    FOR EACH ROW WHEN (OLD.state <> 'held' AND NEW.state IS DISTINCT FROM OLD.state)
    EXECUTE FUNCTION reservation_final();

CREATE FUNCTION reservation_sold_while_paying() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM orders WHERE id = NEW.order_id AND stage = 'paying') THEN
        RAISE EXCEPTION 'a hold is sold only while its order is paying';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER reservation_sold_while_paying BEFORE UPDATE OF state ON reservations
    FOR EACH ROW WHEN (OLD.state = 'held' AND NEW.state = 'sold')
    EXECUTE FUNCTION reservation_sold_while_paying();

CREATE FUNCTION reservation_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.state = 'released' THEN
        UPDATE products SET stock_left = stock_left + OLD.qty, version = version + 1
            WHERE id = OLD.product;
    ELSE
        UPDATE products SET sold = sold + OLD.qty, version = version + 1 WHERE id = OLD.product;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER reservation_moved AFTER UPDATE OF state ON reservations
    FOR EACH ROW WHEN (OLD.state = 'held' AND NEW.state IN ('released', 'sold'))
    EXECUTE FUNCTION reservation_moved();

-- An order is done only with every line sold, and fails only with none sold.
CREATE FUNCTION order_done_when_sold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
        <> ringshop_line_count(NEW.lines) THEN
        RAISE EXCEPTION 'an order is done only when every line is sold';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER order_done_when_sold BEFORE UPDATE OF stage ON orders
    FOR EACH ROW WHEN (NEW.stage = 'done' AND OLD.stage <> 'done')
    EXECUTE FUNCTION order_done_when_sold();

CREATE FUNCTION order_failed_unsold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM reservations WHERE order_id = NEW.id AND state = 'sold') THEN
        RAISE EXCEPTION 'an order with sold lines cannot fail';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER order_failed_unsold BEFORE UPDATE OF stage ON orders
    FOR EACH ROW WHEN (NEW.stage = 'failed' AND OLD.stage <> 'failed')
    EXECUTE FUNCTION order_failed_unsold();

-- Failing an order gives back what it holds in the same statement (products in id order).
CREATE FUNCTION order_failed_releases() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line record;
BEGIN
    FOR line IN SELECT product FROM reservations
                WHERE order_id = NEW.id AND state = 'held' ORDER BY product LOOP
        UPDATE reservations SET state = 'released'
            WHERE order_id = NEW.id AND product = line.product AND state = 'held';
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER order_failed_releases AFTER UPDATE OF stage ON orders
    FOR EACH ROW WHEN (NEW.stage = 'failed' AND OLD.stage <> 'failed')
    EXECUTE FUNCTION order_failed_releases();

-- Holds p_qty of p_product for p_order (the triggers above check and take the stock), and reads
-- the truth after, in one round trip: what happened ('fresh', 'existing', or the refusal the
-- triggers raised), the stock left and the order's hold on the product.
CREATE FUNCTION ringshop_reserve(p_order text, p_product text, p_qty bigint, p_now bigint)
RETURNS TABLE (outcome text, stock bigint, hold text) LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        INSERT INTO reservations (order_id, product, qty, state, held_ms)
            VALUES (p_order, p_product, p_qty, 'held', p_now)
            ON CONFLICT (order_id, product) DO NOTHING;
        outcome := CASE WHEN FOUND THEN 'fresh' ELSE 'existing' END;
    EXCEPTION WHEN raise_exception THEN
        outcome := SQLERRM;
    END;
    SELECT p.stock_left, r.state INTO stock, hold FROM products p
        LEFT JOIN reservations r ON r.product = p.id AND r.order_id = p_order
        WHERE p.id = p_product;
    RETURN NEXT;
END $$;

-- Gives back one hold of an order (the order's row locked first); whether it was held.
CREATE FUNCTION ringshop_release(p_order text, p_product text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM orders WHERE id = p_order FOR UPDATE;
    UPDATE reservations SET state = 'released'
        WHERE order_id = p_order AND product = p_product AND state = 'held';
    RETURN FOUND;
END $$;

-- Sells every hold of a paying order, all or nothing: only if every line is held or sold.
-- How many lines this call sold.
CREATE FUNCTION ringshop_sell(p_order text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    lines_text text;
    line record;
    sold bigint := 0;
BEGIN
    SELECT lines INTO lines_text FROM orders WHERE id = p_order AND stage = 'paying' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF (SELECT COUNT(*) FROM reservations WHERE order_id = p_order AND state IN ('held', 'sold'))
        <> ringshop_line_count(lines_text) THEN
        RETURN 0;
    END IF;
    FOR line IN SELECT product FROM reservations
                WHERE order_id = p_order AND state = 'held' ORDER BY product LOOP
        UPDATE reservations SET state = 'sold'
            WHERE order_id = p_order AND product = line.product AND state = 'held';
        sold := sold + 1;
    END LOOP;
    RETURN sold;
END $$;

-- Gives back one stray hold: still held, taken before p_held_before, its order over or
-- missing. Whether it did.
CREATE FUNCTION ringshop_release_stray(p_order text, p_product text, p_held_before bigint)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM orders WHERE id = p_order FOR UPDATE;
    UPDATE reservations SET state = 'released'
        WHERE order_id = p_order AND product = p_product AND state = 'held'
          AND held_ms < p_held_before
          AND NOT EXISTS (SELECT 1 FROM orders o
                          WHERE o.id = p_order AND o.stage NOT IN ('done', 'failed'));
    RETURN FOUND;
END $$;
"#,
    ),
    (
        2,
        r#"
-- The trace the order was placed in (W3C traceparent), so a job resumed later, here or on
-- another node, goes on in the checkout's trace. NULL when the placing call was not traced.
ALTER TABLE orders ADD COLUMN trace_parent text;
"#,
    ),
    (
        3,
        r#"
-- Ids a person can type: `LIKE 'prefix%'` on an order's id uses this index whatever the
-- database's collation (the primary key's index follows the collation, and LIKE cannot use it
-- unless that is C).
CREATE INDEX orders_id_prefix ON orders (id text_pattern_ops);
"#,
    ),
    (
        4,
        r#"
-- An order's lines in a table of their own, keyed by order and product (an order lists a
-- product once), with their place in the order as it was placed, instead of the text
-- 'product:qty,...' in orders.lines. Existing orders' lines move here, then the column goes.
CREATE TABLE order_lines (
    order_id text NOT NULL,
    line     integer NOT NULL,
    product  text NOT NULL,
    qty      bigint NOT NULL CHECK (qty > 0),
    PRIMARY KEY (order_id, product)
);
INSERT INTO order_lines (order_id, line, product, qty)
    SELECT o.id, item.line, split_part(item.text, ':', 1), split_part(item.text, ':', 2)::bigint
    FROM orders o, unnest(string_to_array(o.lines, ',')) WITH ORDINALITY AS item (text, line);

-- The rules that read the lines read them from the table (the order's row is still locked
-- first, as everywhere).
CREATE OR REPLACE FUNCTION reservation_for_open_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM orders o
        WHERE o.id = NEW.order_id AND o.stage NOT IN ('done', 'failed')
          AND EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o.id
                      AND l.product = NEW.product AND l.qty = NEW.qty)
        FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no open order line';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION order_done_when_sold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
        <> (SELECT COUNT(*) FROM order_lines WHERE order_id = NEW.id) THEN
        RAISE EXCEPTION 'an order is done only when every line is sold';
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ringshop_sell(p_order text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    line record;
    sold bigint := 0;
BEGIN
    PERFORM 1 FROM orders WHERE id = p_order AND stage = 'paying' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;
    IF (SELECT COUNT(*) FROM reservations WHERE order_id = p_order AND state IN ('held', 'sold'))
        <> (SELECT COUNT(*) FROM order_lines WHERE order_id = p_order) THEN
        RETURN 0;
    END IF;
    FOR line IN SELECT product FROM reservations
                WHERE order_id = p_order AND state = 'held' ORDER BY product LOOP
        UPDATE reservations SET state = 'sold'
            WHERE order_id = p_order AND product = line.product AND state = 'held';
        sold := sold + 1;
    END LOOP;
    RETURN sold;
END $$;

ALTER TABLE orders DROP COLUMN lines;
DROP FUNCTION ringshop_line_count(text);
"#,
    ),
    (
        5,
        r#"
-- The move to done is the sale: in the same statement, an order that is paying sells every
-- line it holds (in product order, the order's row locked first by the update itself), and the
-- move is refused, the sale with it, unless every line is then sold. So finishing an order is
-- one statement and one commit instead of a sale and a move. Lines already sold stay sold; an
-- order that is not paying sells nothing. The order's row is not yet written when this runs, so
-- the sale's own rule (sold only while the order is paying) reads the stage the order had.
CREATE OR REPLACE FUNCTION order_done_when_sold() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    line record;
BEGIN
    IF OLD.stage = 'paying' THEN
        FOR line IN SELECT product FROM reservations
                    WHERE order_id = NEW.id AND state = 'held' ORDER BY product LOOP
            UPDATE reservations SET state = 'sold'
                WHERE order_id = NEW.id AND product = line.product AND state = 'held';
        END LOOP;
    END IF;
    IF (SELECT COUNT(*) FROM reservations WHERE order_id = NEW.id AND state = 'sold')
        <> (SELECT COUNT(*) FROM order_lines WHERE order_id = NEW.id) THEN
        RAISE EXCEPTION 'an order is done only when every line is sold';
    END IF;
    RETURN NEW;
END $$;
"#,
    ),
];

/// The newest schema version this release knows.
pub fn latest() -> i64 {
    crate::store::newest(MIGRATIONS)
}
