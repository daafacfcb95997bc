//! Tasks: the cell a spawned future lives in, its [`JoinHandle`] and
//! [`JoinError`], and the list of the tasks a runtime owns (`list.rs`).
//!
//! # Why `async-task`
//!
//! A task cell is one allocation holding a state word, the future (later its
//! output), the scheduling function and the waker of whoever awaits the
//! handle; its raw waker vtable is where most executors keep their `unsafe`
//! code. [`async-task`](https://docs.rs/async-task) is exactly that cell,
//! written and fuzzed for smol/async-executor, with one allocation per task,
//! a state machine documented bit by bit, and thread checks for
//! `spawn_local`. Writing our own would have cost a few hundred lines of
//! `unsafe` for no gain in speed (its `Runnable` is a single pointer, and
//! with a zero-sized schedule function a wake-up is one CAS and a push), so
//! this module's own `unsafe` is small: the pointers from a task's future
//! and from an [`AbortHandle`] back into the header of its cell
//! (`FinishedFlag`, `abort_handle.rs`) and the pin projection of the wrapper
//! future (`Guard`), each with its `SAFETY` note. (The rest of the crate's
//! `unsafe` is in `gather/`, which manages its children's memory and wakers
//! itself, the pin projections of [`Timeout`](crate::Timeout) and
//! `gather!`, and the loom facade's `UnsafeCell` shim.) Measured since
//! (issue 16, `benches/RESULTS.md`): async-task's part is about a third of a
//! spawn + run + join; reaching 2x the spawn floor would need a cell of our
//! own.
//!
//! On top of the cell this module adds, in the future it wraps around the
//! user's (`guard`):
//! * panic isolation: a panic while polling becomes the task's output
//!   (`Err(JoinError)`) instead of unwinding through the scheduler, and a
//!   panic while dropping the output of a detached task (or its panic
//!   payload) is contained too (see `Contained`);
//! * cancellation: a scheduler that drops a task (abort, shutdown) does so by
//!   running it one last time in "cancel" mode (a thread-local flag, see
//!   `run_cancelled`), so that the wrapper drops the user's future and then
//!   completes with a cancelled `JoinError`. The handle therefore always
//!   receives an output, and the user's future is always dropped before it;
//! * the task list: a task is linked into its runtime's `OwnedTasks` when
//!   spawned and unlinked by the scheduler when it completes (the wrapper
//!   reports completion through a thread-local, see `COMPLETED`), so that
//!   shutdown reaches every task, wherever it waits;
//! * `TaskMeta`, stored in the cell's header: the scheduler the task belongs
//!   to (so that the schedule function is zero-sized), the abort flag that
//!   the schedulers check before running a task, and the owning thread of a
//!   local task, so that it is never polled or dropped elsewhere.
//!
//! A task does not know the schedulers: it reaches its own through the
//! `Schedule` trait they implement (tokio's `task::Schedule`), and its
//! wake-ups go to the zero-sized schedule function its scheduler passed to
//! `spawn`.

mod abort_handle;
mod join_error;
mod join_handle;
mod list;

pub use abort_handle::AbortHandle;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub(crate) use list::OwnedTasks;

use crate::loom::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use crate::metrics::Metrics;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

/// What a task's cell holds once the task is done.
pub(crate) type Output<T> = Result<T, JoinError>;

/// A scheduled task, ready to be run. One pointer wide.
pub(crate) type Runnable = async_task::Runnable<TaskMeta>;

/// A task's output as stored in its cell: dropping it (when the task was
/// detached, or its handle dropped before taking it) contains a panic of
/// the output's destructor, or of a panic payload's, as tokio does, instead
/// of letting it unwind inside async-task (which aborts the process).
#[derive(Debug)]
pub(crate) struct Contained<T>(Option<T>);

impl<T> Contained<T> {
    /// The output, for the handle that takes it.
    #[inline]
    pub(crate) fn into_inner(self) -> T {
        // Not dropped afterwards: what is left is `None`, and skipping the
        // `Drop` below spares the handle a second check of it.
        let mut this = std::mem::ManuallyDrop::new(self);
        this.0.take().expect("a task output is taken once")
    }
}

