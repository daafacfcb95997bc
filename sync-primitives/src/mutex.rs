//! [`Mutex`]: an async lock holding data, fair (FIFO) with direct hand-off.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, UnsafeCell};
use crate::raw_lock::{LockState, RawLock};

/// An async mutual-exclusion lock holding data, like `asyncio.Lock` or
/// `tokio::sync::Mutex`.
///
/// It is fair: the lock goes to waiting tasks in the order their
/// [`lock`](Mutex::lock) futures were first polled. Unlocking hands the
/// lock straight to the oldest waiter, so nobody can barge in between, and
/// [`try_lock`](Mutex::try_lock) fails while anyone is queued. When nobody
/// waits, locking and unlocking are one atomic operation each.
///
/// Under contention between threads, a `lock()` that finds the lock held by
/// an owner on another thread, with nobody in line, spins for a moment
/// before it queues, in two steps. First it stands back (about 1 µs): it
/// looks at the lock now and then and takes it if it finds it free, but is
/// not in line yet, so the owner's thread may lock again meanwhile (as if
/// this `lock()` had been called a moment later). Then it spins as the
/// first in line (about 0.5 µs): the unlock hands the lock to it without a
/// trip through the scheduler, which is what makes fair locks slow (a
/// convoy of wake-ups). Standing back keeps two threads that lock in a
/// loop from taking strict turns, each turn a hand-off between cores. It
/// never spins when the owner is on its own thread, nor when anyone is
/// queued, and nobody ever takes the lock ahead of a queued waiter.
///
/// Cancellation is safe: dropping a queued [`Lock`] future leaves the
/// queue, and dropping one that had already been handed the lock passes it
/// on. There is no poisoning: a guard dropped while panicking unlocks.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sync_primitives::Mutex;
///
/// let counter = Arc::new(Mutex::new(0));
/// futures::executor::block_on(async {
///     let tasks = (0..4).map(|_| {
///         let counter = counter.clone();
///         async move {
///             for _ in 0..10 {
///                 *counter.lock().await += 1;
///             }
///         }
///     });
///     futures::future::join_all(tasks).await;
/// });
/// assert_eq!(*counter.try_lock().unwrap(), 40);
/// ```
pub struct Mutex<T: ?Sized> {
    raw: RawLock,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `T` to one owner at a time, possibly
// on another thread, so sharing the mutex needs only `T: Send` (as for
// `std::sync::Mutex`). `Send` follows from the fields.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

impl<T> Mutex<T> {
    loom_const_fn! {
        /// A new, unlocked mutex holding `value`.
        pub fn new(value: T) -> Mutex<T> {
            Mutex {
                raw: RawLock::new(),
                data: UnsafeCell::new(value),
            }
        }
    }

    /// Consumes the mutex, returning the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Locks the mutex, waiting in FIFO order behind earlier lockers.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Mutex;
    ///
    /// let mutex = Mutex::new(1);
    /// futures::executor::block_on(async {
    ///     *mutex.lock().await += 1;
    /// });
    /// assert_eq!(mutex.into_inner(), 2);
    /// ```
    pub fn lock(&self) -> Lock<'_, T> {
        Lock {
            mutex: Some(self),
            state: LockState::Idle,
        }
    }

    /// Locks a mutex behind an `Arc`; the guard owns a clone of the `Arc`
    /// and so can be kept beyond any borrow, e.g. moved into a task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sync_primitives::Mutex;
    ///
    /// let mutex = Arc::new(Mutex::new(String::new()));
    /// let mut guard = futures::executor::block_on(mutex.clone().lock_owned());
    /// guard.push_str("mine");
    /// drop(guard);
    /// assert_eq!(*mutex.try_lock().unwrap(), "mine");
    /// ```
    pub fn lock_owned(self: Arc<Self>) -> LockOwned<T> {
        LockOwned {
            mutex: Some(self),
            state: LockState::Idle,
        }
    }

