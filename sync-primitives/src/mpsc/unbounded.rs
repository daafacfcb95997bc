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

receiver_impl!(UnboundedReceiver, make: "mpsc::unbounded_channel()", send: "tx.send(x).unwrap()", on_close: "");
