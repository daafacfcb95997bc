//! Multi-producer, single-consumer channels, as `tokio::sync::mpsc`.
//!
//! [`channel(capacity)`](channel) holds at most `capacity` values: a
//! [`send`](Sender::send) that finds it full waits, parked, and parked
//! senders get room in the order they started waiting (a freed slot is
//! handed to the oldest, and [`try_send`](Sender::try_send) fails with
//! `Full` while anyone waits). [`unbounded_channel()`](unbounded_channel)
//! never makes a sender wait.
//!
//! Values come out in the order each sender sent them. The receiver gets
//! every value sent before the last sender was dropped, then `None`; once
//! the receiver is dropped or [closed](Receiver::close), sends fail and
//! hand the value back in the error.
//!
//! ```
//! use sync_primitives::mpsc;
//!
//! runtime::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(2);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         runtime::spawn(async move {
//!             for i in 0..3 {
//!                 tx.send((id, i)).await.unwrap();
//!             }
//!         });
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(value) = rx.recv().await {
//!         got.push(value);
//!     }
//!     // Every value once, each sender's in its order.
//!     assert_eq!(got.len(), 9);
//!     for id in 0..3 {
//!         let mine: Vec<_> = got.iter().filter(|v| v.0 == id).map(|v| v.1).collect();
//!         assert_eq!(mine, [0, 1, 2]);
//!     }
//! });
//! ```
//!
//! # Implementation
//!
//! Both flavours are thin front-ends over the crate's one channel core
//! (a `VecDeque` and the crate's wait queue behind one lock, shared with
//! [`Queue`](crate::Queue)). A channel is one allocation; a buffered value
//! costs its size in the ring buffer, which grows by doubling (to at most
//! `capacity` for a bounded channel) and never allocates per value.

#[macro_use]
mod receiver;

mod bounded;
mod error;
mod unbounded;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::chan::{Chan, Fifo, TryPopError, Watch, WatchWait};
use crate::loom::{AtomicUsize, Ordering};
use crate::wait_queue::Key;

pub use bounded::{Receiver, Send, Sender};
pub use error::{SendError, TryRecvError, TrySendError};
pub use unbounded::{UnboundedReceiver, UnboundedSender};

/// A bounded channel holding at most `capacity` values.
///
/// # Panics
///
/// If `capacity` is 0.
///
/// # Examples
///
/// ```
/// use sync_primitives::mpsc;
///
/// let (tx, mut rx) = mpsc::channel(1);
/// tx.try_send(1).unwrap();
/// assert!(matches!(tx.try_send(2), Err(mpsc::TrySendError::Full(2))));
/// assert_eq!(runtime::block_on(rx.recv()), Some(1));
/// ```
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel requires capacity > 0");
    let shared = Shared::new(capacity);
    (
        Sender::new(Tx::new(shared.clone())),
        Receiver::new(Rx::new(shared)),
    )
}

/// A channel without a bound: sending never waits.
///
/// # Examples
///
/// ```
/// use sync_primitives::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel();
/// for i in 0..100 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let mut values = Vec::new();
/// runtime::block_on(rx.recv_many(&mut values, 1000));
/// assert_eq!(values, (0..100).collect::<Vec<_>>());
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let shared = Shared::new(usize::MAX);
    (
        UnboundedSender::new(Tx::new(shared.clone())),
        UnboundedReceiver::new(Rx::new(shared)),
    )
}

/// What the senders and the receiver share.
struct Shared<T> {
    chan: Chan<T, Fifo<T>>,
    /// Live senders; the last one to go closes the channel.
    senders: AtomicUsize,
}

impl<T> Shared<T> {
    fn new(capacity: usize) -> Arc<Self> {
        Arc::new(Shared {
            chan: Chan::new(capacity, Watch::Close),
            senders: AtomicUsize::new(1),
        })
    }
}

/// The sending half both sender flavours are made of: counts senders.
struct Tx<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Tx<T> {
    fn new(shared: Arc<Shared<T>>) -> Self {
        Tx { shared }
    }

    fn chan(&self) -> &Chan<T, Fifo<T>> {
        &self.shared.chan
    }

