//! [`JoinSet`]: a group of spawned tasks, joined in the order they finish.
//!
//! # How `join_next` finds a finished task in O(1)
//!
//! Each task in the set has a slot (a slab index) and its own small waker,
//! which it gives to the task's `JoinHandle` when the set polls it. When the
//! task finishes, that waker pushes the slot onto the set's *ready list*
//! (once: a per-slot `queued` flag) and wakes the task that awaits
//! `join_next`. `join_next` pops slots from the ready list and polls only
//! their handles, so each call costs O(1) amortised, whatever the size of
//! the set. The set polls a new task's handle once when it inserts it, to
//! give it the slot's waker: tasks that finish before anyone looks are
//! still queued in the order they finished.

use crate::loom::{Arc, AtomicBool, Mutex, Ordering};
use crate::task::{AbortHandle, JoinError, JoinHandle};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll, Wake, Waker};

/// A collection of spawned tasks, awaited in the order they complete:
/// `tokio::task::JoinSet`, asyncio's `TaskGroup` / `as_completed`.
///
/// [`join_next`](Self::join_next) returns the output of the next task to
/// finish; [`join_all`](Self::join_all) waits for all of them and returns
/// their outputs in the order they were spawned. Dropping the set aborts
/// every task still in it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// runtime::block_on(async {
///     let mut set = runtime::JoinSet::new();
///     for ms in [30, 10, 20] {
///         set.spawn(async move {
///             runtime::sleep(Duration::from_millis(ms)).await;
///             ms
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(result) = set.join_next().await {
///         order.push(result.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]);
/// });
/// ```
pub struct JoinSet<T> {
    /// The slab of tasks; `None` marks a free slot (listed in `free`).
    slots: Vec<Option<Slot<T>>>,
    /// Free slot indices, reused before the slab grows.
    free: Vec<usize>,
    /// Tasks in the set (`Some` slots).
    len: usize,
    /// Spawn counter: gives each task its position for `join_all`.
    next_seq: u64,
    /// Shared with every slot's waker.
    ready: Arc<ReadyList>,
    /// Slots popped from `ready` but not yet polled: reused between calls
    /// to take the ready list's lock once per batch.
    batch: Vec<usize>,
}

struct Slot<T> {
    handle: JoinHandle<T>,
    /// The task's result, if the handle gave it already when inserted.
    output: Option<Result<T, JoinError>>,
    /// Position among the spawns, for `join_all`'s input order.
    seq: u64,
    /// This slot's waker, given to `handle` when polled.
    waker: Waker,
    /// The state `waker` wraps (to clear its `queued` flag). A `std` `Arc`,
    /// also under loom: `Waker::from` takes one.
    entry: std::sync::Arc<SlotWaker>,
}

/// The slots whose tasks were woken (finished), and the waker of the task
/// awaiting `join_next`.
struct ReadyList {
    inner: Mutex<ReadyInner>,
}

struct ReadyInner {
    slots: Vec<usize>,
    /// Taken by the first wake-up after `join_next` returned `Pending`.
    waiter: Option<Waker>,
}

/// The waker of one slot.
struct SlotWaker {
    index: usize,
    /// Set while `index` is on the ready list (or being polled), so that a
    /// task woken many times is queued once.
    queued: AtomicBool,
    ready: Arc<ReadyList>,
}

impl ReadyList {
    /// The next queued slot, oldest first, taken from `batch` or, when that
    /// is empty, from the list (all of it at once, under one lock). `None`
    /// if nothing is queued: `cx`'s waker is then registered, and the next
    /// `push` wakes it.
    fn pop(&self, batch: &mut Vec<usize>, cx: &Context<'_>) -> Option<usize> {
        if batch.is_empty() {
            let mut inner = self.inner.lock();
            if inner.slots.is_empty() {
                // Registered under the lock, so a push after this point
                // finds the waker.
                match &mut inner.waiter {
                    Some(waiter) if waiter.will_wake(cx.waker()) => {}
                    waiter => *waiter = Some(cx.waker().clone()),
                }
                return None;
            }
            std::mem::swap(&mut inner.slots, batch);
            // Oldest first: `batch` is consumed from its end.
            batch.reverse();
        }
        batch.pop()
    }

    fn push(&self, index: usize) {
        let waiter = {
            let mut inner = self.inner.lock();
            inner.slots.push(index);
            inner.waiter.take()
        };
        // Woken outside the lock: a waker is user code.
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }
}

impl Wake for SlotWaker {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // AcqRel: the swap that finds `false` queues the slot; `join_next`
        // clears the flag (Release) before it polls the handle, so a wake-up
        // during or after that poll queues it again and is never lost.
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.ready.push(self.index);
        }
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            next_seq: 0,
            ready: Arc::new(ReadyList {
                inner: Mutex::new(ReadyInner {
                    slots: Vec::new(),
                    waiter: None,
                }),
            }),
            batch: Vec::new(),
        }
    }

    /// The number of tasks in the set, finished or not, that
    /// [`join_next`](Self::join_next) has not returned yet.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Returns `true` if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Spawns `future` on the current runtime (as [`crate::spawn`]) and adds
    /// it to the set. The returned [`AbortHandle`] can cancel it.
    ///
    /// # Panics
    ///
    /// Panics if called outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.insert(crate::scheduler::context::spawn(future))
    }

    /// Spawns a `!Send` future on this thread's `block_on` (as
    /// [`crate::spawn_local`]) and adds it to the set.
    ///
    /// # Panics
    ///
    /// Panics if called outside `block_on`.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
        T: 'static,
    {
        self.insert(crate::scheduler::context::spawn_local(future))
    }

    fn insert(&mut self, handle: JoinHandle<T>) -> AbortHandle {
        let abort = handle.abort_handle();
        let index = self.free.pop().unwrap_or(self.slots.len());
        let entry = std::sync::Arc::new(SlotWaker {
            index,
            queued: AtomicBool::new(false),
            ready: Arc::clone(&self.ready),
        });
        let mut slot = Slot {
            handle,
            output: None,
            seq: self.next_seq,
            waker: Waker::from(std::sync::Arc::clone(&entry)),
            entry,
        };
        // Hand the slot's waker to the task now, so that tasks that finish
        // before anyone calls `join_next` are still queued in the order
        // they finished. (A worker may even have finished it already.)
        if let Poll::Ready(output) =
            Pin::new(&mut slot.handle).poll(&mut Context::from_waker(&slot.waker))
        {
            slot.output = Some(output);
            slot.waker.wake_by_ref();
        }
        self.next_seq += 1;
        if index == self.slots.len() {
            self.slots.push(Some(slot));
        } else {
            self.slots[index] = Some(slot);
        }
        self.len += 1;
        abort
    }

    /// Waits for the next task of the set to finish and returns its result,
    /// removing it from the set; `None` if the set is empty. Tasks come out
    /// in the order they finished.
    ///
    /// Cancel-safe: if the future is dropped before it completes, no task
    /// output is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// runtime::block_on(async {
    ///     let mut set = runtime::JoinSet::new();
    ///     set.spawn(async { 1 });
    ///     assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
    ///     assert!(set.join_next().await.is_none());
    /// });
    /// ```
    pub fn join_next(&mut self) -> impl Future<Output = Option<Result<T, JoinError>>> + '_ {
        poll_fn(|cx| {
            self.poll_join_next(cx)
                .map(|next| next.map(|(_, result)| result))
        })
    }

    /// Polls for the next finished task, with its spawn position.
    fn poll_join_next(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(u64, Result<T, JoinError>)>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        loop {
            let Some(index) = self.ready.pop(&mut self.batch, cx) else {
                return Poll::Pending;
            };
            // A slot freed and reused since it was queued just gets an extra
            // poll; a freed one is skipped.
            let Some(Some(slot)) = self.slots.get_mut(index) else {
                continue;
            };
            // Release: pairs with the AcqRel swap in `wake_by_ref`. The poll
            // below registers the slot's waker with an RMW on the task's
            // state, after this store: a completion after that RMW finds
            // `false` and queues the slot again.
            slot.entry.queued.store(false, Ordering::Release);
            let result = match slot.output.take() {
                Some(output) => Poll::Ready(output),
                None => Pin::new(&mut slot.handle).poll(&mut Context::from_waker(&slot.waker)),
            };
            if let Poll::Ready(result) = result {
                let slot = self.slots[index].take().expect("slot checked above");
                self.free.push(index);
                self.len -= 1;
                return Poll::Ready(Some((slot.seq, result)));
            }
        }
    }

    /// Waits for every task of the set and returns their outputs in the
    /// order the tasks were spawned.
    ///
    /// # Panics
    ///
    /// If a task panicked, its panic is resumed here, after the remaining
    /// tasks are aborted (dropping the set). A task that was cancelled (by
    /// its [`AbortHandle`]) panics too, as its output is missing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// runtime::block_on(async {
    ///     let mut set = runtime::JoinSet::new();
    ///     for ms in [30, 10, 20] {
    ///         set.spawn(async move {
    ///             runtime::sleep(Duration::from_millis(ms)).await;
    ///             ms
    ///         });
    ///     }
    ///     assert_eq!(set.join_all().await, [30, 10, 20]);
    /// });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut outputs = Vec::with_capacity(self.len);
        while let Some((seq, result)) = poll_fn(|cx| self.poll_join_next(cx)).await {
            match result {
                Ok(output) => outputs.push((seq, output)),
                Err(error) => {
                    // Abort the rest before unwinding.
                    drop(self);
                    if error.is_panic() {
                        std::panic::resume_unwind(error.into_panic());
                    }
                    panic!("a task of the JoinSet failed: {error}");
                }
            }
        }
        outputs.sort_unstable_by_key(|(seq, _)| *seq);
        outputs.into_iter().map(|(_, output)| output).collect()
    }

    /// Aborts every task in the set. They stay in it until
    /// [`join_next`](Self::join_next) returns them (most as cancelled
    /// `JoinError`s; a task that had already finished gives its output).
    pub fn abort_all(&mut self) {
        for slot in self.slots.iter().flatten() {
            slot.handle.abort();
        }
    }

    /// Aborts every task and waits until each has stopped: afterwards the
    /// set is empty and no future of it is left alive.
    ///
    /// # Examples
    ///
    /// ```
    /// runtime::block_on(async {
    ///     let mut set = runtime::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        // Aborts each task; the handles then drop (detaching cancelled
        // tasks, which their schedulers drop).
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len).finish()
    }
}

