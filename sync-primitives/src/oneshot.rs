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
//!     let worker = runtime::spawn(async move {
//!         tx.send("done").unwrap();
//!     });
//!     assert_eq!(rx.await, Ok("done"));
//!     worker.await.unwrap();
//! });
//! ```
//!
//! A receiver of a value that cannot move between threads cannot either:
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! let (_tx, rx) = sync_primitives::oneshot::channel::<std::rc::Rc<u8>>();
//! send(rx);
//! ```
//!
//! # How it works
//!
//! The channel is one allocation: a state word, a cell for the value and
//! one waker slot per side, the whole protocol being who may touch which
//! cell when (written out beside the state bits in the source). Sending
//! writes the value, then sets a bit; when the receiver has not parked
//! (the value arrives before anyone waits for it), that one atomic
//! operation is the whole cost. A side that parks stores its waker in its
//! slot, then sets a bit saying so; the other side wakes that waker when
//! its own bit-setting operation finds it.
//!
//! Unlike the crate's other primitives, it does not park in the wait queue:
//! a oneshot never has more than one waiter per side, and with the queue
//! (a lock taken to park, to wake and to leave it, and 120 bytes in every
//! channel) `oneshot/parked_recv` measured 1.8 times tokio's and
//! `oneshot/create_send_recv` 1.3 times, on the same busy machine in the
//! same run (`benches/benches/oneshot.rs`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Ordering, UnsafeCell};

