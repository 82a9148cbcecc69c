//! The node's side of the `Shard` service, thin: each call is checked and handed to the
//! registry (the id's actor); no state beyond who the node is and who is calling. Every
//! connection gets its own `ShardServer` (`state.rs`) carrying the caller's role, and the
//! peer-only RPCs (`service::PEER_ONLY`) refuse a client certificate before doing anything
//! (`checks.rs`). `shard.rs` is `impl Shard`; `dispatch.rs` is how tarpc serves it.

mod checks;
mod dispatch;
mod shard;
mod state;

pub use self::checks::{MAX_PLACEMENT_MEMBERS, peer_only};
pub use self::dispatch::{Dispatch, Refusing};
pub use self::state::ShardServer;
