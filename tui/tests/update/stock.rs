//! Live stock through `update`: a listing starts following its products, changes their owners
//! publish move the rows (marked, `live`, aged from then) and reach the cart, an owner that
//! stops answering leaves its rows stale, and the quantity dialog, `+` and checkout know what
//! is left.

use std::time::{Duration, Instant, SystemTime};

use crossterm::event::KeyCode;
use ringshop_shared::{Product, Quote, Served};
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{App, Cache, Confirm, MOVED_FOR, Mode};
use ringshop_tui::screen::effect::Effect;

use super::fixtures::{node, pid};
use super::{app, key, press};

/// `id` as its owner publishes it: `stock` left at `price_cents`, named as the fixture does.
fn published(id: &str, price_cents: u64, stock: u32, on: &str) -> Served<Quote> {
    Served {
        value: Quote {
            product: Product {
                id: pid(id),
                name: format!("The {id}"),
                category: if id == "atlas" { "books" } else { "tea" }.into(),
                price_cents,
            },
            stock_left: stock,
        },
        node: node(on),
        hit: true,
        created_at: SystemTime::now(),
        expires_at: SystemTime::now(),
        age: Duration::from_millis(2),
        ttl_left: Duration::ZERO,
    }
}

fn stock(app: &mut App, quotes: Vec<Served<Quote>>, at: Instant) {
    app.update(Action::Stock { quotes, at });
}

/// `stock`, received at the app's time.
fn stock_now(app: &mut App, quotes: Vec<Served<Quote>>) {
    let at = app.now;
    stock(app, quotes, at);
}

fn row<'a>(app: &'a App, id: &str) -> &'a ringshop_tui::screen::app::ProductRow {
    app.products
        .iter()
        .find(|p| p.id.as_str() == id)
        .expect("listed")
}

#[test]
fn a_listing_follows_its_products_once_and_again_when_they_change() {
    let mut app = app();
    assert_eq!(app.following.len(), 3, "the first listing started it");
    let same = app.products.clone();
    assert!(app.update(Action::Products(same.clone())).is_empty());
    let fewer = same[..2].to_vec();
    let ids = fewer.iter().map(|p| p.id.clone()).collect();
    assert_eq!(
        app.update(Action::Products(fewer)),
        vec![Effect::FollowStock(ids)]
    );
}

#[test]
fn a_published_change_moves_the_row_marks_it_and_ages_it_from_then() {
    let mut app = app();
    let at = app.now + Duration::from_millis(10);
    stock(&mut app, vec![published("teapot", 3900, 8, "n2")], at);
    let teapot = row(&app, "teapot");
    assert_eq!((teapot.stock, teapot.cache), (8, Cache::Live));
    assert_eq!(teapot.node, node("n2"), "from the owner that said so");
    assert_eq!(teapot.moved(at), "▼");
    assert_eq!(
        teapot.age_at(at + Duration::from_secs(1)),
        Duration::from_millis(1002)
    );
    assert_eq!(teapot.moved(at + MOVED_FOR), "", "the mark is for a moment");
    stock(&mut app, vec![published("teapot", 3900, 9, "n2")], at);
    assert_eq!(row(&app, "teapot").moved(at), "▲");
}

#[test]
fn an_unchanged_quote_leaves_the_row_as_listed() {
    let mut app = app();
    stock_now(&mut app, vec![published("mug", 1200, 10, "n1")]);
    let mug = row(&app, "mug");
    assert_eq!((mug.cache, mug.was), (Cache::Miss, None));
}

#[test]
fn a_lost_owner_leaves_its_rows_stale_until_it_speaks_again() {
    let mut app = app();
    app.update(Action::StockLost {
        node: node("n1"),
        products: vec![pid("mug")],
        error: "connection lost".into(),
    });
    assert_eq!(row(&app, "mug").cache, Cache::Stale);
    assert_eq!(row(&app, "teapot").cache, Cache::Miss, "not named");
    assert!(app.toasts.is_empty(), "the members table says it; no toast");
    let line = app.log.back().expect("logged");
    assert_eq!(line.error.as_deref(), Some("connection lost"));
    stock_now(&mut app, vec![published("mug", 1200, 10, "n1")]);
    assert_eq!(row(&app, "mug").cache, Cache::Live);
}

