//! A channel for sending one value from one task to another, like
//! `tokio::sync::oneshot`.
//!
//! [`channel`] makes a [`Sender`] and a [`Receiver`]. The sender's
//! [`send`](Sender::send) consumes it; the receiver is itself the future
//! that waits for the value.
//!
//! # Examples
//!
//! ```
//! use sync_primitives::oneshot;
//!
//! runtime::block_on(async {
//!     let (tx, rx) = oneshot::channel();
//!     runtime::spawn(async move {
//!         tx.send("done").unwrap();
//!     });
//!     assert_eq!(rx.await, Ok("done"));
//! });
//! ```
//!
//! # How it works
//!
//! The channel is one allocation: a state word, a cell for the value and
//! the crate's wait queue. Sending writes the value, then sets a bit; when
//! the receiver has not parked yet (the common case: the value arrives
//! before anyone waits for it, or the receiver is polled only after), that
//! bit is the whole cost, and the wait queue's lock is never taken. A side
//! that parks sets a second bit after queueing its waker, so the other
//! side knows it must wake it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::{AtomicUsize, Ordering, UnsafeCell};
use crate::wait_queue::{Key, WaitQueue};

/// The state word's bits. Each is set once and never cleared.
///
/// Who owns the value cell:
/// - the sender, until it sets `VALUE_SENT` (it writes the value first);
/// - then the receiver, if `VALUE_SENT` was set before `RX_CLOSED` (the
///   receiver reads or drops it; if the receiver is dropped without taking
///   it, the last `Arc` drops it with the channel);
/// - the sender again, if its `fetch_or` of `VALUE_SENT` finds `RX_CLOSED`
///   already set: it takes the value back and returns it in `Err`, and the
///   receiver, which closed before the value arrived, never reads the cell.
mod state {
    /// The value is in the cell. Also means the sender is gone.
    pub(super) const VALUE_SENT: usize = 0b0001;
    /// The sender was dropped without sending.
    pub(super) const TX_DROPPED: usize = 0b0010;
    /// The receiver was closed or dropped: later sends fail.
    pub(super) const RX_CLOSED: usize = 0b0100;
    /// The receiver has queued a waker: `send` and the sender's drop must
    /// wake the queue.
    pub(super) const RX_WAITING: usize = 0b1000;
    /// A [`Closed`](super::Closed) future has queued a waker: closing the
    /// receiver must wake the queue.
    pub(super) const TX_WAITING: usize = 0b1_0000;
}
use state::{RX_CLOSED, RX_WAITING, TX_DROPPED, TX_WAITING, VALUE_SENT};

/// Creates a oneshot channel: one value, from one [`Sender`] to one
/// [`Receiver`].
///
/// # Examples
///
/// ```
/// use sync_primitives::oneshot;
///
/// let (tx, rx) = oneshot::channel();
/// tx.send(7).unwrap();
/// assert_eq!(runtime::block_on(rx), Ok(7));
/// ```
#[must_use]
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        queue: WaitQueue::new(),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver {
            inner,
            key: None,
            value_owned: true,
            done: false,
        },
    )
}

/// What both halves share.
struct Inner<T> {
    state: AtomicUsize,
    /// The value; who may touch it is set out by the [`state`] bits.
    value: UnsafeCell<Option<T>>,
    /// The parked receiver and the parked [`Closed`] future, if any. Only
    /// the *other* side's waiter is ever in it when one side wakes it: a
    /// side removes its own waiter before it sends or closes (`send` takes
    /// the sender by value, so no `Closed` borrowing it is alive).
    queue: WaitQueue,
}

