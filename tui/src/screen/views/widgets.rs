//! The pieces every view builds with: a list's title with its filter, a table with the ▶
//! selection, an empty list's message, a centred popup clipped to the frame.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Table, TableState, Wrap};

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

/// "title (n of m) /filter" for list titles.
pub fn list_title(name: &str, shown: usize, total: usize, filter: &str) -> String {
    if filter.is_empty() {
        format!(" {name} ({total}) ")
    } else {
        format!(" {name} /{filter} ({shown} of {total}) ")
    }
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

pub fn render_table(frame: &mut Frame, area: Rect, table: Table, selected: usize, len: usize) {
    let mut state = TableState::default();
    if len > 0 {
        state.select(Some(selected.min(len - 1)));
    }
    frame.render_stateful_widget(table, area, &mut state);
}

pub fn empty(frame: &mut Frame, area: Rect, title: String, text: &str) {
    let block = Block::default().borders(Borders::ALL).title(title);
    frame.render_widget(Paragraph::new(text.to_string()).block(block), area);
}

/// A bordered popup of `lines`, at most `width` wide, centred in `area`.
pub fn popup(frame: &mut Frame, area: Rect, title: &str, lines: Vec<Line>, width: u16) {
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
