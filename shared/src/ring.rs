//! Placement: which member owns an id. `Ring` is a pure function of (member set, id): the same
//! answer in every process, machine and release, whatever order members were added in.
//!
//! How it is stable, and must stay so (golden vectors in the tests pin it):
//! - the hash is ours: FNV-1a 64 over raw bytes, then the murmur3 `fmix64` finaliser for
//!   avalanche. Never std's `RandomState` or `Hash` impls for str/integers, which are not
//!   promised stable.
//! - a virtual node's position is the hash of `name bytes ++ 0x00 ++ replica (u32 big-endian)`;
//!   names never contain 0x00 (`NodeId` forbids it).
//! - an id's position is the hash of its placement key: one kind tag byte, then the id's bytes.
//!   Tags: 0x01 the demo's `u64` (8 bytes big-endian); 0x02 a `ProductId` (its UTF-8 bytes);
//!   0x03 an `OrderId` (its 16 UUID bytes). A new kind takes the next tag.
//! - the owner is the first virtual node at or after the id's position, wrapping at the top.
//!
//! `hashring` finds the owner; the ring walks its own sorted copy of the points for distinct
//! successors (hashring's `get_with_replicas` clones the ring and repeats physical nodes).

use std::collections::BTreeSet;
use std::hash::{BuildHasher, Hash, Hasher};

use hashring::HashRing;

use crate::ids::{NodeId, OrderId, ProductId};

/// Virtual nodes per member by default (busiest member ≈ 1.1× the mean).
pub const DEFAULT_VNODES: u32 = 128;
/// Most virtual nodes per member a ring accepts.
pub const MAX_VNODES: u32 = 4096;

/// Placement key tag of the demo's `u64` ids.
pub const TAG_U64: u8 = 0x01;
/// Placement key tag of product ids.
pub const TAG_PRODUCT: u8 = 0x02;
/// Placement key tag of order ids.
pub const TAG_ORDER: u8 = 0x03;

/// Something the ring can place: it feeds its placement key (tag byte, then its bytes) to a
/// hasher. Streaming, so placing an id allocates nothing (the hash is FNV, so two writes hash
/// exactly as their concatenation would).
pub trait Placed {
    fn write_key(&self, h: &mut dyn Hasher);

    /// The placement key's bytes (for tests and tools; placing never builds them).
    fn placement_key(&self, out: &mut Vec<u8>) {
        struct Collect<'a>(&'a mut Vec<u8>);
        impl Hasher for Collect<'_> {
            fn write(&mut self, bytes: &[u8]) {
                self.0.extend_from_slice(bytes);
            }
            fn finish(&self) -> u64 {
                0
            }
        }
        self.write_key(&mut Collect(out));
    }
}

impl Placed for u64 {
    fn write_key(&self, h: &mut dyn Hasher) {
        h.write(&[TAG_U64]);
        h.write(&self.to_be_bytes());
    }
}

impl Placed for ProductId {
    fn write_key(&self, h: &mut dyn Hasher) {
        h.write(&[TAG_PRODUCT]);
        h.write(self.as_str().as_bytes());
    }
}

impl Placed for OrderId {
    fn write_key(&self, h: &mut dyn Hasher) {
        h.write(&[TAG_ORDER]);
        h.write(self.as_bytes());
    }
}

/// The position of `id` on the ring.
pub fn position<K: Placed + ?Sized>(id: &K) -> u64 {
    let mut h = StableHasher::default();
    id.write_key(&mut h);
    h.finish()
}

/// The ring's hash of raw bytes: FNV-1a 64, then `fmix64`.
pub fn hash64(bytes: &[u8]) -> u64 {
    let mut h = StableHasher::default();
    h.write(bytes);
    h.finish()
}

/// FNV-1a 64 with a murmur3 finaliser. Streaming, so it only ever sees the bytes it is given.
#[derive(Clone, Copy, Debug)]
pub struct StableHasher(u64);

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for StableHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        let mut k = self.0;
        k ^= k >> 33;
        k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
        k ^= k >> 33;
        k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        k ^ (k >> 33)
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct StableBuild;

impl BuildHasher for StableBuild {
    type Hasher = StableHasher;
    fn build_hasher(&self) -> StableHasher {
        StableHasher::default()
    }
}

/// One of a member's points on the ring.
#[derive(Clone, Debug, PartialEq, Eq)]
struct VNode {
    node: NodeId,
    replica: u32,
}

impl VNode {
    fn position(&self) -> u64 {
        hash64(&self.encoding())
    }

    fn encoding(&self) -> Vec<u8> {
        let name = self.node.as_str().as_bytes();
        let mut buf = Vec::with_capacity(name.len() + 5);
        buf.extend_from_slice(name);
        buf.push(0);
        buf.extend_from_slice(&self.replica.to_be_bytes());
        buf
    }
}

impl Hash for VNode {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write(&self.encoding());
    }
}

/// An id, hashed as exactly its placement key.
struct KeyOf<'a, K: ?Sized>(&'a K);

