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
//! the injector are looked at once per round, then the entries queued at
//! that point run (see `Shared::run`); only an aborted task joins a round
//! late, at its front, to be dropped at once.
//!
//! # Aborts in O(1)
//!
//! Every run-queue entry has a position (`RunQueue::head` counts the
//! entries popped so far), recorded in its task's header when it is pushed.
//! An abort on the `block_on` thread finds a queued task at its position,
//! leaves a [`Entry::Vacant`] there and pushes the task at the front, where
//! the next pick drops it; an aborted task that is woken goes to the front
//! directly. No abort scans the queue.
//!
//! # Local tasks and several `block_on`s
//!
//! `spawn_local` tasks run on the thread that spawned them. When a second
//! thread calls `block_on` while another owns the run queue, it runs its
//! future, and the local tasks it spawns, on a scheduler of its own (a
//! second `Shared`) until the owner leaves and its own local tasks are done;
//! then it takes the run queue over. A local task left in the shared
//! injector when its thread's `block_on` ended is set aside ("stranded")
//! until that thread runs the runtime again.
//!
//! # Parking and timers
//!
//! With nothing to run, the thread parks on the runtime's [`Parker`] with a
//! time-out at the next timer deadline, and fires the expired timers (in
//! deadline order) when it wakes. Remote wake-ups unpark it.

