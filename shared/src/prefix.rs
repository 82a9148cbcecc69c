//! Ids a person can type: an unambiguous prefix of an order id or a trace id, like git's
//! abbreviated commits. A prefix is at least [`MIN_DIGITS`] hex digits (dashes, case and
//! surrounding blanks are ignored, so a UUID may be typed with or without its dashes); fewer
//! would match too many ids to be worth asking about. Resolving one is bounded: an answer lists
//! at most [`MAX_CANDIDATES`] ids and says how many match in all.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::OrderId;
use crate::trace::TraceId;

/// Fewest hex digits a prefix may have (24 bits: one id in 16 million).
pub const MIN_DIGITS: usize = 6;
/// Hex digits of a whole order id (a UUID) or trace id.
pub const MAX_DIGITS: usize = 32;
/// Most candidates one answer lists (the count says how many there are in all).
pub const MAX_CANDIDATES: usize = 10;
/// Most trace ids one node lists for a prefix from the spans it keeps.
pub const MAX_TRACE_MATCHES: usize = 64;
/// Longest piece of a refused text repeated in its error.
const ECHO: usize = 40;

/// 6 to 32 lowercase hex digits, the start of an order or trace id.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdPrefix(String);

/// Why a text is not an id prefix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BadPrefix {
    #[error(
        "{given:?} is {digits} hex digits, too short to name one id: give at least {MIN_DIGITS} (or the whole id)"
    )]
    TooShort { given: String, digits: usize },
    #[error(
        "{given:?} is not an id: an order or trace id is hex digits (0-9, a-f), dashes allowed"
    )]
    NotHex { given: String },
    #[error("{given:?} has {digits} hex digits; an order or trace id has {MAX_DIGITS}")]
    TooLong { given: String, digits: usize },
}

fn echo(text: &str) -> String {
    let t = text.trim();
    match t.char_indices().nth(ECHO) {
        Some((cut, _)) => format!("{}…", &t[..cut]),
        None => t.to_string(),
    }
}

impl IdPrefix {
    /// `text` as a prefix: hex digits with any dashes, in either case.
    pub fn parse(text: &str) -> Result<IdPrefix, BadPrefix> {
        let mut digits = String::new();
        for c in text.trim().chars() {
            match c {
                '-' => {}
                c if c.is_ascii_hexdigit() => {
                    if digits.len() == MAX_DIGITS {
                        let count = text.chars().filter(char::is_ascii_hexdigit).count();
                        return Err(BadPrefix::TooLong {
                            given: echo(text),
                            digits: count,
                        });
                    }
                    digits.push(c.to_ascii_lowercase());
                }
                _ => return Err(BadPrefix::NotHex { given: echo(text) }),
            }
        }
        if digits.len() < MIN_DIGITS {
            return Err(BadPrefix::TooShort {
                given: echo(text),
                digits: digits.len(),
            });
        }
        Ok(IdPrefix(digits))
    }

    /// The hex digits, lowercase, without dashes.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// All 32 digits: a whole id, not a prefix.
    pub fn is_whole(&self) -> bool {
        self.0.len() == MAX_DIGITS
    }

    /// Whether `hex` (lowercase digits, no dashes) starts with this prefix.
    fn starts(&self, hex: &str) -> bool {
        hex.starts_with(&self.0)
    }

    pub fn matches_order(&self, id: &OrderId) -> bool {
        self.starts(&id.0.simple().to_string())
    }

    pub fn matches_trace(&self, trace: &TraceId) -> bool {
        self.starts(&trace.to_string())
    }

    /// The prefix as a hyphenated order id (`67e55044-10b1-…`, as stored) starts.
    pub fn hyphenated(&self) -> String {
        let mut out = String::with_capacity(self.0.len() + 4);
        for (i, c) in self.0.chars().enumerate() {
            if matches!(i, 8 | 12 | 16 | 20) {
                out.push('-');
            }
            out.push(c);
        }
        out
    }

