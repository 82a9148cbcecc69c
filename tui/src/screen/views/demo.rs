//! The Demo tab: the cycle's passes as one table each (the cells of `ringshop demo`, and each
//! value's TTL counting down), filtered with `/` like every list, scrolled by its selected row
//! (▶; it follows the newest row unless moved), and the wait for the TTL as a gauge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph};
use ringshop_shared::duration::short;

use super::widgets::{list_title, wrap};
use crate::client::demo::{Pass, Row};
use crate::screen::app::{App, Cache, DemoPass, Tab};
use crate::screen::keys::Command;
use crate::screen::theme::Theme;

const TITLE: &str = "Demo: ids 1-4, again (hits), after the TTL (new values)";

/// One row of a pass table as text: `ringshop demo`'s columns, with "ttl left" after "age".
fn row_text(cells: [&str; 8]) -> String {
    let [id, node, value, cache, age, ttl, latency, note] = cells;
    format!("  {id:>4}  {node:<6} {value:>5}  {cache:<5} {age:>8} {ttl:>9} {latency:>9}  {note}")
}

/// What is left of the row's TTL now: it counts down from when its pass arrived.
fn ttl_left(app: &App, pass: &DemoPass, row: &Row) -> String {
    if row.error.is_some() {
        return "-".into();
    }
    let left = row
        .ttl_left
        .saturating_sub(app.now.saturating_duration_since(pass.at));
    if left.is_zero() {
        "expired".into()
    } else {
        short(left)
    }
}

/// Adds a pass's lines; `selected` is the index of the selected row among this pass's rows,
/// if it is one of them (it gets the ▶ marker). Returns the line the selected row is on.
fn pass_lines<'a>(
    app: &App,
    theme: &Theme,
    pass: &DemoPass,
    rows: &[&'a Row],
    selected: Option<usize>,
    lines: &mut Vec<Line<'a>>,
) -> Option<usize> {
    let mut selected_line = None;
    lines.push(Line::from(Span::styled(
        format!("pass {} · {}", pass.pass.pass, pass.pass.title),
        theme.title(),
    )));
    let [id, node, value, cache, age, latency, note] = Pass::HEADER;
    lines.push(Line::from(Span::styled(
        row_text([id, node, value, cache, age, "ttl left", latency, note]),
        theme.dim(),
    )));
    for (i, r) in rows.iter().enumerate() {
        let cells = r.cells();
        let [id, node, value, cache, age, latency, note] = cells.each_ref().map(String::as_str);
        let ttl = ttl_left(app, pass, r);
        let style = match r.hit {
            Some(true) => theme.cache(Cache::Hit),
            Some(false) => theme.cache(Cache::Miss),
            None => theme.error(),
        };
        let mark = if selected == Some(i) { "▶ " } else { "  " };
        let mut line = Line::from(vec![
            Span::raw(format!("{mark}{id:>4}  {node:<6} {value:>5}  ")),
            Span::styled(format!("{cache:<5}"), style),
            Span::raw(
                format!(" {age:>8} {ttl:>9} {latency:>9}  {note}")
                    .trim_end()
                    .to_string(),
            ),
        ]);
        if selected == Some(i) {
            line = line.style(theme.selected());
            selected_line = Some(lines.len());
        }
        lines.push(line);
    }
    selected_line
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let passes = app.visible_demo();
    let shown: usize = passes.iter().map(|(_, rows)| rows.len()).sum();
    let title = if app.demo_list.filter.is_empty() {
        format!(" {TITLE} ")
    } else {
        list_title(TITLE, shown, app.demo_rows(), &app.demo_list.filter)
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let [text_area, bar_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(block.inner(area));
    let width = usize::from(text_area.width);
    let mut lines: Vec<Line> = Vec::new();
    if app.demo.passes.is_empty() && !app.demo.running {
        let hint = format!(
            "press {} to run the cycle: each id lands on one node and keeps its value for the TTL",
            app.keys.key_name(Tab::Demo, Command::RunDemo)
        );
        lines.extend(wrap(&Line::from(hint), width));
    } else if passes.is_empty() && !app.demo_list.filter.is_empty() {
        let hint = format!(
            "no row matches /{}; {} clears the filter",
            app.demo_list.filter,
            app.keys.key_name(Tab::Demo, Command::Back)
        );
        lines.extend(wrap(&Line::from(hint), width));
    }
    // The selected row (j/k, g/G move it through every pass) stays in view: the lines scroll
    // so it is on the last line shown, or higher up when the passes above it fill the view.
    let mut first_row = 0;
    let mut selected_line = None;
    for (pass, rows) in &passes {
        let here = app
            .demo_list
            .selected
            .checked_sub(first_row)
            .filter(|i| *i < rows.len());
        selected_line = pass_lines(app, theme, pass, rows, here, &mut lines).or(selected_line);
        first_row += rows.len();
    }
    let height = usize::from(text_area.height);
    let skip = match selected_line {
        Some(at) => (at + 1).saturating_sub(height),
        None => lines.len().saturating_sub(height),
    };
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    frame.render_widget(block, area);
    frame.render_widget(Paragraph::new(lines), text_area);
    if let Some(until) = app.demo.waiting_until {
        let left = until.saturating_duration_since(app.now);
        let ratio = if app.demo.wait.is_zero() {
            0.0
        } else {
            left.as_secs_f64() / app.demo.wait.as_secs_f64()
        };
        let gauge = Gauge::default()
            .gauge_style(theme.bar())
            .ratio(ratio.clamp(0.0, 1.0))
            .label(format!("TTL: {} left", short(left)));
        frame.render_widget(gauge, bar_area);
    } else if app.demo.running {
        frame.render_widget(Paragraph::new("asking…"), bar_area);
    }
}
