//! The pieces every view builds with: a list's title with its filter, a table with the ▶
//! selection, an empty list's message, key hints, word wrapping, and a popup that sizes to its
//! text and always shows its keys, centred and clipped to the frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, TableState};

use crate::screen::hits::{ListHits, table_rows};
use crate::screen::theme::Theme;

/// A rectangle of at most `width`×`height` centred in `area` (clipped to it).
pub fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// "name /filter (n of m)" for list titles: "n of m" whenever a filter or a category hides
/// rows, "(m)" when all are shown.
pub fn list_title(name: &str, shown: usize, total: usize, filter: &str) -> String {
    match (filter.is_empty(), shown == total) {
        (true, true) => format!(" {name} ({total}) "),
        (true, false) => format!(" {name} ({shown} of {total}) "),
        (false, _) => format!(" {name} /{filter} ({shown} of {total}) "),
    }
}

/// Key hints as spans: the keys in the key style, each followed by its label.
pub fn hint_spans(theme: &Theme, hints: Vec<(String, &'static str)>) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (key, label) in hints {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    spans
}

/// `line` word-wrapped to `width` columns, styles kept; a word longer than a line is cut.
pub fn wrap(line: &Line, width: usize) -> Vec<Line<'static>> {
    let width = width.max(1);
    let mut lines: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0usize;
    for span in &line.spans {
        for word in span.content.split_inclusive(' ') {
            if used > 0 && used + word.trim_end().chars().count() > width {
                lines.push(Vec::new());
                used = 0;
            }
            let mut rest = if used == 0 && lines.len() > 1 {
                word.trim_start().to_string()
            } else {
                word.to_string()
            };
            while rest.trim_end().chars().count() > width {
                let head: String = rest.chars().take(width).collect();
                rest = rest.chars().skip(width).collect();
                if let Some(last) = lines.last_mut() {
                    last.push(Span::styled(head, span.style));
                }
                lines.push(Vec::new());
            }
            used += rest.chars().count();
            if let Some(last) = lines.last_mut() {
                last.push(Span::styled(rest, span.style));
            }
        }
    }
    lines.into_iter().map(Line::from).collect()
}

/// A table with a ▶ marker and reversed bold on the selected row.
pub fn table<'a>(
    rows: Vec<Row<'a>>,
    widths: &'a [Constraint],
    header: Row<'a>,
    title: String,
    theme: &Theme,
) -> Table<'a> {
    Table::new(rows, widths.to_vec())
        .header(header.style(theme.title()))
        .block(Block::default().borders(Borders::ALL).title(title))
        .row_highlight_style(theme.selected())
        .highlight_symbol("▶ ")
}

/// Draws `table` (made by `table`) with row `selected` of `len` selected; where its rows are.
pub fn render_table(
    frame: &mut Frame,
    area: Rect,
    table: Table,
    selected: usize,
    len: usize,
) -> ListHits {
    let mut state = TableState::default();
    if len > 0 {
        state.select(Some(selected.min(len - 1)));
    }
    frame.render_stateful_widget(table, area, &mut state);
    table_rows(area, state.offset(), len, state.selected().unwrap_or(0))
}

/// An empty list's box with a hint, wrapped at word boundaries so it shows whole.
pub fn empty(frame: &mut Frame, area: Rect, title: String, text: &str) {
    let block = Block::default().borders(Borders::ALL).title(title);
    let width = usize::from(block.inner(area).width);
    let lines = wrap(&Line::from(text.to_string()), width);
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// A bordered popup at most `width` wide, centred in `area`: `body` wrapped to its width,
/// as tall as the wrapped text needs (clipped to `area`), and `keys` on its last line, which
/// is always shown (the body gives way, ending in "…").
pub fn popup(
    frame: &mut Frame,
    area: Rect,
    title: &str,
    body: &[Line],
    keys: Line<'static>,
    width: u16,
) {
    let inner_width = usize::from(width.min(area.width).saturating_sub(2));
    let mut lines: Vec<Line> = body.iter().flat_map(|l| wrap(l, inner_width)).collect();
    let keys = wrap(&keys, inner_width);
    let room = usize::from(area.height.saturating_sub(2)).saturating_sub(keys.len());
    if lines.len() > room {
        lines.truncate(room.saturating_sub(1));
        lines.push(Line::from("…"));
        lines.truncate(room);
    }
    lines.extend(keys);
    let rect = centred(area, width, lines.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} "));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}
