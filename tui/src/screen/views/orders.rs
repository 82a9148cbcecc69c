//! The Orders tab: this customer's orders, newest first, with stage, node, items, total and
//! time: what an ended order took, or how long an open one has been running (live).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};
use ringshop_shared::Order;
use ringshop_shared::duration::short;
use ringshop_shared::shop::money;

use super::widgets::{empty, list_title, render_table, table};
use crate::screen::app::{App, Tab};
use crate::screen::hits::HitMap;
use crate::screen::keys::Command;
use crate::screen::theme::Theme;

/// How long it took (an ended order), or how long it has been running (an open one, ticking,
/// after what it waits on when it waits on a member).
fn took(app: &App, theme: &Theme, o: &Order) -> Cell<'static> {
    let (elapsed, open) = app.order_elapsed(o);
    match (&o.waiting, open) {
        (Some(on), _) => Cell::from(Span::styled(
            format!("waiting for {on} · {} so far", short(elapsed)),
            theme.warn(),
        )),
        (None, true) => Cell::from(format!("{} so far", short(elapsed))),
        (None, false) => Cell::from(short(elapsed)),
    }
}

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
            &format!(
                "no orders yet: fill the cart ({}) and press {} to check out",
                app.keys.key_name(Tab::Orders, Command::GoTab(Tab::Cart)),
                app.keys.key_name(Tab::Cart, Command::Checkout),
            ),
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
                took(app, theme, o),
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
