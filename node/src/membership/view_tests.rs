use super::*;

const VNODES: u32 = 32;
const SUSPICION: Duration = Duration::from_secs(2);

fn n(name: &str) -> NodeId {
    NodeId::new(name).expect("valid")
}

fn member(name: &str, status: MemberStatus, acked: u64) -> Member {
    Member {
        name: n(name),
        addr: SocketAddr::from(([127, 0, 0, 1], 7000 + name.len() as u16)),
        incarnation: 1,
        status,
        heartbeat_age: Duration::from_millis(100),
        acked_epoch: acked,
    }
}

fn listing(epoch: u64, members: Vec<Member>) -> Membership {
    Membership { epoch, members }
}

fn change(epoch: u64, name: &str, status: MemberStatus) -> Change {
    let m = member(name, status, 0);
    Change {
        epoch,
        name: m.name,
        addr: m.addr,
        incarnation: 1,
        status,
    }
}

/// n1, n2, n3 active, all having acknowledged `acked`, at epoch 3.
fn three(acked: u64) -> Membership {
    let active = MemberStatus::Active;
    listing(
        3,
        vec![
            member("n1", active, acked),
            member("n2", active, acked),
            member("n3", active, acked),
        ],
    )
}

fn settled_view_of_three() -> View {
    let view = View::joined(three(3), VNODES, SUSPICION);
    assert!(view.is_settled(), "everyone acknowledged the epoch");
    view
}

/// The first id (from 0) that `pick` accepts.
fn find(pick: impl Fn(u64) -> bool) -> u64 {
    (0..100_000)
        .find(|id| pick(*id))
        .expect("such an id exists")
}

#[test]
fn on_a_settled_view_the_owner_answers_and_the_others_redirect() {
    let view = settled_view_of_three();
    let id = find(|id| view.ring.owner(&id) == Some(&n("n2")));
    assert_eq!(view.claim(&n("n2"), &id), Claim::Mine);
    assert!(matches!(view.claim(&n("n1"), &id), Claim::Moved { owner, .. } if owner == n("n2")));
}

#[test]
fn a_node_that_just_joined_holds_its_ids_until_every_live_member_acknowledged_the_join() {
    let mut joined = three(3);
    joined.epoch = 4;
    joined.members.push(member("n4", MemberStatus::Active, 4));
    let view = View::joined(joined.clone(), VNODES, SUSPICION);
    let id = find(|id| view.ring.owner(&id) == Some(&n("n4")));
    assert_eq!(view.claim(&n("n4"), &id), Claim::Held);
    assert!(
        !view.lost(&n("n4"), &id, 4),
        "an entry adopted while held is kept"
    );
    for m in &mut joined.members {
        m.acked_epoch = 4;
    }
    let later = view.next(joined, &[], VNODES, SUSPICION);
    assert_eq!(later.claim(&n("n4"), &id), Claim::Mine);
}

#[test]
fn the_previous_owner_lets_go_as_soon_as_it_applies_the_join() {
    let view = settled_view_of_three();
    let mut joined = three(3);
    joined.epoch = 4;
    joined.members.push(member("n4", MemberStatus::Active, 4));
    let next = view.next(
        joined,
        &[change(4, "n4", MemberStatus::Active)],
        VNODES,
        SUSPICION,
    );
    let id = find(|id| next.ring.owner(&id) == Some(&n("n4")));
    let before = view.ring.owner(&id).cloned().expect("owned");
    assert!(matches!(next.claim(&before, &id), Claim::Moved { owner, .. } if owner == n("n4")));
    let kept = find(|id| next.ring.owner(&id) == Some(&before));
    assert_eq!(
        next.claim(&before, &kept),
        Claim::Mine,
        "ids that stay are answered"
    );
}

#[test]
fn an_owner_in_between_two_polls_is_never_skipped() {
    // Epoch 4: n4 joins; epoch 5: n4 leaves. n1 polls at 3 and then at 5.
    let view = settled_view_of_three();
    let mut after = three(3);
    after.epoch = 5;
    after.members.push(member("n4", MemberStatus::Left, 5));
    let changes = [
        change(4, "n4", MemberStatus::Active),
        change(5, "n4", MemberStatus::Left),
    ];
    let next = view.next(after.clone(), &changes, VNODES, SUSPICION);
    let mut with_n4 = Ring::with_members(VNODES, [n("n1"), n("n2"), n("n3")]);
    with_n4.add(n("n4"));
    let id =
        find(|id| view.ring.owner(&id) == Some(&n("n1")) && with_n4.owner(&id) == Some(&n("n4")));
    assert_eq!(
        next.ring.owner(&id),
        Some(&n("n1")),
        "n1 owns it again at 5"
    );
    assert_eq!(
        next.claim(&n("n1"), &id),
        Claim::Held,
        "n4 may have answered for it at 4"
    );
    assert_eq!(next.heir(&n("n1"), &id), None);
    assert!(
        next.lost(&n("n1"), &id, 3),
        "its actor from epoch 3 must go"
    );
    for m in &mut after.members {
        m.acked_epoch = 5;
    }
    let settled = next.next(after, &[], VNODES, SUSPICION);
    assert_eq!(settled.claim(&n("n1"), &id), Claim::Mine);
}

#[test]
fn a_gap_in_the_log_holds_every_id_until_the_epoch_settles() {
    let view = settled_view_of_three();
    let mut later = three(3);
    later.epoch = 7;
    let next = view.next(
        later,
        &[change(5, "n4", MemberStatus::Dead)],
        VNODES,
        SUSPICION,
    );
    let id = find(|id| next.ring.owner(&id) == Some(&n("n1")));
    assert_eq!(next.claim(&n("n1"), &id), Claim::Held);
}

#[test]
fn an_entry_goes_to_the_new_owner_only_if_nobody_else_owned_it_in_between() {
    let view = settled_view_of_three();
    let mut after = three(3);
    after.epoch = 4;
    after.members.push(member("n4", MemberStatus::Active, 4));
    let next = view.next(
        after,
        &[change(4, "n4", MemberStatus::Active)],
        VNODES,
        SUSPICION,
    );
    let id = find(|id| next.ring.owner(&id) == Some(&n("n4")));
    let before = view.ring.owner(&id).cloned().expect("owned");
    assert_eq!(next.heir(&before, &id), Some(&n("n4")));
}

#[test]
fn members_that_may_still_answer_hold_back_the_settled_epoch() {
    let mut m = three(9);
    m.epoch = 9;
    m.members[0].acked_epoch = 8;
    assert_eq!(settled_epoch(&m, SUSPICION), 8, "a live member behind");
    m.members[0].status = MemberStatus::Dead;
    assert_eq!(
        settled_epoch(&m, SUSPICION),
        8,
        "dead, but its lease may not have run out"
    );
    m.members[0].heartbeat_age = SUSPICION;
    assert_eq!(
        settled_epoch(&m, SUSPICION),
        9,
        "dead and its lease is over"
    );
    m.members[1].status = MemberStatus::Left;
    m.members[1].acked_epoch = 2;
    assert_eq!(
        settled_epoch(&m, SUSPICION),
        9,
        "a member that left answers nothing"
    );
}
