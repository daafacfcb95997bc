//! [`Semaphore`]: `asyncio.Semaphore` and `tokio::sync::Semaphore`, fair
//! (FIFO), with owned permits and `acquire_many`.
//!
//! The mechanism, `RawSemaphore`, is also what [`RwLock`](crate::RwLock)
//! stands on: a count of free permits in one atomic word (with the closed
//! flag beside it), and the wait queue's waiters that want `n` units, to
//! which released permits are assigned piecewise, oldest first (tokio's
//! `batch_semaphore` design).

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, AtomicU64, AtomicUsize, Ordering};
use crate::wait_queue::{Guard, Key, WaitQueue, Wakers};

/// The state word's bits: `permits << SHIFT | WAITING | CLOSED`.
///
/// Invariants:
/// - `WAITING` is set exactly while the wait queue is not empty, and is
///   only changed with the queue's lock held.
/// - While `WAITING` is set and `CLOSED` is not, the free count is 0: a
///   release that sees `WAITING` hands its permits to the queue under the
///   lock instead of adding them to the count, and a waiter queues only
///   after taking every free permit. So lock-free acquires never overtake
///   a queued waiter (no barging).
/// - `CLOSED` is set once, by `close`, before the queue is closed; it is
///   never cleared.
mod state {
    /// No acquire can succeed any more.
    pub(super) const CLOSED: usize = 0b01;
    /// Someone is queued.
    pub(super) const WAITING: usize = 0b10;
    /// The free permits are the word shifted right by this.
    pub(super) const SHIFT: u32 = 2;
}
use state::{CLOSED, SHIFT, WAITING};

/// The most permits a semaphore can hold (as in tokio).
const MAX_PERMITS: usize = usize::MAX >> 3;

/// A count of permits and a FIFO line of tasks waiting for some; no data,
/// no lifetimes, shared by [`Semaphore`] and [`RwLock`](crate::RwLock).
pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    /// Every waiter whose push number (its `seq`) is below this has been
    /// served in full, or has left the queue itself: the queue's
    /// [`front_seq`](crate::wait_queue::List::front_seq), stored after each
    /// `assign` (only `assign` serves waiters, oldest first, and nobody is
    /// pushed at the front, so it only grows). A queued waiter that reads
    /// a value above its own `seq` knows it was served without taking the
    /// queue's lock.
    served_below: AtomicU64,
    queue: WaitQueue,
}

/// Where a future acquiring permits from a [`RawSemaphore`] is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum AcquireState {
    /// Not polled yet: not queued, holds nothing; dropping needs nothing.
    Idle,
    /// Queued under `key` with push number `seq`, possibly holding part
    /// of its permits; served in full if the key has gone stale (or
    /// `served_below` has passed `seq`). Dropping must unlink it and give
    /// back what it was given (all of it if served).
    Queued { key: Key, seq: u64 },
    /// Completed: the permits belong to the output. Dropping needs nothing;
    /// polling again panics.
    Done,
}

impl RawSemaphore {
    loom_const_fn! {
        /// A semaphore with `permits` free permits.
        pub(crate) fn new(permits: usize) -> RawSemaphore {
            assert!(permits <= MAX_PERMITS, "a semaphore holds at most usize::MAX >> 3 permits");
            RawSemaphore {
                state: AtomicUsize::new(permits << SHIFT),
                served_below: AtomicU64::new(0),
                queue: WaitQueue::new(),
            }
        }
    }

    /// The free permits now.
    #[inline]
    pub(crate) fn available(&self) -> usize {
        // Relaxed: a snapshot; it orders nothing.
        self.state.load(Ordering::Relaxed) >> SHIFT
    }

