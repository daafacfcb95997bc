//! [`OnceCell`]: a value initialised once, by an async initialiser.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::mem::{self, MaybeUninit};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, AtomicUsize, Ordering, UnsafeCell};
use crate::wait_queue::{Key, WaitQueue};

/// The cell's states.
///
/// - `EMPTY -> RUNNING`: a caller becomes the initialiser (a CAS, so only
///   one can).
/// - `RUNNING -> READY`: the initialiser stored the value; only it makes
///   this change, under the queue's lock, then wakes every waiter.
/// - `RUNNING -> EMPTY`: the initialiser gave up (cancelled, failed or
///   panicked) with nobody queued; only it makes this change, under the
///   queue's lock. With somebody queued it instead *hands its turn* to the
///   oldest waiter and the state stays `RUNNING`.
///
/// So a queued waiter whose slot was freed (it was woken) finds the state
/// either `READY` or `RUNNING`, and `RUNNING` then means the turn is its.
mod state {
    /// No value, nobody initialising.
    pub(super) const EMPTY: usize = 0;
    /// An initialiser runs; the value is not there yet.
    pub(super) const RUNNING: usize = 1;
    /// The value is there, for good.
    pub(super) const READY: usize = 2;
}
use state::{EMPTY, READY, RUNNING};

/// A value set once, by the first of possibly many async initialisers, like
/// `tokio::sync::OnceCell` or `async_lock::OnceCell`.
///
/// [`get_or_init`](OnceCell::get_or_init) runs one initialiser at a time:
/// the first caller runs its own while later callers wait (parked, not
/// polled) and then get its value. If the running initialiser is dropped
/// (its task cancelled), returns `Err` (from
/// [`get_or_try_init`](OnceCell::get_or_try_init)) or panics, the cell
/// stays empty and the oldest waiting caller runs its own initialiser next,
/// in the order the callers started waiting. Once set, [`get`](OnceCell::get)
/// is one atomic load.
///
/// # Examples
///
/// ```
/// use sync_primitives::OnceCell;
///
/// static CONFIG: OnceCell<String> = OnceCell::new();
///
/// let config = runtime::block_on(async {
///     CONFIG
///         .get_or_init(|| async { "loaded once".to_string() })
///         .await
/// });
/// assert_eq!(config, "loaded once");
/// assert_eq!(CONFIG.get().map(String::as_str), Some("loaded once"));
/// ```
///
/// Sharing it hands out `&T` on every thread, so a cell of a type that is
/// not `Sync` cannot be shared:
///
/// ```compile_fail
/// fn sync<T: Sync>(_: &T) {}
/// sync(&sync_primitives::OnceCell::<std::cell::Cell<u8>>::new());
/// ```
pub struct OnceCell<T> {
    state: AtomicUsize,
    /// Callers waiting for the running initialiser, oldest first.
    queue: WaitQueue,
    /// Initialised exactly when `state` is `READY`.
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: sharing the cell hands out `&T` on every thread (so `T: Sync`)
// and lets any thread store the value, which another thread may drop (so
// `T: Send`), as for `std::sync::OnceLock`.
unsafe impl<T: Send + Sync> Sync for OnceCell<T> {}
// SAFETY: sending the cell sends the value; the queue holds only wakers.
unsafe impl<T: Send> Send for OnceCell<T> {}

impl<T> OnceCell<T> {
    loom_const_fn! {
        /// A new, empty cell.
        #[must_use]
        pub fn new() -> OnceCell<T> {
            OnceCell {
                state: AtomicUsize::new(EMPTY),
                queue: WaitQueue::new(),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }
        }
    }

    /// The value, if the cell is initialised. Never waits.
    pub fn get(&self) -> Option<&T> {
        // Acquire: pairs with the Release store of READY in `complete`, so
        // the initialiser's write of the value happens-before our read.
        if self.state.load(Ordering::Acquire) == READY {
            // SAFETY: READY means the value is initialised and never written
            // again while the cell is shared.
            Some(unsafe { self.value_unchecked() })
        } else {
            None
        }
    }

    /// Whether the cell holds its value.
    #[must_use]
    pub fn is_initialized(&self) -> bool {
        self.get().is_some()
    }

