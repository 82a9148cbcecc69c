//! The Orders tab: this customer's orders, newest first, with stage, node, items and total.

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
    let rows = app.visible_orders();
    let title = list_title(
        "Orders",
        rows.len(),
        app.orders.len(),
        &app.orders_list.filter,
    );
    if app.orders.is_empty() {
        return empty(
            frame,
            area,
            title,
            "no orders yet: fill the cart (2) and press c to check out",
        );
    }
    let table_rows: Vec<Row> = rows
        .iter()
        .map(|o| {
            let id = o.id.to_string();
            let id = if area.width < 100 {
                id[..8].to_string()
            } else {
                id
            };
            Row::new(vec![
                Cell::from(id),
                Cell::from(Span::styled(o.stage.as_str(), theme.stage(o.stage))),
                Cell::from(o.node.to_string()),
                Cell::from(format!("{:>5}", o.items())),
                Cell::from(format!("{:>9}", money(o.total_cents))),
                match &o.waiting {
                    Some(on) => Cell::from(Span::styled(format!("waiting for {on}"), theme.warn())),
                    None => Cell::from(short(o.elapsed)),
                },
            ])
        })
        .collect();
    let id_width = if area.width < 100 { 8 } else { 36 };
    let widths = [
        Constraint::Length(id_width),
        Constraint::Length(9),
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(10),
        Constraint::Min(8),
    ];
    let header = Row::new(["order", "stage", "node", "items", "    total", "took"]);
    let len = table_rows.len();
    hits.list = Some(render_table(
        frame,
        area,
        table(table_rows, &widths, header, title, theme),
        app.orders_list.selected,
        len,
    ));
}
