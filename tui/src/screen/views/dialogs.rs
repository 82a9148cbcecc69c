//! The dialogs over a tab: the `?` help, the quantity prompt, a confirmation, an order's
//! detail. Each shows its keys, read from the key table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ringshop_shared::duration::short;
use ringshop_shared::shop::money;

use super::widgets::popup;
use crate::screen::app::{App, Confirm, Mode};
use crate::screen::keys;
use crate::screen::theme::Theme;

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
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
                Confirm::KillNode { name, addr } => (
                    "Kill node",
                    format!("Kill {name} at {addr}? Its ids fail over to their next owners."),
                ),
                Confirm::LeaveNode { name, addr } => (
                    "Node leaves",
                    format!(
                        "Let {name} at {addr} leave? It hands its ids to their next owners first."
                    ),
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
                    Span::styled(o.stage.as_str(), theme.stage(o.stage)),
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
