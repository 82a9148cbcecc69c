//! The Shop tab: the catalog with each product's price, stock, owner and cache state. Stock is
//! live: a change its owner published shows at once, marked ▼ or ▲ for a moment, `live` in
//! the cache column; ages grow as the screen ticks.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};
use ringshop_shared::duration::short;
use ringshop_shared::shop::money;

use super::widgets::{empty, list_title, render_table, table};
use crate::screen::app::App;
use crate::screen::hits::HitMap;
use crate::screen::theme::Theme;

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, hits: &mut HitMap) {
    let rows = app.visible_products();
    let mut name = "Products".to_string();
    if let Some(c) = &app.category {
        name = format!("Products · {c} (t: next)");
    }
    let title = list_title(&name, rows.len(), app.products.len(), &app.shop.filter);
    if app.products.is_empty() {
        return empty(frame, area, title, "loading products…");
    }
    let wide = area.width >= 100;
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|p| {
            let mut cells = vec![
                Cell::from(p.name.clone()),
                Cell::from(p.category.clone()),
                Cell::from(format!("{:>8}", money(p.price_cents))),
                Cell::from(format!("{:>5}{}", p.stock, p.moved(app.now))),
                Cell::from(p.node.to_string()),
                Cell::from(Span::styled(p.cache.word(), theme.cache(p.cache))),
            ];
            if wide {
                cells.insert(0, Cell::from(p.id.to_string()));
                cells.push(Cell::from(short(p.age_at(app.now))));
            }
            Row::new(cells)
        })
        .collect();
    let (widths, header): (&[Constraint], Row) = if wide {
        (
            &[
                Constraint::Length(14),
                Constraint::Min(20),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(6),
                Constraint::Length(9),
            ],
            Row::new([
                "id", "name", "category", "   price", "stock", "node", "cache", "age",
            ]),
        )
    } else {
        (
            &[
                Constraint::Min(14),
                Constraint::Length(8),
                Constraint::Length(9),
                Constraint::Length(6),
                Constraint::Length(5),
                Constraint::Length(5),
            ],
            Row::new(["name", "category", "   price", "stock", "node", "cache"]),
        )
    };
    let len = table_rows.len();
    hits.list = Some(render_table(
        frame,
        area,
        table(table_rows, widths, header, title, theme),
        app.shop.selected,
        len,
    ));
}
