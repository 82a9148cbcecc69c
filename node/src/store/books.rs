//! The shop's books as the store keeps them: holds (stock reserved for an order's line),
//! sales, stray holds for the reaper, and the audit. The rules are the store's own, checked in
//! the writing statement: a hold belongs to one line of an open order, moves held → released
//! or held → sold once, and an order is done only with every line sold.

use std::time::Duration;

use async_trait::async_trait;
use ringshop_shared::{NodeId, OrderId, ProductId, Reservation, Stage};

use super::{Millis, Orders, Rule, StoreError, StoredOrder};

/// Where one hold is. It moves held → released or held → sold, once (the store refuses any
/// other move).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldState {
    Held,
    Released,
    Sold,
}

impl HoldState {
    pub fn parse(word: &str) -> Option<HoldState> {
        match word {
            "held" => Some(HoldState::Held),
            "released" => Some(HoldState::Released),
            "sold" => Some(HoldState::Sold),
            _ => None,
        }
    }
}

/// A hold still held although its order is over (failed or done) or was never stored: the
/// reaper gives it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StrayHold {
    pub order: OrderId,
    pub product: ProductId,
    pub qty: u32,
    /// The order's stage; None when no order has this id.
    pub stage: Option<Stage>,
    pub held_ms: Millis,
}

/// One product's books.
///
/// At every commit: `initial == left + sold + held`.
/// Once the shop is quiet (no order open, the reaper has run): `held == 0` and
/// `sold == done_units`, i.e. exactly the units of `done` orders were sold. `settled()` checks
/// both, so a test or a chaos checker needs one `Books::audit()` call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audit {
    pub product: ProductId,
    pub initial: u64,
    pub left: u64,
    pub sold: u64,
    pub held: u64,
    /// Units of this product on the lines of orders at stage `done` (read from the orders
    /// themselves, not from their holds, so a line never sold shows up as a difference).
    pub done_units: u64,
}

impl Audit {
    /// `initial == left + sold + held`: true at every commit.
    pub fn balanced(&self) -> bool {
        self.left
            .checked_add(self.sold)
            .and_then(|n| n.checked_add(self.held))
            == Some(self.initial)
    }

    /// Balanced, nothing held, and sold exactly the units of `done` orders: true once no order
    /// is open and stray holds were reaped.
    pub fn settled(&self) -> bool {
        self.balanced() && self.held == 0 && self.sold == self.done_units
    }
}

/// What came of finishing a paying order (`Books::finish`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Sold and done.
    Done(Box<StoredOrder>),
    /// Another node moved the order first: this job stops.
    Moved,
    /// A line is not sold: the order's holds, to say which.
    Unsold(Vec<(ProductId, HoldState)>),
}

/// The books' part of the store (holds belong to orders, hence `Orders`).
#[async_trait]
pub trait Books: Orders {
    /// Holds `qty` of `product` for `order` (taken at the store's now), if `order` is stored,
    /// not done or failed, and has exactly this line, and the stock covers it; checked in the
    /// inserting statement. Holding twice for one order and product holds once; a released or
    /// sold hold is never held again: the answer says which. Refused, typed: `OutOfStock`,
    /// `UnknownProduct`, `NoOpenOrder`, `HoldReleased`.
    async fn reserve(
        &self,
        order: OrderId,
        product: &ProductId,
        qty: u32,
    ) -> Result<Reservation, StoreError>;

    /// `reserve` for several orders of one `product` (each ask's own answer, in order), which a
    /// backend may do in fewer round trips: then the `left` of `Held` and of an `OutOfStock`
    /// refusal is the stock left once all of them were tried. By default, one `reserve` after
    /// the other.
    async fn reserve_many(
        &self,
        product: &ProductId,
        asks: &[(OrderId, u32)],
    ) -> Vec<Result<Reservation, StoreError>> {
        let mut answers = Vec::with_capacity(asks.len());
        for (order, qty) in asks {
            answers.push(self.reserve(*order, product, *qty).await);
        }
        answers
    }

    /// Gives back what `order` holds of `product`; false if it held nothing.
    async fn release(&self, order: OrderId, product: &ProductId) -> Result<bool, StoreError>;

    /// Marks everything `order` holds sold, all or nothing: only while the order is `paying`
    /// and every one of its lines is held or sold. How many lines this call sold; `holds` tells
    /// whether the order is bought.
    async fn sell(&self, order: OrderId) -> Result<u64, StoreError>;

    /// Sells the paying order `cur` and moves it to `done` (owned by `owner`), in one write: the
    /// move to done is the sale (every backend's rule: a paying order sells what it holds, all
    /// or nothing, and is refused unless every line is then sold). Done, Moved (another node
    /// moved it first) or Unsold with its holds (a line is not held: the job fails the order).
    async fn finish(&self, cur: &StoredOrder, owner: &NodeId) -> Result<Finish, StoreError> {
        match self.advance(cur, Stage::Done, owner, None).await {
            Ok(Some(done)) => Ok(Finish::Done(Box::new(done))),
            Ok(None) => Ok(Finish::Moved),
            Err(StoreError::Refused {
                rule: Rule::DoneOnlyWhenSold,
                ..
            }) => Ok(Finish::Unsold(self.holds(cur.order.id).await?)),
            Err(e) => Err(e),
        }
    }

    /// Every hold `order` has, by product.
    async fn holds(&self, order: OrderId) -> Result<Vec<(ProductId, HoldState)>, StoreError>;

    /// Holds held for longer than `older_than` (on the store's clock) whose order is failed,
    /// done or not stored, oldest first, at most `limit`.
    async fn stray_holds(
        &self,
        older_than: Duration,
        limit: u32,
    ) -> Result<Vec<StrayHold>, StoreError>;

    /// Gives back one stray hold if it is still held, for longer than `older_than`, and its
    /// order is still over or missing, in one statement; false if it was not (any more).
    async fn release_stray(
        &self,
        order: OrderId,
        product: &ProductId,
        older_than: Duration,
    ) -> Result<bool, StoreError>;

    /// Every product's books, in one statement (see `Audit` for what holds when).
    async fn audit(&self) -> Result<Vec<Audit>, StoreError>;
}
