//! What the screen knows of stock, for the quantity dialog and the cart: a product's stock
//! left as the Shop shows it now (kept live by its owner's feed), how many more of it the
//! cart can take, and the cart's lines that no longer fit. Reads only.

use ringshop_shared::ProductId;
use ringshop_shared::shop::MAX_QTY_PER_LINE;

use super::App;
use super::rows::CartLine;

impl App {
    /// The stock left of `id` as the Shop shows it (None: not listed).
    pub fn stock_of(&self, id: &ProductId) -> Option<u32> {
        self.products.iter().find(|p| &p.id == id).map(|p| p.stock)
    }

    /// Units of `id` in the cart.
    pub fn in_cart(&self, id: &ProductId) -> u32 {
        self.cart
            .iter()
            .filter(|l| &l.product == id)
            .map(|l| l.qty)
            .sum()
    }

    /// How many more of `id` the cart can take: what is left beyond what it holds, and no
    /// more than `MAX_QTY_PER_LINE` on its line (that alone when the stock is not known).
    pub fn addable(&self, id: &ProductId) -> u32 {
        let held = self.in_cart(id);
        let line = MAX_QTY_PER_LINE.saturating_sub(held);
        self.stock_of(id)
            .map_or(line, |left| line.min(left.saturating_sub(held)))
    }

    /// The cart's lines that want more than is left now, with what is left.
    pub fn short_lines(&self) -> Vec<(&CartLine, u32)> {
        self.cart
            .iter()
            .filter_map(|l| Some((l, self.stock_of(&l.product)?)))
            .filter(|(l, left)| l.qty > *left)
            .collect()
    }
}
