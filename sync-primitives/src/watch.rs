//! A single-producer, multi-consumer channel holding one value: receivers
//! see the latest, like `tokio::sync::watch`.
//!
//! [`channel`] makes a [`Sender`] and a first [`Receiver`] (clone it, or
//! [`subscribe`](Sender::subscribe), for more). Every send stores a new
//! version of the value; [`Receiver::changed`] waits for a version the
//! receiver has not seen yet, and never completes twice for the same one.
//! Values are not queued: a receiver that is slow to look sees only the
//! latest.
//!
//! # Examples
//!
//! ```
//! use sync_primitives::watch;
//!
//! runtime::block_on(async {
//!     let (tx, mut rx) = watch::channel("starting");
//!     let watcher = runtime::spawn(async move {
//!         let mut seen = Vec::new();
//!         while rx.changed().await.is_ok() {
//!             seen.push(*rx.borrow_and_update());
//!         }
//!         seen // the sender is gone
//!     });
//!     runtime::yield_now().await;
//!     tx.send("running").unwrap();
//!     runtime::yield_now().await;
//!     tx.send("stopped").unwrap();
//!     drop(tx);
//!     assert_eq!(watcher.await.unwrap(), ["running", "stopped"]);
//! });
//! ```
//!
//! Receivers on several threads read the value at once through
//! [`borrow`](Receiver::borrow), so the halves and their futures are `Send`
//! and `Sync` where `T: Send + Sync` (as in tokio). A channel of values
//! that cannot move between threads stays on one:
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! let (_tx, rx) = sync_primitives::watch::channel(std::rc::Rc::new(0));
//! send(rx);
//! ```
//!
//! # How it works
//!
//! The value sits behind a reader-writer lock that [`borrow`] read-locks;
//! a version counter beside it is bumped under the write lock, so a
//! borrow sees a value and its version together. Parked `changed` futures
//! wait in the crate's wait queue; a send wakes them all.
//!
//! [`borrow`]: Receiver::borrow

use std::fmt;
use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::{AtomicUsize, Ordering, RwLock, RwLockReadGuard};
use crate::wait_queue::{Key, WaitQueue};

/// The state word: the version in the high bits, `CLOSED` in the lowest.
/// Sends add `VERSION_STEP`; only the sender's drop sets `CLOSED`, once.
const CLOSED: usize = 1;
const VERSION_STEP: usize = 2;

/// Creates a watch channel holding `initial`, which receivers count as
/// already seen.
///
/// # Examples
///
/// ```
/// use sync_primitives::watch;
///
/// let (tx, rx) = watch::channel(0);
/// assert_eq!(*rx.borrow(), 0);
/// assert_eq!(rx.has_changed(), Ok(false));
/// tx.send(1).unwrap();
/// assert_eq!(rx.has_changed(), Ok(true));
/// ```
#[must_use]
pub fn channel<T>(initial: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(initial),
        state: AtomicUsize::new(0),
        receivers: AtomicUsize::new(1),
        queue: WaitQueue::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

struct Shared<T> {
    value: RwLock<T>,
    /// Version and `CLOSED`; see [`CLOSED`].
    state: AtomicUsize,
    /// Live receivers: `send` fails at 0, and the sender's
    /// [`closed`](Sender::closed) completes.
    receivers: AtomicUsize,
    /// Parked [`Changed`] futures, and parked [`Closed`] futures of the
    /// sender.
    queue: WaitQueue,
}

impl<T> Shared<T> {
    #[inline]
    fn state(&self) -> usize {
        // Acquire: pairs with the Release in `bump` and in the sender's
        // drop. The value itself is published by its lock; this makes a
        // receiver that sees a version also see what the sender did before
        // sending it.
        self.state.load(Ordering::Acquire)
    }

    /// Bumps the version; called with the value's write lock held, so that
    /// a read lock sees a value and its version together.
    #[inline]
    fn bump(&self) {
        // Release: see `state`.
        self.state.fetch_add(VERSION_STEP, Ordering::Release);
    }

    /// Wakes every parked future. The version or `CLOSED` is stored before
    /// this takes the queue's lock, and a parking future checks them under
    /// that lock after queueing itself: it either sees the change or is
    /// woken.
    fn wake_all(&self) {
        self.queue.wake_all(self.queue.lock());
    }

    /// Queues (or refreshes) a waiter and, under the queue's lock, asks
    /// `ready` whether to wait after all; removes the waiter if not.
    fn park(&self, key: &mut Option<Key>, waker: &Waker, ready: impl FnOnce() -> bool) -> bool {
        let mut list = self.queue.lock();
        let queued = match *key {
            Some(old) if list.update_waker(old, waker) => old,
            _ => list.push_back(waker.clone()),
        };
        if ready() {
            list.remove(queued);
            *key = None;
            return true;
        }
        *key = Some(queued);
        false
    }
}

/// The sending half of a watch [`channel`]. Dropping it closes the
/// channel: receivers' [`changed`](Receiver::changed) fails once they have
/// seen the last value.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half of a watch [`channel`]: reads the latest value and
/// waits for new ones. Clones start having seen what the original has.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver last saw (state bits without `CLOSED`).
    seen: usize,
}