    /// Whether [`RawSemaphore::close`] has been called.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        // Relaxed: a snapshot; acquires synchronise through the count.
        self.state.load(Ordering::Relaxed) & CLOSED != 0
    }

    /// Takes `n` permits if they are free and nobody is queued.
    #[inline]
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            if current & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n > 0 && (current & WAITING != 0 || current >> SHIFT < n) {
                return Err(TryAcquireError::NoPermits);
            }
            // Acquire: pairs with the Release of the releases that put the
            // permits in the count, so what their holders did (to an
            // RwLock's data) happens-before ours.
            match self.state.compare_exchange_weak(
                current,
                current - (n << SHIFT),
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => current = actual,
            }
        }
    }

    /// Polls for `n` permits on behalf of a future whose queue position is
    /// `state`; `Err` once the semaphore is closed (keeping nothing).
    #[inline]
    pub(crate) fn poll_acquire(
        &self,
        n: usize,
        state: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        if let AcquireState::Idle = state {
            match self.try_acquire(n) {
                Ok(()) => {
                    *state = AcquireState::Done;
                    return Poll::Ready(Ok(()));
                }
                Err(TryAcquireError::Closed) => {
                    *state = AcquireState::Done;
                    return Poll::Ready(Err(AcquireError(())));
                }
                Err(TryAcquireError::NoPermits) => {}
            }
        }
        self.poll_acquire_slow(n, state, cx)
    }

    /// [`RawSemaphore::poll_acquire`] past the lock-free fast path.
    fn poll_acquire_slow(
        &self,
        n: usize,
        state: &mut AcquireState,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        match *state {
            AcquireState::Done => panic!("a semaphore's `Acquire` polled after it completed"),
            AcquireState::Queued { key, seq } => {
                // Acquire: pairs with the Release store in `release_locked`
                // after the `assign` that served us, so what the releasers
                // did before handing us their permits happens-before our
                // use of them; no need for the queue's lock.
                if self.served_below.load(Ordering::Acquire) > seq {
                    *state = AcquireState::Done;
                    return Poll::Ready(Ok(()));
                }
                let mut list = self.queue.lock();
                if list.is_closed() {
                    *state = AcquireState::Done;
                    return match list.remove_wanting(key) {
                        // Closed while queued: give back what we were given.
                        Some(owed) => {
                            self.release_locked(list, n - owed);
                            Poll::Ready(Err(AcquireError(())))
                        }
                        // Served in full before the close: ours.
                        None => Poll::Ready(Ok(())),
                    };
                }
                if list.update_waker(key, cx.waker()) {
                    return Poll::Pending;
                }
                // Our slot was freed by `assign`: all `n` are ours. The
                // queue's lock orders the releasers' writes before ours.
                *state = AcquireState::Done;
                Poll::Ready(Ok(()))
            }
            AcquireState::Idle => {
                let mut list = self.queue.lock();
                let mut current = self.state.load(Ordering::Relaxed);
                loop {
                    // Under the queue's lock: `close` sets CLOSED before it
                    // takes this lock to wake the queue, so either we see
                    // it here or the close wakes us once queued.
                    if current & CLOSED != 0 {
                        *state = AcquireState::Done;
                        return Poll::Ready(Err(AcquireError(())));
                    }
                    // Take what is free, up to `n`; if that is not enough,
                    // announce a waiter in the same step, so that releases
                    // from now on come to the queue (which they can only
                    // lock after us) instead of the count.
                    let take = (current >> SHIFT).min(n);
                    let mut new = current - (take << SHIFT);
                    if take < n {
                        new |= WAITING;
                    }
                    // Acquire: as in `try_acquire`.
                    match self.state.compare_exchange_weak(
                        current,
                        new,
                        Ordering::Acquire,
                        Ordering::Relaxed,
                    ) {
                        Ok(_) if take == n => {
                            *state = AcquireState::Done;
                            return Poll::Ready(Ok(()));
                        }
                        Ok(_) => {
                            let seq = list.next_seq();
                            let key = list.push_back_wanting(cx.waker().clone(), n - take);
                            *state = AcquireState::Queued { key, seq };
                            return Poll::Pending;
                        }
                        Err(actual) => current = actual,
                    }
                }
            }
        }
    }

    /// Called when a future acquiring `n` permits is dropped before it
    /// completed: leaves the queue and passes on what it had been given.
    pub(crate) fn abandon(&self, n: usize, state: AcquireState) {
        let AcquireState::Queued { key, .. } = state else {
            return;
        };
        let mut list = self.queue.lock();
        // Still queued: it holds `n - owed`; served: it holds all `n`.
        let given = match list.remove_wanting(key) {
            Some(owed) => n - owed,
            None => n,
        };
        self.release_locked(list, given);
    }

    /// Gives back `n` permits: to the queued waiters, oldest first, and
    /// what they do not take to the count.
    #[inline]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut current = self.state.load(Ordering::Relaxed);
        // Nobody queued: add them to the count, lock-free.
        while current & WAITING == 0 {
            let new = (checked_permits(current >> SHIFT, n) << SHIFT) | (current & CLOSED);
            // Release: what we did while holding the permits happens-before
            // the Acquire of whoever takes them from the count.
            match self.state.compare_exchange_weak(
                current,
                new,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
        self.release_locked(self.queue.lock(), n);
    }

    /// [`RawSemaphore::release`] with the queue's lock held: assigns `n`
    /// permits to the waiters, adds what is left to the count and brings
    /// `WAITING` up to date (also after a waiter left, with `n == 0`).
    fn release_locked(&self, list: Guard<'_>, n: usize) {
        let mut wakers = Wakers::new();
        let (list, left) = self.queue.assign(list, n, &mut wakers);
        // Release: pairs with the Acquire load of a served waiter's poll.
        // Stored under the lock, so the stores are in lock order and the
        // value only grows.
        self.served_below.store(list.front_seq(), Ordering::Release);
        let waiting = if list.is_empty() { 0 } else { WAITING };
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let free = checked_permits(current >> SHIFT, left);
            let new = (free << SHIFT) | (current & CLOSED) | waiting;
            // Release: as in `release`, for the permits left in the count.
            // Waiters served by `assign` synchronise through the queue's
            // lock instead.
            match self.state.compare_exchange_weak(
                current,
                new,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        drop(list);
        wakers.wake();
    }

    /// Closes the semaphore: every pending and later acquire fails.
    pub(crate) fn close(&self) {
        // Release: nothing to publish really, but a closer's earlier writes
        // are visible to an acquire that fails on seeing CLOSED.
        self.state.fetch_or(CLOSED, Ordering::Release);
        self.queue.close();
    }
}

/// `free + n`, or a panic if that is more than a semaphore can hold.
#[inline]
fn checked_permits(free: usize, n: usize) -> usize {
    match free.checked_add(n) {
        Some(total) if total <= MAX_PERMITS => total,
        _ => panic!("a semaphore holds at most usize::MAX >> 3 permits"),
    }
}

impl fmt::Debug for RawSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawSemaphore")
            .field("available", &self.available())
            .field("is_closed", &self.is_closed())
            .finish_non_exhaustive()
    }
}

