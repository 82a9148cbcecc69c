//! The checker of a chaos history: failed calls (a), two live generations of one id (b) and
//! stale answers after SIGCONT (c). Pure functions over a `History`, so hand-made histories
//! prove each one can fail; the books (d) are in `books`, the per-event table in `table`.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime};

use ringshop_shared::NodeId;

use super::history::{Call, EventKind, Generation, History, Main, Secs};

/// Node wall clocks (`created_at`) and the test's wall clock (call starts, events) are the same
/// machine's clock, read at different moments with a granularity that is not promised finer
/// than a millisecond or so: an order between them is believed only past this margin, so
/// rounding can never make a false violation (it can only hide a race closer than this).
pub const CLOCK_TOLERANCE: Duration = Duration::from_millis(2);

/// Examples kept per property.
pub const EXAMPLES: usize = 5;

/// (a) Calls and buyers that failed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Failures {
    pub value_calls: usize,
    pub buyers: usize,
    pub examples: Vec<String>,
}

impl Failures {
    pub fn total(&self) -> usize {
        self.value_calls + self.buyers
    }
}

/// (b) An id answered with generation `old` in a call that started after a newer generation
/// `new` of the same id already existed.
#[derive(Clone, Debug, PartialEq)]
pub struct TwoLive {
    pub old: Generation,
    pub new: Generation,
    /// The node that answered the old generation in `call`, and where the new one was seen.
    pub old_node: NodeId,
    pub new_node: NodeId,
    pub call_start: SystemTime,
    /// The main that made the late call, and the one that first saw the new generation.
    pub main: Main,
    pub new_main: Main,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct TwoGenerations {
    /// Ids with at least one such answer.
    pub ids: usize,
    /// Answers of an older generation given after a newer one existed.
    pub answers: usize,
    pub examples: Vec<TwoLive>,
}

/// (c) One SIGSTOP/SIGCONT (or partition/heal) of a node and what it answered after.
#[derive(Clone, Debug, PartialEq)]
pub struct Pause {
    pub node: NodeId,
    /// How it was cut off: `Stop` (SIGSTOP) or `Partition`.
    pub how: EventKind,
    pub stopped: SystemTime,
    pub resumed: SystemTime,
    /// The client saw the cluster mark it dead while it was stopped.
    pub declared_dead: bool,
    /// Its answers in calls started after the SIGCONT (a node that stopped for good has none).
    pub answered_after: usize,
    /// Of those, answers of generations created before the SIGSTOP.
    pub stale: usize,
    pub examples: Vec<Call>,
}

impl Pause {
    /// What ended the cut-off, in words: "SIGCONT" or "heal".
    pub fn ended_by(&self) -> &'static str {
        match self.how {
            EventKind::Partition => "heal",
            _ => "SIGCONT",
        }
    }

