//! [`Mutex`]: an async lock holding data, fair (FIFO) with direct hand-off.

use std::fmt;
use std::future::Future;
use std::hint::spin_loop;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, AtomicUsize, Ordering, UnsafeCell};
use crate::wait_queue::{Key, List, WaitQueue};

/// The state word's bits.
///
/// Who is next in line: first the *spinner* (a `lock()` poll that found the
/// lock held with nobody in line, and is spinning on another thread until
/// it is released), then the queued waiters, oldest first. An unlock hands
/// the lock to the first in line, so nobody can barge in.
///
/// Invariants:
/// - `QUEUED` is set exactly while the wait queue is not empty; it is only
///   changed with the queue's lock held.
/// - `HANDED` is set exactly while the lock has been handed to a woken
///   waiter that has not yet claimed it (by being polled) or passed it on
///   (by being dropped); it is only changed with the queue's lock held.
/// - `SPINNING` is set while a spinner is first in line. Only a `lock()`
///   that finds the state exactly `LOCKED` sets it, and only that spinner
///   clears it. An unlock that sees it clears `LOCKED` alone: the lock is
///   then free but *reserved* for the spinner, which takes it.
/// - `QUEUED`, `HANDED` and `SPINNING` each mean someone is in line, so the
///   lock-free fast paths (`0 -> LOCKED`, `LOCKED -> 0`) only succeed when
///   nobody is.
mod state {
    /// Someone owns the lock.
    pub(super) const LOCKED: usize = 0b0001;
    /// The wait queue is not empty.
    pub(super) const QUEUED: usize = 0b0010;
    /// The owner is a woken waiter that has not run yet.
    pub(super) const HANDED: usize = 0b0100;
    /// A spinner is first in line.
    pub(super) const SPINNING: usize = 0b1000;
}
use state::{HANDED, LOCKED, QUEUED, SPINNING};