use super::context;
use crate::driver::Drivers;
use crate::loom::{AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use crate::park::Parker;
use crate::scheduler::{self, Handle};
use crate::task::{self, JoinHandle, OwnedTasks, Runnable, TaskMeta};
use crate::timer::{self, Timer};
use crossbeam_deque::{Injector, Steal};
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::{pin, Pin};
use std::ptr;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

/// What a run queue holds.
enum Entry {
    /// A task to poll (or drop, if it was aborted).
    Task(Runnable),
    /// The future passed to `block_on` was woken: poll it, if it is the
    /// one of the `block_on` with this generation (a waker kept from an
    /// earlier `block_on` may still queue one).
    Main(u64),
    /// The place of a task an abort moved to the front.
    Vacant,
}

/// The run queue of a `block_on` thread: FIFO, with positions (see the
/// module docs).
struct RunQueue {
    entries: VecDeque<Entry>,
    /// The position of `entries[0]`: how many entries were popped (minus
    /// those pushed at the front). Wrapping.
    head: u64,
}

impl RunQueue {
    /// The position the next `push_back` gets.
    #[inline]
    fn end(&self) -> u64 {
        self.head.wrapping_add(self.entries.len() as u64)
    }

    #[inline]
    fn push_back(&mut self, entry: Entry) {
        if let Entry::Task(runnable) = &entry {
            runnable.metadata().set_queued_at(self.end());
        }
        self.entries.push_back(entry);
    }

    #[inline]
    fn push_front(&mut self, entry: Entry) {
        self.head = self.head.wrapping_sub(1);
        if let Entry::Task(runnable) = &entry {
            runnable.metadata().set_queued_at(self.head);
        }
        self.entries.push_front(entry);
    }

    /// Queues a task: at the front if it was aborted (it is dropped before
    /// anything else runs), else at the back.
    #[inline]
    fn push_task(&mut self, runnable: Runnable) {
        if runnable.metadata().is_aborted() {
            self.push_front(Entry::Task(runnable));
        } else {
            self.push_back(Entry::Task(runnable));
        }
    }

    #[inline]
    fn pop_front(&mut self) -> Option<Entry> {
        let entry = self.entries.pop_front()?;
        self.head = self.head.wrapping_add(1);
        Some(entry)
    }

    /// Moves the task `meta` to the front if it is queued here. O(1).
    fn move_to_front(&mut self, meta: &TaskMeta) -> bool {
        let index = meta.queued_at().wrapping_sub(self.head);
        let Ok(index) = usize::try_from(index) else {
            return false;
        };
        let found = matches!(
            self.entries.get(index),
            Some(Entry::Task(runnable)) if ptr::eq(runnable.metadata(), meta)
        );
        if found {
            let entry = std::mem::replace(&mut self.entries[index], Entry::Vacant);
            self.push_front(entry);
        }
        found
    }
}

/// The state of a current-thread runtime shared by its handles, its tasks'
/// schedule functions and whichever thread runs `block_on`.
pub(crate) struct Shared {
    /// Tasks scheduled from other threads, or while no `block_on` runs.
    injector: Injector<Entry>,
    /// Where the `block_on` thread sleeps when idle.
    parker: Parker,
    drivers: Drivers,
    /// A thread is inside `block_on` and owns the run queue.
    running: AtomicBool,
    /// The schedulers of the threads in `block_on` waiting for the run
    /// queue's owner to leave; unparked when it does.
    waiting_for_core: Mutex<Vec<Arc<Shared>>>,
    /// Aborts whose task may sit in the injector (see `note_abort`).
    aborts: AtomicUsize,
    /// Local tasks found in the injector by another thread than their own.
    stranded: Mutex<Vec<Runnable>>,
    /// Numbers each `block_on` run, to tell its main future's wake-ups
    /// from those of an earlier one.
    main_generation: AtomicU64,
}

/// The run queue of the `block_on` running on this thread, if any.
struct Local {
    /// The runtime whose `block_on` runs on this thread (null: none). Only
    /// compared, never dereferenced.
    owner: Cell<*const Shared>,
    queue: RefCell<RunQueue>,
}

thread_local! {
    static LOCAL: Local = const {
        Local {
            owner: Cell::new(ptr::null()),
            queue: RefCell::new(RunQueue {
                entries: VecDeque::new(),
                head: 0,
            }),
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
            drivers: Drivers::new(1, parker.driver().cloned()),
            parker,
            running: AtomicBool::new(false),
            waiting_for_core: Mutex::new(Vec::new()),
            aborts: AtomicUsize::new(0),
            stranded: Mutex::new(Vec::new()),
            main_generation: AtomicU64::new(0),
        }
    }

    pub(crate) fn drivers(&self) -> &Drivers {
        &self.drivers
    }

    /// Entries waiting in the injector (for `Runtime::metrics`).
    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.injector.len()
    }

    /// Wakes the `block_on` thread if it is parked (a new earliest timer,
    /// say), and the threads waiting to take over, which drive the timer
    /// meanwhile.
    pub(crate) fn unpark(&self) {
        if !self.is_owned_by_current_thread() {
            self.parker.unpark();
        }
        for waiting in self.waiting_for_core.lock().iter() {
            waiting.parker.unpark();
        }
    }

    fn is_owned_by_current_thread(&self) -> bool {
        LOCAL
            .try_with(|local| ptr::eq(local.owner.get(), self))
            .unwrap_or(false)
    }

    pub(crate) fn spawn_local<F>(this: Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (runnable, handle) = task::spawn_local(future, this, schedule_task);
        if let Some(runnable) = runnable {
            schedule_task(runnable);
        }
        handle
    }

    /// Runs every task queued in the injector once (unit tests drive task
    /// cells with it, without a `block_on` loop).
    #[cfg(test)]
    pub(crate) fn run_queued_for_test(&self) {
        loop {
            match self.injector.steal() {
                Steal::Success(Entry::Task(runnable)) => {
                    task::run(runnable, &self.drivers.tasks, &self.drivers.metrics, 0)
                }
                Steal::Success(Entry::Main(_) | Entry::Vacant) | Steal::Retry => {}
                Steal::Empty => return,
            }
        }
    }

    #[cold]
    fn schedule_remote(&self, entry: Entry) {
        if let Entry::Task(runnable) = &entry {
            let id = runnable.metadata().id();
            self.drivers.metrics.scheduled_remote(id);
        }
        // Also on a shut-down runtime: the task is then cancelled by the
        // shutdown loop (`Handle::shutdown`), never inside this `wake()`.
        self.injector.push(entry);
        self.parker.unpark();
    }

    /// Moves everything from the injector to this thread's run queue
    /// (aborted tasks to its front). Inlined: the common case, an empty
    /// injector, is then one check and no call, once per round.
    #[inline]
    fn pull_injector(&self, queue: &RefCell<RunQueue>) {
        if !self.injector.is_empty() {
            self.drain_injector(queue);
        }
    }

    /// The work of `pull_injector` once the injector holds something.
    fn drain_injector(&self, queue: &RefCell<RunQueue>) {
        let mut queue = queue.borrow_mut();
        loop {
            match self.injector.steal() {
                Steal::Success(Entry::Task(runnable)) => queue.push_task(runnable),
                Steal::Success(entry) => queue.push_back(entry),
                Steal::Empty => return,
                Steal::Retry => {}
            }
        }
    }

    /// Takes back the local tasks of this thread that another thread set
    /// aside.
    fn take_stranded(&self, queue: &RefCell<RunQueue>) {
        let mine: Vec<Runnable> = {
            let mut stranded = self.stranded.lock();
            if stranded.is_empty() {
                return;
            }
            let (mine, others) = std::mem::take(&mut *stranded)
                .into_iter()
                .partition(|runnable| runnable.metadata().is_on_its_thread());
            *stranded = others;
            mine
        };
        let mut queue = queue.borrow_mut();
        for runnable in mine {
            queue.push_task(runnable);
        }
    }

    /// Cancels every queued task (the runtime shuts down; see
    /// `Handle::shutdown`). Returns whether there was any.
    pub(crate) fn cancel_queued(&self) -> bool {
        let mut any = false;
        loop {
            match self.injector.steal() {
                Steal::Success(Entry::Task(runnable)) => {
                    any = true;
                    scheduler::cancel(runnable, &self.drivers.tasks);
                }
                Steal::Success(_) | Steal::Retry => {}
                Steal::Empty => break,
            }
        }
        let stranded = std::mem::take(&mut *self.stranded.lock());
        for runnable in stranded {
            any = true;
            scheduler::cancel(runnable, &self.drivers.tasks);
        }
        any
    }

    /// Runs `future` to completion on this thread, running the runtime's
    /// tasks meanwhile. `handle` is what `spawn` and `sleep` use in it (this
    /// runtime, or the multi-thread runtime this scheduler serves as the
    /// `block_on` thread's local scheduler).
    #[track_caller]
    pub(crate) fn block_on<F: Future>(this: &Arc<Self>, handle: Handle, future: F) -> F::Output {
        let mut future = pin!(future);
        loop {
            // Acquire: pairs with the Release store in `OwnerGuard::drop`;
            // the previous owner's spilled run queue is then visible.
            if this
                .running
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
            {
                let _enter = context::enter(handle, Some(Handle::CurrentThread(Arc::clone(this))));
                return Shared::run(this, future.as_mut(), None)
                    .expect("runs until the future completes");
            }
            // Another thread is inside `block_on` of this runtime and runs
            // its tasks: run our future, and the local tasks it spawns, on a
            // scheduler of our own until we can take over.
            let local = Arc::new(Shared::new());
            let output = {
                let _enter = context::enter(
                    handle.clone(),
                    Some(Handle::CurrentThread(Arc::clone(&local))),
                );
                this.waiting_for_core.lock().push(Arc::clone(&local));
                let output = Shared::run(&local, future.as_mut(), Some(this));
                this.waiting_for_core
                    .lock()
                    .retain(|waiting| !Arc::ptr_eq(waiting, &local));
                output
            };
            // Our local tasks left over are dropped here, on their thread.
            Handle::CurrentThread(local).shutdown();
            if let Some(output) = output {
                return output;
            }
        }
    }

    /// The scheduler loop of the thread that owns the run queue.
    ///
    /// It runs in rounds, as asyncio's `_run_once` does: a round first moves
    /// what became ready meanwhile (expired timers, tasks woken from other
    /// threads) to the back of the run queue, then runs the entries queued
    /// at that point (plus aborted tasks, pushed at its front). So a task
    /// that yields resumes only after every task that was ready, wherever
    /// its wake-up came from, has run once.
    ///
    /// With `core`, this is the scheduler of a thread waiting to take over
    /// `core`'s run queue: it also drives `core`'s timer, and returns `None`
    /// once `core` is free and no local task of its own is left.
    fn run<F: Future>(
        this: &Arc<Self>,
        mut future: Pin<&mut F>,
        core: Option<&Shared>,
    ) -> Option<F::Output> {
        let _owner = OwnerGuard::new(this);
        let _metrics = this.drivers.metrics.enter(0);
        // Relaxed: a unique number, nothing else.
        let generation = this.main_generation.fetch_add(1, Ordering::Relaxed);
        let main = std::sync::Arc::new(MainWaker {
            shared: Arc::clone(this),
            queued: AtomicBool::new(true),
            generation,
        });
        let waker = Waker::from(std::sync::Arc::clone(&main));
        let mut cx = Context::from_waker(&waker);
        LOCAL.with(|local| {
            // Tasks spawned before `block_on` (or left by a previous one) run
            // first, then the main future: FIFO, as in asyncio.
            this.take_stranded(&local.queue);
            this.pull_injector(&local.queue);
            local.queue.borrow_mut().push_back(Entry::Main(generation));
            let mut round_end = local.queue.borrow().end();
            loop {
                if local.queue.borrow().head == round_end {
                    this.queue_ready(&local.queue, core);
                    round_end = local.queue.borrow().end();
                    if local.queue.borrow().head == round_end {
                        if let Some(core) = core {
                            // SeqCst: see `OwnerGuard::drop`.
                            if !core.running.load(Ordering::SeqCst) && this.drivers.tasks.is_empty()
                            {
                                return None;
                            }
                        }
                        this.drivers.metrics.park(0);
                        this.parker.park(this.next_deadline(core));
                        this.drivers.metrics.unpark(0);
                        continue;
                    }
                }
                // Relaxed: a hint; `note_abort` unparks us, and the swap
                // synchronises.
                if this.aborts.load(Ordering::Relaxed) != 0 {
                    // Acquire: pairs with the Release in `note_abort`; the
                    // aborted task's push to the injector is then visible.
                    this.aborts.swap(0, Ordering::Acquire);
                    this.pull_injector(&local.queue);
                }
                let entry = local.queue.borrow_mut().pop_front();
                match entry {
                    Some(Entry::Task(runnable)) => {
                        if runnable.metadata().is_on_its_thread() {
                            task::run(runnable, &this.drivers.tasks, &this.drivers.metrics, 0);
                        } else {
                            // A local task of a thread whose `block_on`
                            // ended: it waits for that thread to come back.
                            this.stranded.lock().push(runnable);
                        }
                    }
                    Some(Entry::Main(queued_by)) if queued_by == generation => {
                        // SeqCst (Release would do): a wake-up during the poll
                        // below must queue the main future again.
                        main.queued.store(false, Ordering::SeqCst);
                        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                            return Some(output);
                        }
                    }
                    // Queued by the waker of an earlier `block_on`'s future,
                    // or the place of a task an abort moved.
                    Some(Entry::Main(_) | Entry::Vacant) => {}
                    None => round_end = local.queue.borrow().head,
                }
            }
        })
    }

    /// The earliest deadline of the timers this thread drives.
    fn next_deadline(&self, core: Option<&Shared>) -> Option<Instant> {
        let own = self.drivers.timer.next_deadline();
        let core = core.and_then(|core| core.drivers.timer.next_deadline());
        match (own, core) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Queues, behind the tasks already in the run queue, those whose timers
    /// expired and those woken from other threads, if this thread runs this
    /// scheduler (called before a task yields).
    pub(crate) fn collect_ready(&self) {
        if !self.is_owned_by_current_thread() {
            return;
        }
        let _ = LOCAL.try_with(|local| self.queue_ready(&local.queue, None));
    }

    /// Queues, at the back of `queue`, the tasks whose timers expired and
    /// those woken from other threads.
    fn queue_ready(&self, queue: &RefCell<RunQueue>, core: Option<&Shared>) {
        self.drivers.timer.fire();
        if let Some(core) = core {
            core.drivers.timer.fire();
        }
        // I/O events ready now, without waiting (asyncio's `select(0)` in
        // `_run_once`), so that a run queue that never empties does not
        // starve sockets. Not when the queue is empty (the thread is about to
        // park, which waits in the poller anyway), nor right after a park
        // that did.
        if let Some(driver) = self.parker.driver() {
            if !self.parker.take_polled() && !queue.borrow().entries.is_empty() {
                driver.poll_ready_now();
            }
        }
        self.pull_injector(queue);
    }

    /// Notes that the task `meta` of this runtime was aborted (after its
    /// abort flag was set and it was woken), so that the scheduler drops it
    /// before it picks any other task: on the `block_on` thread, a task in
    /// the run queue moves to its front (O(1)); otherwise the scheduler
    /// looks in the injector before its next pick.
    pub(crate) fn note_abort(&self, meta: &TaskMeta) {
        if self.is_owned_by_current_thread() {
            let moved = LOCAL
                .try_with(|local| local.queue.borrow_mut().move_to_front(meta))
                .unwrap_or(false);
            if moved {
                return;
            }
        }
        // Release: pairs with the Acquire swap in `run`, which then finds
        // the woken task in the injector.
        self.aborts.fetch_add(1, Ordering::Release);
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("current_thread::Shared")
            .field("running", &self.running)
            .field("drivers", &self.drivers)
            .finish_non_exhaustive()
    }
}

