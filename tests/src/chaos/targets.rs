//! The ids the next fault will move, which the slow mains and the fresh mains ask for.
//!
//! The nemesis aims before it waits for each step: it places the load's ids on the ring of the
//! running nodes and on the ring as the step will leave it, and publishes the ids whose owner
//! differs, in one group per node that loses ids, a few per group. Placement is a pure
//! function of the member names, so this is what the cluster will do, not a guess.
//!
//! Why groups: a slow main learns a change from the first `Moved` any node answers it, and
//! then asks the new owners. Asking only the ids one old owner loses, it keeps the old view
//! exactly as long as that owner does, which is the window where an old owner may still answer
//! while the new one already computes. Why few: a race is seen only where another main (a
//! fresh one) asks the new owner for the same id in that window. Only the load reads them.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use ringshop_shared::{NodeId, Ring};

type Groups = Arc<[Arc<[u64]>]>;

/// Cheap to clone; every clone is the same set. Empty until the nemesis first aims.
#[derive(Clone, Debug)]
pub struct Targets {
    /// The load's ids are `0..ids`.
    ids: u64,
    /// Ids kept per group.
    hot: usize,
    groups: Arc<RwLock<Groups>>,
}

impl Targets {
    /// Targets among the ids `0..ids`, at most `hot` (at least one) per old owner.
    pub fn new(ids: u64, hot: usize) -> Targets {
        Targets {
            ids: ids.max(1),
            hot: hot.max(1),
            groups: Arc::new(RwLock::new(Arc::from(Vec::new()))),
        }
    }

    /// Publishes the ids whose owner on `after` is not their owner on `before`: for each owner
    /// on `before` that loses some, the first `hot` of them.
    pub fn aim(&self, before: &Ring, after: &Ring) {
        let mut by_owner: BTreeMap<&NodeId, Vec<u64>> = BTreeMap::new();
        for id in 0..self.ids {
            let (Some(old), new) = (before.owner(&id), after.owner(&id)) else {
                continue;
            };
            if Some(old) != new {
                let group = by_owner.entry(old).or_default();
                if group.len() < self.hot {
                    group.push(id);
                }
            }
        }
        let groups: Vec<Arc<[u64]>> = by_owner.into_values().map(Arc::from).collect();
        // A poisoned lock only means a reader panicked; the groups are always whole.
        *self.groups.write().unwrap_or_else(|p| p.into_inner()) = Arc::from(groups);
    }

    /// The groups as last published: one per node the next fault takes ids from.
    pub fn groups(&self) -> Groups {
        self.groups
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// One of the ids of group `k` (modulo the number of groups); any id before the nemesis
    /// aims, or when the step moves none (a skipped step).
    pub fn pick_in(&self, k: usize) -> u64 {
        let groups = self.groups();
        match groups.len() {
            0 => self.any(),
            n => pick(&groups[k % n]).unwrap_or_else(|| self.any()),
        }
    }

    /// One of the ids of any group.
    pub fn pick(&self) -> u64 {
        self.pick_in(fastrand::usize(..))
    }

    /// Any of the load's ids, uniformly.
    pub fn any(&self) -> u64 {
        fastrand::u64(..self.ids)
    }
}

fn pick(ids: &[u64]) -> Option<u64> {
    (!ids.is_empty()).then(|| ids[fastrand::usize(..ids.len())])
}

#[cfg(test)]
mod tests {
    use ringshop_shared::DEFAULT_VNODES;

    use super::*;

    fn ring(names: &[usize]) -> Ring {
        Ring::with_members(DEFAULT_VNODES, names.iter().map(|&i| crate::name(i)))
    }

    #[test]
    fn a_join_aims_at_ids_the_joiner_will_own_one_group_per_old_owner() {
        let targets = Targets::new(1_000, 8);
        let (before, after) = (ring(&[1, 2, 3, 4]), ring(&[1, 2, 3, 4, 5]));
        targets.aim(&before, &after);
        let groups = targets.groups();
        assert_eq!(groups.len(), 4);
        for (k, group) in groups.iter().enumerate() {
            assert_eq!(group.len(), 8);
            for id in group.iter() {
                assert_eq!(before.owner(id), Some(&crate::name(k + 1)));
                assert_eq!(after.owner(id), Some(&crate::name(5)));
            }
            assert!((0..20).all(|_| group.contains(&targets.pick_in(k))));
        }
    }

    #[test]
    fn a_leave_aims_at_the_leavers_ids_only() {
        let targets = Targets::new(1_000, 8);
        targets.aim(&ring(&[1, 2, 3]), &ring(&[1, 3]));
        let groups = targets.groups();
        assert_eq!(groups.len(), 1);
        assert!(
            groups[0]
                .iter()
                .all(|id| ring(&[1, 2, 3]).owner(id) == Some(&crate::name(2)))
        );
    }

    #[test]
    fn before_the_first_aim_any_id_is_picked() {
        let targets = Targets::new(10, 8);
        assert!(targets.groups().is_empty());
        assert!((0..50).map(|_| targets.pick()).all(|id| id < 10));
    }
}
