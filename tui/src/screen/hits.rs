//! Where the last frame drew what a pointer can hit: the tab titles, the focused tab's list
//! rows and sortable column headings, the footer's key hints. Views fill it in as they draw
//! (it is an output of drawing, never read by it); the event loop keeps the last one for
//! `mouse` to read. Plain data, and the geometry helpers that keep it true to what ratatui drew.

use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};

use super::app::{SortColumn, Tab};
use super::keys::{Focus, Key, Keymap};

/// What a pointer can hit in the last frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HitMap {
    /// Where keys went when it was drawn; none when the frame was too small to draw.
    pub focus: Option<Focus>,
    /// Each tab's title.
    pub tabs: Vec<(Rect, Tab)>,
    /// The focused tab's view: the wheel scrolls its list while over it.
    pub view: Rect,
    /// Its list's rows, when it is a table.
    pub list: Option<ListHits>,
    /// Column headings a click sorts by (where the tab sorts).
    pub headings: Vec<(Rect, SortColumn)>,
    /// The footer's key hints, each with the key it stands for.
    pub hints: Vec<(Rect, Key)>,
}

/// A table's rows as drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListHits {
    /// The cells of the rows shown, one line per row.
    pub rows: Rect,
    /// The (filtered) list's index of the first row shown.
    pub first: usize,
    /// How many rows the list has.
    pub len: usize,
    /// The selected row, as drawn.
    pub selected: usize,
}

impl ListHits {
    /// The list's index of the row at `at`, if a row is there.
    pub fn row_at(&self, at: Position) -> Option<usize> {
        if !self.rows.contains(at) {
            return None;
        }
        let row = self.first + usize::from(at.y - self.rows.y);
        (row < self.len).then_some(row)
    }
}

/// The first of `rects` that holds `at`, and what it stands for.
pub fn hit<T: Copy>(rects: &[(Rect, T)], at: Position) -> Option<T> {
    rects.iter().find(|(r, _)| r.contains(at)).map(|(_, t)| *t)
}

/// The rows of a bordered table with a one-line header drawn in `area`, scrolled to `first`.
pub fn table_rows(area: Rect, first: usize, len: usize, selected: usize) -> ListHits {
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    ListHits {
        rows: Rect {
            y: inner.y.saturating_add(1),
            height: inner.height.saturating_sub(1),
            ..inner
        },
        first,
        len,
        selected,
    }
}

/// The cells of each column of a bordered table drawn in `area` with `widths`, as ratatui's
/// `Table` places them (its defaults: one space between columns, `Flex::Start`, and room for
/// the highlight symbol of `marker` cells when a row is selected).
pub fn table_columns(area: Rect, widths: &[Constraint], marker: u16) -> Vec<Rect> {
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    let [_, columns] = Layout::horizontal([Constraint::Length(marker), Constraint::Fill(0)])
        .areas(Rect::new(0, 0, inner.width, 1));
    Layout::horizontal(widths.to_vec())
        .flex(Flex::Start)
        .spacing(1)
        .split(columns)
        .iter()
        .map(|c| Rect::new(inner.x + c.x, inner.y, c.width, 1))
        .collect()
}

/// The footer's hints (as `keys::footer` gives them) drawn in `area` from `skip` columns in,
/// as `widgets::hint_spans` lays them out ("keys label  "): each one's cells (keys and label,
/// clipped to `area`) and the first of its keys.
pub fn footer_hints(
    area: Rect,
    skip: u16,
    hints: &[(String, &'static str)],
    keymap: &Keymap,
) -> Vec<(Rect, Key)> {
    let mut out = Vec::new();
    let mut at = area.x.saturating_add(skip);
    for (keys, label) in hints {
        let width = (keys.chars().count() + 1 + label.chars().count()) as u16;
        let cells = Rect::new(at, area.y, width, 1).intersection(area);
        if let (Some(key), false) = (keymap.key_of_hint(keys, label), cells.is_empty()) {
            out.push((cells, key));
        }
        at = at.saturating_add(width + 2);
    }
    out
}
