//! The Cluster tab: the members table (sorted by the chosen column, ▲▼ on it) with each
//! node's epoch, share, actors, hit %, p99 and requests per second (a sparkline of its last
//! minute), and the ring: one bar per node for its share of the hash space, with a % label on
//! each (the labels add up to 100). Enter opens a member's detail (`member.rs`).

use std::collections::VecDeque;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table, TableState};
use ringshop_shared::NodeId;
use ringshop_shared::duration::short;

use super::member::{beat, rate_text};
use super::widgets::list_title;
use crate::screen::app::{App, SortColumn};
use crate::screen::hits::{self, HitMap, table_columns};
use crate::screen::theme::Theme;

/// The selected row's marker.
const MARKER: &str = "▶ ";

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Status,
    Address,
    Epoch,
    Share,
    Actors,
    HitRate,
    P99,
    Beat,
    Rate,
}

struct Column {
    id: Col,
    heading: &'static str,
    width: u16,
}

const fn col(id: Col, heading: &'static str, width: u16) -> Column {
    Column { id, heading, width }
}

/// The columns in the order shown (TUI.md 14); `fit` keeps them by `KEEP`.
const COLUMNS: &[Column] = &[
    col(Col::Name, "name", 6),
    col(Col::Status, "status", 8),
    col(Col::Address, "address", 15),
    col(Col::Epoch, "epoch", 5),
    col(Col::Share, " share", 6),
    col(Col::Actors, "actors", 6),
    col(Col::HitRate, "hit %", 5),
    col(Col::P99, "     p99", 8),
    col(Col::Beat, "  beat", 6),
    col(Col::Rate, " req/s", 15),
];

/// Which columns stay when the table is narrow, most needed first: a member's name, status
/// and address (with its port) never give way; its epoch and heartbeat age go first (the
/// member's detail, on enter, has them).
const KEEP: [Col; 10] = [
    Col::Name,
    Col::Status,
    Col::Address,
    Col::Share,
    Col::Rate,
    Col::HitRate,
    Col::P99,
    Col::Actors,
    Col::Beat,
    Col::Epoch,
];

/// The columns that fit in a table `width` wide (borders, the ▶ marker and one space between
/// columns counted), in the order shown.
fn fit(all: &[Column], width: u16, addr_width: u16, rate_width: u16) -> Vec<Column> {
    let sized = |c: &Column| Column {
        id: c.id,
        heading: c.heading,
        width: match c.id {
            Col::Address => addr_width,
            Col::Rate => rate_width,
            _ => c.width,
        },
    };
    let mut room = i32::from(width) - 4;
    let mut kept = Vec::new();
    for id in KEEP {
        if let Some(c) = all.iter().find(|c| c.id == id) {
            let cost = i32::from(sized(c).width) + 1;
            if cost <= room + 1 || kept.len() < 3 {
                room -= cost;
                kept.push(id);
            }
        }
    }
    all.iter()
        .filter(|c| kept.contains(&c.id))
        .map(sized)
        .collect()
}

