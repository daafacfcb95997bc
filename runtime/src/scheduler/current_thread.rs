//! The current-thread scheduler: every task runs on the thread that calls
//! `block_on`, in FIFO order, as in asyncio's event loop.
//!
//! # Queues
//!
//! * The **run queue** is a plain `VecDeque` in a thread-local ([`LOCAL`]),
//!   owned by the thread inside `block_on`. Waking or spawning a task from
//!   that thread pushes onto it with no atomic operation and no lock.
//! * The **injector** takes tasks woken or spawned from any other thread
//!   (and tasks spawned with `Runtime::spawn` before `block_on`): a
//!   lock-free queue, followed by an `unpark` of the `block_on` thread. It is
//!   emptied into the run queue at the start of every round.
//!
//! The future given to `block_on` is scheduled like a task: its waker pushes
//! an [`Entry::Main`] marker, so a `yield_now` in it lets every queued task
//! run once before it resumes.
//!
//! The loop runs in rounds, like asyncio's `_run_once`: expired timers and
//! the injector are looked at once per round, then exactly the entries
//! queued at that point run (see `Shared::run`).
//!
//! # Parking and timers
//!
//! With nothing to run, the thread parks on the runtime's [`Parker`] with a
//! time-out at the next timer deadline, and fires the expired timers (in
//! deadline order) when it wakes. Remote wake-ups unpark it.

use crate::context;
use crate::io::Driver;
use crate::park::Parker;
use crate::scheduler::Handle;
use crate::task::{self, JoinHandle, Runnable};
use crate::time::Timer;
use crossbeam_deque::{Injector, Steal};
use parking_lot::Mutex;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;

/// What a run queue holds.
enum Entry {
    /// A task to poll (or drop, if it was aborted).
    Task(Runnable),
    /// The future passed to `block_on` was woken: poll it, if it is the
    /// one of the `block_on` with this generation (a waker kept from an
    /// earlier `block_on` may still queue one).
    Main(u64),
}

/// The state of a current-thread runtime shared by its handles, its tasks'
/// schedule functions and whichever thread runs `block_on`.
pub(crate) struct Shared {
    /// Tasks scheduled from other threads, or while no `block_on` runs.
    injector: Injector<Entry>,
    /// Where the `block_on` thread sleeps when idle.
    parker: Parker,
    timer: Timer,
    /// A thread is inside `block_on` and owns the run queue.
    running: AtomicBool,
    /// Threads in `block_on` waiting for the run queue's owner to leave
    /// (see `block_on_without_tasks`); unparked when it does.
    waiting_for_core: Mutex<Vec<Thread>>,
    /// The runtime was dropped: tasks scheduled from now on are dropped.
    closed: AtomicBool,
    /// Aborts not yet handled by the scheduler (see `note_abort`).
    aborts: AtomicUsize,
    /// Numbers each `block_on` run, to tell its main future's wake-ups
    /// from those of an earlier one.
    main_generation: AtomicU64,
}

/// The run queue of the `block_on` running on this thread, if any.
struct Local {
    /// The runtime whose `block_on` runs on this thread (null: none). Only
    /// compared, never dereferenced.
    owner: Cell<*const Shared>,
    queue: RefCell<VecDeque<Entry>>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            owner: Cell::new(ptr::null()),
            queue: RefCell::new(VecDeque::new()),
        }
    };
}

impl Shared {
    pub(crate) fn new() -> Shared {
        Shared::with_parker(Parker::new())
    }

    /// A scheduler whose thread parks on `parker` (a current-thread runtime
    /// gives it the runtime's I/O reactor to wait in).
    pub(crate) fn with_parker(parker: Parker) -> Shared {
        Shared {
            injector: Injector::new(),
            parker,
            timer: Timer::new(),
            running: AtomicBool::new(false),
            waiting_for_core: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
            aborts: AtomicUsize::new(0),
            main_generation: AtomicU64::new(0),
        }
    }

    pub(crate) fn timer(&self) -> &Timer {
        &self.timer
    }

    /// The I/O reactor its thread waits in (`None` for the `block_on`
    /// scheduler of a multi-thread runtime, whose workers wait in theirs).
    pub(crate) fn driver(&self) -> Option<&Arc<Driver>> {
        self.parker.driver()
    }