#[test]
fn a_listing_asked_for_before_a_published_change_does_not_undo_it() {
    let mut app = app();
    let older = app.products.clone();
    let news = older[1].seen_at + Duration::from_millis(5);
    stock(&mut app, vec![published("teapot", 3900, 8, "n1")], news);
    app.update(Action::Products(older));
    assert_eq!(row(&app, "teapot").stock, 8);
    assert_eq!(row(&app, "mug").cache, Cache::Miss, "the others as listed");
}

#[test]
fn a_frozen_screen_shows_no_changes_and_catches_up_when_thawed() {
    let mut app = app();
    press(&mut app, "f");
    stock_now(&mut app, vec![published("teapot", 3900, 8, "n1")]);
    assert_eq!(row(&app, "teapot").stock, 10);
    assert!(press(&mut app, "f").contains(&Effect::LoadProducts));
}

#[test]
fn a_new_price_and_name_reach_the_cart() {
    let mut app = app();
    press(&mut app, "a");
    app.update(key(KeyCode::Enter));
    let mut renamed = published("mug", 1350, 10, "n1");
    renamed.value.product.name = "The big mug".into();
    stock_now(&mut app, vec![renamed]);
    assert_eq!(
        (app.cart[0].name.as_str(), app.cart[0].price_cents),
        ("The big mug", 1350)
    );
}

#[test]
fn the_quantity_dialog_takes_only_what_is_left() {
    let mut app = app();
    stock_now(&mut app, vec![published("mug", 1200, 3, "n1")]);
    press(&mut app, "a4");
    app.update(key(KeyCode::Enter));
    assert!(app.cart.is_empty(), "4 of 3 left");
    assert!(
        app.toasts
            .iter()
            .any(|t| t.error && t.text.contains("add 1 to 3"))
    );
    press(&mut app, "a3");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.cart[0].qty, 3);
    press(&mut app, "a");
    assert_eq!(app.mode, Mode::Normal, "nothing left to add: no dialog");
    assert!(
        app.toasts
            .iter()
            .any(|t| t.error && t.text == "mug: the cart holds all 3 left")
    );
    stock_now(&mut app, vec![published("mug", 1200, 0, "n1")]);
    press(&mut app, "a");
    assert!(app.toasts.iter().any(|t| t.text == "mug: none left"));
}

#[test]
fn plus_in_the_cart_stops_at_what_is_left() {
    let mut app = app();
    stock_now(&mut app, vec![published("mug", 1200, 2, "n1")]);
    press(&mut app, "a");
    app.update(key(KeyCode::Enter));
    press(&mut app, "2++");
    assert_eq!(app.cart[0].qty, 2);
    assert!(
        app.toasts
            .iter()
            .any(|t| t.error && t.text.contains("all 2 left"))
    );
    press(&mut app, "-");
    assert_eq!(app.cart[0].qty, 1);
}

#[test]
fn checkout_names_the_lines_that_no_longer_fit() {
    let mut app = app();
    press(&mut app, "j");
    app.update(key(KeyCode::Enter));
    press(&mut app, "5");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.cart[0].qty, 5);
    stock_now(&mut app, vec![published("teapot", 3900, 3, "n1")]);
    assert_eq!(app.short_lines().len(), 1);
    press(&mut app, "2c");
    let Mode::Confirm(Confirm::Checkout { summary, .. }) = &app.mode else {
        panic!("asks first: {:?}", app.mode);
    };
    assert!(
        summary.ends_with("Not enough left now: 5 teapot (only 3 left)."),
        "{summary}"
    );
}