/// The last `width` requests-per-second values as bars, scaled to the highest of them.
fn sparkline(rates: &VecDeque<f64>, width: usize) -> String {
    let recent: Vec<f64> = rates.iter().rev().take(width).rev().copied().collect();
    let max = recent.iter().copied().fold(0.0, f64::max);
    recent
        .iter()
        .map(|v| {
            let level = if max > 0.0 {
                (v / max * 7.0).round()
            } else {
                0.0
            };
            BARS[(level as usize).min(7)]
        })
        .collect()
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, hits: &mut HitMap) {
    // The members come first; the ring shows only when all of its bars fit under them (the
    // share column says the same in numbers).
    let table_needs = app.visible_members().len() as u16 + 3;
    let ring_needs = app.members.iter().filter(|m| m.share > 0.0).count() as u16 + 2;
    let ring_height = if table_needs.max(4) + ring_needs <= area.height {
        ring_needs
    } else {
        0
    };
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
    let spark_width: u16 = if area.width >= 120 { 20 } else { 8 };
    let addr_width = rows
        .iter()
        .map(|m| m.addr.to_string().len() as u16)
        .max()
        .unwrap_or(15)
        .max(7);
    let columns = fit(COLUMNS, area.width, addr_width, 7 + spark_width);
    let labels = share_labels(app);
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|m| {
            let stats = m.stats.as_ref();
            let history = app.history.get(&m.name).filter(|_| stats.is_some());
            let cells = columns.iter().map(|c| match c.id {
                Col::Name => Cell::from(m.name.to_string()),
                Col::Status => Cell::from(Span::styled(m.state.word(), theme.member(m.state))),
                Col::Address => Cell::from(m.addr.to_string()),
                Col::Epoch => Cell::from(format!("{:>5}", n(stats.map(|s| s.epoch)))),
                Col::Share => Cell::from(format!("{:>6}", percent(labels.get(&m.name)))),
                Col::Actors => Cell::from(format!("{:>6}", n(stats.map(|s| s.live_actors)))),
                Col::HitRate => Cell::from(format!(
                    "{:>5}",
                    stats
                        .and_then(|s| s.hit_percent())
                        .map_or("-".into(), |p| format!("{p:.0}%"))
                )),
                Col::P99 => Cell::from(format!(
                    "{:>8}",
                    history.and_then(|h| h.p99).map_or("-".to_string(), short)
                )),
                Col::Beat => Cell::from(format!("{:>6}", beat(app, m))),
                Col::Rate => Cell::from(match history {
                    Some(h) => format!(
                        "{:>6} {}",
                        rate_text(h.rate()),
                        sparkline(&h.rates, usize::from(spark_width))
                    ),
                    None => format!("{:>6}", "-"),
                }),
            });
            Row::new(cells.collect::<Vec<_>>())
        })
        .collect();
    let arrow = if app.sort_reversed { "▼" } else { "▲" };
    let headers: Vec<String> = columns
        .iter()
        .map(|c| {
            if c.heading.trim() == app.sort.heading() {
                format!("{}{arrow}", c.heading)
            } else {
                c.heading.to_string()
            }
        })
        .collect();
    let widths: Vec<Constraint> = columns
        .iter()
        .map(|c| match c.id {
            Col::Rate => Constraint::Min(c.width),
            _ => Constraint::Length(c.width),
        })
        .collect();
    let table = Table::new(table_rows, widths.clone())
        .header(Row::new(headers).style(theme.title()))
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(theme.selected())
        .highlight_symbol(MARKER);
    let mut state = TableState::default();
    if !rows.is_empty() {
        state.select(Some(app.cluster.selected.min(rows.len() - 1)));
    }
    frame.render_stateful_widget(table, table_area, &mut state);
    let selected = state.selected();
    hits.list = Some(hits::table_rows(
        table_area,
        state.offset(),
        rows.len(),
        selected.unwrap_or(0),
    ));
    // A heading sorts by its column, where the column is one `s` sorts by.
    let marker = if selected.is_some() {
        Span::raw(MARKER).width() as u16
    } else {
        0
    };
    hits.headings = table_columns(table_area, &widths, marker)
        .into_iter()
        .zip(&columns)
        .filter_map(|(cells, c)| {
            let by = SortColumn::ALL
                .into_iter()
                .find(|s| s.heading() == c.heading.trim());
            by.map(|by| (cells, by))
        })
        .collect();

    if ring_height == 0 {
        return;
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Ring: each node's share of the hash space ");
    let inner = block.inner(ring_area);
    frame.render_widget(block, ring_area);
    let bar_room = inner.width.saturating_sub(16) as f64;
    let labels = share_labels(app);
    let lines: Vec<Line> = app
        .members
        .iter()
        .filter(|m| m.share > 0.0)
        .map(|m| {
            let cells = (m.share * bar_room).round() as usize;
            Line::from(vec![
                Span::raw(format!("{:<6}", m.name.to_string())),
                Span::styled("█".repeat(cells), theme.bar()),
                Span::raw(format!(" {}", percent(labels.get(&m.name)))),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Each member's share as tenths of a percent, rounded so that they add up to exactly 100.0
/// (largest remainder): rounded one by one, three equal thirds would read 33.3 × 3 = 99.9.
pub fn share_tenths(shares: &[f64]) -> Vec<u32> {
    let counted = |s: f64| s.is_finite() && s > 0.0;
    let total: f64 = shares.iter().copied().filter(|s| counted(*s)).sum();
    if total <= 0.0 {
        return vec![0; shares.len()];
    }
    let exact: Vec<f64> = shares
        .iter()
        .map(|&s| if counted(s) { s / total * 1000.0 } else { 0.0 })
        .collect();
    let mut tenths: Vec<u32> = exact.iter().map(|e| e.floor() as u32).collect();
    let short = 1000u32.saturating_sub(tenths.iter().sum());
    let mut by_remainder: Vec<usize> = (0..shares.len()).filter(|&i| exact[i] > 0.0).collect();
    by_remainder
        .sort_by(|&a, &b| (exact[b] - exact[b].floor()).total_cmp(&(exact[a] - exact[a].floor())));
    for &i in by_remainder.iter().take(short as usize) {
        tenths[i] += 1;
    }
    tenths
}

/// Every member's share label, by name (`share_tenths` over the members with a share).
fn share_labels(app: &App) -> std::collections::BTreeMap<NodeId, u32> {
    let shares: Vec<f64> = app.members.iter().map(|m| m.share).collect();
    app.members
        .iter()
        .map(|m| m.name.clone())
        .zip(share_tenths(&shares))
        .collect()
}

fn percent(tenths: Option<&u32>) -> String {
    let t = tenths.copied().unwrap_or(0);
    format!("{}.{}%", t / 10, t % 10)
}

#[cfg(test)]
mod tests {
    use super::share_tenths;

    #[test]
    fn shares_add_up_to_exactly_100_percent() {
        for shares in [
            vec![1.0 / 3.0; 3],
            vec![0.3333, 0.3334, 0.3333],
            vec![0.17, 0.17, 0.17, 0.17, 0.16, 0.16],
            vec![0.5, 0.25, 0.25, 0.0],
            vec![0.143; 7],
        ] {
            let tenths = share_tenths(&shares);
            assert_eq!(tenths.iter().sum::<u32>(), 1000, "{shares:?} -> {tenths:?}");
            for (s, t) in shares.iter().zip(&tenths) {
                let exact = s / shares.iter().sum::<f64>() * 1000.0;
                assert!((f64::from(*t) - exact).abs() < 1.0, "{s}: {t}");
            }
        }
        assert_eq!(share_tenths(&[1.0 / 3.0; 3]), vec![334, 333, 333]);
        assert_eq!(share_tenths(&[0.0, f64::NAN]), vec![0, 0]);
    }
}