impl<T> Drop for Contained<T> {
    fn drop(&mut self) {
        if let Some(output) = self.0.take() {
            // Nobody took the output: a panic of its destructor has nobody
            // to go to either.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(output)));
        }
    }
}

/// What a task needs of the scheduler it belongs to, which implements it.
///
/// Only the cold paths go through it (spawn, abort, a wake-up from a thread
/// that does not run the scheduler): a wake-up on the scheduler's own
/// thread is handled by the scheduler's schedule function, a plain function
/// that compares pointers, with no dynamic call.
pub(crate) trait Schedule: Send + Sync + fmt::Debug + 'static {
    /// The list of the tasks of the scheduler's runtime.
    fn tasks(&self) -> &OwnedTasks;

    /// The counters and event recorder of the scheduler's runtime.
    fn metrics(&self) -> &Metrics;

    /// Queues `runnable`, a task of this scheduler woken on a thread that
    /// does not run it (the slow path of its schedule function).
    fn schedule_remote_task(&self, runnable: Runnable);

    /// The task `meta` of this scheduler was aborted and woken: see
    /// [`AbortHandle::abort`].
    fn note_abort(&self, meta: &TaskMeta);
}

/// A task's scheduler, as its header holds it. A `std` `Arc` under loom
/// too: loom's `Arc` cannot become a trait object, and no model races the
/// count of a scheduler.
pub(crate) type Scheduler = std::sync::Arc<dyn Schedule>;

/// Per-task data kept in the task cell's header.
#[derive(Debug)]
pub(crate) struct TaskMeta {
    /// Set by [`JoinHandle::abort`]; a scheduler that pops a task with this
    /// flag cancels it instead of polling it.
    aborted: AtomicBool,
    /// Set by the task's [`guard`] when it produces its output (completed,
    /// panicked or cancelled): what [`AbortHandle::is_finished`] reads.
    finished: AtomicBool,
    /// For `spawn_local` tasks, the [`thread_id`] of the
    /// thread that spawned it; 0 for `Send` tasks.
    owner_thread: u64,
    /// The task's id in its runtime's [`OwnedTasks`].
    id: u64,
    /// Its slot there (set once, when linked, before the task is first
    /// scheduled: the queue that hands it to its first run orders that).
    slot: AtomicUsize,
    /// Where the current-thread scheduler last queued it (a position in its
    /// run queue, see `current_thread::RunQueue`): lets an abort find it in
    /// O(1). Only read and written by the thread owning that run queue.
    queued_at: AtomicU64,
    /// The scheduler the task belongs to. Kept here rather than captured by
    /// the schedule function: a zero-sized schedule function spares
    /// async-task a waker clone and drop (two atomic operations) on every
    /// wake-up.
    scheduler: Scheduler,
}

impl TaskMeta {
    fn new(owner_thread: u64, id: u64, scheduler: Scheduler) -> TaskMeta {
        TaskMeta {
            aborted: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            owner_thread,
            id,
            slot: AtomicUsize::new(usize::MAX),
            queued_at: AtomicU64::new(u64::MAX),
            scheduler,
        }
    }

    /// The task's id, unique within its runtime.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// The scheduler this task belongs to.
    #[inline]
    pub(crate) fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    pub(crate) fn abort(&self) {
        // Release: pairs with the Acquire load in `is_aborted`. (`abort` then
        // wakes the task, and the queue it goes through orders this store
        // too; the pair states the intent.)
        self.aborted.store(true, Ordering::Release);
    }

    #[inline]
    pub(crate) fn is_aborted(&self) -> bool {
        // Acquire: pairs with the Release store in `abort`.
        self.aborted.load(Ordering::Acquire)
    }

    /// Whether the task has produced its output.
    #[inline]
    pub(crate) fn is_finished(&self) -> bool {
        // Acquire: pairs with the Release store in `guard`.
        self.finished.load(Ordering::Acquire)
    }