/// A read lock on a watch channel's value, from [`Receiver::borrow`],
/// [`Receiver::borrow_and_update`] or [`Sender::borrow`].
///
/// While it is held, the sender cannot store a new value: keep it short,
/// and never hold it across an `.await`.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value is one the receiver had not seen before the
    /// borrow (always `false` for [`Sender::borrow`]).
    #[must_use]
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> Sender<T> {
    /// Stores `value` as a new version and wakes every receiver waiting
    /// in [`changed`](Receiver::changed).
    ///
    /// # Errors
    ///
    /// Hands `value` back, storing nothing, if every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Stores `value` as a new version even if there is no receiver, and
    /// returns the previous value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// let (tx, _) = watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(*tx.borrow(), 2);
    /// ```
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Modifies the value in place, then counts it as a new version (even
    /// if `modify` changed nothing, and even if there is no receiver).
    ///
    /// `modify` runs with the value write-locked: it must not borrow the
    /// channel. If it panics, the value keeps what it did and no new
    /// version is announced.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// let (tx, rx) = watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, modify: impl FnOnce(&mut T)) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place; a new version is announced only if
    /// `modify` returns `true`. Returns what `modify` returned.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// let (tx, rx) = watch::channel(5);
    /// assert!(!tx.send_if_modified(|v| false));
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// assert!(tx.send_if_modified(|v| { *v += 1; true }));
    /// assert_eq!(rx.has_changed(), Ok(true));
    /// ```
    pub fn send_if_modified(&self, modify: impl FnOnce(&mut T) -> bool) -> bool {
        let mut value = self.shared.value.write();
        let modified = modify(&mut value);
        if modified {
            self.shared.bump();
        }
        drop(value);
        if modified {
            self.shared.wake_all();
        }
        modified
    }

    /// A read lock on the current value.
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// A new receiver that counts the current value as seen.
    #[must_use]
    pub fn subscribe(&self) -> Receiver<T> {
        // Relaxed: a count; the new receiver reads the shared state itself.
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        let value = self.shared.value.read();
        let seen = self.shared.state() & !CLOSED;
        drop(value);
        Receiver {
            shared: self.shared.clone(),
            seen,
        }
    }

    /// How many receivers there are.
    #[must_use]
    pub fn receiver_count(&self) -> usize {
        // Acquire: pairs with the AcqRel decrement in the receivers' drop.
        self.shared.receivers.load(Ordering::Acquire)
    }

    /// Whether every receiver is gone (so [`send`](Sender::send) fails).
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// runtime::block_on(async {
    ///     let (tx, rx) = watch::channel(());
    ///     let consumer = runtime::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     consumer.await.unwrap();
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub fn closed(&self) -> Closed<'_, T> {
        Closed {
            shared: &self.shared,
            key: None,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        // Release: see `Shared::state`.
        self.shared.state.fetch_or(CLOSED, Ordering::Release);
        self.shared.wake_all();
    }
}

impl<T> Receiver<T> {
    /// A read lock on the latest value, leaving it unseen: a later
    /// [`changed`](Receiver::changed) still completes for it.
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let version = self.shared.state() & !CLOSED;
        Ref {
            guard,
            has_changed: version != self.seen,
        }
    }

    /// A read lock on the latest value, marking it seen: `changed` waits
    /// for a later one.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// let (tx, mut rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// let value = rx.borrow_and_update();
    /// assert!(value.has_changed());
    /// assert_eq!(*value, 2);
    /// drop(value);
    /// assert_eq!(rx.has_changed(), Ok(false));
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        // Under the read lock the version cannot move: it is the guarded
        // value's.
        let version = self.shared.state() & !CLOSED;
        let has_changed = version != self.seen;
        self.seen = version;
        Ref { guard, has_changed }
    }

    /// Whether a version this receiver has not seen is there.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone and this receiver has seen its
    /// last value (as [`changed`](Receiver::changed) would fail).
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state();
        if state & !CLOSED != self.seen {
            Ok(true)
        } else if state & CLOSED != 0 {
            Err(RecvError(()))
        } else {
            Ok(false)
        }
    }

    /// Marks the latest value as seen without borrowing it.
    pub fn mark_unchanged(&mut self) {
        self.seen = self.shared.state() & !CLOSED;
    }

    /// Waits for a version this receiver has not seen, and marks it seen.
    /// Completes at once if there is one already.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the sender is gone and this receiver has seen
    /// its last value.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::watch;
    ///
    /// runtime::block_on(async {
    ///     let (tx, mut rx) = watch::channel(0);
    ///     tx.send(1).unwrap();
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    ///     drop(tx);
    ///     assert!(rx.changed().await.is_err());
    /// });
    /// ```
    pub fn changed(&mut self) -> Changed<'_, T> {
        Changed {
            receiver: self,
            key: None,
        }
    }

    /// The outcome of `changed` if it need not wait: marks a new version
    /// seen.
    fn check(&mut self, state: usize) -> Option<Result<(), RecvError>> {
        let version = state & !CLOSED;
        if version != self.seen {
            self.seen = version;
            Some(Ok(()))
        } else if state & CLOSED != 0 {
            Some(Err(RecvError(())))
        } else {
            None
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        // Relaxed: a count, as in `subscribe`.
        self.shared.receivers.fetch_add(1, Ordering::Relaxed);
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        // AcqRel: the last receiver's drop happens-before a `send` that
        // sees 0 and fails.
        if self.shared.receivers.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The last one: wake the sender's `Closed` futures (no
            // `Changed` can be parked: each borrows a live receiver).
            self.shared.wake_all();
        }
    }
}

