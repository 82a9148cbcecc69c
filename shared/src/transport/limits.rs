//! The bounds on what a node's connections may hold (invariant 10), and their node-wide
//! accounting: how many connections are open and how recently each was active, and how many
//! bytes unfinished frames have announced. One [`Connections`] per listener, shared by its
//! connections; each connection holds a [`Ticket`] to it, and [`super::guard`] enforces the
//! bounds on that connection's bytes.
//!
//! This module never reads a socket and never sleeps: it counts, picks the connection to close,
//! and tells it so.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use crate::clock::{self, Instant};
use crate::hash::Map;
use futures::task::AtomicWaker;

/// Connections one node keeps open. Past it, the least recently active one is closed to make
/// room for the new one: closing the newest would let anyone who opens this many idle
/// connections lock every client out until they time out. A node's own peers and clients need
/// a few each; this leaves room for thousands of clients. Lowered to fit the process's open
/// files limit (`Limits::for_this_process`), so the cap, not `accept` failing, is what bites.
pub const MAX_CONNECTIONS: usize = 4096;
/// Bytes all of a node's unfinished frames may announce together. The codec reserves a frame's
/// whole announced length as soon as its header arrives, so without this bound 300 connections
/// that each announce 1 MiB and stall grew a node by 307 MiB. 32 MiB is 32 frames of the
/// largest size in flight at once; real requests are a few hundred bytes and finish at once.
pub const UNFINISHED_BYTES: usize = 32 << 20;
/// How long a frame may take to arrive once its first byte has: a node's requests are small
/// and a peer writes each whole, so even a full 1 MiB frame needs only 4 Mbit/s to make it. A
/// connection whose frame is still unfinished then is closed (its reservation with it).
pub const FRAME_DEADLINE: Duration = Duration::from_secs(2);
/// A connection that has sent nothing for this long is closed. No shorter than the longest
/// deadline a node keeps (`codec::MAX_DEADLINE`): every request read before then has been
/// answered or has expired, so nothing is in flight on it. Clients reconnect on their next
/// call (tarpc answers `Shutdown` and the `Cluster` client and `Peers` dial again).
pub const IDLE_TIMEOUT: Duration = super::codec::MAX_DEADLINE;
/// File descriptors kept out of the connection cap when it is fitted to the open files limit:
/// the TLS handshakes in progress (`MAX_HANDSHAKES`), the listener, the store's connections,
/// connections to peers, log and database files.
pub const RESERVED_FILES: usize = 256;
/// At most one close per this long is logged at info; the others at debug, counted in the
/// next info line (a flood of bad connections must not flood the log).
pub const CLOSE_LOG_EVERY: Duration = Duration::from_secs(1);

const _: () = assert!(IDLE_TIMEOUT.as_nanos() >= super::codec::MAX_DEADLINE.as_nanos());

/// The bounds a listener enforces. `Default` is the constants above; tests lower them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open connections at most (at least 1).
    pub max_connections: usize,
    /// Bytes unfinished frames may announce, node-wide.
    pub unfinished_bytes: usize,
    /// How long one frame may take to arrive.
    pub frame_deadline: Duration,
    /// How long a connection may send nothing. Shorter than `codec::MAX_DEADLINE` (tests
    /// only), it may close a connection with a long call in flight.
    pub idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: MAX_CONNECTIONS,
            unfinished_bytes: UNFINISHED_BYTES,
            frame_deadline: FRAME_DEADLINE,
            idle_timeout: IDLE_TIMEOUT,
        }
    }
}

impl Limits {
    /// The defaults, with the connection cap lowered to fit this process's open files limit
    /// (less `RESERVED_FILES`) when it is lower.
    pub fn for_this_process() -> Limits {
        let mut limits = Limits::default();
        if let Some(files) = open_files_limit() {
            let room = files.saturating_sub(RESERVED_FILES).max(1);
            limits.max_connections = limits.max_connections.min(room);
        }
        limits
    }
}

/// The soft open files limit, as Linux reports it in /proc/self/limits (no libc here); None
/// elsewhere, or when it says "unlimited".
fn open_files_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Why a node closed a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closed {
    /// The node was at `max_connections` and this one was the least recently active.
    Evicted,
    /// A frame was still unfinished `frame_deadline` after its first byte.
    FrameDeadline,
    /// Its frame's header announced more than the node's unfinished frames may still hold.
    Budget { announced: usize },
    /// Its frame's header announced more than `MAX_FRAME`.
    Oversized { announced: usize },
    /// It sent nothing for `idle_timeout`.
    Idle,
}

impl std::fmt::Display for Closed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Closed::Evicted => write!(
                f,
                "too many connections; this was the least recently active"
            ),
            Closed::FrameDeadline => write!(f, "a frame stayed unfinished past the frame deadline"),
            Closed::Budget { announced } => write!(
                f,
                "a frame announced {announced} bytes, more than the node's unfinished frames may still hold"
            ),
            Closed::Oversized { announced } => write!(
                f,
                "a frame announced {announced} bytes, over the frame limit of {} bytes",
                super::codec::MAX_FRAME
            ),
            Closed::Idle => write!(f, "idle past the idle timeout"),
        }
    }
}

/// One listener's connections: the bounds, the open connections, the bytes reserved.
#[derive(Debug)]
pub struct Connections {
    limits: Limits,
    /// The clock's zero for the activity times below (milliseconds since it).
    epoch: Instant,
    unfinished: AtomicUsize,
    next: AtomicU64,
    open: Mutex<Map<u64, Arc<Slot>>>,
    log: CloseLog,
}

