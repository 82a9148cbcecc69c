//! A member's detail (enter on the Cluster tab): everything the table has no room for, from
//! the snapshot and its history: address, status, incarnation, epoch, heartbeat age (alive:
//! growing for a member that does not beat), ring share, actors, hits and misses, requests
//! per second and p99, handoffs, held, fenced and busy requests, store health, the cluster's
//! timings it runs on, and uptime. Also the heartbeat age the table shows.

use std::time::Duration;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ringshop_shared::NodeId;
use ringshop_shared::duration::short;

use super::widgets::{hint_spans, popup};
use crate::client::{MemberRow, MemberState};
use crate::screen::app::{App, Dialog, P99_WINDOW};
use crate::screen::keys::Focus;
use crate::screen::theme::Theme;

/// A long duration, short: `4.2s`, `3m07s`, `2h05m`.
fn age(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

/// How long ago `m` last beat: as read for a member that beats (up, joining, leaving); for one
/// that does not (down from here, dead), as read plus the time since, so it grows; "—" for a
/// member that left.
pub fn beat(app: &App, m: &MemberRow) -> String {
    match m.state {
        MemberState::Left => "—".into(),
        MemberState::Up | MemberState::Joining | MemberState::Leaving => age(m.heartbeat_age),
        MemberState::Down | MemberState::Dead => {
            let since = app.now.saturating_duration_since(app.members_at);
            age(m.heartbeat_age.saturating_add(since))
        }
    }
}

/// Requests per second as the table shows it: "12.5", "340", "-" before two snapshots.
pub fn rate_text(rate: Option<f64>) -> String {
    match rate {
        None => "-".into(),
        Some(r) if r < 10.0 => format!("{r:.1}"),
        Some(r) => format!("{r:.0}"),
    }
}

fn body(app: &App, theme: &Theme, m: &MemberRow) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!("{} at {} · ", m.name, m.addr), theme.title()),
            Span::styled(m.state.word(), theme.member(m.state)),
            Span::raw(format!(" · incarnation {}", m.incarnation)),
        ]),
        Line::from(format!(
            "last heartbeat {} ago · ring share {:.1}%",
            beat(app, m),
            m.share * 100.0
        )),
    ];
    let Some(s) = &m.stats else {
        let why = if m.state.running() {
            "no counters: it does not answer this client"
        } else {
            "no counters: it is not running"
        };
        lines.push(Line::styled(why, theme.dim()));
        return lines;
    };
    let history = app.history.get(&m.name);
    let hit = s
        .hit_percent()
        .map_or("-".to_string(), |p| format!("{p:.1}%"));
    let p99 = history.and_then(|h| h.p99).map_or("-".to_string(), short);
    lines.extend([
        Line::from(format!(
            "epoch {} · up {} · store {}",
            s.epoch,
            age(s.uptime),
            s.store
        )),
        Line::from(format!(
            "actors {} live, {} retired, {} started",
            s.live_actors, s.retirements, s.activations
        )),
        Line::from(format!(
            "answers {}: {} hits, {} misses ({hit} hits)",
            s.requests, s.hits, s.misses
        )),
        Line::from(format!(
            "requests {}/s · p99 {p99} (last {} s)",
            rate_text(history.and_then(|h| h.rate())),
            P99_WINDOW.as_secs()
        )),
        Line::from(format!(
            "handed off {}, adopted {}, handoffs failed {}, refused {}",
            s.handed_off, s.adopted, s.handoffs_failed, s.adopt_rejected
        )),
        Line::from(format!(
            "held {} ({} timed out) · moved {} · fenced {} · busy {}",
            s.held, s.hold_timeouts, s.redirected, s.fenced, s.busy
        )),
        Line::from(format!(
            "timings: heartbeat every {}, suspicion {}",
            short(s.heartbeat),
            short(s.suspicion)
        )),
    ]);
    if s.incarnation != m.incarnation {
        lines.push(Line::styled(
            format!(
                "it says incarnation {} (the store's row lags)",
                s.incarnation
            ),
            theme.warn(),
        ));
    }
    lines
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, name: &NodeId) {
    let keys = app
        .keys
        .footer(Focus::Dialog(Dialog::MemberDetail), app.node_controls(), 60);
    let keys = Line::from(hint_spans(theme, keys));
    let body = match app.members.iter().find(|m| &m.name == name) {
        Some(m) => body(app, theme, m),
        None => vec![Line::from(format!("{name} is no longer listed"))],
    };
    popup(frame, area, &format!("Member {name}"), &body, keys, 64);
}
