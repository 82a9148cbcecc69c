//! The checks and bounds every RPC shares: how many products one call may name, how long a call
//! may keep trying, who may call a peer-only RPC, and the `placement` question's limits.

use std::time::Duration;

use ringshop_shared::clock::{self, Instant};
use ringshop_shared::ring::MAX_VNODES;
use ringshop_shared::service::{MAX_PLACEMENT_IDS, MAX_PLACEMENT_POINTS, MAX_QUOTES};
use ringshop_shared::transport::Role;
use ringshop_shared::{NodeId, ProductId, Ring, ShardError};
use tarpc::context::Context;

/// Most members a `placement` question may name.
pub const MAX_PLACEMENT_MEMBERS: usize = 64;
/// A long-poll returns this long before the caller's deadline, so the answer arrives in time.
pub(super) const WATCH_MARGIN: Duration = Duration::from_millis(200);

/// One call quotes (or watches) at most `MAX_QUOTES` products.
pub(super) fn at_most_quotes(products: &[ProductId]) -> Result<(), ShardError> {
    if products.len() > MAX_QUOTES {
        return Err(ShardError::TooMany {
            what: "products".into(),
            got: products.len(),
            max: MAX_QUOTES,
        });
    }
    Ok(())
}

/// How long a call may keep trying a stuttering store: until shortly before its deadline, so
/// the answer (an error, if it comes to that) still arrives in time.
/// It is also when a long-poll returns: the caller's deadline less `WATCH_MARGIN`, on the
/// node's clock.
pub(super) fn patience(ctx: &Context) -> Instant {
    clock::on_clock(ctx.deadline)
        .checked_sub(WATCH_MARGIN)
        .unwrap_or_else(clock::now)
}

/// A peer-only RPC refuses a client certificate; a node's certificate, or a plaintext
/// connection (loopback, `--insecure`: no roles there), may call it.
pub fn peer_only(caller: Option<Role>, node: &NodeId, rpc: &str) -> Result<(), ShardError> {
    match caller {
        Some(Role::Client) => Err(ShardError::NotAPeer {
            node: node.clone(),
            rpc: rpc.to_string(),
        }),
        Some(Role::Node) | None => Ok(()),
    }
}

pub(super) fn placement(
    members: Vec<NodeId>,
    vnodes: u32,
    ids: Vec<u64>,
) -> Result<Vec<NodeId>, ShardError> {
    if members.is_empty() {
        return Err(ShardError::Invalid {
            what: "members: name at least one member".into(),
        });
    }
    if members.len() > MAX_PLACEMENT_MEMBERS {
        return Err(ShardError::TooMany {
            what: "members".into(),
            got: members.len(),
            max: MAX_PLACEMENT_MEMBERS,
        });
    }
    if ids.len() > MAX_PLACEMENT_IDS {
        return Err(ShardError::TooMany {
            what: "ids".into(),
            got: ids.len(),
            max: MAX_PLACEMENT_IDS,
        });
    }
    if !(1..=MAX_VNODES).contains(&vnodes) {
        return Err(ShardError::Invalid {
            what: format!("vnodes {vnodes}: must be 1..={MAX_VNODES}"),
        });
    }
    let points = members.len().saturating_mul(vnodes as usize);
    if points > MAX_PLACEMENT_POINTS {
        return Err(ShardError::Invalid {
            what: format!(
                "{} members × {vnodes} vnodes = {points} ring points, at most {MAX_PLACEMENT_POINTS}; name fewer members or use fewer vnodes",
                members.len()
            ),
        });
    }
    let ring = Ring::with_members(vnodes, members);
    Ok(ids
        .iter()
        .filter_map(|id| ring.owner(id).cloned())
        .collect())
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
