//! Setup shared by the store's tests: a fresh store on any backend (SQLite in a temporary
//! folder, a fresh database on the test binary's throwaway PostgreSQL server, or memory) with
//! a clock the test sets by hand, and the few things a test does behind the store's back.

use std::sync::Arc;

use ringshop_shared::{OrderId, Product, ProductId};

use super::{Clock, Entry, HoldState, MemoryStore, Millis, PgStore, SqliteStore, Store};

/// The backend's own type, for what the `Store` trait does not offer (tests break rules).
pub enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
    Memory(MemoryStore),
}

/// What keeps the database alive: the SQLite file's folder, or the PostgreSQL database.
enum Keep {
    Dir(tempfile::TempDir),
    Db(ringshop_testpg::TestDb),
    Tables(MemoryStore),
}

pub struct Fixture {
    pub store: Arc<dyn Store>,
    pub backend: Backend,
    /// The store's clock, set by hand (starts at 0).
    pub clock: Clock,
    keep: Keep,
}

impl Fixture {
    /// A fresh SQLite file.
    pub async fn sqlite() -> Fixture {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let clock = Clock::manual(0);
        let store = SqliteStore::open(&dir.path().join("s.db"))
            .await
            .expect("opens")
            .with_clock(clock.clone());
        let store = Arc::new(store);
        Fixture {
            store: store.clone(),
            backend: Backend::Sqlite(store),
            clock,
            keep: Keep::Dir(dir),
        }
    }

    /// A fresh PostgreSQL database, or None when the test is skipped (it said why).
    pub async fn postgres(label: &str) -> Option<Fixture> {
        let db = ringshop_testpg::database(label)?;
        let clock = Clock::manual(0);
        let store = PgStore::connect(&db.url)
            .await
            .unwrap_or_else(|e| panic!("{label}: connects to {}: {e}", db.url))
            .with_clock(clock.clone());
        let store = Arc::new(store);
        Some(Fixture {
            store: store.clone(),
            backend: Backend::Postgres(store),
            clock,
            keep: Keep::Db(db),
        })
    }

    /// A fresh store in memory.
    pub fn memory() -> Fixture {
        let clock = Clock::manual(0);
        let store = MemoryStore::new().with_clock(clock.clone());
        Fixture {
            store: Arc::new(store.clone()),
            backend: Backend::Memory(store.clone()),
            clock,
            keep: Keep::Tables(store),
        }
    }

    /// Sets the store's clock.
    pub fn at(&self, now: Millis) -> &Self {
        self.clock.set(now);
        self
    }

    /// Adds 10 mugs and 2 teapots.
    pub async fn seeded(self) -> Fixture {
        let entries = [
            entry("mug", "Mug", "tea", 1200, 10),
            entry("teapot", "Teapot", "tea", 3900, 2),
        ];
        self.store.seed(&entries).await.expect("seeds");
        self
    }

    /// Another store on the same database (a second node), on the same clock.
    pub async fn second(&self) -> Arc<dyn Store> {
        self.another(self.clock.clone()).await
    }

    /// Another store on the same database, on the store's own clock (the machine's for
    /// SQLite, the server's for PostgreSQL).
    pub async fn on_own_clock(&self) -> Arc<dyn Store> {
        self.another(Clock::own()).await
    }

    async fn another(&self, clock: Clock) -> Arc<dyn Store> {
        match &self.keep {
            Keep::Dir(dir) => Arc::new(
                SqliteStore::open(&dir.path().join("s.db"))
                    .await
                    .expect("opens again")
                    .with_clock(clock),
            ),
            Keep::Db(db) => Arc::new(
                PgStore::connect(&db.url)
                    .await
                    .expect("connects again")
                    .with_clock(clock),
            ),
            Keep::Tables(tables) => Arc::new(tables.another(clock)),
        }
    }

    /// Fails `order` keeping its holds, as a database from before the books' rules could.
    pub async fn fail_keeping_holds(&self, order: OrderId) {
        match &self.backend {
            Backend::Sqlite(s) => s.fail_keeping_holds(order).await,
            Backend::Postgres(s) => s.fail_keeping_holds(order).await,
            Backend::Memory(s) => s.fail_keeping_holds(order),
        }
    }

    /// Removes the order's row, leaving its holds with no order.
    pub async fn forget_order(&self, order: OrderId) {
        match &self.backend {
            Backend::Sqlite(s) => s.forget_order(order).await,
            Backend::Postgres(s) => s.forget_order(order).await,
            Backend::Memory(s) => s.forget_order(order),
        }
    }

    /// Moves every hold in state `from` to `to` behind the store's calls, as a writer that
    /// ignores this code would (SQL: one UPDATE); the store's refusal, if any.
    pub async fn move_holds(
        &self,
        from: HoldState,
        to: HoldState,
    ) -> Result<(), super::StoreError> {
        let word = |s: HoldState| match s {
            HoldState::Held => "held",
            HoldState::Released => "released",
            HoldState::Sold => "sold",
        };
        let sql = format!(
            "UPDATE reservations SET state = '{}' WHERE state = '{}'",
            word(to),
            word(from)
        );
        match &self.backend {
            Backend::Sqlite(s) => s.try_sql(&sql).await,
            Backend::Postgres(s) => s.try_sql(&sql).await,
            Backend::Memory(s) => s.move_holds(from, to),
        }
    }
}