    /// Whether this task may be polled or dropped on the current thread.
    #[inline]
    pub(crate) fn is_on_its_thread(&self) -> bool {
        self.owner_thread == 0 || self.owner_thread == thread_id()
    }

    /// A clone of the task's waker, from its runtime's task list; `None` if
    /// it is not linked there (it completed, or was never linked).
    pub(crate) fn listed_waker(&self) -> Option<Waker> {
        // Relaxed: see `slot`; a handle reaches the task only after `link`
        // stored it, on the spawning thread, before returning the handle.
        self.scheduler
            .tasks()
            .waker(self.id, self.slot.load(Ordering::Relaxed))
    }

    /// Unlinks the task from its runtime's list, `tasks`.
    fn unlink(&self, tasks: &OwnedTasks) {
        debug_assert!(std::ptr::eq(tasks, self.scheduler.tasks()));
        // Relaxed: see `slot`.
        tasks.unlink(self.id, self.slot.load(Ordering::Relaxed));
    }

    /// Records the run-queue position of the task (see `queued_at`).
    #[inline]
    pub(crate) fn set_queued_at(&self, position: u64) {
        // Relaxed: written and read by the same thread only.
        self.queued_at.store(position, Ordering::Relaxed);
    }

    /// The run-queue position last recorded by `set_queued_at`.
    #[inline]
    pub(crate) fn queued_at(&self) -> u64 {
        // Relaxed: see `set_queued_at`.
        self.queued_at.load(Ordering::Relaxed)
    }
}

thread_local! {
    /// Set by [`run_cancelled`] around one `Runnable::run`: the task's
    /// [`guard`] then drops the user's future instead of polling it.
    static CANCEL_ON_POLL: Cell<bool> = const { Cell::new(false) };
    /// Set by [`guard`] when its task completes inside a `Runnable::run`:
    /// the scheduler then unlinks the task (the wrapper cannot reach the
    /// task's header, and holding a handle of its own would cost a
    /// reference count per spawn).
    static COMPLETED: Cell<bool> = const { Cell::new(false) };
}

/// A pointer to the `finished` flag of the task whose cell holds the
/// future that holds this.
struct FinishedFlag(std::ptr::NonNull<AtomicBool>);

// SAFETY: it only points at an `AtomicBool`, which is `Sync`.
unsafe impl Send for FinishedFlag {}

impl FinishedFlag {
    fn new(meta: &TaskMeta) -> FinishedFlag {
        FinishedFlag(std::ptr::NonNull::from(&meta.finished))
    }

    fn set(&self) {
        // SAFETY: the flag lives in the header of the task cell whose future
        // holds `self`; async-task never moves the cell and drops the header
        // only when it frees the cell, after the future is gone.
        let finished = unsafe { self.0.as_ref() };
        // Release: the output is stored after this, but a reader that sees
        // `true` only learns "done", which the flag alone carries.
        finished.store(true, Ordering::Release);
    }
}

/// The future stored in every task cell: runs `future`, catching panics,
/// unless the scheduler runs it in cancel mode.
fn guard<F: Future>(future: F, finished: FinishedFlag) -> Guard<F> {
    Guard {
        future: Some(future),
        finished,
    }
}

/// What [`guard`] returns. A future of its own rather than an `async fn`
/// around `poll_fn`: one layer less on every poll, inlined into the cell's.
struct Guard<F> {
    /// The user's future, pinned inside the cell; `None` once it completed
    /// or was cancelled (dropped in place).
    future: Option<F>,
    finished: FinishedFlag,
}

