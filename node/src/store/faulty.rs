//! A store that fails on purpose, for tests of everything above the store: `FaultyStore`
//! wraps any backend and, by the rules in its `Faults`, turns calls into the failures a real
//! database gives (a full disk, an I/O error, a busy lock, a lost connection, one lost after
//! its commit, a slow answer). Rules pick calls by method name or by access (every write,
//! every read) and fire at a rate; `Faults` is shared, so a test can change the rules while
//! nodes run and count what was injected.
//!
//! It never changes what the inner store answers when it lets a call through: a fault is
//! either before the call (nothing was done) or, for `LostAfter`, after it (done, but the
//! caller cannot know), which is what makes a caller's retry prove itself idempotent.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ringshop_shared::prefix::{Found, IdPrefix};
use ringshop_shared::wire::{ClusterTiming, MemberStatus, Membership};
use ringshop_shared::{NewOrder, NodeId, Order, OrderId, Product, ProductId, Stage};

use async_trait::async_trait;

use super::{
    Audit, Books, Catalog, Change, Entry, Finish, HoldState, Joined, OrderAudit, Orders,
    Reservation, Roster, Store, StoreError, StoredOrder, StrayHold,
};

/// What a method does to the database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// One failure a rule injects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The disk is full (writes only, as on a real disk): nothing was written.
    Full,
    /// A disk I/O error: nothing was done.
    Io,
    /// The lock stayed busy past the store's patience: nothing was done.
    Busy,
    /// The connection broke before the call reached the database.
    Lost,
    /// The call was done (committed), then the connection broke before its answer.
    LostAfter,
    /// The answer comes this much later.
    Slow(Duration),
    /// The call waits for as long as the rule stands, then goes on (a store that stopped
    /// answering, or what a frozen process's calls look like from outside).
    Hang,
}

/// How often a hanging call looks whether its rule still stands.
const HANG_POLL: Duration = Duration::from_millis(10);

/// Which calls a rule fires on, how often and what it does.
#[derive(Clone, Debug)]
pub struct Rule {
    /// A `Store` method's name (`"create_order"`), or None for every method of `access`.
    pub method: Option<&'static str>,
    /// Reads, writes, or both (None).
    pub access: Option<Access>,
    pub fault: Fault,
    /// The share of matching calls it fires on, 0.0..=1.0.
    pub rate: f64,
}

impl Rule {
    /// `fault` on `rate` of every write.
    pub fn writes(fault: Fault, rate: f64) -> Rule {
        Rule {
            method: None,
            access: Some(Access::Write),
            fault,
            rate,
        }
    }

    /// `fault` on `rate` of the calls of one method.
    pub fn method(method: &'static str, fault: Fault, rate: f64) -> Rule {
        Rule {
            method: Some(method),
            access: None,
            fault,
            rate,
        }
    }

    fn matches(&self, method: &str, access: Access) -> bool {
        self.method.is_none_or(|m| m == method)
            && self.access.is_none_or(|a| a == access)
            && (self.fault != Fault::Full || access == Access::Write)
    }
}

/// The rules, shared by every `FaultyStore` made with them, and what they injected.
#[derive(Clone, Default)]
pub struct Faults {
    rules: Arc<Mutex<Vec<Rule>>>,
    injected: Arc<AtomicU64>,
}

impl Faults {
    pub fn new() -> Faults {
        Faults::default()
    }

    /// Replaces the rules (an empty list heals the store).
    pub fn set(&self, rules: Vec<Rule>) {
        *self.rules() = rules;
    }

    pub fn heal(&self) {
        self.set(Vec::new());
    }

    /// Failures injected so far (slow answers not counted).
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    fn rules(&self) -> std::sync::MutexGuard<'_, Vec<Rule>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a `Hang` rule stands for this call.
    fn hangs(&self, method: &str, access: Access) -> bool {
        self.rules()
            .iter()
            .any(|r| r.fault == Fault::Hang && r.matches(method, access))
    }

    /// The faults that fire on this call, drawn now: at most one failure, and a delay.
    fn draw(&self, method: &str, access: Access) -> (Option<Fault>, Duration) {
        let (mut failure, mut delay) = (None, Duration::ZERO);
        for rule in self.rules().iter() {
            if !rule.matches(method, access) || fastrand::f64() >= rule.rate {
                continue;
            }
            match rule.fault {
                Fault::Slow(d) => delay = delay.max(d),
                Fault::Hang => {}
                other if failure.is_none() => failure = Some(other),
                _ => {}
            }
        }
        (failure, delay)
    }
}

fn error(fault: Fault, what: &'static str) -> StoreError {
    let reason = |text: &str| format!("injected: {text}");
    match fault {
        Fault::Full => StoreError::Full {
            what,
            reason: reason("database or disk is full"),
        },
        Fault::Io => StoreError::Query {
            what,
            reason: reason("disk I/O error"),
        },
        Fault::Busy => StoreError::Busy {
            reason: reason("database is locked"),
        },
        Fault::Lost | Fault::LostAfter | Fault::Slow(_) | Fault::Hang => StoreError::Lost {
            what,
            reason: reason("connection to the database lost"),
        },
    }
}

