use super::*;

fn n(name: &str) -> NodeId {
    NodeId::new(name).expect("test names are valid")
}

fn three() -> Ring {
    Ring::with_members(DEFAULT_VNODES, [n("n1"), n("n2"), n("n3")])
}

#[test]
fn fnv_core_matches_the_published_test_vectors() {
    // FNV-1a 64 test vectors from the FNV reference (isthe.com/chongo/tech/comp/fnv).
    let fnv = |bytes: &[u8]| {
        let mut h = StableHasher::default();
        h.write(bytes);
        h.0
    };
    assert_eq!(fnv(b""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv(b"a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv(b"foobar"), 0x8594_4171_f739_67e8);
}

#[test]
fn hash_golden_values() {
    assert_eq!(hash64(b""), GOLDEN_HASH_EMPTY);
    assert_eq!(hash64(b"a"), GOLDEN_HASH_A);
    let mut key = Vec::new();
    1u64.placement_key(&mut key);
    assert_eq!(key, [TAG_U64, 0, 0, 0, 0, 0, 0, 0, 1]);
    assert_eq!(hash64(&key), GOLDEN_HASH_ID_1);
    assert_eq!(
        position(&1u64),
        GOLDEN_HASH_ID_1,
        "streaming hashes as the bytes do"
    );
}

#[test]
fn placement_golden_vectors() {
    let ring = three();
    let owners: Vec<&str> = (1u64..=12)
        .map(|id| ring.owner(&id).map(NodeId::as_str).unwrap_or("-"))
        .collect();
    assert_eq!(owners, GOLDEN_OWNERS_1_TO_12);
}

#[test]
fn product_and_order_ids_have_their_own_tags_and_golden_owners() {
    let ring = three();
    let kettle = ProductId::new("tea-kettle").expect("valid");
    let mut key = Vec::new();
    kettle.placement_key(&mut key);
    assert_eq!(key, b"\x02tea-kettle");
    let order: OrderId = "67e55044-10b1-426f-9247-bb680e5fe0c8"
        .parse()
        .expect("valid");
    let mut key = Vec::new();
    order.placement_key(&mut key);
    assert_eq!(key[0], TAG_ORDER);
    assert_eq!(key.len(), 17);
    let owners = [ring.owner(&kettle), ring.owner(&order)].map(|o| o.map(NodeId::as_str));
    assert_eq!(owners, GOLDEN_SHOP_OWNERS);
}

#[test]
fn placement_ignores_the_order_members_were_added_in() {
    let a = three();
    let b = Ring::with_members(DEFAULT_VNODES, [n("n3"), n("n1"), n("n2")]);
    for id in 0u64..10_000 {
        assert_eq!(a.owner(&id), b.owner(&id), "id {id}");
    }
}

#[test]
fn owner_is_the_first_successor_and_successors_are_distinct() {
    let ring = three();
    for id in 0u64..10_000 {
        let order = ring.successors(&id);
        assert_eq!(order.len(), 3);
        assert_eq!(Some(order[0]), ring.owner(&id), "id {id}");
        let distinct: BTreeSet<_> = order.iter().collect();
        assert_eq!(distinct.len(), 3);
    }
}

#[test]
fn removing_a_member_moves_only_its_ids_to_their_next_successor() {
    let full = three();
    let mut less = full.clone();
    assert!(less.remove(&n("n2")));
    for id in 0u64..10_000 {
        let before = full.successors(&id);
        let after = less.owner(&id).expect("two members left");
        if before[0] == &n("n2") {
            assert_eq!(after, before[1], "id {id} goes to its successor");
        } else {
            assert_eq!(after, before[0], "id {id} stays");
        }
    }
}

#[test]
fn adding_a_member_moves_about_one_nth_and_only_to_it() {
    let old = three();
    let mut new = old.clone();
    assert!(new.add(n("n4")));
    let total = 100_000u64;
    let mut moved = 0u64;
    for id in 0..total {
        let (a, b) = (old.owner(&id), new.owner(&id));
        if a != b {
            moved += 1;
            assert_eq!(b, Some(&n("n4")), "id {id} moved between old members");
        }
    }
    let fraction = moved as f64 / total as f64;
    assert!(
        (0.18..0.32).contains(&fraction),
        "moved {fraction}, ideal 0.25"
    );
}

#[test]
fn load_is_balanced_within_a_quarter_of_the_mean() {
    let ring = Ring::with_members(DEFAULT_VNODES, (1..=5).map(|i| n(&format!("n{i}"))));
    let mut counts = std::collections::BTreeMap::new();
    let total = 100_000u64;
    for id in 0..total {
        *counts.entry(ring.owner(&id).cloned()).or_insert(0u64) += 1;
    }
    let mean = total as f64 / 5.0;
    let busiest = counts.values().copied().max().unwrap_or(0) as f64;
    assert_eq!(counts.len(), 5);
    assert!(busiest / mean < 1.25, "busiest {busiest} vs mean {mean}");
}

#[test]
fn shares_add_up_to_one_and_follow_the_owners() {
    let ring = three();
    let shares = ring.shares();
    let sum: f64 = shares.iter().map(|(_, s)| s).sum();
    assert!((sum - 1.0).abs() < 1e-9, "sum {sum}");
    let total = 100_000u64;
    for (node, share) in shares {
        let owned = (0..total)
            .filter(|id| ring.owner(id) == Some(&node))
            .count();
        let measured = owned as f64 / total as f64;
        assert!(
            (measured - share).abs() < 0.02,
            "{node}: {measured} vs {share}"
        );
    }
}

#[test]
fn empty_ring_owns_nothing_and_add_remove_report_changes() {
    let mut ring = Ring::default();
    assert_eq!(ring.owner(&7u64), None);
    assert!(ring.successors(&7u64).is_empty());
    assert!(ring.shares().is_empty());
    assert!(ring.add(n("solo")));
    assert!(!ring.add(n("solo")));
    assert_eq!(ring.owner(&7u64), Some(&n("solo")));
    assert_eq!(ring.shares(), vec![(n("solo"), 1.0)]);
    assert!(ring.remove(&n("solo")));
    assert!(!ring.remove(&n("solo")));
    assert!(ring.is_empty());
}

// Pinned 2026-11-23 and cross-checked against an independent implementation of the
// encoding above (Python, bisect over the sorted points). Changing any of these moves
// ids between nodes in a running cluster: that is a breaking release.
const GOLDEN_HASH_EMPTY: u64 = 17_280_346_270_528_514_342;
const GOLDEN_HASH_A: u64 = 9_413_272_369_427_828_315;
const GOLDEN_HASH_ID_1: u64 = 15_348_745_304_702_968_104;
const GOLDEN_SHOP_OWNERS: [Option<&str>; 2] = [Some("n2"), Some("n3")];
const GOLDEN_OWNERS_1_TO_12: [&str; 12] = [
    "n2", "n2", "n2", "n1", "n3", "n2", "n2", "n3", "n2", "n2", "n1", "n3",
];

#[test]
fn a_ring_built_at_once_places_like_one_built_member_by_member() {
    let members: Vec<NodeId> = ["n3", "a", "zeta", "n1", "a", "m-2"]
        .into_iter()
        .map(n)
        .collect();
    let at_once = Ring::with_members(16, members.clone());
    let mut one_by_one = Ring::new(16);
    for m in members {
        one_by_one.add(m);
    }
    assert_eq!(at_once.points, one_by_one.points);
    assert_eq!(
        at_once.members().collect::<Vec<_>>(),
        one_by_one.members().collect::<Vec<_>>()
    );
    for id in 0..2_000u64 {
        assert_eq!(at_once.owner(&id), one_by_one.owner(&id), "id {id}");
        assert_eq!(
            at_once.successors(&id),
            one_by_one.successors(&id),
            "id {id}"
        );
    }
}