impl<F: Future> Future for Guard<F> {
    type Output = Contained<Output<F::Output>>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned, `finished` is not: the
        // user's future is only ever reached through the `Pin` made here,
        // never moved out (it is dropped in place by `Pin::set`), `Guard`
        // has no `Drop` impl, and it is `Unpin` only if `F` is.
        let (mut future, finished) = unsafe {
            let this = self.get_unchecked_mut();
            (Pin::new_unchecked(&mut this.future), &this.finished)
        };
        let cancel = CANCEL_ON_POLL
            .try_with(|c| c.replace(false))
            .unwrap_or(false);
        let result = match future.as_mut().as_pin_mut() {
            Some(_) if cancel => Err(JoinError::cancelled()),
            Some(inner) => match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
                Ok(Poll::Pending) => return Poll::Pending,
                Ok(Poll::Ready(output)) => Ok(output),
                Err(payload) => Err(JoinError::panic(payload)),
            },
            None => unreachable!("task polled after it completed"),
        };
        // Drop the user's future now, containing a panic of its destructor:
        // cancelled or not, the handle resolves only after this.
        let _ = catch_unwind(AssertUnwindSafe(|| future.set(None)));
        let _ = COMPLETED.try_with(|c| c.set(true));
        finished.set();
        Poll::Ready(Contained(Some(result)))
    }
}

thread_local! {
    /// This thread's id for local tasks (0: not assigned yet).
    static THREAD_ID: Cell<u64> = const { Cell::new(0) };
}

/// A process-unique id of the current thread (never 0): the owner of the
/// local tasks it spawns.
#[inline]
pub(crate) fn thread_id() -> u64 {
    // A process-wide counter (a `static`), outside what the loom models
    // explore: `std`'s atomic, not the facade's.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    THREAD_ID
        .try_with(|cell| {
            let id = cell.get();
            if id != 0 {
                return id;
            }
            // Relaxed: only uniqueness matters, which the RMW guarantees.
            let id = NEXT.fetch_add(1, Ordering::Relaxed);
            cell.set(id);
            id
        })
        // During thread-local destruction: an id no task can have.
        .unwrap_or(u64::MAX)
}