    /// Takes the lock if it is free and nobody is queued for it.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        self.raw.try_acquire().then(|| MutexGuard::new(self))
    }

    /// Whether the lock is held, or handed (or reserved) for a waiter that
    /// has not taken it yet.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists, so this is the only
        // access to the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    /// Shows the data if the lock can be taken without waiting, `<locked>`
    /// otherwise. Never blocks.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// The future returned by [`Mutex::lock`].
///
/// Dropping it while queued leaves the queue; dropping it after the lock was
/// handed to it passes the lock to the next waiter.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Lock<'a, T: ?Sized> {
    /// `None` once the guard has been returned.
    mutex: Option<&'a Mutex<T>>,
    state: LockState,
}

impl<'a, T: ?Sized> Future for Lock<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        let mutex = this.mutex.expect("`Lock` polled after it completed");
        match mutex.raw.poll_acquire(&mut this.state, cx) {
            Poll::Ready(()) => {
                this.mutex = None;
                Poll::Ready(MutexGuard::new(mutex))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: ?Sized> Drop for Lock<'_, T> {
    fn drop(&mut self) {
        if let Some(mutex) = self.mutex {
            mutex.raw.abandon(self.state);
        }
    }
}

impl<T: ?Sized> fmt::Debug for Lock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Mutex::lock_owned`].
///
/// Dropping it while queued leaves the queue; dropping it after the lock was
/// handed to it passes the lock to the next waiter.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct LockOwned<T: ?Sized> {
    /// `None` once the guard has been returned.
    mutex: Option<Arc<Mutex<T>>>,
    state: LockState,
}

impl<T: ?Sized> Future for LockOwned<T> {
    type Output = OwnedMutexGuard<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<OwnedMutexGuard<T>> {
        let this = self.get_mut();
        let mutex = this
            .mutex
            .as_ref()
            .expect("`LockOwned` polled after it completed");
        match mutex.raw.poll_acquire(&mut this.state, cx) {
            Poll::Ready(()) => Poll::Ready(OwnedMutexGuard {
                mutex: this.mutex.take().expect("checked above"),
                _data: PhantomData,
            }),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: ?Sized> Drop for LockOwned<T> {
    fn drop(&mut self) {
        if let Some(mutex) = &self.mutex {
            mutex.raw.abandon(self.state);
        }
    }
}

impl<T: ?Sized> fmt::Debug for LockOwned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockOwned")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Access to a locked [`Mutex`]'s data; unlocks when dropped.
///
/// Returned by [`Mutex::lock`] and [`Mutex::try_lock`]. It is `Send` when
/// `T: Send`, so a task may hold it across an `.await` and still be spawned
/// on a multi-thread runtime.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T: ?Sized> {
    mutex: &'a Mutex<T>,
    /// Makes the guard `Sync` only where `T: Sync` (`&MutexGuard` hands out
    /// `&T`), while `Send` needs `T: Send` as for the mutex.
    _data: PhantomData<&'a mut T>,
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    fn new(mutex: &'a Mutex<T>) -> Self {
        Self {
            mutex,
            _data: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard owns the lock, so nobody else accesses the data
        // while it lives, and the borrow cannot outlive the guard.
        self.mutex.data.with(|data| unsafe { &*data })
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        self.mutex.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.mutex.raw.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Access to a locked [`Mutex`] behind an `Arc`, owning a clone of the
/// `Arc`; unlocks when dropped. Returned by [`Mutex::lock_owned`].
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct OwnedMutexGuard<T: ?Sized> {
    mutex: Arc<Mutex<T>>,
    /// Makes the guard `Sync` only where `T: Sync` as well as `Send`.
    _data: PhantomData<T>,
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    #[must_use]
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.mutex
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the guard owns the lock, so nobody else accesses the data
        // while it lives, and the borrow cannot outlive the guard.
        self.mutex.data.with(|data| unsafe { &*data })
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
        self.mutex.data.with_mut(|data| unsafe { &mut *data })
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.mutex.raw.unlock();
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks: `Condition` releases the guard while it
    /// waits, then locks this mutex again.
    pub(crate) fn mutex(this: &Self) -> &'a Mutex<T> {
        this.mutex
    }
}
