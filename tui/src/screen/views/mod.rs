//! Drawing. Views read `App` and draw it; they never change state and never touch the
//! network. The frame: header, tabs, the tab's view, the event log, the footer; toasts and
//! dialogs float above, clipped to the frame.

mod cart;
mod cluster;
mod demo;
mod dialogs;
mod log;
mod orders;
mod shop;
mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Tab};
use super::keys;
use super::theme::Theme;
use crate::client::MemberState;

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// Draws the whole frame.
pub fn draw(app: &App, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text), area);
        return;
    }
    let log_height = if area.height >= 30 { 6 } else { 3 };
    let [header, tabs, main, log, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(log_height),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_header(app, theme, frame, header);
    draw_tabs(app, theme, frame, tabs);
    match app.tab {
        Tab::Shop => shop::draw(app, theme, frame, main),
        Tab::Cart => cart::draw(app, theme, frame, main),
        Tab::Orders => orders::draw(app, theme, frame, main),
        Tab::Cluster => cluster::draw(app, theme, frame, main),
        Tab::Demo => demo::draw(app, theme, frame, main),
    }
    log::draw(app, theme, frame, log);
    draw_footer(app, theme, frame, footer);
    log::toasts(app, theme, frame, main);
    dialogs::draw(app, theme, frame, area);
}

fn draw_header(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let up = app
        .members
        .iter()
        .filter(|m| m.state == MemberState::Up)
        .count();
    let total = app.members.iter().filter(|m| m.state.counted()).count();
    let spin = (app.now.elapsed().as_millis() / 100) as usize % SPINNER.len();
    let mut spans = vec![
        Span::styled("ringshop", theme.title()),
        Span::raw(format!(
            " · {} · {up}/{total} nodes up · epoch {}",
            if app.embedded { "embedded" } else { "joined" },
            app.epoch
        )),
    ];
    if app.in_flight > 0 {
        spans.push(Span::raw(format!(
            " · {} {} in flight",
            SPINNER[spin], app.in_flight
        )));
    }
    if app.frozen {
        spans.push(Span::styled(" · FROZEN (f)", theme.warn()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_tabs(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, tab.title());
        let style = if *tab == app.tab {
            theme.active_tab()
        } else {
            theme.text()
        };
        spans.push(Span::styled(label, style));
        spans.push(Span::raw(" "));
    }
    if !app.cart.is_empty() {
        spans.push(Span::styled(
            format!(" cart: {} ", app.cart_items()),
            theme.dim(),
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn draw_footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    for (key, label) in keys::footer(app.tab, area.width) {
        spans.push(Span::styled(key, theme.key()));
        spans.push(Span::raw(format!(" {label}  ")));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
