//! Setup shared by the store's tests: a fresh store on either backend (SQLite in a temporary
//! folder, or a fresh database on the test binary's throwaway PostgreSQL server) with a clock
//! the test sets by hand, and the few things a test does behind the store's back.

use std::sync::Arc;

use ringshop_shared::{OrderId, ProductId};

use super::{Clock, Millis, PgStore, SqliteStore, Store};
use crate::shop::catalog::parse;

/// The backend's own type, for what the `Store` trait does not offer (tests break rules).
pub enum Backend {
    Sqlite(Arc<SqliteStore>),
    Postgres(Arc<PgStore>),
}

/// What keeps the database alive: the SQLite file's folder, or the PostgreSQL database.
enum Keep {
    Dir(tempfile::TempDir),
    Db(ringshop_testpg::TestDb),
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

    /// Sets the store's clock.
    pub fn at(&self, now: Millis) -> &Self {
        self.clock.set(now);
        self
    }

    /// Adds 10 mugs and 2 teapots.
    pub async fn seeded(self) -> Fixture {
        let entries = parse("t", "mug,Mug,tea,1200,10\nteapot,Teapot,tea,3900,2\n").expect("valid");
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
        }
    }

    /// Fails `order` keeping its holds, as a database from before the books' rules could.
    pub async fn fail_keeping_holds(&self, order: OrderId) {
        match &self.backend {
            Backend::Sqlite(s) => s.fail_keeping_holds(order).await,
            Backend::Postgres(s) => s.fail_keeping_holds(order).await,
        }
    }

    /// Removes the order's row, leaving its holds with no order.
    pub async fn forget_order(&self, order: OrderId) {
        match &self.backend {
            Backend::Sqlite(s) => s.forget_order(order).await,
            Backend::Postgres(s) => s.forget_order(order).await,
        }
    }

    /// Runs `sql` behind the store's back; the database's refusal, if any.
    pub async fn try_sql(&self, sql: &str) -> Result<(), String> {
        match &self.backend {
            Backend::Sqlite(s) => s.try_sql(sql).await,
            Backend::Postgres(s) => s.try_sql(sql).await,
        }
    }
}

pub fn p(id: &str) -> ProductId {
    ProductId::new(id).expect("valid")
}

/// `contract_tests!(a, b, ...)`: each async fn `a(Fixture)` in scope runs twice, as
/// `sqlite::a` on a fresh SQLite file and `postgres::a` on a fresh PostgreSQL database
/// (skipped, loudly, without the PostgreSQL binaries unless `RINGSHOP_REQUIRE_PG=1`).
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
    };
}
pub(crate) use contract_tests;