/// The state word's bits.
///
/// `VALUE_SENT`, `TX_DROPPED` and `RX_CLOSED` are set once and never
/// cleared. Who owns the value cell:
/// - the sender, until it sets `VALUE_SENT` (it writes the value first);
/// - then the receiver, if `VALUE_SENT` was set before `RX_CLOSED` (the
///   receiver takes it; if the receiver is dropped without taking it, the
///   last `Arc` drops it with the channel);
/// - the sender again, if its `fetch_or` of `VALUE_SENT` finds `RX_CLOSED`
///   already set: it takes the value back and returns it in `Err`, and the
///   receiver, which closed before the value arrived, never reads the cell.
///
/// Each waker slot is guarded by its `*_WAKER` bit, the same way for both:
/// - bit clear: the slot belongs to its side (the receiver for `rx_waker`,
///   the sender's [`Closed`](super::Closed) for `tx_waker`), which may
///   write it; the other side never touches it.
/// - bit set: nobody writes it; its side may read it, and so may the other
///   side if the operation that *ends the wait* (`VALUE_SENT` or
///   `TX_DROPPED` for the receiver, `RX_CLOSED` for `Closed`) found the bit
///   set: it wakes the waker by reference.
/// - to replace its waker, a side clears the bit. If that finds the wait
///   already ended, the other side may be reading the slot: the side leaves
///   it alone and completes. Otherwise the slot is its own again (the other
///   side's ending operation, later in the word's order, will not see the
///   bit); it writes, sets the bit, and completes if the wait ended in
///   between (that ending saw no bit, so wakes nobody).
///
/// Whatever waker is left in a slot is dropped with the channel.
mod state {
    /// The value is in the cell. Also means the sender is gone.
    pub(super) const VALUE_SENT: usize = 0b0001;
    /// The sender was dropped without sending.
    pub(super) const TX_DROPPED: usize = 0b0010;
    /// The receiver was closed or dropped: later sends fail.
    pub(super) const RX_CLOSED: usize = 0b0100;
    /// `rx_waker` holds the parked receiver's waker.
    pub(super) const RX_WAKER: usize = 0b1000;
    /// `tx_waker` holds the parked [`Closed`](super::Closed) future's waker.
    pub(super) const TX_WAKER: usize = 0b1_0000;
    /// What ends the receiver's wait.
    pub(super) const RX_ENDED: usize = VALUE_SENT | TX_DROPPED;
}
use state::{RX_CLOSED, RX_ENDED, RX_WAKER, TX_DROPPED, TX_WAKER, VALUE_SENT};

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
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    (
        Sender {
            inner: Some(inner.clone()),
        },
        Receiver {
            inner,
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
    /// The parked receiver's waker; see [`state`].
    rx_waker: UnsafeCell<Option<Waker>>,
    /// The parked [`Closed`] future's waker; see [`state`].
    tx_waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the value moves from the sender's thread to the receiver's, so
// sharing `Inner` between them needs `T: Send`; each cell is only written
// by its owner of the moment, and only read by the other side once the
// owner has stopped writing (see `state`), so `T: Sync` is not needed.
// Wakers are `Send + Sync`.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Sets `bits`, returning the state before.
    #[inline]
    fn set(&self, bits: usize) -> usize {
        // AcqRel: the Release half publishes what this side wrote before
        // (the value before `VALUE_SENT`, a waker before a `*_WAKER` bit);
        // the Acquire half makes what the other side wrote before its bits
        // visible to us before we read the cell or slot they guard.
        self.state.fetch_or(bits, Ordering::AcqRel)
    }

    /// Clears `bits`, returning the state before.
    #[inline]
    fn clear(&self, bits: usize) -> usize {
        // AcqRel: as in `set`; the Acquire half orders the other side's
        // reads of a slot we take back before our writes to it.
        self.state.fetch_and(!bits, Ordering::AcqRel)
    }

    #[inline]
    fn load(&self) -> usize {
        // Acquire: pairs with the Release half of `set`, so seeing
        // `VALUE_SENT` means the value written before it is visible.
        self.state.load(Ordering::Acquire)
    }

    /// Parks one side: stores `waker` in `slot` (guarded by `waker_bit`)
    /// unless the wait ended (`ended` bits); returns whether it did not.
    /// Follows the slot protocol of [`state`].
    fn park(
        &self,
        slot: &UnsafeCell<Option<Waker>>,
        waker_bit: usize,
        ended: usize,
        waker: &Waker,
    ) -> bool {
        let state = self.load();
        if state & ended != 0 {
            return true;
        }
        if state & waker_bit != 0 {
            // SAFETY: the bit is set, so nobody writes the slot (only we
            // could, after clearing it); reading it is shared.
            let same = slot.with(|w| unsafe { (*w).as_ref().is_some_and(|w| w.will_wake(waker)) });
            if same {
                // The wait had not ended at our load; whoever ends it sees
                // the bit and wakes this waker.
                return false;
            }
            if self.clear(waker_bit) & ended != 0 {
                // The ending side may be reading the slot: leave it.
                return true;
            }
        }
        // SAFETY: the bit is clear and the wait had not ended when we saw
        // it clear (or cleared it ourselves): the slot is ours alone.
        slot.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        self.set(waker_bit) & ended != 0
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
        if before & RX_WAKER != 0 {
            // SAFETY: the receiver's waker bit was set when we set
            // `VALUE_SENT`: it no longer writes its slot (see `state`).
            inner
                .rx_waker
                .with(|w| unsafe { (*w).as_ref().map(Waker::wake_by_ref) });
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
    ///     let consumer = runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     consumer.await.unwrap();
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&mut self) -> Closed<'_, T> {
        Closed {
            inner: self.inner(),
            parked: false,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let before = inner.set(TX_DROPPED);
            // A closed receiver is gone or will not wait again.
            if before & (RX_WAKER | RX_CLOSED) == RX_WAKER {
                // SAFETY: as in `send`: the bit was set when we ended the
                // wait.
                inner
                    .rx_waker
                    .with(|w| unsafe { (*w).as_ref().map(Waker::wake_by_ref) });
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
        // Once done, the sender is gone (or we closed already): nothing to
        // tell it.
        if self.done || self.inner.load() & RX_CLOSED != 0 {
            return;
        }
        let before = self.inner.set(RX_CLOSED);
        if before & VALUE_SENT == 0 {
            self.value_owned = false;
        }
        // A sender that sent or was dropped has no `Closed` future alive.
        if before & (TX_WAKER | RX_ENDED) == TX_WAKER {
            // SAFETY: the `Closed` waker bit was set when we set
            // `RX_CLOSED`: the sender no longer writes its slot (see
            // `state`).
            self.inner
                .tx_waker
                .with(|w| unsafe { (*w).as_ref().map(Waker::wake_by_ref) });
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
        // A value sent but not taken, and our waker, are dropped with
        // `Inner`, by whichever half drops the last `Arc`.
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        assert!(!this.done, "oneshot::Receiver polled after completion");
        let outcome = |this: &mut Self| match this.try_recv() {
            Ok(value) => Poll::Ready(Ok(value)),
            Err(TryRecvError::Closed) => Poll::Ready(Err(RecvError(()))),
            Err(TryRecvError::Empty) => Poll::Pending,
        };
        if let Poll::Ready(result) = outcome(this) {
            return Poll::Ready(result);
        }
        if this
            .inner
            .park(&this.inner.rx_waker, RX_WAKER, RX_ENDED, cx.waker())
        {
            let result = outcome(this);
            debug_assert!(result.is_ready(), "an ended wait stays ended");
            return result;
        }
        Poll::Pending
    }
}

/// The future returned by [`Sender::closed`]: completes once the receiver
/// is dropped or closed.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Closed<'a, T> {
    inner: &'a Inner<T>,
    /// Whether we stored a waker (so `Drop` withdraws it).
    parked: bool,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let inner = this.inner;
        if inner.park(&inner.tx_waker, TX_WAKER, RX_CLOSED, cx.waker()) {
            this.parked = false;
            return Poll::Ready(());
        }
        this.parked = true;
        Poll::Pending
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if self.parked {
            // Withdraw the waker, so closing the receiver later does not
            // wake a task that stopped waiting. If the receiver closed
            // meanwhile it may be reading the slot; we do not touch it
            // either way (see `state`).
            self.inner.clear(TX_WAKER);
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn idle_channel_memory() {
        // The channel's one allocation is the `Arc`'s two counts (16 bytes)
        // and this: the state word, two waker slots and the value cell.
        let inner = std::mem::size_of::<Inner<u64>>();
        assert_eq!(
            inner,
            8 + 2 * std::mem::size_of::<Option<Waker>>() + std::mem::size_of::<Option<u64>>()
        );
        assert_eq!(inner, 56);
    }
}
