//! The event log under every tab (each call: node, hit or miss, latency), and the toasts.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ringshop_shared::duration::short;

use crate::screen::app::App;
use crate::screen::theme::Theme;

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::TOP)
        .title(" Log: each call, its node, hit or miss, latency ");
    let room = block.inner(area).height as usize;
    let lines: Vec<Line> = app
        .log
        .iter()
        .rev()
        .take(room)
        .rev()
        .map(|l| {
            let mut spans = vec![Span::raw(format!("{:<22} ", l.what))];
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
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// Toasts stack from the top right of the tab's area (newest first), inside its border, so
/// they cover neither the footer nor a checkout gauge.
pub fn toasts(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    for (y, toast) in (area.y + 1..).zip(app.toasts.iter().rev()) {
        let width = (toast.text.chars().count() as u16 + 4).min(area.width.saturating_sub(2));
        if y + 1 >= area.y + area.height || width < 4 {
            break;
        }
        let rect = Rect::new(area.x + area.width - 1 - width, y, width, 1);
        let style = if toast.error {
            theme.error()
        } else {
            theme.selected()
        };
        let mark = if toast.error { "✗" } else { "✓" };
        frame.render_widget(Clear, rect);
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {mark} {} ", toast.text), style)),
            rect,
        );
    }
}