    fn is_closed(&self) -> bool {
        self.shared.chan.is_closed()
    }

    fn closed(&self) -> Closed<'_, T> {
        Closed {
            wait: WatchWait::new(&self.shared.chan),
        }
    }
}

impl<T> Clone for Tx<T> {
    fn clone(&self) -> Self {
        // Relaxed: we hold a sender, so the count cannot reach zero
        // meanwhile; nothing is published.
        self.shared.senders.fetch_add(1, Ordering::Relaxed);
        Tx {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Tx<T> {
    fn drop(&mut self) {
        // AcqRel: only the last sender's decrement reaches 1, and it must
        // come after every other sender's last use of the channel. The
        // channel's lock orders the values themselves.
        if self.shared.senders.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.shared.chan.close();
        }
    }
}

/// The receiving half both receiver flavours are made of.
struct Rx<T> {
    shared: Arc<Shared<T>>,
    /// `None`: not waiting. `Some`: a `recv` (or the `Stream`) is in the
    /// channel's line of receivers; a stale key means it was woken. A
    /// dropped `Recv` leaves the line; the `Stream` stays in it between
    /// polls, as any pending future does.
    key: Option<Key>,
}

impl<T> Rx<T> {
    fn new(shared: Arc<Shared<T>>) -> Self {
        Rx { shared, key: None }
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.shared.chan.poll_pop(&mut self.key, cx)
    }

    fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.shared
            .chan
            .poll_pop_many(&mut self.key, cx, buffer, limit)
    }

    fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared.chan.try_pop().map_err(|e| match e {
            TryPopError::Empty => TryRecvError::Empty,
            TryPopError::Closed => TryRecvError::Disconnected,
        })
    }

    fn close(&mut self) {
        self.shared.chan.close();
    }

    fn len(&self) -> usize {
        self.shared.chan.len()
    }

    fn is_closed(&self) -> bool {
        self.shared.chan.is_closed()
    }

    /// Leaves the line of receivers (a `recv` future was dropped).
    fn cancel(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.chan.cancel_pop(key);
        }
    }
}

impl<T> Drop for Rx<T> {
    fn drop(&mut self) {
        self.cancel();
        self.shared.chan.close();
        // Dropped here, after the channel's lock is released.
        drop(self.shared.chan.drain());
    }
}

impl<T> fmt::Debug for Rx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.chan.fmt(f)
    }
}

impl<T> fmt::Debug for Tx<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.chan.fmt(f)
    }
}

/// The future returned by [`Receiver::recv`] and
/// [`UnboundedReceiver::recv`]: the next value, or `None` once every sender
/// is dropped and everything sent was received.
///
/// Dropping it before it completes loses nothing.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a, T> {
    rx: &'a mut Rx<T>,
}

impl<T> Future for Recv<'_, T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        self.rx.cancel();
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("waiting", &self.rx.key.is_some())
            .finish()
    }
}

/// The future returned by [`Receiver::recv_many`] and
/// [`UnboundedReceiver::recv_many`]: how many values were appended to the
/// buffer (0 once the channel is closed and drained, or if `limit` is 0).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct RecvMany<'a, T> {
    rx: &'a mut Rx<T>,
    buffer: &'a mut Vec<T>,
    limit: usize,
}

impl<T> Future for RecvMany<'_, T> {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        let this = self.get_mut();
        this.rx.poll_recv_many(cx, this.buffer, this.limit)
    }
}

impl<T> Drop for RecvMany<'_, T> {
    fn drop(&mut self) {
        self.rx.cancel();
    }
}

impl<T> fmt::Debug for RecvMany<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvMany")
            .field("limit", &self.limit)
            .field("waiting", &self.rx.key.is_some())
            .finish()
    }
}

/// The future returned by [`Sender::closed`] and
/// [`UnboundedSender::closed`]: completes once the receiver is closed or
/// dropped.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Closed<'a, T> {
    wait: WatchWait<'a, Chan<T, Fifo<T>>>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.wait.poll(cx)
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed").field("wait", &self.wait).finish()
    }
}
