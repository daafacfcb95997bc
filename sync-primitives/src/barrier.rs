//! [`Barrier`]: asyncio's `Barrier` (Python 3.11), cancel-safe.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::wait_queue::{Key, WaitQueue};

/// A meeting point for a fixed number of tasks, like `asyncio.Barrier` or
/// `tokio::sync::Barrier`.
///
/// [`wait`](Barrier::wait) parks the task until `parties` tasks are
/// waiting; then the barrier *trips*: every one of them completes with `Ok`
/// and a distinct [`index`](BarrierWaitResult::index) in `0..parties`, in
/// order of arrival, and the last to arrive is the
/// [leader](BarrierWaitResult::is_leader). The barrier then starts over
/// for the next `parties` tasks (it is cyclic).
///
/// Dropping a [`Wait`] before the barrier trips withdraws the task:
/// [`n_waiting`](Barrier::n_waiting) drops by one and the tasks that
/// arrived after it move up one place, so the indices handed out at the
/// trip are still `0..parties` in order of arrival. Unlike tokio's, a
/// cancelled wait never counts towards a trip.
///
/// [`abort`](Barrier::abort) breaks the barrier: pending and later waits
/// return [`Err(BrokenBarrier)`](BrokenBarrier) until
/// [`reset`](Barrier::reset). `reset` empties the barrier (the tasks
/// waiting then get `Err(BrokenBarrier)`, as in asyncio) and makes it
/// usable again.
///
/// asyncio's barrier also *drains*: tasks arriving while the tasks of a
/// trip are still resuming wait until they all have. Here a trip hands
/// each task its result at once, so the next round starts right away and
/// there is nothing to drain.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use sync_primitives::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let rt = runtime::Runtime::new();
/// let tasks: Vec<_> = (0..3)
///     .map(|_| {
///         let barrier = barrier.clone();
///         rt.spawn(async move { barrier.wait().await.unwrap() })
///     })
///     .collect();
/// rt.block_on(async {
///     let mut leaders = 0;
///     let mut indices = Vec::new();
///     for task in tasks {
///         let result = task.await.unwrap();
///         leaders += usize::from(result.is_leader());
///         indices.push(result.index());
///     }
///     indices.sort();
///     assert_eq!((leaders, indices), (1, vec![0, 1, 2]));
/// });
/// ```
pub struct Barrier {
    parties: usize,
    /// The barrier's bookkeeping. Lock order: this lock, then the queue's.
    state: Mutex<State>,
    /// The tasks waiting for the trip, oldest first.
    queue: WaitQueue,
}

/// What the barrier's lock guards.
#[derive(Debug)]
struct State {
    /// Set by `abort`, cleared by `reset`.
    broken: bool,
    /// The slots of the tasks waiting for the next trip, in order of
    /// arrival: a task's place here is its index if the barrier trips now.
    arrived: Vec<usize>,
    /// One slot per `Wait` future that has arrived and not yet finished:
    /// where the trip (or a break) leaves its outcome, since that future
    /// may be polled long after the barrier has moved on. Freed slots are
    /// reused, so this grows only to the peak number of such futures.
    slots: Vec<Slot>,
    /// Free slots.
    free: Vec<usize>,
}

/// A `Wait`'s outcome, as far as the barrier knows.
#[derive(Clone, Copy, Debug)]
enum Slot {
    /// Not in use.
    Free,
    /// Waiting for the trip (listed in `arrived`).
    Waiting,
    /// Tripped, or broken: the future's output.
    Done(Result<BarrierWaitResult, BrokenBarrier>),
}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio raises `ValueError`).
    #[must_use]
    pub fn new(parties: usize) -> Barrier {
        assert!(parties > 0, "a barrier needs at least one party");
        Barrier {
            parties,
            state: Mutex::new(State {
                broken: false,
                arrived: Vec::new(),
                slots: Vec::new(),
                free: Vec::new(),
            }),
            queue: WaitQueue::new(),
        }
    }

    /// Waits until `parties` tasks are waiting, then completes with this
    /// task's place in the trip; `Err(BrokenBarrier)` if the barrier is or
    /// becomes broken (or is reset) first.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// runtime::block_on(async {
    ///     let (a, b) = runtime::gather!(barrier.wait(), barrier.wait());
    ///     let (a, b) = (a.unwrap(), b.unwrap());
    ///     assert_eq!((a.index(), b.index()), (0, 1));
    ///     assert!(!a.is_leader() && b.is_leader());
    /// });
    /// ```
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            barrier: self,
            state: WaitState::Idle,
        }
    }

    /// How many tasks must wait for the barrier to trip.
    #[must_use]
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// How many tasks are waiting for the next trip.
    #[must_use]
    pub fn n_waiting(&self) -> usize {
        self.state.lock().arrived.len()
    }

    /// Whether the barrier is broken (by [`abort`](Barrier::abort)).
    #[must_use]
    pub fn is_broken(&self) -> bool {
        self.state.lock().broken
    }

    /// Breaks the barrier: every pending wait, and every later one until
    /// [`reset`](Barrier::reset), completes with `Err(BrokenBarrier)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::Barrier;
    ///
    /// let barrier = Barrier::new(2);
    /// barrier.abort();
    /// assert!(barrier.is_broken());
    /// assert!(runtime::block_on(barrier.wait()).is_err());
    /// barrier.reset();
    /// assert!(!barrier.is_broken());
    /// ```
    pub fn abort(&self) {
        self.release_all(true);
    }

    /// Empties the barrier and makes it usable again: the tasks waiting now
    /// complete with `Err(BrokenBarrier)` (as in asyncio), and a broken
    /// barrier is mended.
    pub fn reset(&self) {
        self.release_all(false);
    }

    /// Fails every waiting task, and leaves the barrier `broken` or not.
    fn release_all(&self, broken: bool) {
        let mut state = self.state.lock();
        state.broken = broken;
        let State { arrived, slots, .. } = &mut *state;
        for slot in arrived.drain(..) {
            slots[slot] = Slot::Done(Err(BrokenBarrier));
        }
        // Take the queue's lock before releasing ours: `wake_all` wakes only
        // tasks queued before it, and nobody can queue without our lock, so
        // it wakes exactly the tasks just failed.
        let list = self.queue.lock();
        drop(state);
        self.queue.wake_all(list);
    }
}