/// How many times a spinner looks for the release before it queues (about
/// 1.5 µs at 26 ns per `spin_loop` on the development machine). A queued
/// waiter costs a wake-up and a trip through its scheduler for every
/// hand-off, which is what makes fair locks convoy; an owner that holds the
/// lock for a few instructions on another core releases it well within
/// this, and the hand-off to a running spinner costs one cache-line
/// transfer. Under loom, twice: every look is interleavings to explore, and
/// two cover both endings.
const SPIN_LIMIT: u32 = if cfg!(loom) { 2 } else { 64 };

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
/// (64 looks, about 1.5 µs) as the first in line before it queues: the
/// unlock then hands the lock to it without a trip through the scheduler,
/// which is what makes fair locks slow (a convoy of wake-ups). It never
/// spins when the owner is on its own thread, nor when anyone is queued.
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
    state: AtomicUsize,
    /// The [`thread_token`] of the thread that owns the lock (or
    /// [`NO_THREAD`]): a `lock()` on that same thread does not spin, since
    /// an owner that is not running there cannot release the lock
    /// meanwhile.
    owner_thread: AtomicUsize,
    queue: WaitQueue,
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
                state: AtomicUsize::new(0),
                owner_thread: AtomicUsize::new(NO_THREAD),
                queue: WaitQueue::new(),
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
        self.try_acquire().then(|| MutexGuard::new(self))
    }

    /// Whether the lock is held, or handed (or reserved) for a waiter that
    /// has not taken it yet.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        // Relaxed: a snapshot; it orders nothing. Any bit means locked: see
        // the invariants of `state`.
        self.state.load(Ordering::Relaxed) != 0
    }

    /// The data, through a unique borrow: no locking needed.
    pub fn get_mut(&mut self) -> &mut T {
        // SAFETY: `&mut self` proves no guard exists, so this is the only
        // access to the data.
        self.data.with_mut(|data| unsafe { &mut *data })
    }

    /// The lock-free fast path: `0 -> LOCKED`.
    #[inline]
    fn try_acquire(&self) -> bool {
        // Acquire: pairs with the Release in `unlock`, so the previous
        // owner's writes to the data happen-before ours.
        let acquired = self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if acquired {
            self.record_owner_thread();
        }
        acquired
    }

    /// Notes that the calling thread now owns the lock.
    #[inline]
    fn record_owner_thread(&self) {
        // Relaxed: a hint for `spin_acquire`, never relied on for safety.
        self.owner_thread.store(thread_token(), Ordering::Relaxed);
    }

    /// If nobody is in line and the lock is held, becomes the spinner and
    /// spins until the owner releases it (then takes it: `true`) or for
    /// [`SPIN_LIMIT`] looks (then stays the spinner: `false`, and the
    /// caller must queue it at the front). `None` if it did not become the
    /// spinner.
    fn spin_acquire(&self) -> Option<bool> {
        // Relaxed: a hint (see `record_owner_thread`). Not under loom, whose
        // threads all share one token: the models must cover spinning.
        if !cfg!(loom) && self.owner_thread.load(Ordering::Relaxed) == thread_token() {
            return None;
        }
        let mut looks = 0;
        // Take the lock if it is free, or the spinner's place if it is held
        // by a running owner with nobody in line (the state flickers between
        // these while owners on other threads come and go).
        let mut current = LOCKED;
        loop {
            looks += 1;
            if looks > SPIN_LIMIT {
                return None;
            }
            match current {
                0 if self.try_acquire() => return Some(true),
                0 => current = self.state.load(Ordering::Relaxed),
                // Relaxed: taking a place in line publishes nothing; the lock
                // is acquired below with Acquire.
                LOCKED => match self.state.compare_exchange_weak(
                    LOCKED,
                    LOCKED | SPINNING,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(actual) => current = actual,
                },
                // Another spinner is first in line: wait for it to take the
                // lock, then take its place (we join the line only then, so
                // nobody is overtaken).
                spinner if spinner & (QUEUED | HANDED) == 0 => {
                    spin_loop();
                    current = self.state.load(Ordering::Relaxed);
                }
                // Someone is queued: join the queue behind them.
                _ => return None,
            }
        }
        while looks < SPIN_LIMIT {
            looks += 1;
            spin_loop();
            // Relaxed: a hint; `take_reserved` synchronises.
            if self.state.load(Ordering::Relaxed) & LOCKED == 0 {
                self.take_reserved();
                return Some(true);
            }
        }
        Some(false)
    }

    /// The spinner takes the lock reserved for it: clears `SPINNING`, sets
    /// `LOCKED`, keeps `QUEUED`.
    fn take_reserved(&self) {
        // Only the spinner can clear SPINNING or set LOCKED while the lock
        // is reserved, so flipping both bits is exact. Acquire: pairs with
        // the Release of the unlock that reserved it.
        let before = self.state.fetch_xor(SPINNING | LOCKED, Ordering::Acquire);
        debug_assert_eq!(before & (SPINNING | LOCKED), SPINNING);
        self.record_owner_thread();
    }

    /// Polls for the lock on behalf of a `Lock` or `LockOwned` future whose
    /// queue position is `state`.
    fn poll_acquire(&self, state: &mut LockState, cx: &mut Context<'_>) -> Poll<()> {
        if let LockState::Queued(key) = *state {
            let mut list = self.queue.lock();
            if list.update_waker(key, cx.waker()) {
                return Poll::Pending;
            }
            // Our slot was freed by `unlock`: the lock is ours. The queue's
            // lock orders the previous owner's writes before our reads. We
            // own the lock and hold the queue's lock, and HANDED keeps
            // spinners out, so nobody else can change the state: a plain
            // store clears HANDED (Relaxed: the queue's lock orders it).
            self.state.store(queued_bits(&list), Ordering::Relaxed);
            drop(list);
            self.record_owner_thread();
            *state = LockState::Idle;
            return Poll::Ready(());
        }

        if self.try_acquire() {
            return Poll::Ready(());
        }
        let spinning = match self.spin_acquire() {
            Some(true) => return Poll::Ready(()),
            Some(false) => true,
            None => false,
        };
        let mut list = self.queue.lock();
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (new, ordering) = if spinning && current & LOCKED == 0 {
                // Released to us while we came to the queue.
                self.take_reserved();
                return Poll::Ready(());
            } else if spinning {
                // Give up spinning and queue at the front: everyone queued
                // came after us. Relaxed: the queue's lock orders the rest.
                ((current & !SPINNING) | QUEUED, Ordering::Relaxed)
            } else if current == 0 {
                // Free, nobody in line: take it. Acquire: as in
                // `try_acquire`.
                (LOCKED, Ordering::Acquire)
            } else {
                // Held or reserved: announce a waiter before queueing, so
                // that the owner's fast-path unlock fails and it comes to
                // the queue (which it can only lock after us).
                (current | QUEUED, Ordering::Relaxed)
            };
            match self
                .state
                .compare_exchange_weak(current, new, ordering, Ordering::Relaxed)
            {
                Ok(_) if new == LOCKED => {
                    self.record_owner_thread();
                    return Poll::Ready(());
                }
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        let waker = cx.waker().clone();
        *state = LockState::Queued(if spinning {
            list.push_front(waker)
        } else {
            list.push_back(waker)
        });
        Poll::Pending
    }

    /// Called when a `Lock` or `LockOwned` future is dropped before it
    /// completed: leaves the queue, or passes on a lock it was already
    /// handed.
    fn abandon(&self, state: LockState) {
        let LockState::Queued(key) = state else {
            return;
        };
        let mut list = self.queue.lock();
        if list.remove(key) {
            if list.is_empty() {
                // An RMW, not a store: the owner may be setting or clearing
                // other bits meanwhile. Relaxed: the queue's lock orders
                // this with every other change of QUEUED.
                self.state.fetch_and(!QUEUED, Ordering::Relaxed);
            }
        } else {
            // The lock was handed to us and we never took it: pass it on.
            drop(list);
            self.unlock();
        }
    }

    /// Releases the lock to the first in line: the spinner, else the oldest
    /// queued waiter; frees it if nobody is in line.
    fn unlock(&self) {
        // Forget our thread before anyone can take the lock (Relaxed: a
        // hint; the Release below orders it before the next owner's own
        // record). A token left behind would make a `lock()` on our thread
        // take a new owner elsewhere for a suspended one and not spin.
        self.owner_thread.store(NO_THREAD, Ordering::Relaxed);
        let mut current = LOCKED;
        loop {
            // The lock-free paths. Release (both): our writes to the data
            // happen-before the next owner's Acquire (`try_acquire` or
            // `take_reserved`).
            if current & SPINNING != 0 {
                // Reserve it for the spinner.
                match self.state.compare_exchange_weak(
                    current,
                    current & !LOCKED,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(actual) => current = actual,
                }
                continue;
            }
            if current & (QUEUED | HANDED) == 0 {
                match self.state.compare_exchange_weak(
                    current,
                    0,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(actual) => current = actual,
                }
                continue;
            }

            // Someone is queued, or we are passing on a lock handed to a
            // dropped waiter. Under the queue's lock, with QUEUED or HANDED
            // set and no spinner, nobody else can change the state (the
            // fast paths fail and spinners need it exactly LOCKED), so it is
            // stable; re-check it now that we hold the lock.
            let mut list = self.queue.lock();
            current = self.state.load(Ordering::Relaxed);
            if current & SPINNING != 0 || current & (QUEUED | HANDED) == 0 {
                continue; // changed before we got the queue's lock
            }
            match list.pop_front() {
                Some(waker) => {
                    // It stays LOCKED, now owned by the woken waiter, which
                    // learns it from its freed slot under the queue's lock
                    // (which carries our writes to it). Relaxed: as above.
                    self.state
                        .store(queued_bits(&list) | HANDED, Ordering::Relaxed);
                    drop(list);
                    waker.wake();
                }
                None => {
                    // Passing on a dropped hand-off with nobody left.
                    // Release: as in the fast path.
                    self.state.store(0, Ordering::Release);
                }
            }
            return;
        }
    }
}

