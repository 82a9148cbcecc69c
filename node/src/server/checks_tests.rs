use super::*;

fn names(list: &[&str]) -> Vec<NodeId> {
    list.iter()
        .map(|n| NodeId::new(*n).expect("valid"))
        .collect()
}

#[test]
fn placement_answers_like_a_local_ring() {
    let members = names(&["a", "b", "c"]);
    let ring = Ring::with_members(64, members.clone());
    let ids: Vec<u64> = (0..500).collect();
    let answered = placement(members, 64, ids.clone()).expect("valid question");
    let local: Vec<NodeId> = ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect();
    assert_eq!(answered, local);
}

#[test]
fn placement_refuses_empty_oversized_and_out_of_range_questions() {
    assert!(matches!(
        placement(vec![], 8, vec![1]),
        Err(ShardError::Invalid { .. })
    ));
    let many: Vec<NodeId> = (0..=MAX_PLACEMENT_MEMBERS)
        .map(|i| NodeId::new(format!("n{i}")).expect("valid"))
        .collect();
    assert!(matches!(
        placement(many, 8, vec![1]),
        Err(ShardError::TooMany { .. })
    ));
    let ids = vec![0; MAX_PLACEMENT_IDS + 1];
    assert!(matches!(
        placement(names(&["a"]), 8, ids),
        Err(ShardError::TooMany { .. })
    ));
    for vnodes in [0, MAX_VNODES + 1] {
        assert!(matches!(
            placement(names(&["a"]), vnodes, vec![1]),
            Err(ShardError::Invalid { .. })
        ));
    }
}

#[test]
fn placement_refuses_more_ring_points_than_the_bound() {
    let many: Vec<NodeId> = (0..MAX_PLACEMENT_MEMBERS)
        .map(|i| NodeId::new(format!("n{i}")).expect("valid"))
        .collect();
    let started = clock::now();
    let refused = placement(many, MAX_VNODES, vec![0; MAX_PLACEMENT_IDS]);
    assert!(
        matches!(&refused, Err(ShardError::Invalid { what }) if what.contains("ring points")),
        "{refused:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(50),
        "refused at once"
    );
}

#[test]
fn the_costliest_placement_accepted_is_cheap() {
    // The most a caller may ask: members × vnodes at the bound, every id it may send.
    let vnodes = (MAX_PLACEMENT_POINTS / MAX_PLACEMENT_MEMBERS) as u32;
    let many: Vec<NodeId> = (0..MAX_PLACEMENT_MEMBERS)
        .map(|i| NodeId::new(format!("member-{i}")).expect("valid"))
        .collect();
    let ids: Vec<u64> = (0..MAX_PLACEMENT_IDS as u64).collect();
    let started = clock::now();
    let placed = placement(many, vnodes, ids).expect("within every bound");
    let took = started.elapsed();
    assert_eq!(placed.len(), MAX_PLACEMENT_IDS);
    // Measured: ~30 ms in a debug build, ~3 ms in release (64 members × MAX_VNODES took
    // 6.3 s and 0.5 s before the bound); the margin is for a busy machine.
    assert!(took < Duration::from_millis(300), "took {took:?}");
}

#[test]
fn peer_only_rpcs_refuse_a_client_certificate_and_nothing_else() {
    let me = NodeId::new("n1").expect("valid");
    for rpc in ringshop_shared::service::PEER_ONLY {
        assert_eq!(
            peer_only(Some(Role::Client), &me, rpc),
            Err(ShardError::NotAPeer {
                node: me.clone(),
                rpc: rpc.to_string(),
            })
        );
        assert_eq!(peer_only(Some(Role::Node), &me, rpc), Ok(()), "a peer");
        assert_eq!(peer_only(None, &me, rpc), Ok(()), "plaintext: no roles");
    }
}
