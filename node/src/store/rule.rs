//! The books' rules as the store enforces them, one variant each: SQL triggers RAISE them by
//! their message (both backends' migrations), the memory store refuses with the variant
//! itself. The text becomes a variant here, once, at the store's edge ([`Rule::raised`]);
//! every caller above matches the variant.

/// A rule of the books a write broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    UnknownProduct,
    OutOfStock,
    /// A hold belongs to one line of a stored order that is neither done nor failed.
    NoOpenOrderLine,
    /// A hold moves held → released or held → sold, once.
    HoldIsFinal,
    SoldOnlyWhilePaying,
    DoneOnlyWhenSold,
    SoldCannotFail,
}

impl Rule {
    pub const ALL: [Rule; 7] = [
        Rule::UnknownProduct,
        Rule::OutOfStock,
        Rule::NoOpenOrderLine,
        Rule::HoldIsFinal,
        Rule::SoldOnlyWhilePaying,
        Rule::DoneOnlyWhenSold,
        Rule::SoldCannotFail,
    ];

    /// The message the migrations' triggers RAISE for this rule (and PostgreSQL's
    /// `ringshop_reserve` answers as its outcome): change one only with both migrations.
    pub fn message(self) -> &'static str {
        match self {
            Rule::UnknownProduct => "unknown product",
            Rule::OutOfStock => "out of stock",
            Rule::NoOpenOrderLine => "no open order line",
            Rule::HoldIsFinal => "a released or sold hold is final",
            Rule::SoldOnlyWhilePaying => "a hold is sold only while its order is paying",
            Rule::DoneOnlyWhenSold => "an order is done only when every line is sold",
            Rule::SoldCannotFail => "an order with sold lines cannot fail",
        }
    }

    /// The rule a trigger's RAISE `message` names; None for any other message.
    pub fn raised(message: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.message() == message)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

#[cfg(test)]
mod tests {
    use super::Rule;
    use crate::store::{postgres, sqlite};

    /// Every quoted message after `marker` in `sql`.
    fn raised_in<'a>(sql: &'a str, marker: &str) -> Vec<&'a str> {
        sql.split(marker)
            .skip(1)
            .filter_map(|rest| rest.split('\'').nth(1))
            .collect()
    }

    #[test]
    fn every_message_a_trigger_raises_is_a_rule_and_every_rule_is_raised_on_both_backends() {
        for (backend, migrations, marker) in [
            ("sqlite", sqlite::migrations::MIGRATIONS, "RAISE(ABORT,"),
            (
                "postgres",
                postgres::migrations::MIGRATIONS,
                "RAISE EXCEPTION",
            ),
        ] {
            let sql: String = migrations.iter().map(|(_, sql)| *sql).collect();
            let raised = raised_in(&sql, marker);
            for message in &raised {
                assert!(
                    Rule::raised(message).is_some(),
                    "{backend} raises {message:?}, which no Rule names"
                );
            }
            for rule in Rule::ALL {
                assert!(
                    raised.contains(&rule.message()),
                    "{backend} never raises {rule:?}"
                );
            }
        }
    }
}
