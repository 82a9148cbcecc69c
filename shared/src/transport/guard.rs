//! One accepted connection's bytes, watched as they are read (plaintext or after TLS: it wraps
//! the decrypted stream): it follows the 4-byte big-endian length of each frame as the bytes
//! pass, so it knows when a frame is unfinished, and enforces [`Limits`] on it. A read fails,
//! and the connection closes, when
//! - a frame's header announces more than `MAX_FRAME`, or more than the node's unfinished
//!   frames may still hold: the read that brings the header fails, so the codec never sees it
//!   and reserves nothing;
//! - a frame is still unfinished `frame_deadline` after its first byte (a stalled peer is
//!   noticed by a timer polled while the socket has nothing to read; a trickling one on its
//!   next read);
//! - nothing was read for `idle_timeout`;
//! - the node closed it to make room for a new connection ([`super::limits::Connections`]).
//!
//! It never reads ahead or holds bytes back: every byte it returns is what the socket gave,
//! and writes pass through untouched.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;

use crate::clock::{self, Instant};

use super::codec::MAX_FRAME;
use super::limits::{Closed, Limits, Ticket};

/// A connection's stream with the node's bounds on it.
#[derive(Debug)]
pub struct Guarded<S> {
    inner: S,
    ticket: Ticket,
    limits: Limits,
    frame: Frame,
    /// When the unfinished frame's first byte arrived.
    started: Instant,
    last_read: Instant,
    /// Fires at the frame deadline or the idle timeout, whichever is due (reset lazily: it may
    /// fire early, and is then set again).
    timer: Pin<Box<Sleep>>,
    /// Why the node closed it, once it has: every later read fails the same way.
    closed: Option<Closed>,
}

/// Where the bytes read so far stand in the frame they belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// `have` bytes of a header (0: between frames).
    Head { have: usize, bytes: [u8; 4] },
    /// In the body of a frame of `len` bytes, `left` still to come.
    Body { len: usize, left: usize },
}

/// Longer waits than this (a year) are taken as this.
const LONGEST_WAIT: Duration = Duration::from_secs(365 * 24 * 3600);

const BETWEEN: Frame = Frame::Head {
    have: 0,
    bytes: [0; 4],
};

impl<S> Guarded<S> {
    /// Watches `inner` under the bounds of the listener `ticket` counts it in.
    pub fn new(inner: S, ticket: Ticket) -> Guarded<S> {
        let mut limits = *ticket.limits();
        // Bounded, so that adding them to an `Instant` cannot overflow.
        limits.frame_deadline = limits.frame_deadline.min(LONGEST_WAIT);
        limits.idle_timeout = limits.idle_timeout.min(LONGEST_WAIT);
        let now = clock::now();
        Guarded {
            inner,
            ticket,
            limits,
            frame: BETWEEN,
            started: now,
            last_read: now,
            timer: Box::pin(tokio::time::sleep_until(now + limits.idle_timeout)),
            closed: None,
        }
    }

    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Bytes this connection's unfinished frame holds of the node's bound.
    pub fn reserved(&self) -> usize {
        self.ticket.reserved()
    }

    /// Follows `bytes`, just read at `now`, through the frames; Err if they break a bound.
    fn track(&mut self, mut bytes: &[u8], now: Instant) -> Result<(), Closed> {
        while !bytes.is_empty() {
            match &mut self.frame {
                Frame::Head { have, bytes: head } => {
                    if *have == 0 {
                        self.started = now;
                    }
                    let take = (4 - *have).min(bytes.len());
                    head[*have..*have + take].copy_from_slice(&bytes[..take]);
                    *have += take;
                    bytes = &bytes[take..];
                    if *have == 4 {
                        let len = u32::from_be_bytes(*head) as usize;
                        if len > MAX_FRAME {
                            return Err(Closed::Oversized { announced: len });
                        }
                        self.frame = match len {
                            0 => BETWEEN,
                            len => Frame::Body { len, left: len },
                        };
                    }
                }
                Frame::Body { left, .. } => {
                    let take = (*left).min(bytes.len());
                    *left -= take;
                    bytes = &bytes[take..];
                    if *left == 0 {
                        self.frame = BETWEEN;
                        self.ticket.release();
                    }
                }
            }
        }
        match self.frame {
            Frame::Head { have: 0, .. } => return Ok(()),
            // Unfinished, and nothing reserved for it yet: reserve its length or close.
            Frame::Body { len, .. } if self.ticket.reserved() == 0 && !self.ticket.reserve(len) => {
                return Err(Closed::Budget { announced: len });
            }
            _ => {}
        }
        if now >= self.started + self.limits.frame_deadline {
            return Err(Closed::FrameDeadline);
        }
        Ok(())
    }

    /// When the timer should fire next, and for what.
    fn due(&self) -> (Instant, Closed) {
        match self.frame {
            Frame::Head { have: 0, .. } => {
                (self.last_read + self.limits.idle_timeout, Closed::Idle)
            }
            _ => (
                self.started + self.limits.frame_deadline,
                Closed::FrameDeadline,
            ),
        }
    }

    /// Ready(why) once a deadline has passed; else Pending, with the timer set to wake us.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Closed> {
        let (due, _) = self.due();
        if due < self.timer.deadline() {
            self.timer.as_mut().reset(due);
        }
        while self.timer.as_mut().poll(cx).is_ready() {
            let (due, why) = self.due();
            if clock::now() >= due {
                return Poll::Ready(why);
            }
            self.timer.as_mut().reset(due);
        }
        Poll::Pending
    }

    fn close(&mut self, why: Closed) -> io::Error {
        if self.closed.is_none() {
            self.closed = Some(why);
            self.ticket.release();
            self.ticket.log_close(why);
        }
        let kind = match why {
            Closed::FrameDeadline | Closed::Idle => io::ErrorKind::TimedOut,
            Closed::Oversized { .. } => io::ErrorKind::InvalidData,
            Closed::Evicted | Closed::Budget { .. } => io::ErrorKind::ConnectionAborted,
        };
        io::Error::new(kind, format!("closed by the node: {why}"))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(why) = this.closed {
            return Poll::Ready(Err(this.close(why)));
        }
        if this.ticket.evicted(cx.waker()) {
            return Poll::Ready(Err(this.close(Closed::Evicted)));
        }
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                let read = &buf.filled()[before..];
                if read.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                let now = clock::now();
                this.last_read = now;
                this.ticket.touch(now);
                match this.track(read, now) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(why) => Poll::Ready(Err(this.close(why))),
                }
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => match this.poll_timer(cx) {
                Poll::Ready(why) => Poll::Ready(Err(this.close(why))),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
