//! The multi-thread scheduler: worker threads running tasks in parallel.
//!
//! # Queues
//!
//! Each worker owns a FIFO [`Worker`] deque; a task spawned or woken on a
//! worker goes to that worker's deque, anything else to the shared
//! [`Injector`]. A worker takes work from its own deque first (every
//! [`EVENT_INTERVAL`] ticks from the injector first, for fairness), then
//! from the injector, then steals half of another worker's deque.
//!
//! # Parking without lost wake-ups
//!
//! Idle workers park; they never spin. The protocol (the shape of tokio's
//! `idle.rs`, simplified):
//!
//! * `num_searching` counts workers that were woken to look for work and
//!   have not found any yet; `idle` lists the parked workers.
//! * Whoever queues a task then checks: if no worker is searching and one is
//!   parked, it unparks one, counting it as searching. One wake-up per
//!   push at most, and none while someone is already searching: no
//!   thundering herd.
//! * A searching worker that finds a task stops searching; if it was the
//!   last searcher it wakes another worker, since more work may be queued.
//! * A worker about to park first adds itself to `idle` (and stops counting
//!   as searching), then checks every queue once more. With the `SeqCst`
//!   fences on both sides, either the pusher sees the worker idle and not
//!   searching (and unparks someone), or the worker's re-check sees the
//!   task.
//!
//! # Who polls the reactor
//!
//! A worker with nothing to run parks in the reactor if no other worker
//! waits there (see `park.rs`), else on its condition variable; busy
//! workers also poll it without waiting every [`EVENT_INTERVAL`] ticks.
//! The tasks a parked worker's reactor turn wakes go to its own deque
//! without a notification each: the worker is awake and runs them itself,
//! and it does not count as searching when it finds them. After the turn it
//! wakes one idle worker, once, if it holds two tasks or more (there is
//! something to steal); a turn that woke one task keeps the other worker
//! asleep. This is tokio's `should_notify_others` after its driver park.
//! Before, every such turn woke a worker at its first task (the other one,
//! or, when it had parked last, itself through the eventfd: 10-40% of these
//! notifications under `wrk`), and finding work as a searcher then woke the
//! other anyway. Measured under `benches/net/run.sh`'s load on a busy
//! machine (`benches/RESULTS.md`, net section): fewer context switches
//! per request in each of three A/B series; requests/s and p99 unchanged
//! within the noise.
//!
//! # Timers
//!
//! Idle workers park with a time-out at the runtime timer's next deadline
//! and fire expired timers when they wake; busy workers check the timer
//! every [`EVENT_INTERVAL`] ticks. A timer registered with an earlier
//! deadline than all others unparks an idle worker so that it re-parks with
//! the shorter time-out.

use super::context;
use crate::driver::Drivers;
use crate::loom::{fence, thread, AtomicUsize, Mutex, Ordering};
use crate::park::Parker;
use crate::scheduler::{self, current_thread, Handle};
use crate::task::{self, OwnedTasks, Runnable, TaskMeta};
use crate::timer::{self, Timer};
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::io;
use std::ptr;
use std::sync::Arc;

/// Every this many tasks a worker looks at the injector before its own
/// deque, and at the timer.
const EVENT_INTERVAL: u32 = 61;

/// State shared by the workers, the handles and the tasks' schedule
/// functions.
pub(crate) struct Shared {
    injector: Injector<Runnable>,
    /// One per worker, same index as `parkers`.
    stealers: Box<[Stealer<Runnable>]>,
    parkers: Box<[Parker]>,
    /// Indices of the workers that are parked (or about to park).
    idle: Mutex<Vec<usize>>,
    /// `idle.len()`, readable without the lock.
    num_idle: AtomicUsize,
    /// Workers woken to look for work that have not found any yet.
    num_searching: AtomicUsize,
    drivers: Drivers,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
}

/// What a worker thread keeps in its thread-local.
struct WorkerLocal {
    /// The runtime this thread works for.
    shared: Arc<Shared>,
    index: usize,
    queue: Worker<Runnable>,
    /// In `park_worker`'s call to `Parker::park`: the tasks a reactor turn
    /// wakes meanwhile land in `queue` without waking another worker; this
    /// one runs them, and wakes another once, afterwards, only if there are
    /// two or more (see "Who polls the reactor" in the module docs).
    parked: Cell<bool>,
}

thread_local! {
    static WORKER: RefCell<Option<WorkerLocal>> = const { RefCell::new(None) };
}

