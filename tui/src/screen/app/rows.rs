//! The rows the screen shows and the small vocabularies around them: tabs, cache states, the
//! members' sort column, product and cart rows, log lines and toasts. Plain data.

use std::time::{Duration, Instant};

use ringshop_shared::trace::TraceId;
use ringshop_shared::{NodeId, ProductId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Tab {
    Shop,
    Cart,
    Orders,
    Cluster,
    Demo,
}

impl Tab {
    pub const ALL: [Tab; 5] = [Tab::Shop, Tab::Cart, Tab::Orders, Tab::Cluster, Tab::Demo];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Shop => "Shop",
            Tab::Cart => "Cart",
            Tab::Orders => "Orders",
            Tab::Cluster => "Cluster",
            Tab::Demo => "Demo",
        }
    }

    pub(crate) fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).unwrap_or(0)
    }
}

/// Where a quote came from: its owner's cache, a fresh computation, a change its owner
/// published (live stock), or the last one seen (its owner did not answer).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cache {
    Hit,
    Miss,
    Live,
    Stale,
}

impl Cache {
    pub fn word(self) -> &'static str {
        match self {
            Cache::Hit => "hit",
            Cache::Miss => "miss",
            Cache::Live => "live",
            Cache::Stale => "STALE",
        }
    }
}

/// The members table's sort column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortColumn {
    #[default]
    Name,
    State,
    Share,
    Actors,
    HitRate,
    P99,
    Rate,
}

impl SortColumn {
    pub const ALL: [SortColumn; 7] = [
        SortColumn::Name,
        SortColumn::State,
        SortColumn::Share,
        SortColumn::Actors,
        SortColumn::HitRate,
        SortColumn::P99,
        SortColumn::Rate,
    ];

    pub fn next(self) -> SortColumn {
        let i = SortColumn::ALL.iter().position(|c| *c == self).unwrap_or(0);
        SortColumn::ALL[(i + 1) % SortColumn::ALL.len()]
    }

    /// The heading of the column it sorts.
    pub fn heading(self) -> &'static str {
        match self {
            SortColumn::Name => "name",
            SortColumn::State => "status",
            SortColumn::Share => "share",
            SortColumn::Actors => "actors",
            SortColumn::HitRate => "hit %",
            SortColumn::P99 => "p99",
            SortColumn::Rate => "req/s",
        }
    }
}

/// How long a product's stock shows it has just moved (▼ ▲).
pub const MOVED_FOR: Duration = Duration::from_secs(3);

#[derive(Clone, Debug, PartialEq)]
pub struct ProductRow {
    pub id: ProductId,
    pub name: String,
    pub category: String,
    pub price_cents: u64,
    pub stock: u32,
    pub node: NodeId,
    pub cache: Cache,
    /// How old the quote was when it was asked for (or published); it ages from `seen_at`.
    pub age: Duration,
    pub seen_at: Instant,
    /// The stock before the last change its owner published, and when that came: the row
    /// marks it ▼ or ▲ for `MOVED_FOR`.
    pub was: Option<(u32, Instant)>,
}

impl ProductRow {
    /// The quote's age now.
    pub fn age_at(&self, now: Instant) -> Duration {
        self.age
            .saturating_add(now.saturating_duration_since(self.seen_at))
    }

    /// ▼ or ▲ while its stock has just moved, else nothing.
    pub fn moved(&self, now: Instant) -> &'static str {
        match self.was {
            Some((was, at)) if now.saturating_duration_since(at) < MOVED_FOR => {
                if self.stock < was { "▼" } else { "▲" }
            }
            _ => "",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct CartLine {
    pub product: ProductId,
    pub name: String,
    pub price_cents: u64,
    pub qty: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LogLine {
    pub what: String,
    pub node: Option<NodeId>,
    pub hit: Option<bool>,
    pub latency: Duration,
    pub failover: bool,
    pub error: Option<String>,
    /// How many times in a row this happened (a repeated failure is one line, counted).
    pub count: u32,
    /// The trace of the action it was part of (`ringshop trace ID` shows it whole).
    pub trace: Option<TraceId>,
}

impl LogLine {
    /// A call's line: what, where, how fast.
    pub fn call(what: impl Into<String>, node: Option<NodeId>, latency: Duration) -> LogLine {
        LogLine {
            what: what.into(),
            node,
            hit: None,
            latency,
            failover: false,
            error: None,
            count: 1,
            trace: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    pub born: Instant,
    /// How many times it happened since it was shown (shown as ×N past 1).
    pub count: u32,
}

impl Toast {
    /// As shown: a mark, the text, and the count when it repeated.
    pub fn shown(&self) -> String {
        let mark = if self.error { "✗" } else { "✓" };
        match self.count {
            0 | 1 => format!("{mark} {}", self.text),
            n => format!("{mark} {} ×{n}", self.text),
        }
    }
}
