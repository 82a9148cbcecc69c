//! Quitting with a filled cart (TUI.md 30): `q` asks once, No by default, enter alone never
//! confirms; ctrl-c quits at once whatever is open (the cart is on disk anyway). A cart that
//! cannot be kept is one error toast, and the question then says the cart is lost.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ringshop_tui::screen::action::Action;
use ringshop_tui::screen::app::{App, Confirm, Mode};
use ringshop_tui::screen::theme::Theme;
use ringshop_tui::screen::views;

use super::{app, key, press};

/// The app with 3 mugs in the cart, on the Shop tab.
fn filled() -> App {
    let mut app = app();
    press(&mut app, "a3");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.cart_items(), 3);
    app
}

fn ctrl_c() -> Action {
    Action::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL))
}

fn screen_text(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("a test terminal");
    terminal
        .draw(|frame| views::draw(app, &Theme::new(false), frame))
        .expect("draws");
    let buffer = terminal.backend().buffer();
    buffer.content().iter().map(|c| c.symbol()).collect()
}

#[test]
fn q_with_an_empty_cart_quits_at_once() {
    let mut app = app();
    press(&mut app, "q");
    assert!(app.quit);
}

#[test]
fn q_with_a_filled_cart_asks_once_and_only_y_quits() {
    let mut app = filled();
    press(&mut app, "q");
    assert_eq!(app.mode, Mode::Confirm(Confirm::Quit { items: 3 }));
    assert!(
        screen_text(&app).contains("Quit? your cart of 3 items is kept for next time"),
        "{}",
        screen_text(&app)
    );
    app.update(key(KeyCode::Enter));
    assert!(!app.quit, "enter alone never confirms");
    assert_eq!(app.mode, Mode::Normal);
    for no in [
        key(KeyCode::Esc),
        key(KeyCode::Char('n')),
        key(KeyCode::Char('q')),
    ] {
        press(&mut app, "q");
        app.update(no);
        assert!(!app.quit);
        assert_eq!(app.mode, Mode::Normal);
    }
    press(&mut app, "q");
    press(&mut app, "y");
    assert!(app.quit, "one question, then out");
    assert_eq!(app.cart_items(), 3, "the cart is left as it was");
}

#[test]
fn ctrl_c_quits_at_once_with_a_filled_cart_even_in_a_dialog() {
    let mut app = filled();
    app.update(ctrl_c());
    assert!(app.quit);
    let mut app = filled();
    press(&mut app, "q");
    app.update(ctrl_c());
    assert!(app.quit, "from the question itself");
    let mut app = filled();
    press(&mut app, "/mu");
    app.update(ctrl_c());
    assert!(app.quit, "from a text input");
}

#[test]
fn a_cart_that_cannot_be_kept_is_one_toast_and_the_question_says_it_is_lost() {
    let mut app = filled();
    let failed = || {
        Action::CartKept(Err(
            "cannot keep the cart in /x/cart-guest.json: Not a directory".into(),
        ))
    };
    for _ in 0..3 {
        app.update(failed());
    }
    let toasts: Vec<_> = app.toasts.iter().filter(|t| t.error).collect();
    assert_eq!(toasts.len(), 1, "{:?}", app.toasts);
    assert!(
        toasts[0]
            .text
            .starts_with("cart: cannot keep the cart in /x/")
    );
    press(&mut app, "q");
    let text = screen_text(&app);
    assert!(
        text.contains("could not be kept") && !text.contains("is kept for next time"),
        "{text}"
    );
    app.update(key(KeyCode::Esc));
    app.update(Action::CartKept(Ok(())));
    press(&mut app, "q");
    assert!(
        screen_text(&app).contains("is kept for next time"),
        "kept again"
    );
}
