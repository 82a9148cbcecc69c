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
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NodeId(Arc<str>);

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
