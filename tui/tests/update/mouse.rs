//! The mouse through the real path (TUI.md 23): the app drawn on a TestBackend gives the hit
//! map, crossterm's mouse events are read against it (`mouse::action`), and `update` applies
//! the result. Clicks are aimed at text found on the drawn screen, as a person aims them.

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ringshop_tui::client::MemberState::Up;
use ringshop_tui::screen::app::{App, Confirm, Mode, SortColumn, Tab};
use ringshop_tui::screen::effect::Effect;
use ringshop_tui::screen::hits::HitMap;
use ringshop_tui::screen::theme::Theme;
use ringshop_tui::screen::{mouse, views};

use super::fixtures::{self, member};
use super::{app, key, press};

const W: u16 = 100;
const H: u16 = 30;

struct Drawn {
    hits: HitMap,
    lines: Vec<Vec<String>>,
}

fn drawn(app: &App, width: u16, height: u16) -> Drawn {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("a test terminal");
    let mut hits = HitMap::default();
    terminal
        .draw(|frame| hits = views::draw_mapped(app, &Theme::new(false), frame))
        .expect("draws");
    let buffer = terminal.backend().buffer();
    let lines = (0..height)
        .map(|y| {
            (0..width)
                .map(|x| buffer[(x, y)].symbol().to_string())
                .collect()
        })
        .collect();
    Drawn { hits, lines }
}

impl Drawn {
    /// The cell where `text` starts on the screen (the last match: the footer is at the
    /// bottom, and a tab title is found before anything else on its line).
    fn find(&self, text: &str) -> (u16, u16) {
        let width = text.chars().count();
        let spot = self.lines.iter().enumerate().rev().find_map(|(y, cells)| {
            (0..cells.len().saturating_sub(width - 1))
                .find(|&x| cells[x..x + width].concat() == text)
                .map(|x| (x as u16, y as u16))
        });
        spot.unwrap_or_else(|| panic!("{text:?} is not on the screen:\n{}", self.text()))
    }

    fn text(&self) -> String {
        self.lines
            .iter()
            .map(|cells| cells.concat())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The text drawn in the cells of `rect`'s first line.
    fn at(&self, rect: ratatui::layout::Rect) -> String {
        let cells = &self.lines[usize::from(rect.y)];
        cells[usize::from(rect.x)..usize::from(rect.right())].concat()
    }
}

fn event(kind: MouseEventKind, (column, row): (u16, u16)) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers: KeyModifiers::NONE,
    }
}

/// Draws `app`, then does `kind` at `spot` (a function of what was drawn); the effects.
fn pointer(
    app: &mut App,
    kind: MouseEventKind,
    spot: impl Fn(&Drawn) -> (u16, u16),
) -> Vec<Effect> {
    let screen = drawn(app, W, H);
    match mouse::action(&screen.hits, &app.keys, event(kind, spot(&screen))) {
        Some(action) => app.update(action),
        None => Vec::new(),
    }
}

fn click(app: &mut App, text: &str) -> Vec<Effect> {
    pointer(app, MouseEventKind::Down(MouseButton::Left), |s| {
        s.find(text)
    })
}

const DOWN: MouseEventKind = MouseEventKind::ScrollDown;
const UP: MouseEventKind = MouseEventKind::ScrollUp;

#[test]
fn clicking_a_tab_title_switches_to_that_tab() {
    let mut app = app();
    for (title, tab) in [
        ("4 Cluster", Tab::Cluster),
        ("3 Orders", Tab::Orders),
        ("1 Shop", Tab::Shop),
    ] {
        click(&mut app, title);
        assert_eq!(app.tab, tab);
    }
}

#[test]
fn clicking_a_row_selects_it_and_clicking_the_selected_row_opens_it() {
    let mut app = app();
    click(&mut app, "The atlas");
    assert_eq!(app.shop.selected, 2);
    assert_eq!(app.mode, Mode::Normal, "a first click only selects");
    click(&mut app, "The atlas");
    assert!(
        matches!(&app.mode, Mode::Quantity { product, .. } if product.as_str() == "atlas"),
        "a second click is enter: {:?}",
        app.mode
    );
    app.update(key(KeyCode::Esc));
    press(&mut app, "3");
    app.update(ringshop_tui::screen::action::Action::Orders(vec![
        fixtures::order(1, ringshop_shared::Stage::Done, "n1", &[("mug", 1)], 1200),
        fixtures::order(2, ringshop_shared::Stage::Done, "n2", &[("mug", 2)], 2400),
    ]));
    click(&mut app, "24.00");
    assert_eq!(app.orders_list.selected, 1);
    click(&mut app, "24.00");
    assert!(matches!(app.mode, Mode::OrderDetail(_)), "{:?}", app.mode);
}

