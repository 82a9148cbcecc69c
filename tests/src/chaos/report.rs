//! The result of checking one history: the four properties with counts and examples, and the
//! per-event table. `Display` prints all of it.

use std::fmt;
use std::time::{Duration, SystemTime};

use super::books::Books;
use super::check::{self, Failures, Stale, TwoGenerations};
use super::history::{History, Main, Purchases};
use super::table::{self, Row, Table};

#[derive(Clone, Debug)]
pub struct Report {
    /// The load's start: the zero of every time shown.
    pub origin: SystemTime,
    pub load: Duration,
    pub calls: usize,
    pub hits: usize,
    /// Calls made by the slow mains and by the fresh mains.
    pub slow_calls: usize,
    pub fresh_calls: usize,
    pub events: usize,
    pub purchases: Purchases,
    /// (a)
    pub failures: Failures,
    /// (b)
    pub two_generations: TwoGenerations,
    /// (c)
    pub stale: Stale,
    /// (d)
    pub books: Books,
    pub table: Vec<Row>,
}

impl Report {
    /// Checks `history` (whose nodes kept values for `ttl`) and takes the books as read.
    pub fn new(history: &History, ttl: Duration, books: Books) -> Report {
        Report {
            origin: history.origin,
            load: history
                .stopped
                .duration_since(history.origin)
                .unwrap_or_default(),
            calls: history.calls.len(),
            hits: history
                .calls
                .iter()
                .filter(|c| c.outcome.as_ref().is_ok_and(|s| s.hit))
                .count(),
            slow_calls: count(history, Main::Slow),
            fresh_calls: count(history, Main::Fresh),
            events: history.events.len(),
            purchases: history.purchases,
            failures: check::failures(history),
            two_generations: check::two_generations(history),
            stale: check::stale_after_resume(history),
            books,
            table: table::rows(history, ttl),
        }
    }

    /// Fails the test, naming the property, unless all four hold.
    pub fn assert_holds(&self) {
        assert!(
            self.ran(),
            "nothing was tested: a run needs value calls, a nemesis event and books of at least one product:\n{self}"
        );
        assert_eq!(self.failures.total(), 0, "(a) failed calls:\n{self}");
        assert_eq!(
            self.two_generations.ids, 0,
            "(b) ids with two live generations:\n{self}"
        );
        assert_eq!(
            self.stale.answers, 0,
            "(c) stale answers after SIGCONT:\n{self}"
        );
        assert!(self.books.balanced(), "(d) books:\n{self}");
    }

    /// Whether the run tested anything: value calls were made, the nemesis did something and
    /// the books covered a product. Without them the four properties hold trivially.
    pub fn ran(&self) -> bool {
        self.calls > 0 && self.events > 0 && self.books.products > 0
    }

    /// The run tested something and all four properties hold.
    pub fn holds(&self) -> bool {
        self.ran()
            && self.failures.total() == 0
            && self.two_generations.ids == 0
            && self.stale.answers == 0
            && self.books.balanced()
    }
}

fn count(h: &History, main: Main) -> usize {
    h.calls.iter().filter(|c| c.main == main).count()
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok  " } else { "FAIL" }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = &self.purchases;
        writeln!(
            f,
            "chaos: {} value calls ({} hits; {} by slow mains, {} by fresh mains) in {:.1} s, {} \
             nemesis events; orders placed {}, done {}, out of stock {}, declined {}, refused \
             store-full {}",
            self.calls,
            self.hits,
            self.slow_calls,
            self.fresh_calls,
            self.load.as_secs_f64(),
            self.events,
            p.placed,
            p.done,
            p.out_of_stock,
            p.declined,
            p.store_full
        )?;
        let a = &self.failures;
        writeln!(
            f,
            "[{}] (a) failed calls: {} ({} value calls, {} buyer failures)",
            verdict(a.total() == 0),
            a.total(),
            a.value_calls,
            a.buyers
        )?;
        for e in &a.examples {
            writeln!(f, "       e.g. {e}")?;
        }
        let b = &self.two_generations;
        writeln!(
            f,
            "[{}] (b) two live generations: {} ids, {} answers of an older generation after a \
             newer one existed",
            verdict(b.ids == 0),
            b.ids,
            b.answers
        )?;
        for e in &b.examples {
            writeln!(
                f,
                "       e.g. {}",
                check::describe_two_live(self.origin, e)
            )?;
        }
        let c = &self.stale;
        writeln!(
            f,
            "[{}] (c) stale answers after a SIGCONT or a heal: {}",
            verdict(c.answers == 0),
            c.answers
        )?;
        for p in &c.pauses {
            writeln!(
                f,
                "       {} {} {:.1} s, {} by the cluster meanwhile; after the {} it answered \
                 {} calls, {} of them stale",
                p.node,
                p.cut_off(),
                p.resumed
                    .duration_since(p.stopped)
                    .unwrap_or_default()
                    .as_secs_f64(),
                if p.declared_dead {
                    "declared dead"
                } else {
                    "NOT declared dead"
                },
                p.ended_by(),
                p.answered_after,
                p.stale
            )?;
            for e in &p.examples {
                writeln!(
                    f,
                    "       e.g. {}",
                    check::describe_stale(self.origin, p, e)
                )?;
            }
        }
        let d = &self.books;
        writeln!(
            f,
            "[{}] (d) books: {} products, {} orders ({} done, {} failed, {} open), {} acknowledged{}",
            verdict(d.balanced()),
            d.products,
            d.orders,
            d.done,
            d.failed,
            d.open,
            d.acknowledged,
            d.settled_in
                .map(|t| format!(", open orders finished {} ms after the load", t.as_millis()))
                .unwrap_or_default()
        )?;
        for problem in d.problems.iter().take(check::EXAMPLES * 2) {
            writeln!(f, "       {problem}")?;
        }
        writeln!(f, "per fault event:")?;
        write!(
            f,
            "{}",
            Table {
                origin: self.origin,
                rows: &self.table
            }
        )
    }
}
