//! The hash maps node/, shared/ and the main's client keep: std's `HashMap` with a [`State`]
//! that is std's `RandomState` (SipHash with random keys: a peer that picks ids cannot flood one
//! bucket) everywhere but under a simulator, which asks for fixed keys on its thread
//! ([`fixed_on_this_thread`]) so that iterating a map (the ids a node hands over, the slots its
//! sweeper visits) goes in the same order on every replay of a seed. `tests/tests/clock.rs`
//! fails on a std `HashMap`/`HashSet` built with the default hasher in those folders.

use std::cell::Cell;
use std::collections::hash_map::DefaultHasher;
use std::hash::{BuildHasher, RandomState};

/// A `HashMap` keyed as [`State`] says.
pub type Map<K, V> = std::collections::HashMap<K, V, State>;

/// A `HashSet` keyed as [`State`] says.
pub type Set<T> = std::collections::HashSet<T, State>;

/// Random SipHash keys, or fixed ones where a simulator asked for them when it was made.
#[derive(Clone, Debug)]
pub struct State(Option<RandomState>);

impl Default for State {
    fn default() -> State {
        State((!FIXED.with(Cell::get)).then(RandomState::new))
    }
}

impl BuildHasher for State {
    type Hasher = DefaultHasher;

    fn build_hasher(&self) -> DefaultHasher {
        match &self.0 {
            Some(random) => random.build_hasher(),
            // SipHash-1-3 with keys (0, 0): the same on every run of one build.
            None => DefaultHasher::new(),
        }
    }
}

thread_local! {
    static FIXED: Cell<bool> = const { Cell::new(false) };
}

/// While the guard lives, every [`State`] made on this thread has fixed keys. For a
/// simulator only: fixed keys let whoever knows them pick colliding keys.
pub fn fixed_on_this_thread() -> Fixed {
    Fixed(FIXED.with(|f| f.replace(true)))
}

/// Puts back the keys [`fixed_on_this_thread`] replaced.
#[must_use = "keys are fixed only while this guard lives"]
pub struct Fixed(bool);

impl Drop for Fixed {
    fn drop(&mut self) {
        FIXED.with(|f| f.set(self.0));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(map: &Map<u64, ()>) -> Vec<u64> {
        map.keys().copied().collect()
    }

    fn filled() -> Map<u64, ()> {
        (0..64).map(|k| (k, ())).collect()
    }

    #[test]
    fn fixed_keys_iterate_alike_and_random_ones_differ() {
        let fixed = fixed_on_this_thread();
        let (a, b) = (filled(), filled());
        assert_eq!(order(&a), order(&b));
        drop(fixed);
        // Two random states order 64 keys alike with vanishing odds; try a few to be sure.
        let first = order(&filled());
        assert!((0..8).any(|_| order(&filled()) != first));
    }
}
