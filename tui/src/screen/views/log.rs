//! The event log beside or under every tab (each call: node, hit or miss, latency; a repeated
//! failure once, with its count; every toast's text), and the toasts. Toasts take the log
//! pane's top lines (its title first): they hide no table row, header or footer, only the
//! oldest log lines in view, which stay in the log; the newest log line always stays visible.
//! The newest toast shows whole, wrapped, on as many lines as the pane has (under a tab, the
//! pane grows for it while it shows: `views::draw_mapped`); older ones take up to
//! `TOAST_LINES` each. Only a toast longer than the whole pane says to see the log.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ringshop_shared::duration::short;

use super::widgets::wrap;
use crate::screen::app::{App, LogLine, Mode};
use crate::screen::theme::Theme;

fn log_line(l: &LogLine, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    if let Some(trace) = l.trace {
        spans.push(Span::styled(format!("{} ", trace.short()), theme.dim()));
    }
    // A toast's line (no call) is its text alone.
    if !l.what.is_empty() {
        spans.push(Span::raw(format!("{:<22} ", l.what)));
    }
    if let Some(node) = &l.node {
        spans.push(Span::raw(format!("{node:<4} ")));
    }
    match l.hit {
        Some(true) => spans.push(Span::styled("hit  ", theme.ok())),
        Some(false) => spans.push(Span::raw("miss ")),
        None => {}
    }
    if !l.latency.is_zero() {
        spans.push(Span::raw(format!("{:>8} ", short(l.latency))));
    }
    if l.failover {
        spans.push(Span::styled("failover ", theme.warn()));
    }
    if let Some(e) = &l.error {
        spans.push(Span::styled(format!("error: {e}"), theme.error()));
    }
    if l.count > 1 {
        spans.push(Span::styled(format!(" ×{}", l.count), theme.error()));
    }
    Line::from(spans)
}

/// Most lines an older toast takes (the newest takes what it needs); a longer one ends in
/// `SEE_LOG` (its whole text is in the log).
pub const TOAST_LINES: usize = 3;
const SEE_LOG: &str = "…see log (L)";

/// A toast's text wrapped to `width` in at most `most` lines; cut, it ends in `SEE_LOG`.
fn toast_text(text: &str, width: usize, most: usize) -> Vec<String> {
    let mut lines: Vec<String> = wrap(&Line::from(text.to_string()), width)
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    if lines.len() > most.max(1) {
        lines.truncate(most.max(1));
        if let Some(last) = lines.last_mut() {
            let keep = width.saturating_sub(SEE_LOG.chars().count() + 1);
            *last = last
                .chars()
                .take(keep)
                .collect::<String>()
                .trim_end()
                .to_string();
            last.push(' ');
            last.push_str(SEE_LOG);
        }
    }
    lines
}

/// How many lines the newest toast takes whole at `width` (0: no toast).
pub fn newest_toast_lines(app: &App, width: usize) -> usize {
    app.toasts
        .last()
        .map_or(0, |t| wrap(&Line::from(t.shown()), width).len())
}

/// The toasts' lines, newest first, each wrapped to `width` (the newest whole if `room`
/// holds it, the others in at most `TOAST_LINES`), in at most `room` lines; the last line says
/// how many more did not fit.
fn toast_lines(app: &App, theme: &Theme, width: usize, room: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut shown = 0;
    for toast in app.toasts.iter().rev() {
        let style = if toast.error {
            theme.error()
        } else {
            theme.selected()
        };
        let left = room.saturating_sub(lines.len());
        if left == 0 {
            break;
        }
        let most = if shown == 0 {
            left
        } else {
            TOAST_LINES.min(left)
        };
        let text = toast_text(&toast.shown(), width, most);
        if !lines.is_empty() && lines.len() + text.len() > room {
            break;
        }
        lines.extend(text.into_iter().map(|t| Line::from(Span::styled(t, style))));
        shown += 1;
    }
    lines.truncate(room);
    let more = app.toasts.len() - shown;
    if let (true, Some(last)) = (more > 0, lines.last_mut()) {
        last.spans
            .insert(0, Span::styled(format!("+{more} more · "), theme.dim()));
    }
    lines
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(" Log: each call, its node, hit or miss, latency ");
    let height = usize::from(area.height);
    // Toasts get every line but the last (the newest log line stays), at least one.
    let toasts = toast_lines(
        app,
        theme,
        usize::from(area.width),
        height.saturating_sub(1).max(1),
    );
    let log_rows = if toasts.is_empty() {
        usize::from(block.inner(area).height)
    } else {
        height.saturating_sub(toasts.len())
    };
    // The newest lines, each wrapped to the pane (an error is read whole), newest last; while
    // a line is being picked, the lines up to it, it marked.
    let picked = match app.mode {
        Mode::LogPick(i) => Some(i),
        _ => None,
    };
    let width = usize::from(area.width);
    let fill = |end: usize| {
        let mut lines: Vec<Line> = Vec::new();
        let mut first = end;
        for (i, l) in app.log.iter().enumerate().take(end).rev() {
            if lines.len() >= log_rows {
                break;
            }
            let mut line = log_line(l, theme);
            if picked == Some(i) {
                line.spans.insert(0, Span::styled("▶ ", theme.selected()));
                line = line.style(theme.selected());
            }
            lines.splice(0..0, wrap(&line, width));
            first = i;
        }
        (lines, first)
    };
    let (mut lines, first) = fill(app.log.len());
    if let Some(i) = picked.filter(|&i| i < first) {
        lines = fill(i + 1).0;
    }
    let lines = lines.split_off(lines.len().saturating_sub(log_rows));
    if toasts.is_empty() {
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let top = Rect::new(area.x, area.y, area.width, toasts.len() as u16);
    let rest = Rect::new(
        area.x,
        area.y + top.height,
        area.width,
        area.height - top.height,
    );
    frame.render_widget(Clear, top);
    frame.render_widget(Paragraph::new(toasts), top);
    frame.render_widget(Paragraph::new(lines), rest);
}
