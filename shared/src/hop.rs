//! How a call reaches a node: straight over a connection to it, or relayed by another member
//! (the `forward` RPC) when this caller cannot reach it although the cluster can (a link cut
//! between two machines only). [`ShardClient`] is tarpc's client on a [`Hop`], so a caller
//! writes `client.request(ctx, id, epoch)` whichever way the call goes.

use tarpc::client::RpcError;
use tarpc::client::stub::Stub;
use tarpc::context::Context;

use crate::error::ShardError;
use crate::ids::NodeId;
use crate::service::{self, Rpc, ShardRequest, ShardResponse};

/// A connection to one node.
pub type Channel = tarpc::client::Channel<ShardRequest, ShardResponse>;

/// The `Shard` client every caller uses: direct, or through a relay.
pub type ShardClient = service::ShardClient<Hop>;

/// The way to one node.
#[derive(Clone, Debug)]
pub enum Hop {
    /// Over this caller's own connection to it.
    Direct(Channel),
    /// Over this caller's connection to `relay`, which forwards each call to `to`.
    Via { relay: Channel, to: NodeId },
}

impl Hop {
    /// A client straight to the node at the other end of `channel`.
    pub fn direct(channel: Channel) -> ShardClient {
        ShardClient::from(Hop::Direct(channel))
    }

    /// A client to `to` through the member at the other end of `relay`.
    pub fn via(relay: Channel, to: NodeId) -> ShardClient {
        ShardClient::from(Hop::Via { relay, to })
    }
}

impl Stub for Hop {
    type Req = ShardRequest;
    type Resp = ShardResponse;

    async fn call(&self, ctx: Context, request: ShardRequest) -> Result<ShardResponse, RpcError> {
        match self {
            Hop::Direct(channel) => channel.call(ctx, request).await,
            Hop::Via { relay, to } => {
                let rpc = Rpc::of(&request);
                let forward = ShardRequest::Forward {
                    to: to.clone(),
                    request: Box::new(request),
                };
                match relay.call(ctx, forward).await? {
                    ShardResponse::Forward(Ok(answer)) => Ok(*answer),
                    ShardResponse::Forward(Err(error)) => match rpc.refusal(error) {
                        Some(answer) => Ok(answer),
                        None => Err(relay_failed(to)),
                    },
                    _ => Err(relay_failed(to)),
                }
            }
        }
    }
}

/// A relay that could not deliver an answer to an RPC that has no error of its own.
fn relay_failed(to: &NodeId) -> RpcError {
    RpcError::Send(Box::new(std::io::Error::other(format!(
        "the relay could not reach {to}"
    ))))
}

/// The error a relay answers when it cannot reach `to` either.
pub fn unreachable_via(relay: &NodeId, to: &NodeId, reason: String) -> ShardError {
    ShardError::PeerUnreachable {
        node: relay.clone(),
        target: to.to_string(),
        reason,
    }
}
