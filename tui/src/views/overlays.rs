//! What floats or sits beside the tab: the event log, toasts, and the dialogs (help, confirm,
//! quantity, order detail). Popups are clipped to the frame.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use ringshop_shared::duration::short;

use super::centred;
use crate::app::{App, Confirm, Mode};
use crate::keys;
use crate::theme::Theme;
use ringshop_shared::shop::money;

pub fn log(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
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

fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, width: u16) {
    let height = lines.len() as u16 + 2;
    let rect = centred(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

pub fn dialogs(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    match &app.mode {
        Mode::Normal | Mode::Filter(_) => {}
        Mode::Help => {
            let entries = keys::help(app.tab);
            // Two columns when one would not fit the height.
            let columns = if entries.len() + 5 > usize::from(area.height) {
                2
            } else {
                1
            };
            let per_column = entries.len().div_ceil(columns);
            let mut lines: Vec<Line> = (0..per_column)
                .map(|row| {
                    let mut spans = Vec::new();
                    for col in 0..columns {
                        if let Some((k, label)) = entries.get(col * per_column + row) {
                            spans.push(Span::styled(format!("{k:>10} "), theme.key()));
                            spans.push(Span::raw(format!("{label:<24}")));
                        }
                    }
                    Line::from(spans)
                })
                .collect();
            lines.push(Line::from(format!("log file: {}", app.log_path)));
            lines.push(Line::from("esc or ? closes this"));
            let width = if columns == 2 { 74 } else { 48 };
            popup(
                frame,
                area,
                &format!("Keys · {}", app.tab.title()),
                lines,
                width,
            );
        }
        Mode::Quantity { product, input } => {
            let lines = vec![
                Line::from(format!("How many {product}? (1-20)")),
                Line::from(Span::styled(format!("> {input}▏"), theme.title())),
                Line::from("enter adds · esc cancels"),
            ];
            popup(frame, area, "Add to cart", lines, 40);
        }
        Mode::Confirm(confirm) => {
            let (title, text) = match confirm {
                Confirm::StopNode { name, addr } => (
                    "Stop node",
                    format!("Stop {name} at {addr}? Its ids fail over to their next owners."),
                ),
                Confirm::Checkout { summary, .. } => ("Check out", summary.clone()),
            };
            let lines = vec![
                Line::from(text),
                Line::from(""),
                Line::from(vec![
                    Span::styled("y", theme.key()),
                    Span::raw(" yes   "),
                    Span::styled("n / esc", theme.key()),
                    Span::raw(" no (default)"),
                ]),
            ];
            popup(frame, area, title, lines, 60);
        }
        Mode::OrderDetail(id) => {
            let Some(o) = app.orders.iter().find(|o| o.id == *id) else {
                return;
            };
            let mut lines = vec![
                Line::from(format!("order  {}", o.id)),
                Line::from(vec![
                    Span::raw("stage  "),
                    Span::styled(o.stage.as_str(), theme.status(o.stage.as_str())),
                ]),
                Line::from(format!("node   {}", o.node)),
            ];
            if let Some(reason) = &o.reason {
                lines.push(Line::from(format!("reason {reason}")));
            }
            for l in &o.lines {
                lines.push(Line::from(format!("  {:>3} × {}", l.qty, l.product)));
            }
            lines.push(Line::from(format!(
                "total  {}   took {}",
                money(o.total_cents),
                short(o.elapsed)
            )));
            popup(frame, area, "Order", lines, 56);
        }
    }
}