#[test]
fn a_click_lands_on_the_row_drawn_there_when_the_list_is_scrolled() {
    let mut app = app();
    let products = (0..40)
        .map(|i| {
            let id = format!("p{i:02}");
            fixtures::product(
                &id,
                &format!("Thing {id}"),
                "tools",
                100,
                5,
                "n1",
                ringshop_tui::screen::app::Cache::Hit,
            )
        })
        .collect();
    app.update(ringshop_tui::screen::action::Action::Products(products));
    press(&mut app, "G");
    let screen = drawn(&app, W, H);
    let list = screen.hits.list.expect("a table");
    assert!(list.first > 0, "scrolled to show the last row: {list:?}");
    let first = format!("Thing p{:02}", list.first);
    click(&mut app, &first);
    assert_eq!(app.shop.selected, list.first);
    assert_eq!(app.visible_products()[app.shop.selected].name, first);
}

#[test]
fn the_wheel_moves_the_selection_of_the_list_under_the_pointer() {
    let mut app = app();
    pointer(&mut app, DOWN, |s| s.find("The mug"));
    pointer(&mut app, DOWN, |s| s.find("The mug"));
    assert_eq!(app.shop.selected, 2);
    pointer(&mut app, UP, |s| s.find("The atlas"));
    assert_eq!(app.shop.selected, 1);
    pointer(&mut app, DOWN, |s| s.find("? help"));
    assert_eq!(app.shop.selected, 1, "not over the list: nothing");
    // In a dialog the wheel scrolls what scrolls, and is never an answer.
    press(&mut app, "?");
    pointer(&mut app, DOWN, |_| (0, 0));
    assert_eq!((app.mode.clone(), app.help_scroll), (Mode::Help, 1));
    app.update(key(KeyCode::Esc));
    press(&mut app, "2");
    app.cart
        .push(fixtures::cart_line("mug", "The mug", 1200, 1));
    press(&mut app, "c");
    pointer(&mut app, DOWN, |s| s.find("y yes"));
    assert!(
        matches!(app.mode, Mode::Confirm(Confirm::Checkout { .. })),
        "still asking"
    );
}

#[test]
fn clicking_a_footer_hint_does_what_its_key_does() {
    let mut app = app();
    click(&mut app, "? help");
    assert_eq!(app.mode, Mode::Help);
    click(&mut app, "esc/?/q close");
    assert_eq!(app.mode, Mode::Normal);
    click(&mut app, "/ filter");
    assert_eq!(app.mode, Mode::Filter(String::new()));
    app.update(key(KeyCode::Esc));
    app.cart
        .push(fixtures::cart_line("mug", "The mug", 1200, 2));
    click(&mut app, "q quit");
    assert_eq!(app.mode, Mode::Confirm(Confirm::Quit { items: 2 }));
    click(&mut app, "y yes");
    assert!(app.quit);
}

#[test]
fn a_dialog_takes_no_click_but_its_footer_keys() {
    let mut app = app();
    press(&mut app, "2");
    app.cart
        .push(fixtures::cart_line("mug", "The mug", 1200, 1));
    press(&mut app, "c");
    click(&mut app, "1 Shop");
    let asking = |app: &App| matches!(app.mode, Mode::Confirm(Confirm::Checkout { .. }));
    assert!(
        asking(&app) && app.tab == Tab::Cart,
        "a tab title is not an answer"
    );
    let effects = click(&mut app, "y yes");
    assert!(
        matches!(effects.as_slice(), [Effect::Checkout { .. }]),
        "{effects:?}"
    );
}

#[test]
fn clicking_a_sortable_heading_sorts_by_it_and_again_reverses() {
    let mut app = app();
    app.update(ringshop_tui::screen::action::Action::Members {
        epoch: 3,
        members: vec![member("n1", Up, 0.3), member("n2", Up, 0.7)],
    });
    press(&mut app, "4");
    let screen = drawn(&app, W, H);
    assert!(
        screen.hits.headings.len() >= 4,
        "{:?}",
        screen.hits.headings
    );
    for (cells, by) in &screen.hits.headings {
        let drawn = screen.at(*cells);
        assert!(
            drawn.trim_start().starts_with(by.heading()),
            "{drawn:?} is not {by:?}"
        );
    }
    // "share" is also in the ring's title below: aim at the header line.
    let heading = |s: &Drawn| {
        let (_, y) = s.find("status");
        let cells = &s.lines[usize::from(y)];
        let x = (0..cells.len())
            .find(|&x| cells[x..].concat().starts_with("share"))
            .expect("a share heading");
        (x as u16, y)
    };
    pointer(&mut app, MouseEventKind::Down(MouseButton::Left), heading);
    assert_eq!((app.sort, app.sort_reversed), (SortColumn::Share, false));
    assert_eq!(app.visible_members()[0].name.as_str(), "n1");
    pointer(&mut app, MouseEventKind::Down(MouseButton::Left), heading);
    assert_eq!((app.sort, app.sort_reversed), (SortColumn::Share, true));
    assert_eq!(app.visible_members()[0].name.as_str(), "n2");
    click(&mut app, "address");
    assert_eq!(app.sort, SortColumn::Share, "the address does not sort");
}

#[test]
fn nothing_happens_on_a_frame_too_small_to_draw() {
    let app = app();
    let screen = drawn(&app, 40, 10);
    let click = event(MouseEventKind::Down(MouseButton::Left), (1, 1));
    assert!(mouse::action(&screen.hits, &app.keys, click).is_none());
}