    /// The value; if the cell is empty, first runs `init` (or waits for the
    /// initialiser that is running) to set it.
    ///
    /// Only one initialiser runs at a time. If it is dropped (cancelled) or
    /// panics, the cell stays empty and the oldest waiting caller runs its
    /// own `init`; a panic reaches only the caller whose `init` panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// runtime::block_on(async {
    ///     let (a, b) = runtime::gather!(
    ///         cell.get_or_init(|| async { 1 }),
    ///         cell.get_or_init(|| async { 2 }), // waits, then gets the 1
    ///     );
    ///     assert_eq!((*a, *b), (1, 1));
    /// });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, init: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let result = self
            .get_or_try_init(|| async { Ok::<T, Infallible>(init().await) })
            .await;
        match result {
            Ok(value) => value,
            Err(never) => match never {},
        }
    }

    /// The value; if the cell is empty, first runs the fallible `init` (or
    /// waits for the initialiser that is running) to set it.
    ///
    /// If `init` returns `Err`, the cell stays empty, the error is returned
    /// to this caller, and the oldest waiting caller runs its own `init`.
    /// Cancellation and panics are handled as in
    /// [`get_or_init`](OnceCell::get_or_init).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// runtime::block_on(async {
    ///     let failed = cell.get_or_try_init(|| async { Err("offline") }).await;
    ///     assert_eq!(failed, Err("offline"));
    ///     assert!(!cell.is_initialized());
    ///     let value = cell.get_or_try_init(|| async { Ok::<_, &str>(7) }).await;
    ///     assert_eq!(value, Ok(&7));
    /// });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, init: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if let Some(value) = self.get() {
            return Ok(value);
        }
        let turn = Turn {
            cell: self,
            state: TurnState::Idle,
        };
        match turn.await {
            Ok(value) => Ok(value),
            Err(initialiser) => {
                // Dropping `initialiser` (on `Err`, on a panic in `init`, or
                // when this future is dropped mid-way) hands the turn on.
                let value = init().await?;
                Ok(initialiser.complete(value))
            }
        }
    }

    /// Sets the value if the cell is empty and nobody is initialising it;
    /// otherwise hands `value` back.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::OnceCell;
    ///
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.set(1), Ok(()));
    /// assert_eq!(cell.set(2), Err(2));
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), T> {
        match self.try_start() {
            Some(initialiser) => {
                initialiser.complete(value);
                Ok(())
            }
            None => Err(value),
        }
    }

    /// Consumes the cell, returning its value if it was initialised.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// The value, through a unique borrow: no waiting, no atomics needed.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        // Acquire: as in `take`.
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        // SAFETY: READY means the value is initialised, and `&mut self`
        // makes this the only access to it.
        Some(
            self.value
                .with_mut(|value| unsafe { (*value).assume_init_mut() }),
        )
    }

    /// Takes the value out, leaving the cell empty.
    pub fn take(&mut self) -> Option<T> {
        // Acquire: `&mut self` already orders every access; it pairs with
        // the Release of READY all the same, so loom agrees.
        if self.state.load(Ordering::Acquire) != READY {
            return None;
        }
        self.state.store(EMPTY, Ordering::Relaxed);
        // SAFETY: the state was READY, so the value is initialised; the
        // state is now EMPTY, so it will not be read or dropped again.
        Some(
            self.value
                .with(|value| unsafe { (*value).assume_init_read() }),
        )
    }

    /// Becomes the initialiser if the cell is empty and nobody else is.
    fn try_start(&self) -> Option<Initialiser<'_, T>> {
        // Relaxed: becoming the initialiser publishes nothing, and an empty
        // cell has no value to read.
        self.state
            .compare_exchange(EMPTY, RUNNING, Ordering::Relaxed, Ordering::Relaxed)
            .ok()
            .map(|_| Initialiser { cell: self })
    }

    /// # Safety
    ///
    /// The state must have been seen `READY` with an Acquire load (or under
    /// the queue's lock after the initialiser stored it).
    unsafe fn value_unchecked(&self) -> &T {
        // SAFETY: the caller saw READY, so the value is initialised, and it
        // is never written again while `&self` lives.
        self.value
            .with(|value| unsafe { (*value).assume_init_ref() })
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> From<T> for OnceCell<T> {
    /// A cell already holding `value`.
    fn from(value: T) -> Self {
        let cell = Self::new();
        if cell.set(value).is_err() {
            unreachable!("a new cell is empty");
        }
        cell
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_tuple("OnceCell");
        match self.get() {
            Some(value) => d.field(value),
            None => d.field(&format_args!("<uninit>")),
        };
        d.finish()
    }
}

/// The turn to initialise the cell, held by the caller whose initialiser
/// runs (the state is `RUNNING`). Dropping it without
/// [`complete`](Initialiser::complete) hands the turn to the oldest waiter,
/// or empties the cell if nobody waits.
struct Initialiser<'a, T> {
    cell: &'a OnceCell<T>,
}