// SAFETY: the value moves from the sender's thread to the receiver's, so
// sharing `Inner` between them needs `T: Send`; the cell is only touched by
// its owner of the moment (see `state`), so `T: Sync` is not needed.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Sets `bits`, returning the state before.
    #[inline]
    fn set(&self, bits: usize) -> usize {
        // AcqRel: the Release half publishes the value written before
        // `VALUE_SENT` (and the waker queued before a `*_WAITING` bit, though
        // that one is also ordered by the queue's lock); the Acquire half
        // makes the other side's writes before its bits visible to us (the
        // receiver's read of an abandoned cell never happens, see `state`).
        self.state.fetch_or(bits, Ordering::AcqRel)
    }

    #[inline]
    fn load(&self) -> usize {
        // Acquire: pairs with the Release half of `set`, so seeing
        // `VALUE_SENT` means the value written before it is visible.
        self.state.load(Ordering::Acquire)
    }

    /// Wakes the other side's parked waiter.
    fn wake(&self) {
        self.queue.wake_all(self.queue.lock());
    }

    /// Queues (or refreshes) a waiter, then sets `waiting_bit`; returns the
    /// key and the state just before the bit was set.
    fn park(&self, key: Option<Key>, waker: &std::task::Waker, waiting_bit: usize) -> (Key, usize) {
        let mut list = self.queue.lock();
        let key = match key {
            Some(key) if list.update_waker(key, waker) => key,
            _ => list.push_back(waker.clone()),
        };
        // Setting the bit with the waker already queued, under the lock:
        // whoever sets a bit we wait for after this sees `waiting_bit` and
        // takes the lock to wake us, so it finds our waker; whoever set it
        // before is in the state we return, and we do not wait.
        let before = self.set(waiting_bit);
        (key, before)
    }
}

/// The sending half of a [`channel`]. Sending consumes it; dropping it
/// unsent makes the receiver fail with [`RecvError`].
pub struct Sender<T> {
    /// `None` once sent (so `Drop` does nothing).
    inner: Option<Arc<Inner<T>>>,
}

/// The receiving half of a [`channel`]: a future of the value, or of
/// [`RecvError`] if the sender was dropped without sending.
///
/// It is `Unpin`, so it can be polled by `&mut` (for example in a
/// `select!` loop). Polling it again after it completed panics, like any
/// finished future.
pub struct Receiver<T> {
    inner: Arc<Inner<T>>,
    /// Our waiter in the queue, if we parked (possibly woken since).
    key: Option<Key>,
    /// Whether the cell is ours once `VALUE_SENT` shows: false after a
    /// [`close`](Receiver::close) that came before the value.
    value_owned: bool,
    /// The value (or the error) has been returned.
    done: bool,
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        self.inner
            .as_deref()
            .expect("a Sender is only without its channel inside send")
    }

    /// Sends `value`, waking the receiver if it waits.
    ///
    /// # Errors
    ///
    /// Hands `value` back if the receiver was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::oneshot;
    ///
    /// let (tx, rx) = oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send("lost"), Err("lost"));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let inner = self.inner.take().expect("a Sender always has its channel");
        if inner.load() & RX_CLOSED != 0 {
            return Err(value);
        }
        // SAFETY: until `VALUE_SENT` is set, the cell is the sender's alone
        // (see `state`), and this is the only sender.
        inner.value.with_mut(|cell| unsafe { *cell = Some(value) });
        let before = inner.set(VALUE_SENT);
        if before & RX_CLOSED != 0 {
            // SAFETY: the receiver closed before the value arrived, so it
            // never reads the cell: it is still ours.
            let value = inner.value.with_mut(|cell| unsafe { (*cell).take() });
            return Err(value.expect("the value we just stored"));
        }
        if before & RX_WAITING != 0 {
            inner.wake();
        }
        Ok(())
    }

    /// Whether the receiver was dropped or closed, so that a `send` would
    /// fail.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.inner().load() & RX_CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed: a producer can stop
    /// computing a value nobody wants any more.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::oneshot;
    ///
    /// runtime::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<u32>();
    ///     runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&mut self) -> Closed<'_, T> {
        Closed {
            inner: self.inner(),
            key: None,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            if inner.set(TX_DROPPED) & RX_WAITING != 0 {
                inner.wake();
            }
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has arrived.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] while the sender may still send;
    /// [`TryRecvError::Closed`] if it was dropped unsent, if the receiver was
    /// closed before a value arrived, or if the value was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        if self.done {
            return Err(TryRecvError::Closed);
        }
        let state = self.inner.load();
        if state & VALUE_SENT != 0 && self.value_owned {
            self.done = true;
            // SAFETY: `VALUE_SENT` came before any close of ours, so the
            // cell is ours (see `state`); the Acquire load made the sender's
            // write visible.
            let value = self.inner.value.with_mut(|cell| unsafe { (*cell).take() });
            return Ok(value.expect("VALUE_SENT means the cell is full"));
        }
        if state & (VALUE_SENT | TX_DROPPED | RX_CLOSED) != 0 {
            self.done = true;
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    /// Closes the channel without dropping the receiver: later sends fail,
    /// handing their value back, and the sender's
    /// [`closed`](Sender::closed) completes. A value sent before the close
    /// can still be taken with [`try_recv`](Receiver::try_recv) (or by
    /// awaiting the receiver).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::oneshot::{self, TryRecvError};
    ///
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn close(&mut self) {
        let before = self.inner.load();
        if before & RX_CLOSED != 0 {
            return;
        }
        let before = self.inner.set(RX_CLOSED);
        if before & VALUE_SENT == 0 {
            self.value_owned = false;
        }
        if before & TX_WAITING != 0 {
            // Our own waiter must not take the wake-up meant for `Closed`.
            let mut list = self.inner.queue.lock();
            if let Some(key) = self.key.take() {
                list.remove(key);
            }
            self.inner.queue.wake_all(list);
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        if let Some(key) = self.key.take() {
            self.inner.queue.remove(key);
        }
        // A value sent but not taken is dropped with `Inner`, by whichever
        // half drops the last `Arc` (never under a lock).
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "oneshot::Receiver polled after completion");
        let done = |this: &mut Self| match this.try_recv() {
            Ok(value) => Some(Ok(value)),
            Err(TryRecvError::Closed) => Some(Err(RecvError(()))),
            Err(TryRecvError::Empty) => None,
        };
        let ready = |this: &mut Self, result| {
            if let Some(key) = this.key.take() {
                // Woken already (then this is a no-op), or the sender's
                // wake-up is on its way; either way we are done waiting.
                this.inner.queue.remove(key);
            }
            Poll::Ready(result)
        };
        if let Some(result) = done(this) {
            return ready(this, result);
        }
        let (key, before) = this.inner.park(this.key, cx.waker(), RX_WAITING);
        this.key = Some(key);
        if before & (VALUE_SENT | TX_DROPPED | RX_CLOSED) != 0 {
            let result = done(this).expect("a final state stays final");
            return ready(this, result);
        }
        Poll::Pending
    }
}

