//! The list tabs: Shop, Cart, Orders, and the Demo's passes.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Gauge, Paragraph, Row, Table, TableState};

use ringshop_shared::Stage;
use ringshop_shared::duration::short;

use super::list_title;
use crate::app::App;
use crate::theme::Theme;
use ringshop_shared::shop::money;

/// A table with a ▶ marker and reversed bold on the selected row.
fn table<'a>(
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

fn render_table(frame: &mut Frame, area: Rect, table: Table, selected: usize, len: usize) {
    let mut state = TableState::default();
    if len > 0 {
        state.select(Some(selected.min(len - 1)));
    }
    frame.render_stateful_widget(table, area, &mut state);
}

fn empty(frame: &mut Frame, area: Rect, title: String, text: &str) {
    let block = Block::default().borders(Borders::ALL).title(title);
    frame.render_widget(Paragraph::new(text.to_string()).block(block), area);
}

pub fn shop(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
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
            let cache = if p.stale {
                "STALE"
            } else if p.hit {
                "hit"
            } else {
                "miss"
            };
            let mut cells = vec![
                Cell::from(p.name.clone()),
                Cell::from(p.category.clone()),
                Cell::from(format!("{:>8}", money(p.price_cents))),
                Cell::from(format!("{:>5}", p.stock)),
                Cell::from(p.node.to_string()),
                Cell::from(Span::styled(cache, theme.status(cache))),
            ];
            if wide {
                cells.insert(0, Cell::from(p.id.to_string()));
                cells.push(Cell::from(short(p.age)));
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
    render_table(
        frame,
        area,
        table(table_rows, widths, header, title, theme),
        app.shop.selected,
        len,
    );
}

pub fn cart(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (list_area, gauge_area) = if app.checkout.is_some() {
        let [a, b] = Layout::vertical([Constraint::Min(3), Constraint::Length(3)]).areas(area);
        (a, Some(b))
    } else {
        (area, None)
    };
    let lines = app.visible_cart();
    let title = list_title(
        &format!("Cart · total {}", money(app.cart_total())),
        lines.len(),
        app.cart.len(),
        &app.cart_list.filter,
    );
    if app.cart.is_empty() {
        empty(
            frame,
            list_area,
            title,
            "the cart is empty: pick products on the Shop tab (1) with enter",
        );
    } else {
        let rows: Vec<Row> = lines
            .iter()
            .map(|l| {
                Row::new([
                    l.name.clone(),
                    format!("{:>3}", l.qty),
                    format!("{:>8}", money(l.price_cents)),
                    format!("{:>9}", money(l.price_cents * u64::from(l.qty))),
                ])
            })
            .collect();
        let widths = [
            Constraint::Min(16),
            Constraint::Length(4),
            Constraint::Length(9),
            Constraint::Length(10),
        ];
        let header = Row::new(["product", "qty", "   price", "    total"]);
        let len = rows.len();
        render_table(
            frame,
            list_area,
            table(rows, &widths, header, title, theme),
            app.cart_list.selected,
            len,
        );
    }
    if let (Some(area), Some((order, started))) = (gauge_area, &app.checkout) {
        let ratio = match order.stage {
            Stage::Accepted => 0.1,
            Stage::Reserving => 0.3,
            Stage::Paying => {
                (0.4 + app.now.duration_since(*started).as_secs_f64() / 3.0 * 0.55).min(0.95)
            }
            Stage::Done | Stage::Failed => 1.0,
        };
        let label = format!("{} on {} · {:.0}%", order.stage, order.node, ratio * 100.0);
        let gauge = Gauge::default()
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .title(format!(" checkout {} ", order.id)),
            )
            .gauge_style(theme.bar())
            .ratio(ratio)
            .label(label);
        frame.render_widget(gauge, area);
    }
}

pub fn orders(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
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
            let items: u32 = o.lines.iter().map(|l| l.qty).sum();
            let id = o.id.to_string();
            let id = if area.width < 100 {
                id[..8].to_string()
            } else {
                id
            };
            Row::new(vec![
                Cell::from(id),
                Cell::from(Span::styled(
                    o.stage.as_str(),
                    theme.status(o.stage.as_str()),
                )),
                Cell::from(o.node.to_string()),
                Cell::from(format!("{items:>5}")),
                Cell::from(format!("{:>9}", money(o.total_cents))),
                Cell::from(short(o.elapsed)),
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
    render_table(
        frame,
        area,
        table(table_rows, &widths, header, title, theme),
        app.orders_list.selected,
        len,
    );
}

pub fn demo(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
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
        for r in &pass.rows {
            let cache = match r.hit {
                Some(true) => "hit",
                Some(false) => "miss",
                None => "-",
            };
            let note = match (&r.error, r.failover_from.first()) {
                (Some(e), _) => format!("error: {e}"),
                (None, Some(f)) => format!("failover from {f}"),
                _ => String::new(),
            };
            lines.push(Line::from(vec![
                Span::raw(format!(
                    "  id {:>3}  {:<4} {:>5}  ",
                    r.id,
                    r.node.as_ref().map_or("-".to_string(), |n| n.to_string()),
                    r.value.map_or("-".to_string(), |v| v.to_string())
                )),
                Span::styled(format!("{cache:<4}"), theme.status(cache)),
                Span::raw(format!(
                    "  age {:>8}  ttl left {:>8}  {}",
                    short(r.age),
                    short(r.ttl_left),
                    note
                )),
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