    pub(crate) fn timer_changed(&self) {
        // The `block_on` thread re-reads the next deadline before parking;
        // if it is parked already, wake it so that it does.
        if !self.is_owned_by_current_thread() {
            self.parker.unpark();
        }
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        // Acquire: pairs with the SeqCst store in `shutdown`.
        self.closed.load(Ordering::Acquire)
    }

    fn is_owned_by_current_thread(&self) -> bool {
        LOCAL
            .try_with(|local| ptr::eq(local.owner.get(), self))
            .unwrap_or(false)
    }

    pub(crate) fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (runnable, handle) = task::spawn(future, Handle::CurrentThread(Arc::clone(self)));
        self.schedule(Entry::Task(runnable));
        handle
    }

    pub(crate) fn spawn_local<F>(self: Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (runnable, handle) =
            task::spawn_local(future, Handle::CurrentThread(Arc::clone(&self)));
        self.schedule(Entry::Task(runnable));
        handle
    }

    /// Queues `entry`: on the run queue when called from the `block_on`
    /// thread, else on the injector, waking the `block_on` thread.
    fn schedule(&self, entry: Entry) {
        if let Some(entry) = push_local(self, entry) {
            self.schedule_remote(entry);
        }
    }

    /// Runs every task queued in the injector once (unit tests drive task
    /// cells with it, without a `block_on` loop).
    #[cfg(test)]
    pub(crate) fn run_queued_for_test(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(Entry::Task(runnable)) => task::run(runnable),
                Steal::Success(Entry::Main(_)) | Steal::Retry => {}
                Steal::Empty => return,
            }
        }
    }

    #[cold]
    fn schedule_remote(&self, entry: Entry) {
        if self.is_shut_down() {
            release(entry);
            return;
        }
        self.injector.push(entry);
        // SeqCst: either `shutdown`'s drain (after its SeqCst store of
        // `closed`) sees our push, or we see `closed` here and drain it.
        if self.closed.load(Ordering::SeqCst) {
            self.drain_injector();
        }
        self.parker.unpark();
    }

    /// Moves everything from the injector to this thread's run queue.
    /// Returns whether anything was moved.
    fn pull_injector(&self, queue: &RefCell<VecDeque<Entry>>) -> bool {
        if self.injector.is_empty() {
            return false;
        }
        let mut queue = queue.borrow_mut();
        let mut moved = false;
        loop {
            match self.injector.steal() {
                Steal::Success(entry) => {
                    queue.push_back(entry);
                    moved = true;
                }
                Steal::Empty => return moved,
                Steal::Retry => {}
            }
        }
    }

    /// Drops every task in the injector.
    fn drain_injector(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(entry) => release(entry),
                Steal::Empty => return,
                Steal::Retry => {}
            }
        }
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks meanwhile. `handle` is what `spawn` and `sleep` use in it (this
    /// runtime, or the multi-thread runtime this scheduler serves as the
    /// `block_on` thread's local scheduler).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(self: &Arc<Self>, handle: Handle, future: F) -> F::Output {
        let _enter = context::enter(handle, Some(Arc::clone(self)));
        let mut future = pin!(future);
        loop {
            // Acquire: pairs with the Release store in `OwnerGuard::drop`;
            // the previous owner's spilled run queue is then visible.
            if self
                .running
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                return self.run(future.as_mut());
            }
            // Another thread is inside `block_on` of this runtime and runs
            // its tasks: only drive our own future, and look again now and
            // then whether we can take over.
            if let Some(output) = self.block_on_without_tasks(future.as_mut()) {
                return output;
            }
        }
    }

    /// Polls `future` while another thread owns the run queue. Returns
    /// `None` when that thread has left `block_on` (it unparks us).
    fn block_on_without_tasks<F: Future>(&self, mut future: Pin<&mut F>) -> Option<F::Output> {
        let thread = std::thread::current();
        let waker = Waker::from(Arc::new(ThreadWaker(thread.clone())));
        let mut cx = Context::from_waker(&waker);
        self.waiting_for_core.lock().push(thread);
        let output = loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                break Some(output);
            }
            // SeqCst: pairs with the owner's SeqCst store of `false` before
            // it drains `waiting_for_core`: either it sees us registered (and
            // unparks us) or we see it gone here.
            if !self.running.load(Ordering::SeqCst) {
                break None;
            }
            // Spurious returns are fine: we poll and check again.
            std::thread::park();
        };
        let me = std::thread::current().id();
        self.waiting_for_core.lock().retain(|t| t.id() != me);
        output
    }

    /// The scheduler loop of the thread that owns the run queue.
    ///
    /// It runs in rounds, as asyncio's `_run_once` does: a round first moves
    /// what became ready meanwhile (expired timers, tasks woken from other
    /// threads) to the back of the run queue, then runs exactly the entries
    /// queued at that point. So a task that yields resumes only after every
    /// task that was ready, wherever its wake-up came from, has run once.
    fn run<F: Future>(self: &Arc<Self>, mut future: Pin<&mut F>) -> F::Output {
        let _owner = OwnerGuard::new(self);
        // Relaxed: a unique number, nothing else.
        let generation = self.main_generation.fetch_add(1, Ordering::Relaxed);
        let main = Arc::new(MainWaker {
            shared: Arc::clone(self),
            queued: AtomicBool::new(true),
            generation,
        });
        let waker = Waker::from(Arc::clone(&main));
        let mut cx = Context::from_waker(&waker);
        LOCAL.with(|local| {
            // Tasks spawned before `block_on` (or left by a previous one) run
            // first, then the main future: FIFO, as in asyncio.
            self.pull_injector(&local.queue);
            local.queue.borrow_mut().push_back(Entry::Main(generation));
            let mut left_in_round = local.queue.borrow().len();
            loop {
                if left_in_round == 0 {
                    self.queue_ready(&local.queue);
                    left_in_round = local.queue.borrow().len();
                    if left_in_round == 0 {
                        self.parker.park(self.timer.next_deadline());
                        continue;
                    }
                }
                // Relaxed: a hint; `cancel_aborted` synchronises.
                if self.aborts.load(Ordering::Relaxed) != 0 {
                    self.cancel_aborted(&local.queue);
                }
                left_in_round -= 1;
                let entry = local.queue.borrow_mut().pop_front();
                match entry {
                    Some(Entry::Task(runnable)) => task::run(runnable),
                    Some(Entry::Main(queued_by)) if queued_by == generation => {
                        // SeqCst (Release would do): a wake-up during the poll
                        // below must queue the main future again.
                        main.queued.store(false, Ordering::SeqCst);
                        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                            return output;
                        }
                    }
                    // Queued by the waker of an earlier `block_on`'s future.
                    Some(Entry::Main(_)) => {}
                    // Aborted tasks were taken out of this round.
                    None => left_in_round = 0,
                }
            }
        })
    }

    /// Queues, behind the tasks already in the run queue, those whose timers
    /// expired and those woken from other threads, if this thread runs this
    /// scheduler (called before a task yields).
    pub(crate) fn collect_ready(&self) {
        if !self.is_owned_by_current_thread() {
            return;
        }
        let _ = LOCAL.try_with(|local| self.queue_ready(&local.queue));
    }

    /// Queues, at the back of `queue`, the tasks whose timers expired and
    /// those woken from other threads.
    fn queue_ready(&self, queue: &RefCell<VecDeque<Entry>>) {
        self.timer.fire();
        // I/O events ready now, without waiting (asyncio's `select(0)` in
        // `_run_once`), so that a run queue that never empties does not
        // starve sockets. Not when the queue is empty (the thread is about to
        // park, which waits in the poller anyway), nor right after a park
        // that did.
        if let Some(driver) = self.parker.driver() {
            if !self.parker.take_polled() && !queue.borrow().is_empty() {
                driver.poll_ready_now();
            }
        }
        self.pull_injector(queue);
    }

    /// Notes that a task of this runtime was aborted (after its abort flag
    /// was set and it was woken), so that the scheduler drops it before it
    /// picks any other task.
    pub(crate) fn note_abort(&self) {
        // Release: pairs with the Acquire swap in `cancel_aborted`, which
        // then finds the woken task in the injector or the run queue.
        self.aborts.fetch_add(1, Ordering::Release);
    }

    /// Drops the futures of the aborted tasks that are queued (locally or
    /// in the injector), before anything else runs.
    #[cold]
    fn cancel_aborted(&self, queue: &RefCell<VecDeque<Entry>>) {
        // Acquire: pairs with the Release in `note_abort`.
        self.aborts.swap(0, Ordering::Acquire);
        self.pull_injector(queue);
        let aborted: VecDeque<Entry> = {
            let mut queue = queue.borrow_mut();
            let (aborted, kept) = std::mem::take(&mut *queue).into_iter().partition(
                |entry| matches!(entry, Entry::Task(runnable) if runnable.metadata().is_aborted()),
            );
            *queue = kept;
            aborted
        };
        // Outside the borrow: dropping a future runs user code, which may
        // spawn or wake tasks.
        for entry in aborted {
            if let Entry::Task(runnable) = entry {
                task::run(runnable);
            }
        }
    }

    /// Shuts the runtime down: drops every queued task and the timers (so
    /// that tasks waiting only on them are dropped too); tasks scheduled
    /// later are dropped when scheduled.
    pub(crate) fn shutdown(&self) {
        // SeqCst: see `schedule_remote`.
        self.closed.store(true, Ordering::SeqCst);
        self.drain_injector();
        self.timer.clear();
        if let Some(driver) = self.parker.driver() {
            driver.shut_down();
        }
        self.drain_injector();
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("current_thread::Shared")
            .field("running", &self.running)
            .field("closed", &self.closed)
            .finish_non_exhaustive()
    }
}