pub fn p(id: &str) -> ProductId {
    ProductId::new(id).expect("valid")
}

/// A catalog line: `stock` of product `id` at `price_cents`.
pub fn entry(id: &str, name: &str, category: &str, price_cents: u64, stock: u32) -> Entry {
    Entry {
        product: Product {
            id: p(id),
            name: name.into(),
            category: category.into(),
            price_cents,
        },
        stock,
    }
}

/// `contract_tests!(a, b, ...)`: each async fn `a(Fixture)` in scope runs three times, as
/// `sqlite::a` on a fresh SQLite file, `postgres::a` on a fresh PostgreSQL database (skipped,
/// loudly, without the PostgreSQL binaries unless `RINGSHOP_REQUIRE_PG=1`) and `memory::a` on
/// a fresh store in memory.
macro_rules! contract_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::store::test_support::Fixture::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let label = stringify!($name);
                    if let Some(f) = $crate::store::test_support::Fixture::postgres(label).await {
                        super::$name(f).await;
                    }
                }
            )*
        }
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name($crate::store::test_support::Fixture::memory()).await;
                }
            )*
        }
    };
}
pub(crate) use contract_tests;

/// The open order of `OLD_ORDERS`: a teapot, then two mugs.
pub const OLD_OPEN: &str = "0b5e7d4e-6a43-4c1e-9d7e-1f2a3b4c5d6e";
/// The done order of `OLD_ORDERS`: three mugs.
pub const OLD_DONE: &str = "7c1f0a9b-2d3e-4f50-8a6b-9c0d1e2f3a4b";

/// Products and orders as a release from before `order_lines` stored them (their lines as
/// text in `orders.lines`), in SQL both backends run: the migration tests' old rows.
fn old_orders() -> String {
    format!(
        "INSERT INTO products (id, name, category, price_cents, initial, stock_left)
             VALUES ('mug', 'Mug', 'tea', 1200, 10, 10), ('teapot', 'Teapot', 'tea', 3900, 2, 2);
         INSERT INTO orders (id, customer, lines, total_cents, stage, owner, created_ms,
                             updated_ms, version)
             VALUES ('{OLD_OPEN}', 'ada', 'teapot:1,mug:2', 6300, 'reserving', 'n1', 1000, 1000, 1),
                    ('{OLD_DONE}', 'bob', 'mug:3', 3600, 'done', 'n1', 1000, 2000, 3);"
    )
}

/// Brings the empty database on `conn` to the end of `migrations` (an older release's), as
/// that release would have, and puts `old_orders()` in it.
pub async fn old_database<C>(conn: &mut C, migrations: &[(i64, &str)])
where
    for<'c> &'c mut C: sqlx::Executor<'c>,
{
    let mut sql = String::from("CREATE TABLE schema_version (version BIGINT NOT NULL);\n");
    for (version, step) in migrations {
        sql.push_str(step);
        sql.push_str(&format!(
            "\nINSERT INTO schema_version (version) VALUES ({version});\n"
        ));
    }
    sql.push_str(&old_orders());
    sqlx::raw_sql(&sql)
        .execute(conn)
        .await
        .expect("the old release's database");
}

/// What a store migrated from `old_orders()` must show: every line in its place, the done
/// order's units in the audit, and holds checked against the moved lines.
pub async fn old_lines_were_moved(store: &dyn Store) {
    let id = |text: &str| text.parse::<OrderId>().expect("an order id");
    let lines = |o: Option<super::StoredOrder>| {
        let o = o.expect("the order is still there");
        o.order
            .lines
            .iter()
            .map(|l| (l.product.to_string(), l.qty))
            .collect::<Vec<_>>()
    };
    let open = store.order(id(OLD_OPEN)).await.expect("reads");
    assert_eq!(lines(open), [("teapot".into(), 1), ("mug".into(), 2)]);
    let done = store.order(id(OLD_DONE)).await.expect("reads");
    assert_eq!(lines(done), [("mug".to_string(), 3)]);
    let audit = store.audit().await.expect("audits");
    let mug = audit.iter().find(|a| a.product == p("mug")).expect("mugs");
    assert_eq!(mug.done_units, 3);
    let open = id(OLD_OPEN);
    let mug = p("mug");
    assert!(
        matches!(
            store.reserve(open, &mug, 3).await,
            Err(super::StoreError::NoOpenOrder { qty: 3, .. })
        ),
        "the line is two mugs"
    );
    assert!(matches!(
        store.reserve(open, &mug, 2).await.expect("answers"),
        super::Reservation::Held { left: 8 }
    ));
}
