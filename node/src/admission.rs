//! Admission: how much work a node takes on at once. Past its bounds it answers `Busy` at
//! once, doing nothing, instead of queueing without end (measured before: 4,096 requests in
//! flight took p99 from 2.6 ms to 90–233 ms, for every client alike).
//!
//! Two bounds, so a light client stays fast while a heavy one is pushed back: up to `soft`
//! requests in flight on the node, every request is taken; past it, up to `hard`, only those
//! of connections with at most `fair` requests in flight (a light client's); past `hard`,
//! none. The caller waits `RETRY_AFTER` and asks again (the routing loop does, within its
//! patience).
//!
//! Never refused: the RPCs the cluster's health rests on (probes, suspicions, handoffs) and
//! those that cost nothing while they wait (long-polls, ping, stats, spans); they are not
//! counted either.
//!
//! A taken request is also timed, from admitted to answered, into the node's latency
//! histogram (`NodeStats::latency`, the p99 the main shows); refused and exempt ones are not.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::latency::Histogram;
use ringshop_shared::service::Rpc;

/// How long a refused caller waits before asking again.
pub const RETRY_AFTER: Duration = Duration::from_millis(5);

/// The bounds on requests in flight on one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Up to this many in flight, every request is taken.
    pub soft: usize,
    /// Past this many, none is (but the exempt ones).
    pub hard: usize,
    /// Between the two, a connection with at most this many in flight still is.
    pub fair: usize,
}

impl Default for Limits {
    /// 512 is ~40 ms of the slowest common work here (a SQLite order write, ~2,000/s on two
    /// cores) and ~5 ms of cached answers; 2,048 bounds the queue a burst of light clients can
    /// build; 16 in flight is more than a person's TUI or a verb ever has.
    fn default() -> Self {
        Limits {
            soft: 512,
            hard: 2_048,
            fair: 16,
        }
    }
}

/// A node's count of requests in flight, shared by its connections.
#[derive(Debug, Default)]
pub struct Admission {
    limits: Limits,
    in_flight: AtomicUsize,
    refused: AtomicU64,
    /// How long taken requests took, admitted to answered.
    latency: Histogram,
}

/// One connection's count of its requests in flight.
pub type Connection = Arc<AtomicUsize>;

/// A taken request: counted in flight until dropped, and timed from when it was taken.
pub struct Ticket {
    node: Arc<Admission>,
    conn: Connection,
    taken: Option<Instant>,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.node.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.conn.fetch_sub(1, Ordering::AcqRel);
        if let Some(taken) = self.taken {
            self.node.latency.record(taken.elapsed());
        }
    }
}

/// What came of asking to take a request.
pub enum Admit {
    /// Taken, and counted while the ticket lives.
    Taken(Ticket),
    /// Taken, not counted (exempt).
    Free,
    /// Refused: answer `Busy`.
    Busy,
}

impl Admission {
    pub fn new(limits: Limits) -> Arc<Admission> {
        Arc::new(Admission {
            limits,
            ..Admission::default()
        })
    }

    /// Takes `rpc` from `conn`, or not, as the module doc says.
    pub fn admit(self: &Arc<Self>, rpc: Rpc, conn: &Connection) -> Admit {
        if exempt(rpc) {
            return Admit::Free;
        }
        let node = self.in_flight.fetch_add(1, Ordering::AcqRel) + 1;
        let mine = conn.fetch_add(1, Ordering::AcqRel) + 1;
        let Limits { soft, hard, fair } = self.limits;
        let mut ticket = Ticket {
            node: self.clone(),
            conn: conn.clone(),
            taken: None,
        };
        if node <= soft || (node <= hard && mine <= fair) {
            ticket.taken = Some(clock::now());
            return Admit::Taken(ticket);
        }
        drop(ticket);
        self.refused.fetch_add(1, Ordering::Relaxed);
        Admit::Busy
    }

    /// Requests answered `Busy` so far.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// The latency histogram's counts so far (`ringshop_shared::latency`).
    pub fn latency(&self) -> Vec<u64> {
        self.latency.snapshot()
    }
}

/// Polls a refusal's answer once, here: None once it is sent (nothing left to run), else the
/// rest of it, to be spawned (the connection's send buffer was full). Sparing refused requests
/// a task each keeps them out of the runtime's queue, where the requests that were taken wait.
pub fn answer_now<F>(answer: F) -> Option<std::pin::Pin<Box<F>>>
where
    F: std::future::Future<Output = ()>,
{
    let mut answer = Box::pin(answer);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match answer.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(()) => None,
        std::task::Poll::Pending => Some(answer),
    }
}

/// The RPCs admission never refuses nor counts.
fn exempt(rpc: Rpc) -> bool {
    matches!(
        rpc,
        Rpc::Ping
            | Rpc::Stats
            | Rpc::Spans
            | Rpc::FindTraces
            | Rpc::Probe
            | Rpc::Suspect
            | Rpc::Adopt
            | Rpc::WatchMembers
            | Rpc::WatchOrder
            | Rpc::WatchStock
            | Rpc::Members
            | Rpc::Placement
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            soft: 4,
            hard: 8,
            fair: 2,
        }
    }

    #[test]
    fn past_soft_only_light_connections_are_taken_and_past_hard_none() {
        let node = Admission::new(limits());
        let (heavy, light) = (Connection::default(), Connection::default());
        let mut held = Vec::new();
        for _ in 0..4 {
            match node.admit(Rpc::Request, &heavy) {
                Admit::Taken(t) => held.push(t),
                _ => panic!("under soft, every request is taken"),
            }
        }
        assert!(matches!(node.admit(Rpc::Request, &heavy), Admit::Busy));
        for _ in 0..2 {
            match node.admit(Rpc::Request, &light) {
                Admit::Taken(t) => held.push(t),
                _ => panic!("a light connection is taken past soft"),
            }
        }
        assert!(matches!(node.admit(Rpc::Request, &light), Admit::Busy));
        assert!(matches!(node.admit(Rpc::Probe, &heavy), Admit::Free));
        assert_eq!(node.refused(), 2);
        held.clear();
        assert!(matches!(node.admit(Rpc::Request, &heavy), Admit::Taken(_)));
    }

    #[test]
    fn past_hard_even_a_light_connection_waits() {
        let node = Admission::new(Limits {
            soft: 1,
            hard: 2,
            fair: 4,
        });
        let conns: Vec<Connection> = (0..3).map(|_| Connection::default()).collect();
        let first = node.admit(Rpc::Checkout, &conns[0]);
        let second = node.admit(Rpc::Checkout, &conns[1]);
        assert!(matches!(
            (&first, &second),
            (Admit::Taken(_), Admit::Taken(_))
        ));
        assert!(matches!(node.admit(Rpc::Checkout, &conns[2]), Admit::Busy));
    }

    #[test]
    fn taken_requests_are_timed_and_refused_or_exempt_ones_are_not() {
        let node = Admission::new(Limits {
            soft: 1,
            hard: 1,
            fair: 1,
        });
        let conn = Connection::default();
        let taken = node.admit(Rpc::Request, &conn);
        assert!(matches!(node.admit(Rpc::Request, &conn), Admit::Busy));
        assert!(matches!(node.admit(Rpc::Stats, &conn), Admit::Free));
        assert!(node.latency().is_empty(), "nothing answered yet");
        drop(taken);
        let counted: u64 = node.latency().iter().sum();
        assert_eq!(counted, 1, "the one taken request, once answered");
    }
}
