//! The Cart tab: its lines and total (a line that wants more than is left now says so), and
//! the checkout's gauge (placing the order, then its stage and node).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::widgets::{Block, Borders, Gauge, Row};
use ringshop_shared::Stage;
use ringshop_shared::shop::money;

use super::widgets::{empty, list_title, render_table, table};
use crate::screen::app::{App, Tab};
use crate::screen::hits::HitMap;
use crate::screen::keys::Command;
use crate::screen::theme::Theme;

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, hits: &mut HitMap) {
    let (list_area, gauge_area) = if app.checkout.is_some() || app.placing.is_some() {
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
            &format!(
                "the cart is empty: pick products on the Shop tab ({}) with {}",
                app.keys.key_name(Tab::Cart, Command::GoTab(Tab::Shop)),
                app.keys.key_name(Tab::Shop, Command::Add),
            ),
        );
    } else {
        let rows: Vec<Row> = lines
            .iter()
            .map(|l| {
                // A line wanting more than is left now says so (not by colour alone).
                let left = app.stock_of(&l.product).filter(|left| l.qty > *left);
                let name = match left {
                    Some(0) => format!("{} · none left", l.name),
                    Some(left) => format!("{} · only {left} left", l.name),
                    None => l.name.clone(),
                };
                let row = Row::new([
                    name,
                    format!("{:>3}", l.qty),
                    format!("{:>8}", money(l.price_cents)),
                    format!("{:>9}", money(l.price_cents * u64::from(l.qty))),
                ]);
                match left {
                    Some(_) => row.style(theme.warn()),
                    None => row,
                }
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
        hits.list = Some(render_table(
            frame,
            list_area,
            table(rows, &widths, header, title, theme),
            app.cart_list.selected,
            len,
        ));
    }
    if let (Some(area), Some(placing)) = (gauge_area, &app.placing) {
        // Confirmed, not accepted yet: the cluster is being asked (one order at a time).
        let block = Block::default()
            .borders(Borders::ALL)
            .title(format!(" checkout {} ", placing.id));
        let gauge = Gauge::default()
            .block(block)
            .gauge_style(theme.bar())
            .ratio(0.05)
            .label("placing the order…");
        frame.render_widget(gauge, area);
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
        let mut label = format!("{} on {} · {:.0}%", order.stage, order.node, ratio * 100.0);
        if let Some(on) = &order.waiting {
            label.push_str(&format!(" · waiting for {on}"));
        }
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
