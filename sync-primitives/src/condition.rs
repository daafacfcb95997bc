//! [`Condition`]: asyncio's `Condition`, used with this crate's [`Mutex`].

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::loom_const_fn;
use crate::mutex::{Lock, Mutex, MutexGuard};
use crate::wait_queue::{Key, WaitQueue};

/// A condition variable for async code, like `asyncio.Condition`: tasks
/// holding a [`Mutex`] wait for a notification, releasing the mutex while
/// they wait and taking it again before they resume.
///
/// [`wait`](Condition::wait) registers the task *before* it releases the
/// mutex, so a notification sent after the release is never missed. Once
/// notified, the task takes the mutex again, in the mutex's FIFO line, and
/// gets its guard back. [`notify(n)`](Condition::notify) wakes up to `n`
/// of the tasks waiting at that moment, oldest first; a notification with
/// nobody waiting is not remembered (as in asyncio, unlike
/// `tokio::sync::Notify`, which stores one permit). Notifying does not need
/// the mutex (asyncio requires it; here it is up to the caller, but the
/// usual pattern changes the shared state under the mutex, then notifies).
///
/// Waiting tasks are parked, not polled: each is polled once to register
/// and once more when notified (plus once per hand-off if the mutex is
/// held when it wakes).
///
/// Dropping a [`Wait`] that was notified but had not finished passes the
/// notification on to the next waiting task, so a cancelled task never
/// swallows one. As in asyncio, a condition is not tied to one mutex: it
/// is up to the caller to use it with the mutex guarding the state its
/// predicate reads.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sync_primitives::{Condition, Mutex};
///
/// let state = Arc::new((Mutex::new(Vec::new()), Condition::new()));
/// let rt = runtime::Runtime::new();
/// let consumer = rt.spawn({
///     let state = state.clone();
///     async move {
///         let (items, ready) = &*state;
///         let mut items = ready
///             .wait_for(items.lock().await, |items| !items.is_empty())
///             .await;
///         items.pop()
///     }
/// });
/// rt.block_on(async {
///     let (items, ready) = &*state;
///     items.lock().await.push("job");
///     ready.notify_one();
///     assert_eq!(consumer.await.unwrap(), Some("job"));
/// });
/// ```
pub struct Condition {
    /// The waiting tasks, oldest first; a task's slot is freed (its key
    /// goes stale) exactly when it is notified.
    queue: WaitQueue,
}

impl Condition {
    loom_const_fn! {
        /// A new condition with nobody waiting.
        #[must_use]
        pub fn new() -> Condition {
            Condition {
                queue: WaitQueue::new(),
            }
        }
    }

    /// Releases the mutex behind `guard`, waits until notified, then locks
    /// the mutex again and returns its new guard.
    ///
    /// The task is registered before the mutex is released (on the first
    /// poll), so a notification that follows the release always reaches
    /// it. As in asyncio, a wake-up does not promise that the state the
    /// task waits for holds: re-check it, or use
    /// [`wait_for`](Condition::wait_for).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use sync_primitives::{Condition, Mutex};
    ///
    /// let state = Arc::new((Mutex::new(false), Condition::new()));
    /// let rt = runtime::Runtime::new();
    /// let waiter = rt.spawn({
    ///     let state = state.clone();
    ///     async move {
    ///         let (done, cond) = &*state;
    ///         let mut guard = done.lock().await;
    ///         while !*guard {
    ///             guard = cond.wait(guard).await;
    ///         }
    ///     }
    /// });
    /// rt.block_on(async {
    ///     let (done, cond) = &*state;
    ///     *done.lock().await = true;
    ///     cond.notify_all();
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub fn wait<'a, T: ?Sized>(&'a self, guard: MutexGuard<'a, T>) -> Wait<'a, T> {
        Wait {
            condition: self,
            step: Step::Start(guard),
        }
    }

    /// Waits until `predicate` returns `true`, and returns the guard under
    /// which it did.
    ///
    /// The predicate is called with the mutex held: first before any
    /// waiting (if it is already true, this completes without waiting),
    /// then after each notification, once the mutex has been taken again
    /// (asyncio's `wait_for`).
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::{Condition, Mutex};
    ///
    /// let count = Mutex::new(3);
    /// let cond = Condition::new();
    /// runtime::block_on(async {
    ///     // Already true: no wait.
    ///     let guard = cond.wait_for(count.lock().await, |n| *n >= 3).await;
    ///     assert_eq!(*guard, 3);
    /// });
    /// ```
    pub fn wait_for<'a, T: ?Sized, P: FnMut(&mut T) -> bool>(
        &'a self,
        guard: MutexGuard<'a, T>,
        predicate: P,
    ) -> WaitFor<'a, T, P> {
        WaitFor {
            condition: self,
            step: Step::Start(guard),
            checked: false,
            predicate,
        }
    }

    /// Wakes the oldest waiting task, if any.
    pub fn notify_one(&self) {
        // The queue's guard is a temporary: released before the wake.
        let next = self.queue.lock().pop_front();
        if let Some(waker) = next {
            waker.wake();
        }
    }

    /// Wakes up to `n` of the tasks waiting now, oldest first (not those
    /// that start waiting while it runs).
    pub fn notify(&self, n: usize) {
        self.queue.wake_n(self.queue.lock(), n);
    }

    /// Wakes every task waiting now, oldest first (not those that start
    /// waiting while it runs).
    pub fn notify_all(&self) {
        self.queue.wake_all(self.queue.lock());
    }
}