/// The future returned by [`Sender::closed`]: completes once the receiver
/// is dropped or closed.
///
/// Dropping it before it completes takes its waker out of the queue.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Closed<'a, T> {
    inner: &'a Inner<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if this.inner.load() & RX_CLOSED == 0 {
            let (key, before) = this.inner.park(this.key, cx.waker(), TX_WAITING);
            this.key = Some(key);
            if before & RX_CLOSED == 0 {
                return Poll::Pending;
            }
        }
        if let Some(key) = this.key.take() {
            this.inner.queue.remove(key);
        }
        Poll::Ready(())
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.inner.queue.remove(key);
        }
    }
}

/// The receiver's error: the sender was dropped without sending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("oneshot sender dropped without sending")
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; the sender may still send one.
    Empty,
    /// No value will come: the sender was dropped unsent, the receiver was
    /// closed first, or the value was already taken.
    Closed,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "oneshot channel empty",
            TryRecvError::Closed => "oneshot channel closed",
        })
    }
}

impl std::error::Error for TryRecvError {}

fn state_names(state: usize) -> &'static str {
    if state & VALUE_SENT != 0 {
        "sent"
    } else if state & TX_DROPPED != 0 {
        "sender dropped"
    } else if state & RX_CLOSED != 0 {
        "closed"
    } else {
        "empty"
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Sender");
        if let Some(inner) = &self.inner {
            d.field("state", &state_names(inner.load()));
        }
        d.finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("state", &state_names(self.inner.load()))
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("receiver_closed", &(self.inner.load() & RX_CLOSED != 0))
            .finish_non_exhaustive()
    }
}
