//! Tasks: the cell a spawned future lives in (`raw.rs`, its state word in
//! `state.rs`), its [`JoinHandle`], [`AbortHandle`] and [`JoinError`], and
//! the list of the tasks a runtime owns (`list.rs`).
//!
//! # A cell of our own
//!
//! A task cell is one allocation holding a state word (flags and a
//! reference count), the task's metadata (`TaskMeta`: id, list links,
//! run-queue position, abort flag, owning thread, scheduler), the future
//! (later its output), the waker of whoever awaits the handle and the
//! scheduler's zero-sized schedule function. Its raw wakers and the
//! `Runnable` that runs it are in `raw.rs`, the only `unsafe`-heavy file
//! of this module, every block with its `SAFETY` note and every ordering
//! with its edge in `state.rs`; loom models of its races are beside it.
//!
//! This module used async-task until issue 16: its cell cost about 480
//! instructions of a spawn + run + join, plus a wrapper future and two
//! thread-locals of ours on top. The cell here folds those in:
//! * panic isolation: a panic while polling becomes the task's output
//!   (`Err(JoinError)`) instead of unwinding through the scheduler; a panic
//!   while dropping the future, an output nobody takes, or a panic payload
//!   is contained;
//! * cancellation: a scheduler that drops a task (abort, shutdown) does so
//!   by running it in cancel mode (`Runnable::cancel`): the user's future
//!   is dropped in place and the task completes with a cancelled
//!   `JoinError`. The handle therefore always receives an output, and the
//!   user's future is always dropped before it;
//! * the task list: a task is linked into its runtime's `OwnedTasks` when
//!   spawned and unlinked by the scheduler when a run reports that it
//!   completed, so that shutdown reaches every task, wherever it waits;
//! * `TaskMeta`, in the cell's header: the scheduler the task belongs to
//!   (so that the schedule function is zero-sized), the abort flag that
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
mod raw;
mod state;

pub use abort_handle::AbortHandle;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub(crate) use list::OwnedTasks;
pub(crate) use raw::Runnable;

use crate::loom::{AtomicU64, Ordering};
use crate::metrics::Metrics;
use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::task::Waker;

/// What a task's cell holds once the task is done.
pub(crate) type Output<T> = Result<T, JoinError>;

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
    /// The cell's state word (`state.rs`): first, on the cell's first
    /// cache line with the fields every step reads.
    state: state::State,
    /// For `spawn_local` tasks, the [`thread_id`] of the
    /// thread that spawned it; 0 for `Send` tasks.
    owner_thread: u64,
    /// The task's id in its runtime's [`OwnedTasks`].
    id: u64,
    /// Its place in its shard of that list (`list.rs`), touched only under
    /// the shard's lock.
    links: list::Links,
    /// Where the current-thread scheduler last queued it (a position in its
    /// run queue, see `current_thread::RunQueue`): lets an abort find it in
    /// O(1). Only read and written by the thread owning that run queue.
    queued_at: AtomicU64,
    /// The scheduler the task belongs to. Kept here rather than captured by
    /// the schedule function, which stays zero-sized: a wake-up passes one
    /// pointer.
    scheduler: Scheduler,
}

