//! Identifier newtypes. A `NodeId` is validated when it is made, so a name that reaches the ring
//! or the wire is always well formed (its bytes are part of the placement encoding).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Longest node name we accept; names travel in every answer, so they stay short.
pub const MAX_NODE_NAME: usize = 32;

/// A node's name, unique in a cluster: 1 to 32 of `A-Z a-z 0-9 - _ .`. Every answer carries
/// one, so cloning it is a reference-count increment, not a copy.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(Arc<str>);

/// Names read off the wire are kept (per thread, a few) and handed out again: every answer
/// names its node, and a cluster has few, so reading one is a compare and a reference-count
/// increment, not two allocations and a validation.
const KNOWN_NAMES: usize = 64;

thread_local! {
    static KNOWN: std::cell::RefCell<Vec<NodeId>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl NodeId {
    /// `name` as a `NodeId`, the same one as the last time this thread read it.
    fn interned(name: &str) -> Result<NodeId, InvalidNodeId> {
        let known = KNOWN.with(|k| k.borrow().iter().find(|n| &*n.0 == name).cloned());
        if let Some(id) = known {
            return Ok(id);
        }
        let id = NodeId::new(name)?;
        KNOWN.with(|k| {
            let mut k = k.borrow_mut();
            if k.len() < KNOWN_NAMES {
                k.push(id.clone());
            }
        });
        Ok(id)
    }
}

impl<'de> Deserialize<'de> for NodeId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Name;
        impl serde::de::Visitor<'_> for Name {
            type Value = NodeId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a node name")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<NodeId, E> {
                NodeId::interned(name).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Name)
    }
}

/// Written as its string, borrowed: no copy per answer (`into = "String"` made one).
impl Serialize for NodeId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// Why a string is not a valid node name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid node name {name:?}: {reason}; use 1-{MAX_NODE_NAME} letters, digits, '-', '_' or '.'"
)]
pub struct InvalidNodeId {
    pub name: String,
    pub reason: &'static str,
}

impl NodeId {
    pub fn new(name: impl Into<String>) -> Result<Self, InvalidNodeId> {
        let name = name.into();
        let reason = if name.is_empty() {
            Some("it is empty")
        } else if name.len() > MAX_NODE_NAME {
            Some("it is too long")
        } else if !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        {
            Some("it has a character outside the allowed set")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InvalidNodeId { name, reason }),
            None => Ok(NodeId(name.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl FromStr for NodeId {
    type Err = InvalidNodeId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        NodeId::new(s)
    }
}

impl TryFrom<String> for NodeId {
    type Error = InvalidNodeId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        NodeId::new(s)
    }
}

impl From<NodeId> for String {
    fn from(id: NodeId) -> String {
        id.0.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_read_twice_off_the_wire_is_one_name_and_a_bad_one_is_refused() {
        let bytes = bincode::serialize(&NodeId::new("n7").expect("valid")).expect("writes");
        let a: NodeId = bincode::deserialize(&bytes).expect("reads");
        let b: NodeId = bincode::deserialize(&bytes).expect("reads");
        assert_eq!(a.as_str(), "n7");
        assert!(Arc::ptr_eq(&a.0, &b.0), "the second read shares the first");
        for bad in ["", "a b", "x/y", &"n".repeat(MAX_NODE_NAME + 1)] {
            let bytes = bincode::serialize(bad).expect("writes");
            assert!(bincode::deserialize::<NodeId>(&bytes).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn accepts_plain_names() {
        for name in ["n1", "node-2", "a.b_c", "X"] {
            assert_eq!(
                NodeId::new(name).map(|n| n.to_string()),
                Ok(name.to_string())
            );
        }
    }

    #[test]
    fn rejects_empty_long_and_odd_names_with_a_reason() {
        let long = "x".repeat(MAX_NODE_NAME + 1);
        for (name, reason) in [
            ("", "it is empty"),
            (long.as_str(), "it is too long"),
            ("n 1", "it has a character outside the allowed set"),
            ("n\u{0}1", "it has a character outside the allowed set"),
        ] {
            let err = NodeId::new(name).expect_err(name);
            assert_eq!(err.reason, reason);
            assert!(err.to_string().contains("invalid node name"));
        }
    }
}

/// Longest product id.
pub const MAX_PRODUCT_ID: usize = 40;

/// A product's id in the catalog: 1 to 40 of `a-z 0-9 -`, e.g. `tea-kettle`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProductId(Arc<str>);

/// Why a string is not a product id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid product id {id:?}: use 1-{MAX_PRODUCT_ID} lowercase letters, digits or '-'")]
pub struct InvalidProductId {
    pub id: String,
}

impl ProductId {
    pub fn new(id: impl Into<String>) -> Result<Self, InvalidProductId> {
        let id = id.into();
        let ok = !id.is_empty()
            && id.len() <= MAX_PRODUCT_ID
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(ProductId(id.into()))
        } else {
            Err(InvalidProductId { id })
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl FromStr for ProductId {
    type Err = InvalidProductId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProductId::new(s)
    }
}

impl TryFrom<String> for ProductId {
    type Error = InvalidProductId;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        ProductId::new(s)
    }
}

impl From<ProductId> for String {
    fn from(id: ProductId) -> String {
        id.0.to_string()
    }
}

/// An order's id: a UUID the client makes, so a retried submission is the same order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct OrderId(pub uuid::Uuid);

/// Why a string is not an order id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed order id {id:?}: expected a UUID like 67e55044-10b1-426f-9247-bb680e5fe0c8")]
pub struct InvalidOrderId {
    pub id: String,
}

impl OrderId {
    /// A fresh random (v4) id, drawn from this thread's `fastrand` generator so a simulator
    /// that seeds it gets the same ids on every replay. An order id names an order (the
    /// idempotency key of its checkout); it is not a secret: who may read an order is the
    /// connection's business (mutual TLS), never knowledge of its id.
    pub fn random() -> OrderId {
        let bytes = fastrand::u128(..).to_le_bytes();
        OrderId(uuid::Builder::from_random_bytes(bytes).into_uuid())
    }

    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for OrderId {
    type Err = InvalidOrderId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim())
            .map(OrderId)
            .map_err(|_| InvalidOrderId { id: s.to_string() })
    }
}

#[cfg(test)]
mod shop_id_tests {
    use super::*;

    #[test]
    fn product_ids_are_lowercase_slugs() {
        assert!(ProductId::new("tea-kettle").is_ok());
        for bad in [
            "",
            "Tea",
            "tea kettle",
            "tea_kettle",
            &"x".repeat(MAX_PRODUCT_ID + 1),
        ] {
            let err = ProductId::new(bad).expect_err(bad);
            assert!(err.to_string().contains("invalid product id"));
        }
    }

    #[test]
    fn order_ids_round_trip_and_reject_garbage_by_name() {
        let id = OrderId::random();
        assert_eq!(id.to_string().parse::<OrderId>(), Ok(id));
        let err = "not-a-uuid".parse::<OrderId>().expect_err("garbage");
        assert!(
            err.to_string()
                .contains("malformed order id \"not-a-uuid\"")
        );
    }
}
