//! [`Event`]: asyncio's `Event`, on wakers.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, AtomicBool, AtomicUsize, Ordering};
use crate::wait_queue::{Key, WaitQueue};

/// A flag that tasks can wait on, like `asyncio.Event`.
///
/// [`set`](Event::set) raises the flag and wakes every task waiting at that
/// moment, in the order they started waiting; [`clear`](Event::clear) lowers
/// it again. A task woken by `set` completes its wait even if `clear` runs
/// before it is polled again (asyncio's rule): a wake-up is never taken
/// back. Waiting on a set event completes at once.
///
/// Waiting tasks are parked, not polled: each is polled once to register
/// and once more when `set` wakes it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sync_primitives::Event;
///
/// let event = Arc::new(Event::new());
/// let setter = {
///     let event = event.clone();
///     std::thread::spawn(move || event.set())
/// };
/// futures::executor::block_on(event.wait());
/// assert!(event.is_set());
/// setter.join().unwrap();
/// ```
pub struct Event {
    /// The flag. Written under the queue's lock by `set` (so that raising it
    /// and choosing whom to wake are one step), lock-free by `clear`.
    set: AtomicBool,
    /// How many times `set` raised the flag, wrapping. Written only under
    /// the queue's lock, so a plain load + store bumps it. A waiter notes it
    /// when it queues: if it has changed when the waiter is polled again, a
    /// `set` ran after it queued, and that `set` wakes (and unlinks)
    /// everyone queued before it, so the waiter completes without taking
    /// the queue's lock. This saves one lock round trip per wait (a
    /// ping-pong does one per hop).
    ///
    /// It is a `usize`, so it can wrap back to the noted value (2^32 sets
    /// while one waiter stays queued, on a 32-bit target). That only skips
    /// the fast path: the waiter then checks its key under the lock, as
    /// when no `set` ran. Its slot was freed by the first of those sets
    /// (the key is stale: the wait completes), or that set's `wake_all`,
    /// which re-locks between batches, has not reached it yet (it is still
    /// queued: its new waker is stored, and that `wake_all` wakes it).
    epoch: AtomicUsize,
    queue: WaitQueue,
}

impl Event {
    loom_const_fn! {
        /// A new event, not set.
        #[must_use]
        pub fn new() -> Event {
            Event {
                set: AtomicBool::new(false),
                epoch: AtomicUsize::new(0),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Sets the event and wakes every task waiting on it, oldest first.
    ///
    /// Tasks that start waiting while the event is set complete at once.
    /// Setting a set event does nothing.
    pub fn set(&self) {
        if self.is_set() {
            return;
        }
        let list = self.queue.lock();
        // Release: what this thread did before `set` happens-before whatever
        // a waiter does after it sees the flag (its Acquire load in
        // `is_set`). Woken waiters are synchronised through the queue's lock.
        // Raising the flag under the lock makes "set, then wake those queued
        // so far" one step: a waiter that queues after this store sees the
        // flag when it re-checks under the lock.
        self.set.store(true, Ordering::Release);
        // Relaxed load: only writers under the lock store it. Release
        // store: what this thread did before `set` happens-before whatever
        // a queued waiter does once its Acquire load in `Wait::poll` sees
        // the new epoch (it completes then, without the queue's lock).
        let epoch = self.epoch.load(Ordering::Relaxed);
        self.epoch.store(epoch.wrapping_add(1), Ordering::Release);
        self.queue.wake_all(list);
    }

    /// Clears the event: tasks that start waiting from now on wait for the
    /// next [`set`](Event::set). Tasks already woken by a `set` still
    /// complete.
    pub fn clear(&self) {
        // Relaxed: clearing publishes nothing; a waiter that misses the
        // clear simply completes, which is a wait that ended before it.
        self.set.store(false, Ordering::Relaxed);
    }

    /// Whether the event is set.
    #[must_use]
    pub fn is_set(&self) -> bool {
        // Acquire: pairs with the Release store in `set`.
        self.set.load(Ordering::Acquire)
    }

    /// Waits until the event is set. Completes at once if it already is.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Event;
    ///
    /// let event = Event::new();
    /// event.set();
    /// futures::executor::block_on(event.wait());
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            event: self,
            state: WaitState::Idle,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Event::wait`].
///
/// Dropping it before it completes takes it out of the queue.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a> {
    event: &'a Event,
    state: WaitState,
}

/// Where a [`Wait`] is.
#[derive(Clone, Copy, Debug)]
enum WaitState {
    /// Not polled yet: not queued; dropping needs nothing.
    Idle,
    /// Queued under this key when the event's epoch was this, or woken if
    /// the key has gone stale or the epoch has moved on (a `set` that ran
    /// since unlinks it, if it has not yet); dropping must unlink it if it
    /// is still queued.
    Queued(Key, usize),
    /// Completed: not queued; dropping needs nothing, polling again returns
    /// `Ready` again.
    Done,
}

impl Future for Wait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.state {
            WaitState::Done => Poll::Ready(()),
            WaitState::Queued(key, epoch) => {
                // Acquire: pairs with the Release store in `set` (see
                // `Event::epoch`). A `set` since we queued has unlinked us
                // or will, in its `wake_all`, and only wakes our old waker
                // then: a spurious wake-up, which a task tolerates.
                if this.event.epoch.load(Ordering::Acquire) != epoch {
                    this.state = WaitState::Done;
                    return Poll::Ready(());
                }
                if this.event.queue.lock().update_waker(key, cx.waker()) {
                    return Poll::Pending;
                }
                // Our slot was freed by `set`: we were woken, whatever the
                // flag says now.
                this.state = WaitState::Done;
                Poll::Ready(())
            }
            WaitState::Idle => {
                if this.event.is_set() {
                    this.state = WaitState::Done;
                    return Poll::Ready(());
                }
                let mut list = this.event.queue.lock();
                // Re-check under the lock: `set` stores the flag under it, so
                // either we see the flag or `set` sees us in the queue.
                // Relaxed: the lock orders this load after that store.
                if this.event.set.load(Ordering::Relaxed) {
                    this.state = WaitState::Done;
                    return Poll::Ready(());
                }
                // Relaxed: the lock orders it with `set`'s store.
                let epoch = this.event.epoch.load(Ordering::Relaxed);
                this.state = WaitState::Queued(list.push_back(cx.waker().clone()), epoch);
                Poll::Pending
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        if let WaitState::Queued(key, _) = self.state {
            self.event.queue.remove(key);
        }
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("event", self.event)
            .field("state", &self.state)
            .finish()
    }
}