/// A store whose calls fail as its `Faults` say.
pub struct FaultyStore {
    inner: Arc<dyn Store>,
    faults: Faults,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn Store>, faults: Faults) -> FaultyStore {
        FaultyStore { inner, faults }
    }

    /// Runs `call` on the inner store unless a fault fires first (or after it, `LostAfter`).
    async fn run<T>(
        &self,
        method: &'static str,
        access: Access,
        call: impl Future<Output = Result<T, StoreError>> + Send,
    ) -> Result<T, StoreError> {
        while self.faults.hangs(method, access) {
            tokio::time::sleep(HANG_POLL).await;
        }
        let (failure, delay) = self.faults.draw(method, access);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        match failure {
            None => call.await,
            Some(Fault::LostAfter) => {
                let _ = call.await;
                self.faults.injected.fetch_add(1, Ordering::Relaxed);
                Err(error(Fault::LostAfter, method))
            }
            Some(fault) => {
                self.faults.injected.fetch_add(1, Ordering::Relaxed);
                Err(error(fault, method))
            }
        }
    }
}

/// The one place a call is forwarded: each part of the store, each of its methods once, named
/// and classed as listed, through `FaultyStore::run`.
macro_rules! faulty {
    ($($part:ident {
        $($access:ident $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty;)*
    })*) => {
        $(
            #[async_trait]
            impl $part for FaultyStore {
                $(
                    async fn $name(&self $(, $arg: $ty)*) -> Result<$ret, StoreError> {
                        let call = self.inner.$name($($arg),*);
                        self.run(stringify!($name), Access::$access, call).await
                    }
                )*
            }
        )*
    };
}

faulty! {
    Roster {
        Write join(name: &NodeId, addr: SocketAddr, suspicion: Duration) -> Joined;
        Write heartbeat(name: &NodeId, incarnation: u64) -> bool;
        Write set_status(name: &NodeId, incarnation: u64, status: MemberStatus) -> bool;
        Write settle_timing(me: &NodeId, proposed: ClusterTiming) -> ClusterTiming;
        Write reap(suspicion: Duration) -> Vec<NodeId>;
        Write mark_dead(name: &NodeId, incarnation: u64) -> bool;
        Read epoch() -> u64;
        Write ack(name: &NodeId, incarnation: u64, epoch: u64) -> bool;
        Read changes_since(epoch: u64, limit: u32) -> Vec<Change>;
        Write vote(
            target: &NodeId,
            incarnation: u64,
            voter: &NodeId,
            window: Duration,
            needed: u32,
        ) -> bool;
        Read membership() -> Membership;
    }
    Catalog {
        Write seed(entries: &[Entry]) -> ();
        Read products() -> Vec<(Product, u32)>;
        Read product(id: &ProductId) -> Option<(Product, u32)>;
    }
    Orders {
        Write create_order(
            order: &NewOrder,
            total_cents: u64,
            owner: &NodeId,
            trace_parent: Option<&str>,
        ) -> StoredOrder;
        Read order(id: OrderId) -> Option<StoredOrder>;
        Write advance(
            cur: &StoredOrder,
            to: Stage,
            owner: &NodeId,
            reason: Option<&str>,
        ) -> Option<StoredOrder>;
        Read open_orders() -> Vec<StoredOrder>;
        Read orders(customer: Option<&str>, limit: u32) -> Vec<Order>;
        Read orders_by_prefix(prefix: &IdPrefix, limit: u32) -> Found<Order>;
        Read audit_orders() -> OrderAudit;
    }
    // `reserve_many` is the trait's own: one `reserve` after the other, each faulted alone.
    Books {
        Write reserve(order: OrderId, product: &ProductId, qty: u32) -> Reservation;
        Write release(order: OrderId, product: &ProductId) -> bool;
        Write sell(order: OrderId) -> u64;
        Write finish(cur: &StoredOrder, owner: &NodeId) -> Finish;
        Read holds(order: OrderId) -> Vec<(ProductId, HoldState)>;
        Read stray_holds(older_than: Duration, limit: u32) -> Vec<StrayHold>;
        Write release_stray(order: OrderId, product: &ProductId, older_than: Duration) -> bool;
        Read audit() -> Vec<Audit>;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use ringshop_shared::clock;

    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test(start_paused = true)]
    async fn a_hanging_call_waits_for_the_rule_to_go_then_answers() {
        let faults = Faults::new();
        let store = FaultyStore::new(Arc::new(MemoryStore::new()), faults.clone());
        faults.set(vec![Rule::method("epoch", Fault::Hang, 1.0)]);
        let started = clock::now();
        let call = tokio::spawn(async move { store.epoch().await });
        tokio::time::sleep(Duration::from_secs(30)).await;
        assert!(
            !call.is_finished(),
            "a hanging call answered while its rule stood"
        );
        faults.heal();
        let answer = call.await.expect("the call's task");
        assert!(answer.is_ok(), "{answer:?}");
        assert!(clock::now() - started < Duration::from_secs(31));
        assert_eq!(faults.injected(), 0, "a hang is no failure");
    }
}