    /// What began it, in words: "SIGSTOP" or "partition".
    pub fn began_by(&self) -> &'static str {
        match self.how {
            EventKind::Partition => "partition",
            _ => "SIGSTOP",
        }
    }

    /// How it was cut off, in words: "paused" or "partitioned".
    pub fn cut_off(&self) -> &'static str {
        match self.how {
            EventKind::Partition => "partitioned",
            _ => "paused",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stale {
    pub answers: usize,
    pub pauses: Vec<Pause>,
}

/// (a): every value call that failed, and every buyer failure.
pub fn failures(h: &History) -> Failures {
    let errors: Vec<&Call> = h.calls.iter().filter(|c| c.outcome.is_err()).collect();
    let mut examples: Vec<String> = errors
        .iter()
        .take(EXAMPLES)
        .map(|c| {
            let why = c.outcome.as_ref().err().map_or("", String::as_str);
            let by = c.main.words();
            format!("id {} started {} by {by}: {why}", c.id, h.secs(c.start))
        })
        .collect();
    examples.extend(h.buyer_failures.iter().take(EXAMPLES).map(|f| {
        let order = f.order.map_or("-".to_string(), |o| o.to_string());
        format!("buyer at {}, order {order}: {}", h.secs(f.at), f.what)
    }));
    Failures {
        value_calls: errors.len(),
        buyers: h.buyer_failures.len(),
        examples,
    }
}

/// (b): for each id, each generation G1 answered in a call that started after a newer
/// generation G2 (created after G1) had been created.
pub fn two_generations(h: &History) -> TwoGenerations {
    let mut by_id: BTreeMap<u64, HashMap<Generation, Vec<&Call>>> = BTreeMap::new();
    for call in &h.calls {
        if let Some(g) = call.generation() {
            by_id
                .entry(call.id)
                .or_default()
                .entry(g)
                .or_default()
                .push(call);
        }
    }
    let mut out = TwoGenerations::default();
    for gens in by_id.values() {
        // Oldest first; two made at the same instant (two activations at once) are ordered by
        // value, so one of them still counts as the newer.
        let mut sorted: Vec<(&Generation, &Vec<&Call>)> = gens.iter().collect();
        sorted.sort_by_key(|(g, _)| (g.created_at, g.value));
        let mut flagged = false;
        for (i, (g1, calls)) in sorted.iter().enumerate() {
            // The next generation is the oldest newer one: if any answer of g1 came too late,
            // it came too late for this one.
            let Some((g2, g2_calls)) = sorted.get(i + 1) else {
                continue;
            };
            let late: Vec<&&Call> = calls
                .iter()
                .filter(|c| c.start > g2.created_at + CLOCK_TOLERANCE)
                .collect();
            if late.is_empty() {
                continue;
            }
            flagged = true;
            out.answers += late.len();
            if out.examples.len() < EXAMPLES {
                let call = late[0];
                out.examples.push(TwoLive {
                    old: **g1,
                    new: **g2,
                    old_node: call.node().cloned().unwrap_or_else(unknown),
                    new_node: g2_calls[0].node().cloned().unwrap_or_else(unknown),
                    call_start: call.start,
                    main: call.main,
                    new_main: g2_calls[0].main,
                });
            }
        }
        if flagged {
            out.ids += 1;
        }
    }
    out
}

/// (c): for each SIGSTOP..SIGCONT of a node, its answers in calls that started after the
/// SIGCONT whose generation was created before the SIGSTOP and was already the node's then (it
/// answered that generation in a call that started before the stop). Placement is a pure
/// function of the member names, so the ids such a node owns once back are the ones it owned
/// before the stop: an older generation it held then can only be what it kept in memory
/// through the pause. (A generation another node held and handed to it after the SIGCONT, at
/// that node's graceful leave, say, is not stale: the handover keeps `created_at`.)
pub fn stale_after_resume(h: &History) -> Stale {
    let mut out = Stale::default();
    for (i, resume) in h.events.iter().enumerate() {
        let Some((began, declared_dead)) = resume.kind.ends_cut_off() else {
            continue;
        };
        let stop = h.events[..i]
            .iter()
            .rev()
            .find(|e| e.kind == began && e.node == resume.node);
        let Some(stop) = stop else { continue };
        let after: Vec<&Call> = h
            .calls
            .iter()
            .filter(|c| c.start > resume.at && c.node() == Some(&resume.node))
            .collect();
        let held_before: std::collections::BTreeSet<Generation> = h
            .calls
            .iter()
            .filter(|c| c.start < stop.at && c.node() == Some(&resume.node))
            .filter_map(Call::generation)
            .collect();
        let stale: Vec<&Call> = after
            .iter()
            .copied()
            .filter(|c| {
                c.outcome
                    .as_ref()
                    .is_ok_and(|s| s.created_at + CLOCK_TOLERANCE < stop.at)
                    && c.generation().is_some_and(|g| held_before.contains(&g))
            })
            .collect();
        out.answers += stale.len();
        out.pauses.push(Pause {
            node: resume.node.clone(),
            how: began,
            stopped: stop.at,
            resumed: resume.at,
            declared_dead,
            answered_after: after.len(),
            stale: stale.len(),
            examples: stale.into_iter().take(EXAMPLES).cloned().collect(),
        });
    }
    out
}

fn unknown() -> NodeId {
    NodeId::new("unknown").expect("a valid name")
}

/// One example of (b), in words.
pub fn describe_two_live(origin: SystemTime, t: &TwoLive) -> String {
    let secs = |t| Secs::since(origin, t);
    format!(
        "id {}: {} answered value {} (created {}) to {} in a call started {}, but value {} \
         (created {}, seen on {} by {}) already existed",
        t.old.id,
        t.old_node,
        t.old.value,
        secs(t.old.created_at),
        t.main.words(),
        secs(t.call_start),
        t.new.value,
        secs(t.new.created_at),
        t.new_node,
        t.new_main.words()
    )
}

/// One example of (c), in words.
pub fn describe_stale(origin: SystemTime, p: &Pause, c: &Call) -> String {
    let secs = |t| Secs::since(origin, t);
    let (value, created) = match &c.outcome {
        Ok(s) => (s.value, secs(s.created_at).to_string()),
        Err(e) => (0, e.clone()),
    };
    format!(
        "id {}: {} answered value {value} (created {created}) to {} in a call started {}, \
         after its {} at {} ({} at {})",
        c.id,
        p.node,
        c.main.words(),
        secs(c.start),
        p.ended_by(),
        secs(p.resumed),
        p.began_by(),
        secs(p.stopped)
    )
}

#[cfg(test)]
mod tests;
