//! The unbounded channel's front-end: [`UnboundedSender`] and
//! [`UnboundedReceiver`].

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::{Closed, Recv, RecvMany, Rx, SendError, TryRecvError, Tx};
use crate::chan::TryPushError;

/// The sending half of an [`unbounded_channel`](super::unbounded_channel).
/// Clone it for more producers; the channel closes when the last clone is
/// dropped.
pub struct UnboundedSender<T> {
    tx: Tx<T>,
}

/// The receiving half of an [`unbounded_channel`](super::unbounded_channel).
/// Also a [`Stream`] of the values, ending once the channel is closed and
/// drained.
pub struct UnboundedReceiver<T> {
    rx: Rx<T>,
}

impl<T> UnboundedSender<T> {
    pub(super) fn new(tx: Tx<T>) -> Self {
        UnboundedSender { tx }
    }

    /// Sends `value` at once: an unbounded channel is never full.
    ///
    /// # Errors
    ///
    /// [`SendError`], holding the value, if the receiver is closed or
    /// dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert_eq!(tx.send(2), Err(mpsc::SendError(2)));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        match self.tx.chan().try_push(value) {
            Ok(()) => Ok(()),
            Err(TryPushError::Closed(value)) => Err(SendError(value)),
            // The capacity is `usize::MAX` and nobody ever parks: more
            // values than that cannot fit in memory.
            Err(TryPushError::Full(_)) => unreachable!("an unbounded channel is never full"),
        }
    }

    /// Whether the receiver is closed or dropped: every send fails.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Completes once the receiver is closed or dropped.
    pub fn closed(&self) -> Closed<'_, T> {
        self.tx.closed()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("chan", &self.tx)
            .finish()
    }
}

impl<T> UnboundedReceiver<T> {
    pub(super) fn new(rx: Rx<T>) -> Self {
        UnboundedReceiver { rx }
    }

    /// Receives the next value, waiting while the channel is empty: `None`
    /// once every sender is dropped (or the receiver closed) and every
    /// value sent before was received. Cancel-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::mpsc;
    ///
    /// runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::unbounded_channel();
    ///     runtime::spawn(async move { tx.send("hi").unwrap() });
    ///     assert_eq!(rx.recv().await, Some("hi"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv { rx: &mut self.rx }
    }

    /// Takes the next value if one is buffered.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is buffered now,
    /// [`TryRecvError::Disconnected`] if nothing is buffered and nothing
    /// will come.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Waits for at least one value, then appends up to `limit` buffered
    /// values to `buffer` and returns how many. Returns 0 at once if
    /// `limit` is 0, and 0 once the channel is closed and drained.
    pub fn recv_many<'a>(&'a mut self, buffer: &'a mut Vec<T>, limit: usize) -> RecvMany<'a, T> {
        RecvMany {
            rx: &mut self.rx,
            buffer,
            limit,
        }
    }

    /// Closes the channel without dropping the receiver: sends fail from
    /// now on, values already sent can still be received.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// How many values are buffered.
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Whether no value is buffered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the channel is closed: every sender dropped, or
    /// [`close`](UnboundedReceiver::close) called.
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }
}

impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("chan", &self.rx)
            .finish()
    }
}