impl State {
    /// Takes a free slot holding `slot`.
    fn claim(&mut self, slot: Slot) -> usize {
        match self.free.pop() {
            Some(index) => {
                self.slots[index] = slot;
                index
            }
            None => {
                self.slots.push(slot);
                self.slots.len() - 1
            }
        }
    }

    /// Frees `slot`, returning what it held.
    fn release(&mut self, slot: usize) -> Slot {
        self.free.push(slot);
        std::mem::replace(&mut self.slots[slot], Slot::Free)
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.arrived.len())
            .field("broken", &state.broken)
            .finish()
    }
}

/// What a task gets when the barrier trips: its place in the trip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BarrierWaitResult {
    index: usize,
    leader: bool,
}

impl BarrierWaitResult {
    /// The task's place in order of arrival among the `parties` tasks of
    /// this trip: `0..parties`, distinct (asyncio's `wait()` return value).
    #[must_use]
    pub fn index(&self) -> usize {
        self.index
    }

    /// Whether this task is the trip's leader: the last to arrive, exactly
    /// one per trip (tokio's `is_leader`).
    #[must_use]
    pub fn is_leader(&self) -> bool {
        self.leader
    }
}

/// The error of a wait on a broken (aborted) or reset [`Barrier`], like
/// asyncio's `BrokenBarrierError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BrokenBarrier;

impl fmt::Display for BrokenBarrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the barrier is broken")
    }
}

impl Error for BrokenBarrier {}

/// The future returned by [`Barrier::wait`].
///
/// Dropping it before the barrier trips withdraws the task from the
/// barrier (cancel-safe).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a> {
    barrier: &'a Barrier,
    state: WaitState,
}

/// Where a [`Wait`] is.
#[derive(Clone, Copy, Debug)]
enum WaitState {
    /// Not arrived: never polled. Dropping needs nothing.
    Idle,
    /// Arrived, owning `slot`, queued under `key` (woken once the key is
    /// stale). Dropping withdraws it if the slot is still waiting, frees
    /// the slot and unlinks the key.
    Arrived { slot: usize, key: Key },
    /// Completed. Dropping needs nothing.
    Done,
}

impl Future for Wait<'_> {
    type Output = Result<BarrierWaitResult, BrokenBarrier>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let barrier = this.barrier;
        match this.state {
            WaitState::Done => panic!("`barrier::Wait` polled after it completed"),
            WaitState::Arrived { slot, key } => {
                let mut state = barrier.state.lock();
                if let Slot::Done(result) = state.slots[slot] {
                    state.release(slot);
                    drop(state);
                    this.state = WaitState::Done;
                    return Poll::Ready(result);
                }
                // Still waiting: keep only the newest waker. The key is
                // still queued: the trip fills the slot before it wakes.
                let mut list = barrier.queue.lock();
                let queued = list.update_waker(key, cx.waker());
                debug_assert!(queued, "woken before the slot was filled");
                // The replaced waker is dropped with no lock held.
                list.unlock_after(state);
                Poll::Pending
            }
            WaitState::Idle => {
                let mut state = barrier.state.lock();
                if state.broken {
                    this.state = WaitState::Done;
                    return Poll::Ready(Err(BrokenBarrier));
                }
                let index = state.arrived.len();
                if index + 1 < barrier.parties {
                    let slot = state.claim(Slot::Waiting);
                    state.arrived.push(slot);
                    let key = barrier.queue.lock().push_back(cx.waker().clone());
                    this.state = WaitState::Arrived { slot, key };
                    return Poll::Pending;
                }
                // The last to arrive: trip. Everyone waiting gets their
                // place in order of arrival; we lead.
                let State { arrived, slots, .. } = &mut *state;
                for (index, slot) in arrived.drain(..).enumerate() {
                    slots[slot] = Slot::Done(Ok(BarrierWaitResult {
                        index,
                        leader: false,
                    }));
                }
                // As in `release_all`: wake exactly the tasks of this trip.
                let list = barrier.queue.lock();
                drop(state);
                barrier.queue.wake_all(list);
                this.state = WaitState::Done;
                Poll::Ready(Ok(BarrierWaitResult {
                    index,
                    leader: true,
                }))
            }
        }
    }
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let WaitState::Arrived { slot, key } = self.state else {
            return;
        };
        let mut state = self.barrier.state.lock();
        if let Slot::Waiting = state.release(slot) {
            // Withdraw: the tasks that arrived after us move up one place.
            let place = state
                .arrived
                .iter()
                .position(|&s| s == slot)
                .expect("a waiting slot is listed in `arrived`");
            state.arrived.remove(place);
        }
        // Unlink the key, or nothing if we were already woken (a trip or
        // break that filled our slot). The freed waker is dropped with no
        // lock held.
        let mut list = self.barrier.queue.lock();
        list.remove(key);
        list.unlock_after(state);
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("barrier", self.barrier)
            .field("state", &self.state)
            .finish()
    }
}