/// The schedule function of this scheduler's tasks (see
/// [`crate::scheduler::schedule`]).
pub(crate) fn schedule_task(runnable: Runnable) {
    let owner: *const Shared = match runnable.metadata().scheduler() {
        Handle::CurrentThread(shared) => Arc::as_ptr(shared),
        Handle::MultiThread(_) => unreachable!("not a current-thread task"),
    };
    // (An aborted task needs no special place: `note_abort` makes the
    // scheduler drop it before its next pick, wherever it is queued.)
    let Some(entry) = push_local(owner, Entry::Task(runnable)) else {
        return;
    };
    // Woken from another thread: the slow path may clone the `Arc`.
    if let Entry::Task(runnable) = entry {
        if let Handle::CurrentThread(shared) = runnable.metadata().scheduler() {
            let shared = Arc::clone(shared);
            shared.schedule_remote(Entry::Task(runnable));
        }
    }
}

/// Pushes `entry` at the back of this thread's run queue if this thread runs
/// `owner`'s `block_on`; gives it back otherwise.
#[inline]
fn push_local(owner: *const Shared, entry: Entry) -> Option<Entry> {
    let mut entry = Some(entry);
    let _ = LOCAL.try_with(|local| {
        if ptr::eq(local.owner.get(), owner) {
            if let Some(entry) = entry.take() {
                local.queue.borrow_mut().push_back(entry);
            }
        }
    });
    entry
}

