//! The Cluster tab: the members table (sorted by the chosen column, ▲▼ on it) with a latency
//! sparkline per node, and the ring: one bar per node for its share of the hash space, with
//! a % label on each (the labels add up to 100).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};

use super::widgets::list_title;
use crate::screen::app::{App, SortColumn};
use crate::screen::theme::Theme;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

fn sparkline(values: Option<&std::collections::VecDeque<u64>>, width: usize) -> String {
    let Some(values) = values else {
        return String::new();
    };
    let recent: Vec<u64> = values.iter().rev().take(width).rev().copied().collect();
    let max = recent.iter().copied().max().unwrap_or(1).max(1);
    recent
        .iter()
        .map(|v| BARS[((v * 7) / max) as usize])
        .collect()
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let ring_height =
        (app.members.iter().filter(|m| m.share > 0.0).count() as u16 + 2).min(area.height / 2);
    let [table_area, ring_area] =
        Layout::vertical([Constraint::Min(4), Constraint::Length(ring_height)]).areas(area);
    let rows = app.visible_members();
    let title = list_title(
        "Members",
        rows.len(),
        app.members.len(),
        &app.cluster.filter,
    );
    let n = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let spark_width = if area.width >= 120 { 20 } else { 8 };
    // Narrow: misses and heartbeat age give way, so address and latency keep their room.
    let wide = area.width >= 100;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|m| {
            let stats = m.stats.as_ref();
            let mut cells = vec![
                Cell::from(m.name.to_string()),
                Cell::from(Span::styled(m.state.word(), theme.member(m.state))),
                Cell::from(format!("{:>5.1}%", m.share * 100.0)),
                Cell::from(format!("{:>6}", n(stats.map(|s| s.live_actors)))),
                Cell::from(format!("{:>7}", n(stats.map(|s| s.hits)))),
            ];
            if wide {
                cells.push(Cell::from(format!("{:>7}", n(stats.map(|s| s.misses)))));
                cells.push(Cell::from(format!(
                    "{:>5.1}s",
                    m.heartbeat_age.as_secs_f64()
                )));
            }
            cells.push(Cell::from(m.addr.to_string()));
            cells.push(Cell::from(sparkline(
                app.latencies.get(&m.name),
                spark_width,
            )));
            Row::new(cells)
        })
        .collect();
    let arrow = if app.sort_reversed { "▼" } else { "▲" };
    let names: &[&str] = if wide {
        &[
            "name", "status", " share", "actors", "   hits", " misses", " beat", "address",
            "latency",
        ]
    } else {
        &[
            "name", "status", " share", "actors", "   hits", "address", "latency",
        ]
    };
    let headers: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let sorted = i < SortColumn::ALL.len() && h.trim() == app.sort.heading();
            if sorted {
                format!("{h}{arrow}")
            } else {
                h.to_string()
            }
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(8),
    ];
    if wide {
        widths.extend([Constraint::Length(8), Constraint::Length(7)]);
    }
    widths.extend([Constraint::Length(15), Constraint::Min(6)]);
    let table = Table::new(table_rows, widths)
        .header(Row::new(headers).style(theme.title()))
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶ ");
    let mut state = TableState::default();
    if !rows.is_empty() {
        state.select(Some(app.cluster.selected.min(rows.len() - 1)));
    }
    frame.render_stateful_widget(table, table_area, &mut state);

    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Ring: each node's share of the hash space ");
    let inner = block.inner(ring_area);
    frame.render_widget(block, ring_area);
    let bar_room = inner.width.saturating_sub(16) as f64;
    let lines: Vec<Line> = app
        .members
        .iter()
        .filter(|m| m.share > 0.0)
        .map(|m| {
            let cells = (m.share * bar_room).round() as usize;
            Line::from(vec![
                Span::raw(format!("{:<6}", m.name.to_string())),
                Span::styled("█".repeat(cells), theme.bar()),
                Span::raw(format!(" {:.1}%", m.share * 100.0)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}