impl TaskMeta {
    fn new(owner_thread: u64, id: u64, scheduler: Scheduler) -> TaskMeta {
        TaskMeta {
            // Set by `raw::allocate`, which knows the references.
            state: state::State::new(0),
            owner_thread,
            id,
            links: list::Links::new(),
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

    /// Whether the task was aborted (`ABORTED` in its state word): a
    /// scheduler queues an aborted task at the front of its run queue.
    #[inline]
    pub(crate) fn is_aborted(&self) -> bool {
        self.state.load().is_aborted()
    }

    /// Whether this task may be polled or dropped on the current thread.
    #[inline]
    pub(crate) fn is_on_its_thread(&self) -> bool {
        self.owner_thread == 0
            || (self.owner_thread != NO_THREAD_ID && self.owner_thread == thread_id())
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
        .unwrap_or(NO_THREAD_ID)
}

/// What [`thread_id`] returns during the destruction of the thread's
/// locals: no task is ever bound to it (`spawn_local` refuses it), and a
/// local task is on no thread that returns it.
const NO_THREAD_ID: u64 = u64::MAX;

/// Allocates the cell of a listed task running `future`, with `meta`:
/// its first runnable, its handle's side, and the waker for the runtime's
/// task list. The cell starts with three references, one for each.
fn allocate<F, S>(future: F, meta: TaskMeta, schedule: S) -> (Runnable, raw::RawTask, Waker)
where
    F: Future + 'static,
    S: Fn(Runnable) + Send + Sync + 'static,
{
    let ptr = raw::allocate(future, meta, schedule, 3);
    // SAFETY: the cell starts with three references and the `NOTIFIED`
    // token: one reference and the token to the `Runnable`, one (with
    // `JOIN_INTEREST`) to the handle, one to the waker.
    unsafe {
        (
            Runnable::from_raw(ptr),
            raw::RawTask::from_raw(ptr),
            raw::waker_of(ptr),
        )
    }
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
    let parts = allocate(future, TaskMeta::new(0, id, scheduler), schedule);
    link(parts)
}

/// Like [`spawn`], for a `!Send` future bound to the current thread.
///
/// # Panics
///
/// If called while the current thread's locals are being destroyed (the
/// thread has no id then: the task could be neither run nor dropped).
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
    let owner = thread_id();
    assert_ne!(
        owner, NO_THREAD_ID,
        "spawn_local called while the thread's locals are being destroyed: \
         the task could never be run or dropped on this thread"
    );
    let id = scheduler.tasks().next_id();
    let parts = allocate(future, TaskMeta::new(owner, id, scheduler), schedule);
    link(parts)
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
    let ptr = raw::allocate(future, TaskMeta::new(0, id, scheduler), schedule, 2);
    // SAFETY: the cell starts with two references and the `NOTIFIED`
    // token: one reference and the token to the `Runnable`, one (with
    // `JOIN_INTEREST`) to the handle.
    let (runnable, raw) = unsafe { (Runnable::from_raw(ptr), raw::RawTask::from_raw(ptr)) };
    (runnable, JoinHandle::new(raw))
}

/// Runs a task made by [`spawn_unlisted`] (on a blocking-pool thread), or
/// cancels it if it was aborted meanwhile (the cell sees its abort flag).
pub(crate) fn run_unlisted(runnable: Runnable) {
    runnable.run(None);
}

/// Cancels a task made by [`spawn_unlisted`] that will never run.
pub(crate) fn cancel_unlisted(runnable: Runnable) {
    runnable.cancel(None);
}

/// Links a new task into its runtime's list, or cancels it at once if the
/// list is closed (on the spawning thread, which is the task's own).
fn link<T>(
    (runnable, raw, waker): (Runnable, raw::RawTask, Waker),
) -> (Option<Runnable>, JoinHandle<T>) {
    let meta = runnable.metadata();
    // SAFETY: `waker` is the task's, and the new task is linked nowhere.
    let linked = unsafe {
        meta.scheduler()
            .tasks()
            .link(runnable.header_ptr(), meta.id, waker)
    };
    let handle = JoinHandle::new(raw);
    match linked {
        Ok(()) => {
            meta.scheduler().metrics().spawned(meta.id);
            (Some(runnable), handle)
        }
        Err(waker) => {
            // Not linked: nothing to unlink when it completes now. Its
            // waker goes after the cancel, which holds a reference anyway.
            runnable.cancel(None);
            drop(waker);
            (None, handle)
        }
    }
}

/// Runs a task popped from a run queue, on its own thread: polls it once,
/// or cancels it if it was aborted; unlinks it from `tasks` (its runtime's
/// list) if it completed; counts and records the poll in `metrics` as worker
/// `worker`'s (the caller must be that worker's thread). Never panics because of the task.
#[inline]
pub(crate) fn run(runnable: Runnable, tasks: &OwnedTasks, metrics: &Metrics, worker: usize) {
    let meta = runnable.metadata();
    debug_assert!(meta.is_on_its_thread());
    // Read before the run: `runnable` is consumed by it.
    let id = meta.id;
    metrics.poll_start(worker, id);
    let _span = crate::metrics::poll_span(id);
    // An aborted task is cancelled by this run: the cell reads its abort
    // flag in the same atomic step that starts the run.
    // A run that completes the task unlinks it from `tasks`.
    let completed = runnable.run(Some(tasks));
    metrics.poll_end(worker, id, completed);
}

/// Cancels a task that will never run normally again (its runtime shuts
/// down): its future is dropped, its handle resolves to a cancelled
/// [`JoinError`], and it is unlinked from `tasks`. A local task can only be
/// dropped on its own thread: found elsewhere, it is given back.
pub(crate) fn shutdown(runnable: Runnable, tasks: &OwnedTasks) -> Result<(), Runnable> {
    if !runnable.metadata().is_on_its_thread() {
        return Err(runnable);
    }
    runnable.cancel(Some(tasks));
    Ok(())
}

/// Gives up on a local task whose runtime shuts down on another thread than
/// its own: its future can be neither polled nor dropped here, so it is
/// leaked (never dropped, its handle never resolves), and unlinked from
/// `tasks` so that shutdown does not wait for it.
pub(crate) fn orphan(runnable: Runnable, tasks: &OwnedTasks) {
    // SAFETY: the runnable's reference keeps the task alive.
    unsafe { tasks.unlink(runnable.header_ptr(), runnable.metadata().id) };
    std::mem::forget(runnable);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::{current_thread, Handle};
    use std::sync::Arc;
    use std::task::Poll;

    /// Task ownership by thread: a `Send` task is on every thread, a
    /// local task only on its own, and the teardown id (no thread) owns
    /// nothing, even on a thread whose id reads as it.
    #[test]
    fn local_tasks_are_on_their_own_thread_only() {
        let shared: Scheduler = Arc::new(current_thread::Shared::new());
        let here = thread_id();
        assert_ne!(here, NO_THREAD_ID);
        assert_eq!(thread_id(), here, "a thread's id is stable");
        let meta = |owner| TaskMeta::new(owner, 1, Arc::clone(&shared));
        assert!(meta(0).is_on_its_thread());
        assert!(meta(here).is_on_its_thread());
        assert!(!meta(NO_THREAD_ID).is_on_its_thread());
        let there = std::thread::spawn(thread_id).join().unwrap();
        assert_ne!(there, here);
        assert!(!meta(there).is_on_its_thread());
    }

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

    /// A task's handles abort it through its cell (no waker of their own):
    /// a pending task is scheduled and cancelled once, and once it has
    /// completed an abort is a no-op and a new `AbortHandle` is finished
    /// from the start. Fast enough for miri.
    #[test]
    fn abort_reaches_a_task_through_its_cell() {
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