impl task::Schedule for Shared {
    fn tasks(&self) -> &OwnedTasks {
        &self.drivers.tasks
    }

    fn metrics(&self) -> &crate::metrics::Metrics {
        &self.drivers.metrics
    }

    fn schedule_remote_task(&self, runnable: Runnable) {
        self.schedule_remote(Entry::Task(runnable));
    }

    fn note_abort(&self, meta: &TaskMeta) {
        Shared::note_abort(self, meta);
    }
}

impl timer::Driver for Shared {
    fn timer(&self) -> &Timer {
        &self.drivers.timer
    }

    fn timer_changed(&self) {
        self.unpark();
    }
}

/// The schedule function of this scheduler's tasks: zero-sized, given to
/// each task when it is spawned (see `scheduler::Handle::spawn`).
#[inline]
pub(crate) fn schedule_task(runnable: Runnable) {
    // Only compared, never dereferenced: the task was spawned with this
    // function by a `current_thread::Shared`, its scheduler.
    let owner = Arc::as_ptr(runnable.metadata().scheduler()).cast::<Shared>();
    let Some(runnable) = push_local(owner, runnable) else {
        return;
    };
    // Woken from another thread: the slow path clones the `Arc` (the task
    // may run, complete and free its header before `schedule_remote_task`
    // returns) and makes one dynamic call.
    let shared = Arc::clone(runnable.metadata().scheduler());
    shared.schedule_remote_task(runnable);
}