impl<'a, T> Initialiser<'a, T> {
    /// Stores the value and wakes every waiter.
    fn complete(self, value: T) -> &'a T {
        let cell = self.cell;
        mem::forget(self);
        // SAFETY: we hold the turn (state RUNNING), so nobody else writes the
        // value, and nobody reads it before READY.
        cell.value.with_mut(|slot| unsafe { (*slot).write(value) });
        let list = cell.queue.lock();
        // Release: our write of the value happens-before every Acquire load
        // that sees READY. Stored under the queue's lock so that a caller
        // that queues after it sees READY when it re-checks under the lock.
        cell.state.store(READY, Ordering::Release);
        cell.queue.wake_all(list);
        // SAFETY: we just stored READY.
        unsafe { cell.value_unchecked() }
    }
}

impl<T> Drop for Initialiser<'_, T> {
    /// Gives up the turn: to the oldest waiter, or back to an empty cell.
    fn drop(&mut self) {
        let mut list = self.cell.queue.lock();
        match list.pop_front() {
            Some(next) => {
                // The state stays RUNNING: the turn is the woken waiter's,
                // which learns it from its freed slot.
                drop(list);
                next.wake();
            }
            None => {
                // Relaxed: nothing to publish; under the queue's lock, so a
                // caller about to queue sees EMPTY and starts its own.
                self.cell.state.store(EMPTY, Ordering::Relaxed);
            }
        }
    }
}

/// Waits for the caller's turn: the cell's value, or the turn to initialise
/// it (`Err`).
#[must_use = "futures do nothing unless you `.await` or poll them"]
struct Turn<'a, T> {
    cell: &'a OnceCell<T>,
    state: TurnState,
}

/// Where a [`Turn`] is.
#[derive(Clone, Copy, Debug)]
enum TurnState {
    /// Not queued: never polled, or completed. Dropping needs nothing.
    Idle,
    /// Queued under this key; woken (value ready, or the turn handed to
    /// it) once the key is stale. Dropping must unlink it, or pass on a turn
    /// it was handed.
    Queued(Key),
}

impl<'a, T> Future for Turn<'a, T> {
    type Output = Result<&'a T, Initialiser<'a, T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let cell = this.cell;
        if let TurnState::Queued(key) = this.state {
            if cell.queue.lock().update_waker(key, cx.waker()) {
                return Poll::Pending;
            }
            this.state = TurnState::Idle;
            return Poll::Ready(cell.woken());
        }
        loop {
            if let Some(value) = cell.get() {
                return Poll::Ready(Ok(value));
            }
            if let Some(initialiser) = cell.try_start() {
                return Poll::Ready(Err(initialiser));
            }
            let mut list = cell.queue.lock();
            // Re-check under the lock: the initialiser leaves RUNNING only
            // under it, so either we see the change or it sees us queued.
            // Relaxed: the lock orders this load after that store (and a
            // READY seen here is re-read with Acquire by `get`).
            if cell.state.load(Ordering::Relaxed) == RUNNING {
                this.state = TurnState::Queued(list.push_back(cx.waker().clone()));
                return Poll::Pending;
            }
        }
    }
}

impl<T> OnceCell<T> {
    /// What a woken waiter got: the value, or the turn handed to it.
    fn woken(&self) -> Result<&T, Initialiser<'_, T>> {
        // Woken by `complete` (READY) or handed the turn (RUNNING, and only
        // we can change it now): see `state`.
        match self.get() {
            Some(value) => Ok(value),
            None => Err(Initialiser { cell: self }),
        }
    }
}

impl<T> Drop for Turn<'_, T> {
    fn drop(&mut self) {
        if let TurnState::Queued(key) = self.state {
            if !self.cell.queue.remove(key) {
                // Woken, never polled: a handed turn passes on (dropping the
                // initialiser does it); a ready value needs nothing.
                drop(self.cell.woken());
            }
        }
    }
}

impl<T> fmt::Debug for Turn<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Turn")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Initialiser<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Initialiser").finish_non_exhaustive()
    }
}