/// The future returned by [`Receiver::changed`].
///
/// Dropping it before it completes takes it out of the queue; the version
/// it was waiting for stays unseen.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Changed<'a, T> {
    receiver: &'a mut Receiver<T>,
    key: Option<Key>,
}

impl<T> Future for Changed<'_, T> {
    type Output = Result<(), RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let shared = this.receiver.shared.clone();
        if let Some(result) = this.receiver.check(shared.state()) {
            if let Some(key) = this.key.take() {
                shared.queue.remove(key);
            }
            return Poll::Ready(result);
        }
        let mut result = None;
        let receiver = &mut *this.receiver;
        shared.park(&mut this.key, cx.waker(), || {
            result = receiver.check(shared.state());
            result.is_some()
        });
        match result {
            Some(result) => Poll::Ready(result),
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Changed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.receiver.shared.queue.remove(key);
        }
    }
}

/// The future returned by [`Sender::closed`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Closed<'a, T> {
    shared: &'a Shared<T>,
    key: Option<Key>,
}

impl<T> Future for Closed<'_, T> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let shared = this.shared;
        // Acquire: pairs with the receivers' AcqRel decrement.
        let gone = || shared.receivers.load(Ordering::Acquire) == 0;
        if gone() {
            if let Some(key) = this.key.take() {
                shared.queue.remove(key);
            }
            return Poll::Ready(());
        }
        // A send also wakes this queue: then we are polled, find
        // receivers, and park again.
        if shared.park(&mut this.key, cx.waker(), gone) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<T> Drop for Closed<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.shared.queue.remove(key);
        }
    }
}

/// The error of [`Sender::send`] when every receiver is gone: holds the
/// value that was not stored.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch channel has no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::changed`] and [`Receiver::has_changed`]: the
/// sender is gone and its last value has been seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecvError(());

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("watch sender dropped")
    }
}

impl std::error::Error for RecvError {}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("version", &(self.shared.state() >> 1))
            .field("receivers", &self.receiver_count())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("seen", &(self.seen >> 1))
            .field("has_changed", &self.has_changed())
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Changed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changed")
            .field("receiver", &self.receiver)
            .field("parked", &self.key.is_some())
            .finish()
    }
}

impl<T> fmt::Debug for Closed<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Closed")
            .field("parked", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn idle_channel_memory() {
        // The shared part of an idle channel holding a `u64`: the value
        // and its lock, the state word, the receiver count and the wait
        // queue with its inline slot (plus the `Arc`'s two counts).
        let shared = std::mem::size_of::<Shared<u64>>();
        // (208 bytes before the wait queue shrank to 128.)
        assert!(shared <= 160, "watch Shared grew to {shared} bytes");
    }
}
