//! How tarpc serves a `ShardServer`: the hot `request` in its own task, every other RPC boxed,
//! and the answer to a request admission refused.

use std::sync::Arc;

use ringshop_shared::service::Rpc;
use ringshop_shared::{Shard, ShardError, ShardRequest, ShardResponse};
use tarpc::RequestName;
use tarpc::context::Context;

use super::state::ShardServer;
use crate::admission::{self, Admission};
use ringshop_telemetry as telemetry;

/// The node's request dispatch: `request` (the hot path) is served in the request's own task;
/// every other RPC in a box of its own. The future tarpc spawns per request is the size of the
/// largest RPC's future, and without the boxes that was the checkout's, kilobytes copied into
/// every hit's task.
#[derive(Clone)]
pub struct Dispatch {
    server: ShardServer,
}

impl ShardServer {
    /// This server (for one caller) as tarpc serves it.
    pub fn dispatch(self) -> Dispatch {
        Dispatch { server: self }
    }

    /// The node's admission, which every connection's requests pass before they are spawned
    /// (`lib.rs`): counted from the moment a request is read, so requests waiting for a turn
    /// on the runtime count too.
    pub fn admission(&self) -> Arc<Admission> {
        self.me.admission.clone()
    }

    /// This server answering a request of `rpc` that admission refused.
    pub fn refusing(self, rpc: Rpc) -> Refusing {
        Refusing { server: self, rpc }
    }
}

/// Answers a request admission refused with `Busy`, doing nothing else.
pub struct Refusing {
    server: ShardServer,
    rpc: Rpc,
}

impl tarpc::server::Serve for Refusing {
    type Req = ShardRequest;
    type Resp = ShardResponse;

    async fn serve(self, _: Context, _: ShardRequest) -> Result<ShardResponse, tarpc::ServerError> {
        let busy = ShardError::Busy {
            node: self.server.me.name.clone(),
            retry_after: admission::RETRY_AFTER,
        };
        // Admission refuses only RPCs with an error of their own.
        self.rpc
            .refusal(busy)
            .ok_or_else(|| tarpc::ServerError::new(std::io::ErrorKind::WouldBlock, "busy".into()))
    }
}

impl ShardServer {
    /// Takes work on under `limits` (`admission`); the default bounds otherwise.
    pub fn with_admission(mut self, limits: admission::Limits) -> ShardServer {
        if let Some(parts) = self.parts_mut() {
            parts.me.admission = Admission::new(limits);
        }
        self
    }
}

impl tarpc::server::Serve for Dispatch {
    type Req = ShardRequest;
    type Resp = ShardResponse;

    async fn serve(
        self,
        ctx: Context,
        req: ShardRequest,
    ) -> Result<ShardResponse, tarpc::ServerError> {
        // tarpc's span of this request (a child of the caller's): it ran here.
        telemetry::on_node(&self.server.me.span_node, req.name());
        match req {
            ShardRequest::Request { id, epoch } => Ok(ShardResponse::Request(
                self.server.request(ctx, id, epoch).await,
            )),
            other => Box::pin(self.server.serve().serve(ctx, other)).await,
        }
    }
}
