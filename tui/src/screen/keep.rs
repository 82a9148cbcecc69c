//! The cart kept across runs (TUI.md 30): restored from the customer's cart file at start, and
//! written again, whole and atomically (`files::cart`), after every update that changed it and
//! before the next frame is drawn, so what the screen shows is what a kill leaves on disk. A
//! failed write comes back to `update` as `Action::CartKept(Err)`, which toasts it once (the
//! one-failure-one-message rule) and lets the quit question say the cart is not kept; the TUI
//! runs on either way. Called by the event loop; `update` stays free of I/O.

use std::path::PathBuf;

use super::action::Action;
use super::app::CartLine;
use crate::files::cart::{self, KeptLine};

/// What a failure to keep the cart is filed under (`App::failing`), and its toasts' prefix.
pub const KEEP: &str = "cart";

/// The cart file of one customer and what was last written to it.
pub struct CartKeeper {
    path: PathBuf,
    customer: String,
    last: Vec<CartLine>,
}

impl CartKeeper {
    /// The keeper of `customer`'s cart at `path`, the cart kept there, and what went wrong
    /// reading it (the file was then set aside, and the cart starts empty).
    pub fn open(path: PathBuf, customer: String) -> (CartKeeper, Vec<CartLine>, Option<String>) {
        let (lines, problem) = match cart::load(&path) {
            Ok(lines) => (lines.into_iter().map(line_of).collect::<Vec<_>>(), None),
            Err(e) => (Vec::new(), Some(e.to_string())),
        };
        let keeper = CartKeeper {
            path,
            customer,
            last: lines.clone(),
        };
        (keeper, lines, problem)
    }

    /// Writes `cart` if it differs from what was last written (or tried); how the write went.
    pub fn keep(&mut self, cart: &[CartLine]) -> Option<Action> {
        if cart == self.last.as_slice() {
            return None;
        }
        self.last = cart.to_vec();
        let lines: Vec<KeptLine> = cart.iter().map(kept_of).collect();
        let written = cart::save(&self.path, &self.customer, &lines).map_err(|e| e.to_string());
        Some(Action::CartKept(written))
    }
}

fn line_of(kept: KeptLine) -> CartLine {
    CartLine {
        product: kept.product,
        name: kept.name,
        price_cents: kept.price_cents,
        qty: kept.qty,
    }
}

fn kept_of(line: &CartLine) -> KeptLine {
    KeptLine {
        product: line.product.clone(),
        name: line.name.clone(),
        price_cents: line.price_cents,
        qty: line.qty,
    }
}

#[cfg(test)]
mod tests {
    use ringshop_shared::ProductId;

    use super::*;

    fn mug(qty: u32) -> CartLine {
        CartLine {
            product: ProductId::new("mug").expect("valid"),
            name: "Stoneware mug".into(),
            price_cents: 1200,
            qty,
        }
    }

    #[test]
    fn a_changed_cart_is_written_once_and_reopens_the_same() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("cart-ada.json");
        let (mut keeper, cart, problem) = CartKeeper::open(path.clone(), "ada".into());
        assert!(cart.is_empty() && problem.is_none());
        assert!(keeper.keep(&[]).is_none(), "unchanged: nothing written");
        assert!(matches!(
            keeper.keep(&[mug(2)]),
            Some(Action::CartKept(Ok(())))
        ));
        assert!(keeper.keep(&[mug(2)]).is_none());
        let (_, cart, _) = CartKeeper::open(path.clone(), "ada".into());
        assert_eq!(cart, [mug(2)]);
        assert!(matches!(keeper.keep(&[]), Some(Action::CartKept(Ok(())))));
        assert!(!path.exists(), "an empty cart leaves no file");
    }

    #[test]
    fn a_write_that_fails_is_reported_and_tried_again_on_the_next_change() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let blocker = dir.path().join("state");
        std::fs::write(&blocker, "a file where the folder should be").expect("writes");
        let (mut keeper, _, _) = CartKeeper::open(blocker.join("cart-guest.json"), "guest".into());
        let Some(Action::CartKept(Err(e))) = keeper.keep(&[mug(1)]) else {
            panic!("the write fails");
        };
        assert!(e.contains("cannot keep the cart"), "{e}");
        assert!(
            keeper.keep(&[mug(1)]).is_none(),
            "not retried while unchanged"
        );
        assert!(matches!(
            keeper.keep(&[mug(2)]),
            Some(Action::CartKept(Err(_)))
        ));
    }

    #[test]
    fn a_corrupt_file_opens_as_an_empty_cart_with_the_problem() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let path = dir.path().join("cart-guest.json");
        std::fs::write(&path, "not json").expect("writes");
        let (_, cart, problem) = CartKeeper::open(path, "guest".into());
        assert!(cart.is_empty());
        assert!(problem.is_some_and(|p| p.contains("set aside as")));
    }
}