impl Shared {
    /// Creates the runtime's state, with `drivers` (made for `workers`
    /// workers), and starts its `workers` threads.
    pub(crate) fn start(workers: usize, name: &str, drivers: Drivers) -> io::Result<Arc<Shared>> {
        let queues: Vec<Worker<Runnable>> = (0..workers).map(|_| Worker::new_fifo()).collect();
        let driver = drivers
            .io
            .clone()
            .expect("a multi-thread runtime's drivers have a reactor");
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            stealers: queues.iter().map(Worker::stealer).collect(),
            parkers: (0..workers)
                .map(|_| Parker::with_driver(std::sync::Arc::clone(&driver)))
                .collect(),
            idle: Mutex::new(Vec::with_capacity(workers)),
            num_idle: AtomicUsize::new(0),
            // Every worker starts out looking for work.
            num_searching: AtomicUsize::new(workers),
            drivers,
            threads: Mutex::new(Vec::with_capacity(workers)),
        });
        for (index, queue) in queues.into_iter().enumerate() {
            let worker_shared = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("{name}-{index}"))
                .spawn(move || run_worker(worker_shared, index, queue));
            match spawned {
                Ok(thread) => shared.threads.lock().push(thread),
                Err(err) => {
                    Handle::MultiThread(shared).shutdown();
                    return Err(err);
                }
            }
        }
        Ok(shared)
    }

    pub(crate) fn drivers(&self) -> &Drivers {
        &self.drivers
    }

    /// Tasks waiting in the injector (for `Runtime::metrics`).
    pub(crate) fn injection_queue_depth(&self) -> usize {
        self.injector.len()
    }

    fn is_shut_down(&self) -> bool {
        self.drivers.tasks.is_closed()
    }

    /// `block_on` on a multi-thread runtime: the future runs on this thread,
    /// with a current-thread scheduler of its own for `spawn_local` tasks;
    /// `spawn`ed tasks go to the workers.
    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, handle: Handle, future: F) -> F::Output {
        struct ShutdownOnDrop(Handle);
        impl Drop for ShutdownOnDrop {
            fn drop(&mut self) {
                // Local tasks left over, wherever they wait, are dropped
                // here, on their thread.
                self.0.shutdown();
            }
        }
        let local = Arc::new(current_thread::Shared::new());
        let _shutdown = ShutdownOnDrop(Handle::CurrentThread(Arc::clone(&local)));
        current_thread::Shared::block_on(&local, handle, future)
    }

    #[cold]
    fn schedule_remote(&self, runnable: Runnable) {
        let id = runnable.metadata().id();
        self.drivers.metrics.scheduled_remote(id);
        // Also on a shut-down runtime: the task is then cancelled by the
        // shutdown loop (`Handle::shutdown`), never inside this `wake()`.
        self.injector.push(runnable);
        self.notify_parked();
    }

    /// After queuing work: wake a parked worker unless one is searching.
    fn notify_parked(&self) {
        // SeqCst fence: orders the push before the loads below; pairs with
        // the fence in `park_worker` (store-load ordering on both sides, see
        // the module docs).
        fence(Ordering::SeqCst);
        if self.num_searching.load(Ordering::SeqCst) == 0
            && self.num_idle.load(Ordering::SeqCst) > 0
        {
            self.wake_one_idle();
        }
    }

    /// Unparks one idle worker, counting it as searching.
    pub(crate) fn wake_one_idle(&self) {
        let index = {
            let mut idle = self.idle.lock();
            let Some(index) = idle.pop() else { return };
            // SeqCst: these counters take part in the store-load protocol
            // of the module docs. Counted as searching before it runs, so
            // that other pushers do not wake a second worker for nothing.
            self.num_searching.fetch_add(1, Ordering::SeqCst);
            self.num_idle.fetch_sub(1, Ordering::SeqCst);
            index
        };
        self.parkers[index].unpark();
    }

    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    /// Cancels every task in the injector, and in this thread's deque if
    /// it is one of our workers (see `Handle::shutdown`). Returns whether
    /// there was any.
    pub(crate) fn cancel_queued(&self) -> bool {
        let mut any = false;
        loop {
            match self.injector.steal() {
                Steal::Success(runnable) => {
                    any = true;
                    scheduler::cancel(runnable, &self.drivers.tasks);
                }
                Steal::Empty => break,
                Steal::Retry => {}
            }
        }
        while let Some(runnable) = self.pop_own_deque() {
            any = true;
            scheduler::cancel(runnable, &self.drivers.tasks);
        }
        any
    }

    /// Pops a task from this thread's deque, if it is one of our workers.
    fn pop_own_deque(&self) -> Option<Runnable> {
        WORKER
            .try_with(|w| {
                w.try_borrow().ok().and_then(|w| {
                    w.as_ref()
                        .filter(|w| ptr::eq(Arc::as_ptr(&w.shared), self))
                        .and_then(|w| w.queue.pop())
                })
            })
            .ok()
            .flatten()
    }

    /// Stops the workers (the task list is closed already) and joins them,
    /// unless called from one of them. Returns whether it joined them, that
    /// is whether no task of ours can be running any more.
    pub(crate) fn stop_workers(&self) -> bool {
        for parker in self.parkers.iter() {
            parker.unpark();
        }
        let on_worker = WORKER
            .try_with(|w| {
                w.try_borrow().map_or(true, |w| {
                    w.as_ref()
                        .is_some_and(|w| ptr::eq(Arc::as_ptr(&w.shared), self))
                })
            })
            .unwrap_or(false);
        let threads = std::mem::take(&mut *self.threads.lock());
        if on_worker {
            return false;
        }
        for thread in threads {
            // A worker only panics on a bug of ours; the runtime is gone
            // either way.
            let _ = thread.join();
        }
        true
    }
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("multi_thread::Shared")
            .field("workers", &self.parkers.len())
            .field("num_idle", &self.num_idle)
            .field("num_searching", &self.num_searching)
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
        self.schedule_remote(runnable);
    }

    fn note_abort(&self, _meta: &TaskMeta) {
        // Workers drop an aborted task when they pop it.
    }
}