/// What the node knows of one open connection, shared with the connection itself.
#[derive(Debug)]
struct Slot {
    peer: SocketAddr,
    /// Milliseconds since `Connections::epoch` of its last read.
    active_ms: AtomicU64,
    evicted: AtomicBool,
    /// Wakes the connection's task to notice it was evicted.
    waker: AtomicWaker,
}

impl Connections {
    pub fn new(limits: Limits) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            epoch: clock::now(),
            unfinished: AtomicUsize::new(0),
            next: AtomicU64::new(0),
            open: Mutex::new(Map::default()),
            log: CloseLog::default(),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Connections open now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes announced by unfinished frames now, node-wide.
    pub fn unfinished_bytes(&self) -> usize {
        self.unfinished.load(Ordering::Acquire)
    }

    /// Counts a new connection from `peer`; at the cap, first closes the least recently
    /// active one.
    pub fn open(self: &Arc<Self>, peer: SocketAddr) -> Ticket {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            peer,
            active_ms: AtomicU64::new(self.ms(clock::now())),
            evicted: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        });
        let mut open = self.lock();
        while open.len() >= self.limits.max_connections.max(1) {
            if !evict_least_active(&mut open) {
                break;
            }
        }
        open.insert(id, slot.clone());
        drop(open);
        Ticket {
            connections: self.clone(),
            id,
            slot,
            reserved: 0,
        }
    }

    /// Closes the least recently active connection, if there is one (to free a file
    /// descriptor when `accept` runs out of them).
    pub fn evict_one(&self) -> bool {
        evict_least_active(&mut self.lock())
    }

    fn ms(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Map<u64, Arc<Slot>>> {
        // Every critical section is a map operation that cannot panic half-way.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Removes the least recently active connection of `open` and tells it; false if none.
fn evict_least_active(open: &mut Map<u64, Arc<Slot>>) -> bool {
    let oldest = open
        .iter()
        .min_by_key(|(id, slot)| (slot.active_ms.load(Ordering::Relaxed), **id))
        .map(|(id, _)| *id);
    let Some(slot) = oldest.and_then(|id| open.remove(&id)) else {
        return false;
    };
    slot.evicted.store(true, Ordering::Release);
    slot.waker.wake();
    true
}

/// One connection's place among a listener's connections: it keeps the connection counted,
/// holds the bytes its unfinished frame reserved, and gives both back when dropped.
#[derive(Debug)]
pub struct Ticket {
    connections: Arc<Connections>,
    id: u64,
    slot: Arc<Slot>,
    reserved: usize,
}

impl Ticket {
    pub fn limits(&self) -> &Limits {
        &self.connections.limits
    }

    pub fn peer(&self) -> SocketAddr {
        self.slot.peer
    }

    /// Notes a read at `now` (for picking the least recently active connection).
    pub(crate) fn touch(&self, now: Instant) {
        self.slot
            .active_ms
            .store(self.connections.ms(now), Ordering::Relaxed);
    }

    /// Whether the node closed this connection to make room; registers `waker` to be woken
    /// when it does.
    pub(crate) fn evicted(&self, waker: &Waker) -> bool {
        self.slot.waker.register(waker);
        self.slot.evicted.load(Ordering::Acquire)
    }

    /// Reserves `bytes` of the node's unfinished frames for this connection's frame; false
    /// (nothing reserved) if that would pass the bound.
    pub(crate) fn reserve(&mut self, bytes: usize) -> bool {
        let budget = self.connections.limits.unfinished_bytes;
        let reserved =
            self.connections
                .unfinished
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                    used.checked_add(bytes).filter(|&total| total <= budget)
                });
        if reserved.is_ok() {
            self.reserved += bytes;
        }
        reserved.is_ok()
    }

    /// Gives back what this connection's frame reserved (the frame finished).
    pub(crate) fn release(&mut self) {
        if self.reserved > 0 {
            self.connections
                .unfinished
                .fetch_sub(self.reserved, Ordering::AcqRel);
            self.reserved = 0;
        }
    }

    pub(crate) fn reserved(&self) -> usize {
        self.reserved
    }

    /// Logs that the node closed this connection, and why (rate-limited).
    pub(crate) fn log_close(&self, why: Closed) {
        self.connections.log.close(self.slot.peer, why);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.release();
        self.connections.lock().remove(&self.id);
    }
}

/// Logs closes at info, at most one per `CLOSE_LOG_EVERY`; the rest at debug.
#[derive(Debug, Default)]
struct CloseLog {
    /// When the last info line was written, in ms since the process's first close log; 0:
    /// never.
    last_ms: AtomicU64,
    /// Closes logged at debug since that line.
    quiet: AtomicU64,
}

impl CloseLog {
    fn close(&self, peer: SocketAddr, why: Closed) {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        let start = START.get_or_init(clock::now);
        let now_ms = u64::try_from(start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(1);
        let last = self.last_ms.load(Ordering::Relaxed);
        let due = last == 0 || now_ms.saturating_sub(last) >= CLOSE_LOG_EVERY.as_millis() as u64;
        if due
            && self
                .last_ms
                .compare_exchange(last, now_ms, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        {
            let also = self.quiet.swap(0, Ordering::AcqRel);
            tracing::info!(%peer, why = %why, closed_quietly_since = also, "closed a connection");
        } else {
            self.quiet.fetch_add(1, Ordering::AcqRel);
            tracing::debug!(%peer, why = %why, "closed a connection");
        }
    }
}

#[cfg(test)]
#[path = "limits_tests.rs"]
mod tests;