/// A count of permits that tasks acquire and release, like
/// `asyncio.Semaphore` or `tokio::sync::Semaphore`: it bounds how many
/// tasks do something at once.
///
/// It is fair: permits go to waiting tasks in the order their acquires
/// were first polled, and an [`acquire_many`](Semaphore::acquire_many) at
/// the head of the line holds back later, smaller acquires until it has
/// all it asked for (it collects released permits as they come). So
/// [`try_acquire`](Semaphore::try_acquire) fails while anyone is queued,
/// even if some permits are free. When nobody waits, acquiring and
/// releasing are one atomic operation each.
///
/// A permit gives its permits back when dropped, or never with
/// [`SemaphorePermit::forget`]. [`close`](Semaphore::close) makes every
/// pending and later acquire fail (as tokio's; asyncio's semaphore cannot be
/// closed); permits already held stay valid.
///
/// Cancellation is safe: dropping a queued [`Acquire`] leaves the line and
/// passes on the permits it had been given.
///
/// # Examples
///
/// At most two tasks in the critical section at once:
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use sync_primitives::Semaphore;
///
/// let semaphore = Semaphore::new(2);
/// let inside = AtomicUsize::new(0);
/// let most = AtomicUsize::new(0);
/// runtime::block_on(async {
///     let tasks = (0..5).map(|_| async {
///         let _permit = semaphore.acquire().await.unwrap();
///         let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
///         most.fetch_max(now, Ordering::SeqCst);
///         runtime::yield_now().await;
///         inside.fetch_sub(1, Ordering::SeqCst);
///     });
///     runtime::gather(tasks).await;
/// });
/// assert_eq!(most.into_inner(), 2);
/// assert_eq!(semaphore.available_permits(), 2);
/// ```
pub struct Semaphore {
    raw: RawSemaphore,
}

