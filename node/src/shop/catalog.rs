//! The catalog: the products a cluster sells, read from a CSV file (the built-in
//! `node/catalog.csv`, or `--catalog PATH`) and checked line by line at every node's start.
//! A bad line is an error naming the file, the line and what is wrong; nothing is seeded then.

use std::collections::BTreeSet;
use std::path::Path;

use ringshop_shared::{Product, ProductId};

/// The catalog shipped with ringshop.
pub const BUILTIN: &str = include_str!("../../catalog.csv");
/// Most units a catalog line may stock.
pub const MAX_STOCK: u32 = 100_000;
/// Highest price a catalog line may ask, in cents.
pub const MAX_PRICE_CENTS: u64 = 10_000_000;

/// A catalog line is the store's row type: the shop reads the file, the store keeps the rows.
pub use crate::store::Entry;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog {source_name} line {line}: {problem}: {text:?}; fix or remove the line")]
    BadLine {
        source_name: String,
        line: usize,
        problem: String,
        text: String,
    },
    #[error(
        "catalog {source_name} lists no products; add lines `id,name,category,price_cents,stock`"
    )]
    Empty { source_name: String },
    #[error("cannot read the catalog {path}: {reason}")]
    Read { path: String, reason: String },
}

/// Reads the catalog at `path`, or the built-in one.
pub fn load(path: Option<&Path>) -> Result<Vec<Entry>, CatalogError> {
    match path {
        None => parse("built-in catalog.csv", BUILTIN),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| CatalogError::Read {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            parse(&path.display().to_string(), &text)
        }
    }
}

/// Parses `id,name,category,price_cents,stock` lines; `#` starts a comment line.
pub fn parse(source_name: &str, text: &str) -> Result<Vec<Entry>, CatalogError> {
    let mut entries = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |problem: String| CatalogError::BadLine {
            source_name: source_name.to_string(),
            line: i + 1,
            problem,
            text: raw.to_string(),
        };
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let [id, name, category, price, stock] = fields[..] else {
            return Err(bad(format!(
                "{} fields, expected 5 (id,name,category,price_cents,stock)",
                fields.len()
            )));
        };
        let id = ProductId::new(id).map_err(|e| bad(e.to_string()))?;
        if !seen.insert(id.clone()) {
            return Err(bad(format!("product {id} is listed twice")));
        }
        if name.is_empty() || name.chars().count() > 60 {
            return Err(bad("the name must be 1-60 characters".into()));
        }
        if category.is_empty() || !category.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(bad("the category must be lowercase letters".into()));
        }
        let price_cents: u64 = price
            .parse()
            .ok()
            .filter(|p| (1..=MAX_PRICE_CENTS).contains(p))
            .ok_or_else(|| {
                bad(format!(
                    "price {price:?} must be whole cents, 1..={MAX_PRICE_CENTS}"
                ))
            })?;
        let stock: u32 = stock
            .parse()
            .ok()
            .filter(|s| *s <= MAX_STOCK)
            .ok_or_else(|| {
                bad(format!(
                    "stock {stock:?} must be a whole number, 0..={MAX_STOCK}"
                ))
            })?;
        entries.push(Entry {
            product: Product {
                id,
                name: name.to_string(),
                category: category.to_string(),
                price_cents,
            },
            stock,
        });
    }
    if entries.is_empty() {
        return Err(CatalogError::Empty {
            source_name: source_name.to_string(),
        });
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_has_forty_products_in_five_categories() {
        let entries = parse("built-in", BUILTIN).expect("the shipped catalog is valid");
        assert_eq!(entries.len(), 40);
        let categories: BTreeSet<&str> = entries
            .iter()
            .map(|e| e.product.category.as_str())
            .collect();
        assert_eq!(categories.len(), 5);
    }

    #[test]
    fn each_bad_line_is_named_with_its_number_and_problem() {
        let cases = [
            ("mug,Mug,tea,1200", "4 fields"),
            ("Mug,Mug,tea,1200,5", "invalid product id"),
            ("mug,Mug,tea,0,5", "price"),
            ("mug,Mug,tea,12.50,5", "price"),
            ("mug,Mug,tea,1200,-1", "stock"),
            ("mug,Mug,Tea Things,1200,5", "category"),
            ("mug,,tea,1200,5", "name"),
        ];
        for (line, problem) in cases {
            let text = format!("# header\nteapot,Teapot,tea,3900,3\n{line}\n");
            let err = parse("test.csv", &text).expect_err(line);
            let msg = err.to_string();
            assert!(
                msg.contains("test.csv line 3") && msg.contains(problem),
                "{line}: {msg}"
            );
        }
    }

    #[test]
    fn duplicates_and_empty_catalogs_are_refused() {
        let err = parse("t", "mug,Mug,tea,1,1\nmug,Mug,tea,1,1\n").expect_err("duplicate");
        assert!(err.to_string().contains("listed twice"));
        assert!(matches!(
            parse("t", "# nothing\n"),
            Err(CatalogError::Empty { .. })
        ));
    }
}
