//! The `?` overlay: every key of the focused tab, the global ones, and those of the dialogs
//! that can open there, read from the key table (node controls only where they work). Each
//! section is laid out in as many columns as fit; when the whole does not fit the height it
//! scrolls (j/k), and its last line says where it is and how to scroll and close.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::widgets::{centred, hint_spans};
use crate::screen::app::{App, Dialog};
use crate::screen::keys::{Focus, Section};
use crate::screen::theme::Theme;

/// The widest the overlay gets.
const MAX_WIDTH: u16 = 110;

fn width_of(entry: &(String, &str)) -> usize {
    entry.0.chars().count() + 1 + entry.1.chars().count() + 2
}

/// Entries in `columns` columns, filled down: each column's key and label widths.
fn grid(entries: &[(String, &'static str)], columns: usize) -> Vec<(usize, usize)> {
    let rows = entries.len().div_ceil(columns.max(1)).max(1);
    entries
        .chunks(rows)
        .map(|col| {
            let key = col.iter().map(|(k, _)| k.chars().count()).max();
            let label = col.iter().map(|(_, l)| l.chars().count()).max();
            (key.unwrap_or(0), label.unwrap_or(0))
        })
        .collect()
}

/// One section as lines: on one line after its heading when it fits, else its heading and
/// its entries in as many columns as `width` takes (each column as wide as it needs).
fn section_lines(section: &Section, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let heading = Span::styled(format!("{}: ", section.title), theme.title());
    let inline: usize = section.entries.iter().map(width_of).sum();
    if heading.width() + inline <= width {
        let mut spans = vec![heading];
        for (k, label) in &section.entries {
            spans.push(Span::styled(k.clone(), theme.key()));
            spans.push(Span::raw(format!(" {label}  ")));
        }
        return vec![Line::from(spans)];
    }
    let columns = (1..=section.entries.len())
        .rev()
        .find(|c| {
            let used: usize = grid(&section.entries, *c)
                .iter()
                .map(|(k, l)| k + 1 + l + 2)
                .sum();
            used <= width
        })
        .unwrap_or(1);
    let widths = grid(&section.entries, columns);
    let rows = section.entries.len().div_ceil(columns);
    let mut lines = vec![Line::from(Span::styled(
        section.title.clone(),
        theme.title(),
    ))];
    for row in 0..rows {
        let mut spans = Vec::new();
        for (col, (key_width, label_width)) in widths.iter().enumerate() {
            if let Some((k, label)) = section.entries.get(col * rows + row) {
                spans.push(Span::styled(format!("{k:>key_width$} "), theme.key()));
                spans.push(Span::raw(format!("{label:<label_width$}  ")));
            }
        }
        lines.push(Line::from(spans));
    }
    lines
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let width = MAX_WIDTH.min(area.width);
    let inner_width = usize::from(width.saturating_sub(2));
    let mut lines: Vec<Line> = Vec::new();
    for section in app.keys.help(app.tab, app.node_controls()) {
        lines.extend(section_lines(&section, theme, inner_width));
    }
    lines.push(Line::from(format!("log file: {}", app.log_path)));
    // The body and one last line for the keys (and the position, when it scrolls).
    let room = usize::from(area.height.saturating_sub(3)).max(1);
    let total = lines.len();
    let first = app.help_scroll.min(total.saturating_sub(room));
    let mut shown: Vec<Line> = lines.into_iter().skip(first).take(room).collect();
    let help = Focus::Dialog(Dialog::Help);
    let mut last = Vec::new();
    if total > room {
        let end = (first + room).min(total);
        let position = format!("{}-{end} of {total} ", first + 1);
        let left = inner_width.saturating_sub(position.chars().count()) as u16;
        last.push(Span::styled(position, theme.warn()));
        last.extend(hint_spans(theme, app.keys.footer(help, true, left)));
    } else {
        let close: Vec<_> = app.keys.footer(help, true, 0).into_iter().take(1).collect();
        last.extend(hint_spans(theme, close));
    }
    shown.push(Line::from(last));
    let rect = centred(area, width, shown.len() as u16 + 2);
    frame.render_widget(Clear, rect);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" Keys · {} ", app.tab.title()));
    frame.render_widget(Paragraph::new(shown).block(block), rect);
}
