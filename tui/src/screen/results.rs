//! What the results of effects do to `App` (called by `update`): a members snapshot (with the
//! states this screen set itself still pending over it, and products reloaded when the ring
//! changed), a failure (one message per failure: a repeat only counts), and a node stopped
//! or started (its row changes at once, members and products are read again at once and
//! twice more shortly after).

use std::collections::BTreeSet;
use std::time::Duration;

use ringshop_shared::NodeId;
use ringshop_shared::trace::TraceId;

use super::app::{App, LogLine, PENDING_FOR};
use super::effect::Effect;
use crate::client::{MemberRow, MemberState};

/// When members and products are read again after a node was stopped or started.
const CATCH_UP: [Duration; 2] = [Duration::from_millis(1500), Duration::from_millis(4000)];

fn up_set(members: &[MemberRow]) -> BTreeSet<NodeId> {
    members
        .iter()
        .filter(|m| m.state == MemberState::Up)
        .map(|m| m.name.clone())
        .collect()
}

impl App {
    pub(super) fn on_members(&mut self, epoch: u64, mut members: Vec<MemberRow>) -> Vec<Effect> {
        self.failing.remove("members");
        if self.frozen {
            return Vec::new();
        }
        let now = self.now;
        self.pending.retain(|name, (state, since)| {
            let Some(row) = members.iter_mut().find(|m| &m.name == name) else {
                return false;
            };
            let agrees = match *state {
                MemberState::Dead | MemberState::Left => !row.state.running(),
                other => row.state == other || row.state == MemberState::Up,
            };
            let keep = !agrees && now.duration_since(*since) < PENDING_FOR;
            if keep {
                row.state = *state;
                if !state.running() {
                    row.stats = None;
                }
            }
            keep
        });
        self.members_at = now;
        for m in &members {
            if let Some(stats) = &m.stats {
                self.history
                    .entry(m.name.clone())
                    .or_default()
                    .observe(stats);
            }
        }
        self.history
            .retain(|name, _| members.iter().any(|m| &m.name == name));
        let first = self.members.is_empty();
        let ring_moved = epoch != self.epoch || up_set(&members) != up_set(&self.members);
        // Found again after nothing answered (or for the first time, when the screen opened
        // with nothing up): what failed meanwhile is read again now, without a key.
        let mut again = Vec::new();
        if self.failing.remove("products").is_some() {
            again.push(Effect::LoadProducts);
        }
        if self.failing.remove("orders").is_some() {
            again.push(Effect::LoadOrders);
        }
        let selected = self.selected_member();
        self.epoch = epoch;
        self.members = members;
        self.follow_member(selected);
        if ring_moved && !first && !again.contains(&Effect::LoadProducts) {
            // Each product's owner may have changed: show the current ones.
            again.push(Effect::LoadProducts);
        }
        again
    }

    /// One failure, one message: the first time (or when its error changes) it is logged and
    /// toasted; while it repeats, only the count on its log line and toast goes up.
    pub(super) fn on_failed(&mut self, what: String, error: String, trace: Option<TraceId>) {
        if what == "members" && !self.frozen {
            // The membership could not be read from any member: none is reachable from here.
            for m in &mut self.members {
                if m.state == MemberState::Up {
                    m.state = MemberState::Down;
                    m.stats = None;
                }
            }
        }
        let text = format!("{what}: {error}");
        // While nothing answers, the header says where the screen looks: the background reads
        // failing meanwhile are logged, not toasted (a person's own action still is).
        let background = matches!(what.as_str(), "members" | "products" | "quotes" | "orders");
        let waiting = background && !self.searching.is_empty();
        if self.failing.get(&what) == Some(&error) {
            let same = |l: &&mut LogLine| l.what == what && l.error.as_ref() == Some(&error);
            if let Some(line) = self.log.iter_mut().rev().find(same) {
                line.count += 1;
            }
            if let Some(toast) = self.toasts.iter_mut().find(|t| t.error && t.text == text) {
                toast.count += 1;
            }
            return;
        }
        self.failing.insert(what.clone(), error.clone());
        self.logged(LogLine {
            error: Some(error),
            trace,
            ..LogLine::call(what, None, Duration::ZERO)
        });
        self.outbox.push(text.clone());
        // The same failure again after a success in between: still one toast, counted.
        match self.toasts.iter_mut().find(|t| t.error && t.text == text) {
            Some(toast) => toast.count += 1,
            None if waiting => {}
            None => self.show_toast(text, true),
        }
    }

    /// The screen knows what it just did: the row says so at once (pending the snapshots),
    /// and members and products are read again now and shortly after.
    pub(super) fn on_node_changed(&mut self, name: NodeId, state: MemberState) -> Vec<Effect> {
        self.pending.insert(name.clone(), (state, self.now));
        if let Some(row) = self.members.iter_mut().find(|m| m.name == name) {
            row.state = state;
            if !state.running() {
                row.stats = None;
            }
        }
        let text = match state {
            MemberState::Left => format!("{name} left; it handed its ids to their next owners"),
            MemberState::Dead => format!("killed {name}; its ids fail over to their next owners"),
            _ => format!("started {name} again; it takes its ids back as it joins"),
        };
        self.toast(text, false);
        self.catch_up = CATCH_UP.iter().map(|d| self.now + *d).collect();
        vec![Effect::LoadMembers, Effect::LoadProducts]
    }

    /// The catch-up refreshes that are due.
    pub(super) fn catch_up_due(&mut self) -> Vec<Effect> {
        let now = self.now;
        let due = self.catch_up.iter().any(|at| *at <= now);
        self.catch_up.retain(|at| *at > now);
        if due {
            vec![Effect::LoadMembers, Effect::LoadProducts]
        } else {
            Vec::new()
        }
    }
}