    /// The order id these digits are, when they are a whole one.
    pub fn order_id(&self) -> Option<OrderId> {
        self.is_whole()
            .then(|| uuid::Uuid::parse_str(&self.0).ok().map(OrderId))
            .flatten()
    }

    /// The trace id these digits are, when they are a whole (non-zero) one.
    pub fn trace_id(&self) -> Option<TraceId> {
        self.is_whole()
            .then(|| self.0.parse::<TraceId>().ok())
            .flatten()
    }
}

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl TryFrom<String> for IdPrefix {
    type Error = BadPrefix;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        IdPrefix::parse(&text)
    }
}

impl From<IdPrefix> for String {
    fn from(p: IdPrefix) -> String {
        p.0
    }
}

/// What a prefix matched: the first `MAX_CANDIDATES` (by id), and how many match in all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found<T> {
    pub first: Vec<T>,
    pub total: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_ignores_dashes_case_and_blanks() {
        let p = IdPrefix::parse(" 1C33-41 ").expect("six digits");
        assert_eq!(p.digits(), "1c3341");
        assert!(!p.is_whole());
        let id: OrderId = "1c334175-ab00-4000-8000-000000000001"
            .parse()
            .expect("a UUID");
        assert!(p.matches_order(&id));
        assert!(
            IdPrefix::parse("1c334175ab")
                .expect("ok")
                .matches_order(&id)
        );
        assert!(!IdPrefix::parse("1c334176").expect("ok").matches_order(&id));
    }

    #[test]
    fn hyphenated_puts_the_dashes_where_a_uuid_has_them() {
        let cases = [
            ("1c3341", "1c3341"),
            ("1c334175", "1c334175"),
            ("1c334175a", "1c334175-a"),
            ("1c334175ab004000", "1c334175-ab00-4000"),
            (
                "1c334175ab0040008000000000000001",
                "1c334175-ab00-4000-8000-000000000001",
            ),
        ];
        for (digits, want) in cases {
            assert_eq!(IdPrefix::parse(digits).expect(digits).hyphenated(), want);
        }
    }

    #[test]
    fn whole_ids_parse_back_to_their_ids() {
        let id = OrderId::random();
        let p = IdPrefix::parse(&id.to_string()).expect("a whole id");
        assert_eq!(p.order_id(), Some(id));
        let trace = TraceId(0x0123_4567_89ab_cdef_0011_2233_4455_6677);
        let p = IdPrefix::parse(&trace.to_string()).expect("a whole trace id");
        assert_eq!(p.trace_id(), Some(trace));
        assert!(p.matches_trace(&trace));
        assert_eq!(IdPrefix::parse("abcdef").expect("ok").order_id(), None);
    }

    #[test]
    fn short_long_and_odd_texts_are_typed_errors_that_say_why() {
        let short = IdPrefix::parse("1c33-4").expect_err("five digits");
        assert_eq!(
            short,
            BadPrefix::TooShort {
                given: "1c33-4".into(),
                digits: 5
            }
        );
        assert!(short.to_string().contains("at least 6"), "{short}");
        assert!(matches!(
            IdPrefix::parse("1c3341zz"),
            Err(BadPrefix::NotHex { .. })
        ));
        assert!(matches!(
            IdPrefix::parse(&"a".repeat(33)),
            Err(BadPrefix::TooLong { digits: 33, .. })
        ));
        let long_garbage = "x".repeat(10_000);
        let err = IdPrefix::parse(&long_garbage).expect_err("garbage");
        assert!(err.to_string().len() < 200, "the echo is cut short");
    }

    #[test]
    fn a_prefix_read_off_the_wire_is_checked() {
        let bytes = bincode::serialize("abc").expect("writes");
        assert!(bincode::deserialize::<IdPrefix>(&bytes).is_err());
        let bytes = bincode::serialize("ABCDEF12").expect("writes");
        let p: IdPrefix = bincode::deserialize(&bytes).expect("reads");
        assert_eq!(p.digits(), "abcdef12");
    }
}