/// Pushes `runnable` on this thread's run queue if this thread runs
/// `owner`'s `block_on`; gives it back otherwise.
#[inline]
fn push_local(owner: *const Shared, runnable: Runnable) -> Option<Runnable> {
    let mut runnable = Some(runnable);
    let _ = LOCAL.try_with(|local| {
        if ptr::eq(local.owner.get(), owner) {
            if let Some(runnable) = runnable.take() {
                // This thread runs the runtime's only worker.
                let meta = runnable.metadata();
                let metrics = meta.scheduler().metrics();
                metrics.scheduled_local(0, meta.id());
                local.queue.borrow_mut().push_task(runnable);
            }
        }
    });
    runnable
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
        // where the next `block_on` (or the runtime's shutdown) finds them.
        let _ = LOCAL.try_with(|local| {
            local.owner.set(ptr::null());
            let mut queue = local.queue.borrow_mut();
            while let Some(entry) = queue.pop_front() {
                if let Entry::Task(runnable) = entry {
                    self.shared.injector.push(Entry::Task(runnable));
                }
            }
        });
        // SeqCst: Release pairs with the Acquire CAS in `block_on` (our
        // spilled run queue is visible to the next owner); SeqCst also orders
        // it before the read of `waiting_for_core` below, against the
        // waiting thread's registration there and its SeqCst load of
        // `running` in `run`: either we unpark it or it sees us gone.
        self.shared.running.store(false, Ordering::SeqCst);
        for waiting in self.shared.waiting_for_core.lock().iter() {
            waiting.parker.unpark();
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
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        // AcqRel: pairs with the store in `run` before each poll.
        if !self.queued.swap(true, Ordering::AcqRel) {
            let entry = Entry::Main(self.generation);
            if self.shared.is_owned_by_current_thread() {
                let _ = LOCAL.try_with(|local| local.queue.borrow_mut().push_back(entry));
            } else {
                self.shared.schedule_remote(entry);
            }
        }
    }
}