#[cfg(test)]
mod tests {
    //! Small runs for miri: the slot wakers, the ready list, `AbortHandle`
    //! reading the task header, and the `finished` flag.

    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn join_next_abort_handles_and_drop() {
        let drops = std::sync::Arc::new(AtomicUsize::new(0));
        struct Counted(std::sync::Arc<AtomicUsize>);
        impl Drop for Counted {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        crate::block_on(async {
            let mut set = JoinSet::new();
            let quick = set.spawn(async { 1 });
            let counted = Counted(std::sync::Arc::clone(&drops));
            let stuck = set.spawn(async move {
                let _counted = counted;
                std::future::pending::<u32>().await
            });
            set.spawn(async {
                crate::yield_now().await;
                2
            });
            assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
            assert!(quick.is_finished());
            assert_eq!(set.join_next().await.unwrap().unwrap(), 2);
            assert!(!stuck.is_finished());
            let clone = stuck.clone();
            clone.abort();
            assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
            assert!(stuck.is_finished());
            assert!(set.join_next().await.is_none());

            let counted = Counted(std::sync::Arc::clone(&drops));
            set.spawn(async move {
                let _counted = counted;
                std::future::pending::<u32>().await
            });
            crate::yield_now().await;
            drop(set);
            crate::yield_now().await;
        });
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! The ready list's race: a task finishing on another thread (its
    //! completion wakes the slot's waker) against `join_next` polling the
    //! slot and then registering itself when the list is empty. The task's
    //! state is modelled as the task cell keeps it (`task/state.rs`): one
    //! atomic word on which the awaiter's registration and the completion
    //! are RMWs.

    use super::*;
    use crate::loom::{thread, AtomicUsize};

    const REGISTERED: usize = 1;
    const DONE: usize = 2;

    /// The `join_next` task's waker: records that it was woken.
    struct Flag(AtomicBool);

    impl Wake for Flag {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.store(true, Ordering::Release);
        }
    }

    #[test]
    fn a_completion_racing_join_next_is_never_lost() {
        // Also from a slot already queued by an earlier (spurious) wake-up:
        // `join_next` then polls a task that has not finished yet.
        for initially_queued in [false, true] {
            model(initially_queued);
        }
    }

    fn model(initially_queued: bool) {
        loom::model(move || {
            let ready = Arc::new(ReadyList {
                inner: Mutex::new(ReadyInner {
                    slots: Vec::new(),
                    waiter: None,
                }),
            });
            let entry = std::sync::Arc::new(SlotWaker {
                index: 0,
                queued: AtomicBool::new(initially_queued),
                ready: Arc::clone(&ready),
            });
            if initially_queued {
                ready.inner.lock().slots.push(0);
            }
            let slot_waker = Waker::from(std::sync::Arc::clone(&entry));
            let task_state = Arc::new(AtomicUsize::new(0));

            // As `insert`: the first poll of the handle registers the
            // slot's waker (the task has not finished).
            assert_eq!(task_state.fetch_or(REGISTERED, Ordering::AcqRel), 0);

            let completing = {
                let task_state = Arc::clone(&task_state);
                let slot_waker = slot_waker.clone();
                thread::spawn(move || {
                    if task_state.fetch_or(DONE, Ordering::AcqRel) & REGISTERED != 0 {
                        slot_waker.wake_by_ref();
                    }
                })
            };

            // `join_next`'s poll: `Some(true)` if it found the finished
            // slot, `None` if it returned `Pending`.
            let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
            let waker = Waker::from(std::sync::Arc::clone(&flag));
            let cx = Context::from_waker(&waker);
            let mut batch = Vec::new();
            let mut poll = || loop {
                let index = ready.pop(&mut batch, &cx)?;
                assert_eq!(index, 0);
                entry.queued.store(false, Ordering::Release);
                // The handle's poll: registers again, or sees done.
                if task_state.fetch_or(REGISTERED, Ordering::AcqRel) & DONE != 0 {
                    return Some(true);
                }
            };
            if poll().is_none() {
                // Pending: once the task has finished, `join_next` must
                // have been woken, and its next poll finds the slot.
                completing.join().unwrap();
                assert!(flag.0.load(Ordering::Acquire), "lost wake-up");
                assert_eq!(poll(), Some(true));
                return;
            }
            completing.join().unwrap();
        });
    }
}