impl timer::Driver for Shared {
    fn timer(&self) -> &Timer {
        &self.drivers.timer
    }

    fn timer_changed(&self) {
        self.wake_one_idle();
    }
}

/// The schedule function of this scheduler's tasks: zero-sized, given to
/// each task when it is spawned (see `scheduler::Handle::spawn`).
pub(crate) fn schedule_task(runnable: Runnable) {
    // Only compared, never dereferenced: the task was spawned with this
    // function by a `multi_thread::Shared`, its scheduler.
    let owner = Arc::as_ptr(runnable.metadata().scheduler()).cast::<Shared>();
    let Some(runnable) = push_local(owner, runnable) else {
        return;
    };
    // Woken from outside the runtime's workers: the slow path clones the
    // `Arc` (see `current_thread::schedule_task`) and makes one dynamic
    // call.
    let shared = Arc::clone(runnable.metadata().scheduler());
    shared.schedule_remote_task(runnable);
}

/// Pushes `runnable` on this thread's deque if this thread is a worker of
/// `owner` (and wakes a parked worker if needed); gives it back otherwise.
#[inline]
fn push_local(owner: *const Shared, runnable: Runnable) -> Option<Runnable> {
    let mut runnable = Some(runnable);
    let _ = WORKER.try_with(|worker| {
        if let Some(worker) = &*worker.borrow() {
            if ptr::eq(Arc::as_ptr(&worker.shared), owner) {
                if let Some(runnable) = runnable.take() {
                    let id = runnable.metadata().id();
                    worker
                        .shared
                        .drivers
                        .metrics
                        .scheduled_local(worker.index, id);
                    worker.queue.push(runnable);
                    if !worker.parked.get() {
                        worker.shared.notify_parked();
                    }
                }
            }
        }
    });
    runnable
}

/// The body of a worker thread.
fn run_worker(shared: Arc<Shared>, index: usize, queue: Worker<Runnable>) {
    let _enter = context::enter(Handle::MultiThread(Arc::clone(&shared)), None);
    let _metrics = shared.drivers.metrics.enter(index);
    WORKER.with(|w| {
        *w.borrow_mut() = Some(WorkerLocal {
            shared: Arc::clone(&shared),
            index,
            queue,
            parked: Cell::new(false),
        });
    });
    WORKER.with(|w| {
        let w = w.borrow();
        let Some(worker) = w.as_ref() else { return };
        work(&shared, worker);
    });
    // Tasks left in our deque (the runtime shut down) are cancelled here,
    // on this thread's bounded stack, outside the borrow: their destructors
    // may schedule other tasks, which land in the deque too.
    let local = WORKER.with(|w| w.borrow_mut().take());
    if let Some(local) = local {
        while let Some(runnable) = local.queue.pop() {
            scheduler::cancel(runnable, &shared.drivers.tasks);
        }
    }
}