impl Default for Condition {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").finish_non_exhaustive()
    }
}

/// Where a [`Wait`] or [`WaitFor`] is.
enum Step<'a, T: ?Sized> {
    /// Holding the mutex, not registered. Dropping releases the mutex.
    Start(MutexGuard<'a, T>),
    /// Registered under `key`, mutex released; notified once the key is
    /// stale. Dropping unlinks it, or passes on the notification.
    Waiting { mutex: &'a Mutex<T>, key: Key },
    /// Notified, taking the mutex again. Dropping leaves the mutex's line
    /// (`Lock` passes on a hand-off) and passes on the notification.
    Locking(Lock<'a, T>),
    /// Completed. Dropping needs nothing.
    Done,
}

impl<'a, T: ?Sized> Step<'a, T> {
    /// Drives the wait: register and release, wait for the notification,
    /// take the mutex again.
    fn poll(&mut self, condition: &Condition, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        loop {
            match mem::replace(self, Step::Done) {
                Step::Start(guard) => {
                    // Register first, then release: a notify that follows
                    // the release finds us queued.
                    let key = condition.queue.lock().push_back(cx.waker().clone());
                    *self = Step::Waiting {
                        mutex: MutexGuard::mutex(&guard),
                        key,
                    };
                    // Outside the queue's lock: unlocking may wake a task.
                    drop(guard);
                    return Poll::Pending;
                }
                Step::Waiting { mutex, key } => {
                    if condition.queue.lock().update_waker(key, cx.waker()) {
                        *self = Step::Waiting { mutex, key };
                        return Poll::Pending;
                    }
                    // Our slot was freed: notified.
                    *self = Step::Locking(mutex.lock());
                }
                Step::Locking(mut lock) => match Pin::new(&mut lock).poll(cx) {
                    Poll::Ready(guard) => return Poll::Ready(guard),
                    Poll::Pending => {
                        *self = Step::Locking(lock);
                        return Poll::Pending;
                    }
                },
                Step::Done => panic!("a condition's wait polled after it completed"),
            }
        }
    }

    /// Called on drop: leaves the queue, or passes on a notification that
    /// was not used up.
    fn abandon(&mut self, condition: &Condition) {
        match mem::replace(self, Step::Done) {
            Step::Waiting { key, .. } => {
                if !condition.queue.remove(key) {
                    condition.notify_one();
                }
            }
            Step::Locking(lock) => {
                drop(lock);
                condition.notify_one();
            }
            Step::Start(guard) => drop(guard),
            Step::Done => {}
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Step::Start(_) => "Start",
            Step::Waiting { .. } => "Waiting",
            Step::Locking(_) => "Locking",
            Step::Done => "Done",
        }
    }
}

/// The future returned by [`Condition::wait`]; its output is the mutex's
/// guard, taken again after the notification.
///
/// Dropping it before it completes releases whatever it holds: the guard
/// (if never polled), its place in the queue, or its place in the mutex's
/// line; a notification it had received goes to the next waiting task.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a, T: ?Sized> {
    condition: &'a Condition,
    step: Step<'a, T>,
}

impl<'a, T: ?Sized> Future for Wait<'a, T> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        this.step.poll(this.condition, cx)
    }
}

impl<T: ?Sized> Drop for Wait<'_, T> {
    fn drop(&mut self) {
        self.step.abandon(self.condition);
    }
}

impl<T: ?Sized> fmt::Debug for Wait<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("step", &self.step.name())
            .finish_non_exhaustive()
    }
}

/// The future returned by [`Condition::wait_for`]; its output is the
/// mutex's guard, under which the predicate returned `true`.
///
/// Dropping it releases what it holds, as for [`Wait`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct WaitFor<'a, T: ?Sized, P> {
    condition: &'a Condition,
    step: Step<'a, T>,
    /// Whether the predicate was already checked under the guard held in
    /// `Step::Start` (so the next poll waits).
    checked: bool,
    predicate: P,
}

// The predicate is never pinned: it is only called through `&mut`.
impl<T: ?Sized, P> Unpin for WaitFor<'_, T, P> {}

impl<'a, T: ?Sized, P: FnMut(&mut T) -> bool> Future for WaitFor<'a, T, P> {
    type Output = MutexGuard<'a, T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        loop {
            if let Step::Start(guard) = &mut this.step {
                if !this.checked {
                    if (this.predicate)(&mut **guard) {
                        let Step::Start(guard) = mem::replace(&mut this.step, Step::Done) else {
                            unreachable!("matched above");
                        };
                        return Poll::Ready(guard);
                    }
                    this.checked = true;
                }
            }
            match this.step.poll(this.condition, cx) {
                Poll::Ready(guard) => {
                    // Re-check under the lock we just took again.
                    this.step = Step::Start(guard);
                    this.checked = false;
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<T: ?Sized, P> Drop for WaitFor<'_, T, P> {
    fn drop(&mut self) {
        self.step.abandon(self.condition);
    }
}

impl<T: ?Sized, P> fmt::Debug for WaitFor<'_, T, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("step", &self.step.name())
            .finish_non_exhaustive()
    }
}
