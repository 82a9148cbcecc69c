//! The Demo tab: the cycle's passes as one table each (the same cells as `ringshop demo`), and
//! the wait for the TTL as a gauge.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Gauge, Paragraph};
use ringshop_shared::duration::short;

use crate::client::demo::Pass;
use crate::screen::app::{App, Cache};
use crate::screen::theme::Theme;

/// One row of the pass table as text, in the columns `ringshop demo` prints.
fn row_text(cells: [&str; 7]) -> String {
    let [id, node, value, cache, age, latency, note] = cells;
    format!("  {id:>4}  {node:<6} {value:>5}  {cache:<5}  {age:>9}  {latency:>9}  {note}")
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Demo: ids 1-4, again (hits), after the TTL (new values) ");
    let mut lines: Vec<Line> = Vec::new();
    if app.demo.passes.is_empty() && !app.demo.running {
        lines.push(Line::from(
            "press d to run the cycle: each id lands on one node and keeps its value for the TTL",
        ));
    }
    for pass in &app.demo.passes {
        lines.push(Line::from(Span::styled(
            format!("pass {} · {}", pass.pass, pass.title),
            theme.title(),
        )));
        lines.push(Line::from(Span::styled(
            row_text(Pass::HEADER),
            theme.dim(),
        )));
        for r in &pass.rows {
            let cells = r.cells();
            let [id, node, value, cache, age, latency, note] = cells.each_ref().map(String::as_str);
            let style = match r.hit {
                Some(true) => theme.cache(Cache::Hit),
                Some(false) => theme.cache(Cache::Miss),
                None => theme.error(),
            };
            lines.push(Line::from(vec![
                Span::raw(format!("  {id:>4}  {node:<6} {value:>5}  ")),
                Span::styled(format!("{cache:<5}"), style),
                Span::raw(
                    format!("  {age:>9}  {latency:>9}  {note}")
                        .trim_end()
                        .to_string(),
                ),
            ]));
        }
    }
    let inner_height = area.height.saturating_sub(2) as usize;
    let skip = lines.len().saturating_sub(inner_height.saturating_sub(1));
    let lines: Vec<Line> = lines.into_iter().skip(skip).collect();
    let [text_area, bar_area] =
        Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(block.inner(area));
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