/// The scheduling loop of one worker, until the runtime shuts down.
fn work(shared: &Shared, worker: &WorkerLocal) {
    let mut searching = true;
    let mut tick: u32 = 0;
    loop {
        if shared.is_shut_down() {
            return;
        }
        tick = tick.wrapping_add(1);
        let fairness_tick = tick % EVENT_INTERVAL == 0;
        if fairness_tick {
            shared.drivers.timer.fire();
            // I/O ready now, unless an idle worker waits in the poller.
            if let Some(io) = &shared.drivers.io {
                io.poll_ready_now();
            }
        }
        match find_task(shared, worker, fairness_tick) {
            Some(runnable) => {
                if searching {
                    searching = false;
                    // SeqCst: see the module docs. The last searcher to find
                    // work wakes another worker: there may be more.
                    if shared.num_searching.fetch_sub(1, Ordering::SeqCst) == 1 {
                        shared.notify_parked();
                    }
                }
                task::run(
                    runnable,
                    &shared.drivers.tasks,
                    &shared.drivers.metrics,
                    worker.index,
                );
            }
            None => {
                if shared.drivers.timer.fire() {
                    continue;
                }
                park_worker(shared, worker, &mut searching);
            }
        }
    }
}

/// Local deque, then injector, then the other workers' deques.
fn find_task(shared: &Shared, worker: &WorkerLocal, injector_first: bool) -> Option<Runnable> {
    if injector_first {
        if let Some(runnable) =
            steal_retrying(|| shared.injector.steal_batch_and_pop(&worker.queue))
        {
            return Some(runnable);
        }
    }
    if let Some(runnable) = worker.queue.pop() {
        return Some(runnable);
    }
    if let Some(runnable) = steal_retrying(|| shared.injector.steal_batch_and_pop(&worker.queue)) {
        return Some(runnable);
    }
    let n = shared.stealers.len();
    (1..n)
        .map(|offset| &shared.stealers[(worker.index + offset) % n])
        .find_map(|stealer| steal_retrying(|| stealer.steal_batch_and_pop(&worker.queue)))
        .inspect(|_| shared.drivers.metrics.steal(worker.index))
}

fn steal_retrying(mut steal: impl FnMut() -> Steal<Runnable>) -> Option<Runnable> {
    loop {
        match steal() {
            Steal::Success(runnable) => return Some(runnable),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

/// Parks an idle worker (see the module docs for the protocol).
fn park_worker(shared: &Shared, worker: &WorkerLocal, searching: &mut bool) {
    {
        let mut idle = shared.idle.lock();
        idle.push(worker.index);
        // SeqCst: see the module docs.
        shared.num_idle.fetch_add(1, Ordering::SeqCst);
        if *searching {
            shared.num_searching.fetch_sub(1, Ordering::SeqCst);
            *searching = false;
        }
    }
    // SeqCst fence: pairs with the one in `notify_parked`.
    fence(Ordering::SeqCst);
    if !shared.has_work() && !shared.is_shut_down() {
        shared.drivers.metrics.park(worker.index);
        worker.parked.set(true);
        shared.parkers[worker.index].park(shared.drivers.timer.next_deadline());
        worker.parked.set(false);
        shared.drivers.metrics.unpark(worker.index);
    }
    // The tasks our own reactor turn woke: nobody else pushes to our deque.
    let woken_here = worker.queue.len();
    let mut idle = shared.idle.lock();
    if let Some(position) = idle.iter().position(|&i| i == worker.index) {
        idle.swap_remove(position);
        // SeqCst: part of the protocol of the module docs (nobody counted
        // us as searching: a wake-up by our own reactor turn, a spurious or
        // a timed-out one).
        shared.num_idle.fetch_sub(1, Ordering::SeqCst);
        if woken_here > 0 {
            // Work in hand: not searching, so finding it does not wake
            // another worker (the "last searcher" rule).
            *searching = false;
        } else {
            shared.num_searching.fetch_add(1, Ordering::SeqCst);
            *searching = true;
        }
    } else {
        // A pusher woke us: it took us off the idle list and counted us as
        // searching.
        *searching = true;
    }
    drop(idle);
    if woken_here > 1 && !*searching {
        // More than we can run at once: wake one idle worker to steal half
        // (it then parks in the reactor we left, or finds it taken).
        shared.notify_parked();
    }
}