/// Allocates the cell of a `Send` task belonging to `scheduler` and links it
/// into the runtime's task list. Returns the first runnable, which the
/// caller must schedule, or `None` if the runtime is shut down: the task
/// was then cancelled at once (its handle resolves to a cancelled
/// [`JoinError`]). Every later wake-up goes through `schedule`, the
/// scheduler's schedule function (zero-sized: see `TaskMeta::scheduler`).
pub(crate) fn spawn<F, S>(
    future: F,
    scheduler: Scheduler,
    schedule: S,
) -> (Option<Runnable>, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Fn(Runnable) + Send + Sync + 'static,
{
    let id = scheduler.tasks().next_id();
    let (runnable, task) = async_task::Builder::new()
        .metadata(TaskMeta::new(0, id, scheduler))
        .spawn(move |meta| guard(future, FinishedFlag::new(meta)), schedule);
    link(runnable, task)
}

/// Like [`spawn`], for a `!Send` future bound to the current thread.
pub(crate) fn spawn_local<F, S>(
    future: F,
    scheduler: Scheduler,
    schedule: S,
) -> (Option<Runnable>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: Fn(Runnable) + Send + Sync + 'static,
{
    let id = scheduler.tasks().next_id();
    let (runnable, task) = async_task::Builder::new()
        .metadata(TaskMeta::new(thread_id(), id, scheduler))
        .spawn_local(move |meta| guard(future, FinishedFlag::new(meta)), schedule);
    link(runnable, task)
}

/// Allocates the cell of a task that runs on the blocking pool: like
/// [`spawn`], but not linked into the runtime's task list. The pool owns it:
/// it runs it with [`run_unlisted`] and, at shutdown, cancels it with
/// [`cancel_unlisted`] if its closure has not started; a closure already
/// running cannot be cancelled, and `Runtime::shutdown_timeout` waits for
/// it (at most its time-out) instead of the shutdown loop spinning on it.
pub(crate) fn spawn_unlisted<F, S>(
    future: F,
    scheduler: Scheduler,
    schedule: S,
) -> (Runnable, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Fn(Runnable) + Send + Sync + 'static,
{
    let id = scheduler.tasks().next_id();
    let (runnable, task) = async_task::Builder::new()
        .metadata(TaskMeta::new(0, id, scheduler))
        .spawn(move |meta| guard(future, FinishedFlag::new(meta)), schedule);
    let handle = JoinHandle::new(task, Some(runnable.waker()));
    (runnable, handle)
}

/// Runs a task made by [`spawn_unlisted`] (on a blocking-pool thread), or
/// cancels it if it was aborted meanwhile.
pub(crate) fn run_unlisted(runnable: Runnable) {
    if runnable.metadata().is_aborted() {
        run_cancelled(runnable);
    } else {
        runnable.run();
    }
    // Nothing to unlink: the flag only matters to listed tasks.
    COMPLETED.with(|c| c.set(false));
}

/// Cancels a task made by [`spawn_unlisted`] that will never run.
pub(crate) fn cancel_unlisted(runnable: Runnable) {
    run_cancelled(runnable);
    COMPLETED.with(|c| c.set(false));
}

/// Links a new task into its runtime's list, or cancels it at once if the
/// list is closed (on the spawning thread, which is the task's own).
fn link<T>(
    runnable: Runnable,
    task: async_task::Task<Contained<Output<T>>, TaskMeta>,
) -> (Option<Runnable>, JoinHandle<T>) {
    let meta = runnable.metadata();
    let linked = meta.scheduler().tasks().link(meta.id, runnable.waker());
    // No waker of its own: an abort takes the task's from the list.
    let handle = JoinHandle::new(task, None);
    match linked {
        Some(slot) => {
            // Relaxed: see `TaskMeta::slot`.
            meta.slot.store(slot, Ordering::Relaxed);
            meta.scheduler().metrics().spawned(meta.id);
            (Some(runnable), handle)
        }
        None => {
            // Not linked: nothing to unlink when it completes now.
            run_cancelled(runnable);
            COMPLETED.with(|c| c.set(false));
            (None, handle)
        }
    }
}

/// Runs a task popped from a run queue, on its own thread: polls it once,
/// or cancels it if it was aborted; unlinks it from `tasks` (its runtime's
/// list) if it completed; counts and records the poll in `metrics` as worker
/// `worker`'s (the caller must be that worker's thread). Never panics because of the task.
pub(crate) fn run(runnable: Runnable, tasks: &OwnedTasks, metrics: &Metrics, worker: usize) {
    let meta = runnable.metadata();
    debug_assert!(meta.is_on_its_thread());
    // Read before the run: `runnable` is consumed by it. The task stays
    // linked (its cell alive) until `unlink` below.
    let (id, slot) = (meta.id, meta.slot.load(Ordering::Relaxed));
    metrics.poll_start(worker, id);
    let _span = crate::metrics::poll_span(id);
    if meta.is_aborted() {
        run_cancelled(runnable);
    } else {
        runnable.run();
    }
    let completed = COMPLETED.with(|c| c.replace(false));
    metrics.poll_end(worker, id, completed);
    if completed {
        tasks.unlink(id, slot);
    }
}

/// Cancels a task that will never run normally again (its runtime shuts
/// down): its future is dropped, its handle resolves to a cancelled
/// [`JoinError`], and it is unlinked from `tasks`. A local task can only be
/// dropped on its own thread: found elsewhere, it is given back.
pub(crate) fn shutdown(runnable: Runnable, tasks: &OwnedTasks) -> Result<(), Runnable> {
    if !runnable.metadata().is_on_its_thread() {
        return Err(runnable);
    }
    let meta = runnable.metadata();
    let (id, slot) = (meta.id, meta.slot.load(Ordering::Relaxed));
    run_cancelled(runnable);
    COMPLETED.with(|c| c.set(false));
    tasks.unlink(id, slot);
    Ok(())
}

/// Gives up on a local task whose runtime shuts down on another thread than
/// its own: its future can be neither polled nor dropped here, so it is
/// leaked (never dropped, its handle never resolves), and unlinked from
/// `tasks` so that shutdown does not wait for it.
pub(crate) fn orphan(runnable: Runnable, tasks: &OwnedTasks) {
    runnable.metadata().unlink(tasks);
    std::mem::forget(runnable);
}

fn run_cancelled(runnable: Runnable) {
    CANCEL_ON_POLL.with(|c| c.set(true));
    // If the task was closed already, `run` only drops the future; a panic
    // of its destructor must not take the scheduler down.
    let _ = catch_unwind(AssertUnwindSafe(move || runnable.run()));
    CANCEL_ON_POLL.with(|c| c.set(false));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::{current_thread, Handle};
    use std::sync::Arc;

    /// Runs task cells by hand, without a scheduler loop: the cell, the
    /// panic wrapper and abort. Fast enough for miri.
    #[test]
    fn cell_runs_catches_panics_and_aborts() {
        // A runtime nobody drives: scheduled tasks wait in its injector.
        let shared = Arc::new(current_thread::Shared::new());
        let handle = || Handle::CurrentThread(Arc::clone(&shared));
        let schedule = current_thread::schedule_task;
        let (r1, h1) = spawn(async { 1 + 1 }, shared.clone(), schedule);
        let (r2, h2) = spawn(async { panic!("inside") }, shared.clone(), schedule);
        let (r3, h3) = spawn(std::future::pending::<()>(), shared.clone(), schedule);
        for runnable in [r1, r2, r3] {
            runnable.expect("the runtime is open").schedule();
        }
        shared.run_queued_for_test();
        assert!(h1.is_finished() && h2.is_finished() && !h3.is_finished());
        assert!(
            !shared.drivers().tasks.is_empty(),
            "the pending task is linked"
        );
        h3.abort();
        shared.run_queued_for_test();
        assert!(h3.is_finished());
        let (o1, o2, o3) = futures_lite_block_on(async { (h1.await, h2.await, h3.await) });
        assert_eq!(o1.unwrap(), 2);
        assert!(o2.unwrap_err().is_panic());
        assert!(o3.unwrap_err().is_cancelled());
        assert!(shared.drivers().tasks.is_empty(), "finished tasks unlink");
        handle().shutdown();
    }

    /// A listed task's handles keep no waker of their own: an abort takes
    /// the task's waker from the runtime's list, and once the task has left
    /// the list (it completed) an abort is a no-op and a new `AbortHandle`
    /// is finished from the start. Fast enough for miri.
    #[test]
    fn abort_reaches_a_listed_task_through_the_list() {
        let shared = Arc::new(current_thread::Shared::new());
        let schedule = current_thread::schedule_task;
        let (r1, h1) = spawn(async { 7 }, shared.clone(), schedule);
        let (r2, h2) = spawn(std::future::pending::<()>(), shared.clone(), schedule);
        for runnable in [r1, r2] {
            runnable.expect("the runtime is open").schedule();
        }
        shared.run_queued_for_test();
        assert_eq!(shared.drivers().tasks.len(), 1, "the pending task only");

        // Completed and unlinked: nothing to wake, and the output stays.
        let a1 = h1.abort_handle();
        assert!(a1.is_finished());
        a1.abort();
        h1.abort();
        shared.run_queued_for_test();

        // Pending and linked: an abort handle (and its clone) reach it.
        let a2 = h2.abort_handle();
        assert!(!a2.is_finished());
        a2.clone().abort();
        shared.run_queued_for_test();
        assert!(a2.is_finished() && h2.is_finished());
        assert!(
            shared.drivers().tasks.is_empty(),
            "the aborted task unlinked"
        );
        // Aborting it again, through either handle: a no-op.
        a2.abort();
        h2.abort();
        shared.run_queued_for_test();

        let (o1, o2) = futures_lite_block_on(async { (h1.await, h2.await) });
        assert_eq!(o1.unwrap(), 7);
        assert!(o2.unwrap_err().is_cancelled());
        Handle::CurrentThread(shared).shutdown();
    }

    /// A minimal block_on for futures that are already complete.
    fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("future was not ready"),
        }
    }
}