impl<K: Placed + ?Sized> Hash for KeyOf<'_, K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.write_key(state);
    }
}

/// The consistent-hash ring over a set of members.
#[derive(Clone, Debug)]
pub struct Ring {
    vnodes: u32,
    ring: HashRing<VNode, StableBuild>,
    /// Every point as (position, member), sorted: the order hashring searches.
    points: Vec<(u64, NodeId)>,
    members: BTreeSet<NodeId>,
}

impl Default for Ring {
    fn default() -> Self {
        Ring::new(DEFAULT_VNODES)
    }
}

impl Ring {
    /// An empty ring with `vnodes` points per member (clamped to 1..=`MAX_VNODES`).
    pub fn new(vnodes: u32) -> Ring {
        Ring {
            vnodes: vnodes.clamp(1, MAX_VNODES),
            ring: HashRing::with_hasher(StableBuild),
            points: Vec::new(),
            members: BTreeSet::new(),
        }
    }

    /// A ring holding `members`, built in one pass: every point hashed, then sorted once
    /// (adding members one by one sorts the whole ring per member: with 64 members that was
    /// most of a `placement` call's cost). Places ids exactly as `add` one by one would: both
    /// sorts order equal positions by insertion.
    pub fn with_members(vnodes: u32, members: impl IntoIterator<Item = NodeId>) -> Ring {
        let mut ring = Ring::new(vnodes);
        let mut vnodes = Vec::new();
        for node in members {
            if !ring.members.insert(node.clone()) {
                continue;
            }
            vnodes.extend((0..ring.vnodes).map(|replica| VNode {
                node: node.clone(),
                replica,
            }));
        }
        ring.points = vnodes
            .iter()
            .map(|v| (v.position(), v.node.clone()))
            .collect();
        ring.points.sort_unstable();
        ring.ring.batch_add(vnodes);
        ring
    }

    pub fn vnodes(&self) -> u32 {
        self.vnodes
    }

    /// Adds a member; false if it was already there.
    pub fn add(&mut self, node: NodeId) -> bool {
        if !self.members.insert(node.clone()) {
            return false;
        }
        let vnodes: Vec<VNode> = (0..self.vnodes)
            .map(|replica| VNode {
                node: node.clone(),
                replica,
            })
            .collect();
        self.points
            .extend(vnodes.iter().map(|v| (v.position(), node.clone())));
        self.points.sort_unstable();
        self.ring.batch_add(vnodes);
        true
    }

    /// Removes a member; false if it was not there.
    pub fn remove(&mut self, node: &NodeId) -> bool {
        if !self.members.remove(node) {
            return false;
        }
        for replica in 0..self.vnodes {
            self.ring.remove(&VNode {
                node: node.clone(),
                replica,
            });
        }
        self.points.retain(|(_, n)| n != node);
        true
    }

    pub fn members(&self) -> impl ExactSizeIterator<Item = &NodeId> {
        self.members.iter()
    }

    pub fn contains(&self, node: &NodeId) -> bool {
        self.members.contains(node)
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member that owns `id`, or None on an empty ring.
    pub fn owner<K: Placed + ?Sized>(&self, id: &K) -> Option<&NodeId> {
        self.ring.get(&KeyOf(id)).map(|v| &v.node)
    }

    /// Every member once, in the order to try them for `id`: the owner first, then the member
    /// that would own it if the owner left, and so on.
    pub fn successors<K: Placed + ?Sized>(&self, id: &K) -> Vec<&NodeId> {
        let position = position(id);
        let start = self.points.partition_point(|(p, _)| *p < position);
        let mut order: Vec<&NodeId> = Vec::with_capacity(self.members.len());
        for (_, node) in self.points[start..].iter().chain(&self.points[..start]) {
            if !order.contains(&node) {
                order.push(node);
                if order.len() == self.members.len() {
                    break;
                }
            }
        }
        order
    }

    /// Each member's share of the hash space, in (0, 1]; the shares add up to 1.
    pub fn shares(&self) -> Vec<(NodeId, f64)> {
        let mut owned: Vec<(NodeId, u128)> = self.members.iter().map(|m| (m.clone(), 0)).collect();
        let Some(&(last, _)) = self.points.last() else {
            return Vec::new();
        };
        let mut previous = last;
        for (position, node) in &self.points {
            // The arc (previous, position] belongs to this point; the first wraps past the top.
            let arc = u128::from(position.wrapping_sub(previous));
            let arc = if self.points.len() == 1 {
                1u128 << 64
            } else {
                arc
            };
            if let Some(slot) = owned.iter_mut().find(|(m, _)| m == node) {
                slot.1 += arc;
            }
            previous = *position;
        }
        let total = (1u128 << 64) as f64;
        owned
            .into_iter()
            .map(|(m, arc)| (m, arc as f64 / total))
            .collect()
    }
}

#[cfg(test)]
#[path = "ring_tests.rs"]
mod tests;