fn release(entry: Entry) {
    if let Entry::Task(runnable) = entry {
        task::release(runnable);
    }
}

/// Makes the current thread the owner of `shared`'s run queue until dropped
/// (also when the main future panics).
struct OwnerGuard<'a> {
    shared: &'a Shared,
}

impl<'a> OwnerGuard<'a> {
    fn new(shared: &'a Shared) -> Self {
        LOCAL.with(|local| local.owner.set(shared));
        OwnerGuard { shared }
    }
}

impl Drop for OwnerGuard<'_> {
    fn drop(&mut self) {
        // Tasks still queued stay in the runtime: they move to the injector,
        // where the next `block_on` (or the runtime's drop) finds them.
        let _ = LOCAL.try_with(|local| {
            local.owner.set(ptr::null());
            let queue = std::mem::take(&mut *local.queue.borrow_mut());
            for entry in queue {
                if let Entry::Task(runnable) = entry {
                    self.shared.injector.push(Entry::Task(runnable));
                }
            }
        });
        if self.shared.is_shut_down() {
            self.shared.drain_injector();
        }
        // SeqCst: Release pairs with the Acquire CAS in `block_on` (our
        // spilled run queue is visible to the next owner); SeqCst also orders
        // it before the read of `waiting_for_core` below (see
        // `block_on_without_tasks`).
        self.shared.running.store(false, Ordering::SeqCst);
        for thread in self.shared.waiting_for_core.lock().iter() {
            thread.unpark();
        }
    }
}

/// The waker of the future passed to `block_on`.
struct MainWaker {
    shared: Arc<Shared>,
    /// An [`Entry::Main`] is queued already: waking again is a no-op.
    queued: AtomicBool,
    /// The `block_on` run this future belongs to.
    generation: u64,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // AcqRel: pairs with the store in `run` before each poll.
        if !self.queued.swap(true, Ordering::AcqRel) {
            self.shared.schedule(Entry::Main(self.generation));
        }
    }
}

/// Unparks a thread; the waker of `block_on_without_tasks`.
struct ThreadWaker(std::thread::Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}
