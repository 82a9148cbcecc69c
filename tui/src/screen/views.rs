//! Drawing. Views read `App` and draw it; they never change state and never touch the
//! network. The frame: header, tabs, the tab's view, the event log (under the view, or beside
//! it from 140 columns), the footer (the focused tab's or dialog's keys, and a text input's
//! prompt); toasts take the log's top lines; dialogs float above, clipped to the frame.

mod cart;
mod cluster;
mod demo;
mod dialogs;
mod help;
mod log;
mod member;
mod orders;
mod shop;
mod trace;
mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use self::widgets::hint_spans;
use super::app::{App, Mode, Tab};
use super::hits::{HitMap, footer_hints};
use super::keys::{Focus, Key};
use super::theme::Theme;
use crate::client::MemberState;

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 15;
/// From this width the log sits beside the tab's view (taller, and the tables do not stretch
/// their name columns across the whole screen).
pub const SIDE_LOG_WIDTH: u16 = 140;
/// The side log's width.
const SIDE_LOG: u16 = 60;

const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// Draws the whole frame.
pub fn draw(app: &App, theme: &Theme, frame: &mut Frame) {
    draw_mapped(app, theme, frame);
}

/// Draws the whole frame, and says where it drew what a pointer can hit (for the mouse).
pub fn draw_mapped(app: &App, theme: &Theme, frame: &mut Frame) -> HitMap {
    let mut hits = HitMap::default();
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "terminal too small: need {MIN_WIDTH}×{MIN_HEIGHT}, have {}×{}",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return hits;
    }
    let [header, tabs, body, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Min(5),
        Constraint::Length(1),
    ])
    .areas(area);
    let (main, log) = if area.width >= SIDE_LOG_WIDTH {
        let [main, log] =
            Layout::horizontal([Constraint::Min(60), Constraint::Length(SIDE_LOG)]).areas(body);
        (main, log)
    } else {
        // The pane grows while the newest toast needs more lines to show whole (the view
        // keeps at least its 5 lines).
        let base = if area.height >= 30 { 6 } else { 3 };
        let toast = log::newest_toast_lines(app, usize::from(area.width)) + 1;
        let toast = u16::try_from(toast).unwrap_or(u16::MAX);
        let log_height = base.max(toast.min(body.height.saturating_sub(5)));
        let [main, log] =
            Layout::vertical([Constraint::Min(5), Constraint::Length(log_height)]).areas(body);
        (main, log)
    };
    hits.focus = Some(app.mode.dialog().map_or(Focus::Tab(app.tab), Focus::Dialog));
    hits.view = main;
    draw_header(app, theme, frame, header);
    hits.tabs = draw_tabs(app, theme, frame, tabs);
    match app.tab {
        Tab::Shop => shop::draw(app, theme, frame, main, &mut hits),
        Tab::Cart => cart::draw(app, theme, frame, main, &mut hits),
        Tab::Orders => orders::draw(app, theme, frame, main, &mut hits),
        Tab::Cluster => cluster::draw(app, theme, frame, main, &mut hits),
        Tab::Demo => demo::draw(app, theme, frame, main),
    }
    log::draw(app, theme, frame, log);
    hits.hints = draw_footer(app, theme, frame, footer);
    dialogs::draw(app, theme, frame, area);
    hits
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
    if up == 0 && !app.searching.is_empty() {
        spans.push(Span::styled(
            format!(" · {}", waiting_for(&app.searching)),
            theme.warn(),
        ));
    }
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

/// "waiting for nodes at 127.0.0.1:7001, 127.0.0.1:7002 (+3 more) …": where the client looks
/// while no member answers.
pub fn waiting_for(addrs: &[std::net::SocketAddr]) -> String {
    const SHOWN: usize = 2;
    let shown: Vec<String> = addrs.iter().take(SHOWN).map(ToString::to_string).collect();
    let more = match addrs.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" (+{n} more)"),
    };
    format!("waiting for nodes at {}{more} …", shown.join(", "))
}

/// The tab titles; where each one is.
fn draw_tabs(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) -> Vec<(Rect, Tab)> {
    let mut spans = Vec::new();
    let mut titles = Vec::new();
    let mut x = area.x;
    for (i, tab) in Tab::ALL.iter().enumerate() {
        let label = format!(" {} {} ", i + 1, tab.title());
        let style = if *tab == app.tab {
            theme.active_tab()
        } else {
            theme.text()
        };
        let width = label.chars().count() as u16;
        titles.push((Rect::new(x, area.y, width, 1).intersection(area), *tab));
        x = x.saturating_add(width + 1);
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
    titles
}

/// The keys of what has the focus (a dialog's while one is open), after a text input's
/// prompt: the filter's "/text▏", or the question whether to discard it. Where each hint is.
fn draw_footer(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) -> Vec<(Rect, Key)> {
    let focus = app.mode.dialog().map_or(Focus::Tab(app.tab), Focus::Dialog);
    let mut spans = Vec::new();
    match &app.mode {
        Mode::Filter(text) => {
            spans.push(Span::styled("/", theme.title()));
            // Reopened on its old text: selected (reversed), so typing replaces it.
            let style = if app.input_selected {
                theme.selected()
            } else {
                theme.title()
            };
            spans.push(Span::styled(text.clone(), style));
            spans.push(Span::raw("▏ "));
        }
        Mode::Palette(text) => {
            spans.push(Span::styled(format!(":{text}"), theme.title()));
            spans.push(Span::raw("▏ "));
            // What tab would choose between, in a third of the line at most (the keys keep
            // theirs).
            let offered = app.completions(text);
            if offered.len() > 1 {
                let mut shown = String::new();
                for word in offered.iter().map(|c| c.rsplit(' ').next().unwrap_or(c)) {
                    if shown.chars().count() + word.chars().count() + 2
                        > usize::from(area.width) / 3
                    {
                        shown.push('…');
                        break;
                    }
                    shown.push_str(word);
                    shown.push(' ');
                }
                spans.push(Span::styled(format!("{shown} "), theme.dim()));
            }
        }
        Mode::Discard(typing) => {
            let question = match &**typing {
                Mode::Filter(text) => Some(format!("discard the filter /{text}? ")),
                Mode::Palette(text) => Some(format!("discard the command :{text}? ")),
                _ => None,
            };
            if let Some(q) = question {
                spans.push(Span::styled(q, theme.warn()));
            }
        }
        _ => {}
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = area.width.saturating_sub(used as u16);
    let hints = app.keys.footer(focus, app.node_controls(), room);
    let hit = footer_hints(area, used as u16, &hints, &app.keys);
    spans.extend(hint_spans(theme, hints));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
    hit
}
