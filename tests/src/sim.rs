//! The whole cluster under a deterministic simulator (issue 22): real nodes (the same
//! `serve_on` as the binary), real mains (`Cluster`) and the chaos suite's load and checks,
//! run as turmoil hosts on one thread, on simulated time and a simulated network, with the
//! memory store behind a fault switch per node. One seed draws everything: the plan (how many
//! nodes, their timings, the network's latency, the nemesis's schedule; [`plan`]), turmoil's
//! network (latency, delivery order, the order hosts run in), tokio's branch choices in
//! `select!` (each host's runtime is seeded; the workspace builds with `tokio_unstable` for
//! that), `fastrand` (the nodes' values, jitter, order ids) and the hash maps' keys
//! (`ringshop_shared::hash`). So a seed that fails fails again, the same way, every time it
//! is run, and its event log is the same byte for byte.
//!
//! What the simulator cannot do yet, said plainly:
//! - A pause holds every message to and from the node and stalls its store calls, but its
//!   own timers run on (turmoil ticks every host alike), so it is a frozen process as its
//!   peers see it, not as it sees itself.
//! - A clock running fast or slow on one node is modelled as that node's own timings (its
//!   `--suspicion`, `--heartbeat`, `--ttl`), not as a clock rate.
//!
//! Checked on every run (the chaos suite's own checker, [`crate::chaos::report`]): no call
//! failed; no id had two live values; no answer after a pause older than the pause; the books
//! balance and every acknowledged order ended; and after the last fault healed, every id
//! answered within the plan's bound.

mod mains;
mod nemesis;
pub mod net;
pub mod plan;
mod world;

use std::cell::Cell;
use std::time::Duration;

pub use plan::{Action, Plan, Step};
pub use world::{Outcome, run};

thread_local! {
    /// The monotonic clock of the run on this thread, if one runs here.
    static MONOTONIC: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The simulated monotonic clock of the run on this thread (None where no run is). tarpc
/// keeps a call's deadline on `std::time::Instant`: the simulator's test binary answers
/// `clock_gettime(CLOCK_MONOTONIC)` with this on a simulator's thread (tests/tests/sim.rs),
/// so a deadline is armed on simulated time too and no real time leaks into a run.
pub fn monotonic() -> Option<Duration> {
    MONOTONIC.with(Cell::get)
}

/// How far this thread's run is (simulated time since it started), if one runs here: the
/// stamp of the nemesis' log and of the nodes' log lines a replay prints.
pub fn run_time() -> Option<Duration> {
    monotonic().map(|now| now.saturating_sub(world::MONOTONIC_START))
}

/// Sets the monotonic clock of this thread's run (None: the machine's again). The runner
/// sets it before every step; a test may set it by hand.
pub fn set_monotonic(now: Option<Duration>) {
    MONOTONIC.with(|m| m.set(now));
}

/// Runs the plan of `seed`.
pub fn seed(seed: u64) -> Outcome {
    run(&Plan::of(seed))
}