/// The `owner_thread` of a free lock: never a [`thread_token`], since
/// those are addresses.
const NO_THREAD: usize = usize::MAX;

/// A number that tells the calling thread from every other live thread:
/// the address of a thread-local. Under loom, whose threads share one OS
/// thread, always 0 (and `spin_acquire` ignores it).
#[inline]
fn thread_token() -> usize {
    #[cfg(not(loom))]
    {
        thread_local! {
            static TOKEN: u8 = const { 0 };
        }
        TOKEN.with(|token| std::ptr::from_ref(token) as usize)
    }
    #[cfg(loom)]
    {
        0
    }
}

/// `LOCKED`, plus `QUEUED` if anyone is queued: the state of a lock whose
/// owner holds the queue's lock.
fn queued_bits(list: &List) -> usize {
    if list.is_empty() {
        LOCKED
    } else {
        LOCKED | QUEUED
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

/// Where a [`Lock`] or [`LockOwned`] future is.
#[derive(Clone, Copy, Debug)]
enum LockState {
    /// Not queued: never polled, or completed. Dropping needs nothing.
    Idle,
    /// Queued under this key, or handed the lock if the key has gone stale.
    /// Dropping must unlink it, or pass the lock on.
    Queued(Key),
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
        match mutex.poll_acquire(&mut this.state, cx) {
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
            mutex.abandon(self.state);
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
        match mutex.poll_acquire(&mut this.state, cx) {
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
            mutex.abandon(self.state);
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
        self.mutex.unlock();
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
        self.mutex.unlock();
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
