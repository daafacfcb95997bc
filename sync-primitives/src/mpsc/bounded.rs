//! The bounded channel's front-end: [`Sender`], [`Receiver`] and the
//! [`Send`] future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::{Closed, Recv, RecvMany, Rx, SendError, TryRecvError, TrySendError, Tx};
use crate::chan::{Chan, Fifo, TryPushError};
use crate::wait_queue::Key;

/// The sending half of a [`channel`](super::channel). Clone it for more
/// producers; the channel closes when the last clone is dropped.
pub struct Sender<T> {
    tx: Tx<T>,
}

/// The receiving half of a [`channel`](super::channel). Also a
/// [`Stream`] of the values, ending once the channel is closed and drained.
pub struct Receiver<T> {
    rx: Rx<T>,
}

impl<T> Sender<T> {
    pub(super) fn new(tx: Tx<T>) -> Self {
        Sender { tx }
    }

    /// Sends `value`, waiting for room while the channel is full.
    ///
    /// Waiting senders get room in the order they started waiting.
    /// Dropping the future before it completes drops the value and gives
    /// its turn to the next sender.
    ///
    /// # Errors
    ///
    /// [`SendError`], holding the value, if the receiver is closed or
    /// dropped (also while waiting).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::mpsc;
    ///
    /// runtime::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let producer = runtime::spawn(async move {
    ///         for i in 0..3 {
    ///             tx.send(i).await.unwrap(); // waits while the channel is full
    ///         }
    ///     });
    ///     for i in 0..3 {
    ///         assert_eq!(rx.recv().await, Some(i));
    ///     }
    ///     producer.await.unwrap();
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn send(&self, value: T) -> Send<'_, T> {
        Send {
            chan: self.tx.chan(),
            key: None,
            value: Some(value),
        }
    }

    /// Sends `value` if there is room now and no sender is waiting for it
    /// (room already handed to a waiting sender that has not run yet is
    /// not free).
    ///
    /// # Errors
    ///
    /// [`TrySendError::Full`] if the channel is full or a sender is waiting
    /// (no barging), [`TrySendError::Closed`] if the receiver is closed or
    /// dropped; both hold the value.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.tx.chan().try_push(value).map_err(|e| match e {
            TryPushError::Full(value) => TrySendError::Full(value),
            TryPushError::Closed(value) => TrySendError::Closed(value),
        })
    }

    /// Whether the receiver is closed or dropped: every send fails.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Completes once the receiver is closed or dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::mpsc;
    ///
    /// runtime::block_on(async {
    ///     let (tx, rx) = mpsc::channel::<u8>(4);
    ///     runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        self.tx.closed()
    }

    /// How many values the channel holds at most.
    pub fn max_capacity(&self) -> usize {
        self.tx.chan().capacity()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").field("chan", &self.tx).finish()
    }
}

receiver_impl!(Receiver, make: "mpsc::channel(8)", send: "tx.send(x).await.unwrap()", on_close: " (parked senders are woken and fail)");

/// The future returned by [`Sender::send`].
///
/// Dropping it before it completes drops the value, and, if it was
/// already given room, passes that room on to the next waiting sender.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Send<'a, T> {
    chan: &'a Chan<T, Fifo<T>>,
    /// `None`: not in line (not yet polled, or done). `Some`: in the line
    /// of senders; once the key is stale (see `chan.rs`), a slot has been
    /// reserved for this send, which dropping it passes on.
    key: Option<Key>,
    /// The value, until it is sent or handed back.
    value: Option<T>,
}

// The value is never pinned: it is moved into the channel.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan
            .poll_push(&mut this.key, &mut this.value, cx)
            .map(|result| result.map_err(SendError))
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_push(key);
        }
        // The value, if unsent, drops after this, with no lock held.
    }
}

impl<T> fmt::Debug for Send<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Send")
            .field("waiting", &self.key.is_some())
            .field("done", &self.value.is_none())
            .finish()
    }
}