impl Semaphore {
    /// The most permits a semaphore can hold: `usize::MAX >> 3`.
    pub const MAX_PERMITS: usize = MAX_PERMITS;

    loom_const_fn! {
        /// A semaphore with `permits` permits.
        ///
        /// # Panics
        ///
        /// If `permits` is more than [`Semaphore::MAX_PERMITS`].
        #[must_use]
        pub fn new(permits: usize) -> Semaphore {
            Semaphore {
                raw: RawSemaphore::new(permits),
            }
        }
    }

    /// Acquires one permit, waiting in FIFO order behind earlier acquires.
    ///
    /// Fails with [`AcquireError`] if the semaphore is closed, or gets
    /// closed while waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Semaphore;
    ///
    /// let semaphore = Semaphore::new(1);
    /// runtime::block_on(async {
    ///     let permit = semaphore.acquire().await.unwrap();
    ///     assert_eq!(semaphore.available_permits(), 0);
    ///     drop(permit);
    /// });
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// Acquires `n` permits at once, waiting in FIFO order. At the head of
    /// the line it takes permits as they are released until it has `n`,
    /// and holds back every later acquire meanwhile. `n == 0` succeeds at
    /// once (unless closed).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Semaphore;
    ///
    /// let semaphore = Semaphore::new(5);
    /// runtime::block_on(async {
    ///     let permit = semaphore.acquire_many(3).await.unwrap();
    ///     assert_eq!(permit.num_permits(), 3);
    ///     assert_eq!(semaphore.available_permits(), 2);
    /// });
    /// ```
    pub fn acquire_many(&self, n: u32) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            permits: n as usize,
            state: AcquireState::Idle,
        }
    }

    /// [`acquire`](Semaphore::acquire) for a semaphore behind an `Arc`: the
    /// permit owns a clone of the `Arc`, so it can move into a task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sync_primitives::Semaphore;
    ///
    /// let semaphore = Arc::new(Semaphore::new(1));
    /// let permit = runtime::block_on(semaphore.clone().acquire_owned()).unwrap();
    /// let worker = std::thread::spawn(move || drop(permit));
    /// worker.join().unwrap();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn acquire_owned(self: Arc<Self>) -> AcquireOwned {
        self.acquire_many_owned(1)
    }

    /// [`acquire_many`](Semaphore::acquire_many) for a semaphore behind an
    /// `Arc`.
    pub fn acquire_many_owned(self: Arc<Self>, n: u32) -> AcquireOwned {
        AcquireOwned {
            semaphore: Some(self),
            permits: n as usize,
            state: AcquireState::Idle,
        }
    }

    /// Takes one permit if one is free and nobody is queued: fails with
    /// [`TryAcquireError::NoPermits`] otherwise, or
    /// [`TryAcquireError::Closed`].
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::{Semaphore, TryAcquireError};
    ///
    /// let semaphore = Semaphore::new(1);
    /// let permit = semaphore.try_acquire().unwrap();
    /// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    /// drop(permit);
    /// semaphore.close();
    /// assert_eq!(semaphore.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Takes `n` permits if they are free and nobody is queued.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.raw.try_acquire(n as usize)?;
        Ok(SemaphorePermit {
            semaphore: self,
            permits: n as usize,
        })
    }

    /// [`try_acquire`](Semaphore::try_acquire) for a semaphore behind an
    /// `Arc`.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// [`try_acquire_many`](Semaphore::try_acquire_many) for a semaphore
    /// behind an `Arc`.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.raw.try_acquire(n as usize)?;
        Ok(OwnedSemaphorePermit {
            semaphore: self,
            permits: n as usize,
        })
    }

    /// The permits free now (0 while anyone is queued).
    #[must_use]
    pub fn available_permits(&self) -> usize {
        self.raw.available()
    }

    /// Adds `n` permits: they go to the queued acquires first, oldest
    /// first, waking as many as they cover in full; the rest become free.
    ///
    /// # Panics
    ///
    /// If the free permits would exceed [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.raw.release(n);
    }

    /// Closes the semaphore: every pending acquire fails with
    /// [`AcquireError`] (and gives back what it had been given), later
    /// acquires fail at once, and `try_acquire*` fail with
    /// [`TryAcquireError::Closed`]. Permits already held stay valid and are
    /// still given back when dropped; so does an acquire that had been
    /// served in full before the close but not yet polled (as in tokio).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Semaphore;
    ///
    /// let semaphore = Semaphore::new(0);
    /// runtime::block_on(async {
    ///     let (waiting, closed) = runtime::gather!(semaphore.acquire(), async {
    ///         semaphore.close();
    ///     });
    ///     assert!(waiting.is_err());
    ///     let _ = closed;
    /// });
    /// assert!(semaphore.is_closed());
    /// ```
    pub fn close(&self) {
        self.raw.close();
    }

    /// Whether [`close`](Semaphore::close) has been called.
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.raw.is_closed()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.available_permits())
            .field("is_closed", &self.is_closed())
            .finish()
    }
}

