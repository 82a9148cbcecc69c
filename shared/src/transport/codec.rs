//! The bytes of a frame: length-delimited frames of at most `MAX_FRAME` bytes, each one
//! bincode value decoded within the same limit. The one place the codec is chosen: a client
//! frames with tarpc's own serde types ([`frame`]); a node decodes what it reads into this
//! module's mirror of them ([`ServerCodec`]) and builds tarpc's request from that itself.
//!
//! Why a mirror: tarpc decodes a request's deadline as "now + duration", which
//! panics on a huge duration (u64::MAX s), and a large one that passes (~1e12 s) panics later
//! in tokio-util's `DelayQueue` inside tarpc's server. The mirror has tarpc's serde layout
//! exactly (a test pins it byte for byte), keeps the deadline as the `Duration` it is on the
//! wire, and clamps it to `MAX_DEADLINE` before any `Instant` is made. Nothing a peer sends
//! reaches tarpc's `Deserialize` for `Context` on a node. The client side is unchanged.

use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tarpc::serde_transport::{self, Transport};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::tokio_serde::{Deserializer, Serializer};
use tarpc::{ClientMessage, Response};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::bytes::{Bytes, BytesMut};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

use super::stream::Stream;
use crate::clock;

/// Largest frame either side sends or accepts: 1 MiB.
pub const MAX_FRAME: usize = 1 << 20;

/// The longest deadline a node keeps for a request; a longer one is cut to it. Far above any
/// call ours make (the longest long-poll is a `watch_order` of some seconds), far below where
/// `Instant` arithmetic or tokio's timer wheel (~2 years) give out. The idle bound of a
/// connection (`limits::IDLE_TIMEOUT`) is no shorter, so an idle connection never has a
/// request in flight.
pub const MAX_DEADLINE: Duration = Duration::from_secs(5 * 60);

pub(crate) type BincodeOptions =
    bincode::config::WithOtherLimit<bincode::DefaultOptions, bincode::config::Bounded>;

/// bincode as both sides use it: tarpc's defaults (varint integers), bounded by the frame
/// limit, so a length inside a frame cannot make the decoder allocate past it.
pub(crate) fn options() -> BincodeOptions {
    bincode::DefaultOptions::new().with_limit(MAX_FRAME as u64)
}

/// `value` as the body of a frame, encoded as both sides encode.
pub fn to_bytes<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    options()
        .serialize(value)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The frames: a 4-byte big-endian length, then that many bytes, at most `MAX_FRAME`.
fn framing<S: AsyncRead + AsyncWrite>(stream: S) -> Framed<S, LengthDelimitedCodec> {
    LengthDelimitedCodec::builder()
        .max_frame_length(MAX_FRAME)
        .new_framed(stream)
}

/// The client's codec: bincode on tarpc's own types.
pub type Codec<Item, SinkItem> = Bincode<Item, SinkItem, BincodeOptions>;

/// Wraps a client's connection in our frames and codec.
pub fn frame<Item, SinkItem, C>(
    stream: Stream<C>,
) -> Transport<Stream<C>, Item, SinkItem, Codec<Item, SinkItem>>
where
    C: AsyncRead + AsyncWrite + Unpin,
    Item: for<'de> Deserialize<'de>,
    SinkItem: Serialize,
{
    serde_transport::new(framing(stream), Bincode::from(options()))
}

/// Wraps an accepted connection in our frames and the node's codec.
pub fn frame_server<S, Req, Resp>(
    stream: S,
) -> Transport<S, ClientMessage<Req>, Response<Resp>, ServerCodec<Req, Resp>>
where
    S: AsyncRead + AsyncWrite,
    Req: DeserializeOwned,
    Resp: Serialize,
{
    serde_transport::new(framing(stream), ServerCodec(PhantomData))
}

/// A node's codec: reads requests through the mirror types below (deadline clamped), writes
/// responses as tarpc does.
pub struct ServerCodec<Req, Resp>(PhantomData<fn() -> (Req, Resp)>);

impl<Req: DeserializeOwned, Resp> Deserializer<ClientMessage<Req>> for ServerCodec<Req, Resp> {
    type Error = io::Error;

    fn deserialize(self: Pin<&mut Self>, src: &BytesMut) -> io::Result<ClientMessage<Req>> {
        let message: WireMessage<Req> = options()
            .deserialize(src)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        Ok(message.into_tarpc())
    }
}

impl<Req, Resp: Serialize> Serializer<Response<Resp>> for ServerCodec<Req, Resp> {
    type Error = io::Error;

    fn serialize(self: Pin<&mut Self>, item: &Response<Resp>) -> io::Result<Bytes> {
        options()
            .serialize(item)
            .map(Bytes::from)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

/// tarpc's `ClientMessage<T>` as it is on the wire (same variants, fields and order). Public
/// so tests can write any message a peer could, deadlines tarpc's own types cannot hold
/// included.
#[derive(Debug, Serialize, Deserialize)]
pub enum WireMessage<T> {
    Request(WireRequest<T>),
    Cancel {
        trace_context: tarpc::trace::Context,
        request_id: u64,
    },
}

/// tarpc's `Request<T>` as it is on the wire.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireRequest<T> {
    pub context: WireContext,
    pub id: u64,
    pub message: T,
}

/// tarpc's `context::Context` as it is on the wire: the deadline is the time left, relative.
#[derive(Debug, Serialize, Deserialize)]
pub struct WireContext {
    pub deadline: Duration,
    pub trace_context: tarpc::trace::Context,
}

impl<T> WireMessage<T> {
    /// tarpc's message, with the deadline clamped to `MAX_DEADLINE` from now.
    fn into_tarpc(self) -> ClientMessage<T> {
        match self {
            WireMessage::Request(WireRequest {
                context,
                id,
                message,
            }) => {
                // `Context` is non-exhaustive: start from a default one and set what the
                // wire carries.
                let mut ctx = tarpc::context::current();
                ctx.deadline = clock::deadline_after(context.deadline.min(MAX_DEADLINE));
                ctx.trace_context = context.trace_context;
                ClientMessage::Request(tarpc::Request {
                    context: ctx,
                    id,
                    message,
                })
            }
            WireMessage::Cancel {
                trace_context,
                request_id,
            } => ClientMessage::Cancel {
                trace_context,
                request_id,
            },
        }
    }
}

#[cfg(test)]
#[path = "codec_tests.rs"]
mod tests;
