//! The dialogs over a tab: the quantity prompt, a yes/no question, an order's detail (the
//! `?` overlay is `help.rs`; the filter's prompt is in the footer). Each sizes to its text and
//! always ends in its keys, read from the key table.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ringshop_shared::Order;
use ringshop_shared::duration::short;
use ringshop_shared::shop::{items, money};

use super::help;
use super::widgets::{hint_spans, popup};
use crate::screen::app::{App, Confirm, Dialog, Mode};
use crate::screen::keep::KEEP;
use crate::screen::keys::Focus;
use crate::screen::theme::Theme;

/// The keys of `dialog` as its last line.
fn keys_line(app: &App, theme: &Theme, dialog: Dialog, width: u16) -> Line<'static> {
    let hints = app
        .keys
        .footer(Focus::Dialog(dialog), app.node_controls(), width);
    Line::from(hint_spans(theme, hints))
}

pub fn draw(app: &App, theme: &Theme, frame: &mut Frame, area: Rect) {
    match &app.mode {
        // The filter's and the command line's prompts are the footer.
        Mode::Normal | Mode::Filter(_) | Mode::Palette(_) => {}
        Mode::MemberDetail(name) => super::member::draw(app, theme, frame, area, name),
        // Picking a log line highlights it in the log pane (`log.rs`); its keys are the footer.
        Mode::LogPick(_) => {}
        Mode::Trace(trace) => super::trace::draw(app, theme, frame, area, *trace),
        Mode::Help => help::draw(app, theme, frame, area),
        Mode::Quantity { .. } => quantity(app, theme, frame, area, None),
        Mode::Discard(typing) => {
            if let Mode::Quantity { .. } = **typing {
                quantity(app, theme, frame, area, Some(typing));
            }
        }
        Mode::Confirm(confirm) => {
            let (title, text) = match confirm {
                Confirm::KillNode { name, addr } => (
                    "Kill node",
                    format!("Kill {name} at {addr}? Its ids fail over to their next owners."),
                ),
                Confirm::LeaveNode { name, addr } => (
                    "Node leaves",
                    format!(
                        "Let {name} at {addr} leave? It hands its ids to their next owners first."
                    ),
                ),
                Confirm::Checkout { summary, .. } => ("Check out", summary.clone()),
                Confirm::Quit { items } => ("Quit", quit_question(app, *items)),
            };
            let body = [Line::from(text), Line::from("")];
            let keys = keys_line(app, theme, Dialog::Confirm, 58);
            popup(frame, area, title, &body, keys, 60);
        }
        Mode::OrderDetail(id) => {
            if let Some(o) = app.order_by_id(*id) {
                let keys = keys_line(app, theme, Dialog::OrderDetail, 60);
                let mut body = order_lines(app, theme, o);
                if let Some(trace) = app.trace_of_order(*id) {
                    body.push(Line::styled(format!("trace {trace}"), theme.dim()));
                }
                popup(frame, area, "Order", &body, keys, 62);
            }
        }
    }
}

/// The question before quitting with a filled cart: it says whether the cart is kept.
fn quit_question(app: &App, n: u32) -> String {
    if app.failing.contains_key(KEEP) {
        format!(
            "Quit? your cart of {} could not be kept (see the log) and is lost",
            items(n)
        )
    } else {
        format!("Quit? your cart of {} is kept for next time", items(n))
    }
}

/// The quantity prompt; with `discarding`, the question whether to throw the typed text away.
fn quantity(app: &App, theme: &Theme, frame: &mut Frame, area: Rect, discarding: Option<&Mode>) {
    let Some(Mode::Quantity { product, input }) = discarding.or(Some(&app.mode)) else {
        return;
    };
    let name = app
        .products
        .iter()
        .find(|p| &p.id == product)
        .map_or(String::new(), |p| format!("{}, ", p.name));
    let mut prompt = vec![
        Span::styled(format!("> {input}"), theme.title()),
        Span::raw("▏"),
    ];
    if input.is_empty() {
        prompt.push(Span::styled("1", theme.dim()));
    }
    // What is left now (live): the range moves with the stock while the dialog is open.
    let range = match app.addable(product) {
        0 => "none left to add".to_string(),
        n => format!("1-{n}"),
    };
    let mut body = vec![Line::from(format!("How many {product}? ({name}{range})"))];
    if let Some(left) = app.stock_of(product) {
        let held = app.in_cart(product);
        let note = match held {
            0 => format!("{left} left"),
            held => format!("{left} left, {held} of them in the cart"),
        };
        body.push(Line::styled(note, theme.dim()));
    }
    body.push(Line::from(prompt));
    let keys = if discarding.is_some() {
        body.push(Line::from(format!("Discard the quantity {input:?}?")));
        keys_line(app, theme, Dialog::Discard, 50)
    } else {
        keys_line(app, theme, Dialog::Quantity, 50)
    };
    popup(frame, area, "Add to cart", &body, keys, 52);
}

/// An order: its stage and node, then each line with the product's name, quantity, unit
/// price and line total (names and prices as the shop shows them now; the id when unknown).
fn order_lines(app: &App, theme: &Theme, o: &Order) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(format!("order  {}", o.id)),
        Line::from(vec![
            Span::raw("stage  "),
            Span::styled(o.stage.as_str(), theme.stage(o.stage)),
        ]),
        Line::from(format!("node   {}", o.node)),
    ];
    if let Some(reason) = &o.reason {
        lines.push(Line::from(format!("reason {reason}")));
    }
    lines.push(Line::from(Span::styled(
        format!(
            "  {:<26} {:>3}   {:>8} {:>9}",
            "product", "qty", "price", "total"
        ),
        theme.dim(),
    )));
    for l in &o.lines {
        let product = app.products.iter().find(|p| p.id == l.product);
        let name = product.map_or(l.product.to_string(), |p| p.name.clone());
        let name: String = name.chars().take(26).collect();
        let (unit, total) = product.map_or(("-".to_string(), "-".to_string()), |p| {
            (
                money(p.price_cents),
                money(p.price_cents * u64::from(l.qty)),
            )
        });
        lines.push(Line::from(format!(
            "  {name:<26} {:>3} × {unit:>8} {total:>9}",
            l.qty
        )));
    }
    lines.push(Line::from(format!(
        "total  {}   took {}",
        money(o.total_cents),
        short(o.elapsed)
    )));
    lines
}