/// The future returned by [`Semaphore::acquire`] and
/// [`Semaphore::acquire_many`].
///
/// Dropping it while queued leaves the line and passes on the permits it
/// had been given.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
    state: AcquireState,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<SemaphorePermit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let semaphore = this.semaphore;
        match semaphore
            .raw
            .poll_acquire(this.permits, &mut this.state, cx)
        {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(SemaphorePermit {
                semaphore,
                permits: this.permits,
            })),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        self.semaphore.raw.abandon(self.permits, self.state);
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.permits)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Semaphore::acquire_owned`] and
/// [`Semaphore::acquire_many_owned`].
///
/// Dropping it while queued leaves the line and passes on the permits it
/// had been given.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct AcquireOwned {
    /// `None` once the permit has been returned.
    semaphore: Option<Arc<Semaphore>>,
    permits: usize,
    state: AcquireState,
}

impl Future for AcquireOwned {
    type Output = Result<OwnedSemaphorePermit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let semaphore = this
            .semaphore
            .as_ref()
            .expect("`AcquireOwned` polled after it completed");
        match semaphore
            .raw
            .poll_acquire(this.permits, &mut this.state, cx)
        {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(OwnedSemaphorePermit {
                semaphore: this.semaphore.take().expect("checked above"),
                permits: this.permits,
            })),
            Poll::Ready(Err(error)) => {
                this.semaphore = None;
                Poll::Ready(Err(error))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl Drop for AcquireOwned {
    fn drop(&mut self) {
        if let Some(semaphore) = &self.semaphore {
            semaphore.raw.abandon(self.permits, self.state);
        }
    }
}

impl fmt::Debug for AcquireOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireOwned")
            .field("permits", &self.permits)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// Permits acquired from a [`Semaphore`]; gives them back when dropped.
#[must_use = "dropping a permit gives it back at once"]
pub struct SemaphorePermit<'a> {
    semaphore: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    #[must_use]
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Drops the permit without giving its permits back: the semaphore
    /// has that many fewer for good (until
    /// [`add_permits`](Semaphore::add_permits)).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Semaphore;
    ///
    /// let semaphore = Semaphore::new(3);
    /// semaphore.try_acquire_many(2).unwrap().forget();
    /// assert_eq!(semaphore.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.semaphore.raw.release(self.permits);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// Permits acquired from a [`Semaphore`] behind an `Arc`, owning a clone of
/// the `Arc`; gives them back when dropped.
#[must_use = "dropping a permit gives it back at once"]
pub struct OwnedSemaphorePermit {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    #[must_use]
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// Drops the permit without giving its permits back.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// The semaphore the permits came from.
    #[must_use]
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.semaphore
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.semaphore.raw.release(self.permits);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("permits", &self.permits)
            .finish_non_exhaustive()
    }
}

/// The error of an acquire on a closed [`Semaphore`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl Error for AcquireError {}

/// Why a `try_acquire*` of a [`Semaphore`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are free, or someone is queued for them.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryAcquireError::Closed => "semaphore closed",
            TryAcquireError::NoPermits => "no permits available",
        })
    }
}

impl Error for TryAcquireError {}
