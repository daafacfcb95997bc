//! Tasks: the cell a spawned future lives in, its [`JoinHandle`] and
//! [`JoinError`].
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
//! this crate uses it. The crate's only `unsafe` is the pin projection of
//! [`Timeout`](crate::Timeout).
//!
//! On top of the cell this module adds, in the future it wraps around the
//! user's (`guard`):
//! * panic isolation: a panic while polling becomes the task's output
//!   (`Err(JoinError)`) instead of unwinding through the scheduler;
//! * cancellation: a scheduler that drops a task (abort, shutdown) does so by
//!   running it one last time in "cancel" mode (a thread-local flag, see
//!   `run_cancelled`), so that the wrapper drops the user's future and then
//!   completes with a cancelled `JoinError`. The handle therefore always
//!   receives an output, and the user's future is always dropped before it;
//! * `TaskMeta`, stored in the cell's header: the scheduler the task belongs
//!   to (so that the schedule function is zero-sized), the abort flag that
//!   the schedulers check before running a task, and the owning thread of a
//!   local task, so that it is never polled or dropped elsewhere.

mod abort_handle;
mod join_error;
mod join_handle;
mod join_set;

pub use abort_handle::AbortHandle;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub use join_set::JoinSet;

use crate::scheduler::Handle;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Poll;

/// What a task's cell holds once the task is done.
pub(crate) type Output<T> = Result<T, JoinError>;

/// A scheduled task, ready to be run. One pointer wide.
pub(crate) type Runnable = async_task::Runnable<TaskMeta>;

/// Per-task data kept in the task cell's header.
#[derive(Debug)]
pub(crate) struct TaskMeta {
    /// Set by [`JoinHandle::abort`]; a scheduler that pops a task with this
    /// flag cancels it instead of polling it.
    aborted: AtomicBool,
    /// Set by the task's [`guard`] when it produces its output (completed,
    /// panicked or cancelled): what [`AbortHandle::is_finished`] reads.
    finished: AtomicBool,
    /// For `spawn_local` tasks, the [`crate::context::thread_id`] of the
    /// thread that spawned it; 0 for `Send` tasks.
    owner_thread: u64,
    /// The scheduler the task belongs to. Kept here rather than captured by
    /// the schedule function: a zero-sized schedule function spares
    /// async-task a waker clone and drop (two atomic operations) on every
    /// wake-up.
    scheduler: Handle,
}

impl TaskMeta {
    fn new(owner_thread: u64, scheduler: Handle) -> TaskMeta {
        TaskMeta {
            aborted: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            owner_thread,
            scheduler,
        }
    }

    /// The scheduler this task belongs to.
    pub(crate) fn scheduler(&self) -> &Handle {
        &self.scheduler
    }

    pub(crate) fn abort(&self) {
        // Release: pairs with the Acquire load in `is_aborted`. (`abort` then
        // wakes the task, and the queue it goes through orders this store
        // too; the pair states the intent.)
        self.aborted.store(true, Ordering::Release);
    }

    pub(crate) fn is_aborted(&self) -> bool {
        // Acquire: pairs with the Release store in `abort`.
        self.aborted.load(Ordering::Acquire)
    }

    /// Whether the task has produced its output.
    pub(crate) fn is_finished(&self) -> bool {
        // Acquire: pairs with the Release store in `guard`.
        self.finished.load(Ordering::Acquire)
    }

    /// Whether this task may be polled or dropped on the current thread.
    fn is_on_its_thread(&self) -> bool {
        self.owner_thread == 0 || self.owner_thread == crate::context::thread_id()
    }
}

thread_local! {
    /// Set by [`run_cancelled`] around one `Runnable::run`: the task's
    /// [`guard`] then drops the user's future instead of polling it.
    static CANCEL_ON_POLL: Cell<bool> = const { Cell::new(false) };
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
async fn guard<F: Future>(future: F, finished: FinishedFlag) -> Output<F::Output> {
    let mut future = pin!(Some(future));
    std::future::poll_fn(move |cx| {
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
        finished.set();
        Poll::Ready(result)
    })
    .await
}

/// Allocates the cell of a `Send` task belonging to `scheduler`, which
/// receives the runnable every time the task is woken (see
/// [`crate::scheduler::schedule`]); the first runnable is returned and must
/// be scheduled by the caller.
pub(crate) fn spawn<F>(future: F, scheduler: Handle) -> (Runnable, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (runnable, task) = async_task::Builder::new()
        .metadata(TaskMeta::new(0, scheduler))
        .spawn(
            move |meta| guard(future, FinishedFlag::new(meta)),
            crate::scheduler::schedule,
        );
    let handle = JoinHandle::new(task, runnable.waker());
    (runnable, handle)
}

/// Like [`spawn`], for a `!Send` future bound to the current thread.
pub(crate) fn spawn_local<F>(future: F, scheduler: Handle) -> (Runnable, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let (runnable, task) = async_task::Builder::new()
        .metadata(TaskMeta::new(crate::context::thread_id(), scheduler))
        .spawn_local(
            move |meta| guard(future, FinishedFlag::new(meta)),
            crate::scheduler::schedule,
        );
    let handle = JoinHandle::new(task, runnable.waker());
    (runnable, handle)
}

/// Runs a task popped from a run queue: polls it once, or cancels it if it
/// was aborted. Never panics because of the task.
pub(crate) fn run(runnable: Runnable) {
    let meta = runnable.metadata();
    if meta.owner_thread != 0 && !meta.is_on_its_thread() {
        // A local task reached another thread (its runtime's `block_on`
        // moved to another thread): it can be neither polled nor dropped
        // here, so it is leaked rather than aborting the process.
        std::mem::forget(runnable);
    } else if meta.is_aborted() {
        run_cancelled(runnable);
    } else {
        runnable.run();
    }
}

/// Cancels a task that will never run normally again (aborted, or its
/// runtime shut down): its future is dropped and its handle resolves to a
/// cancelled [`JoinError`]. A local task found on a foreign thread is leaked
/// instead (see [`run`]).
pub(crate) fn release(runnable: Runnable) {
    if runnable.metadata().is_on_its_thread() {
        run_cancelled(runnable);
    } else {
        std::mem::forget(runnable);
    }
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
    use std::sync::Arc;

    /// Runs task cells by hand, without a scheduler loop: the cell, the
    /// panic wrapper and abort. Fast enough for miri.
    #[test]
    fn cell_runs_catches_panics_and_aborts() {
        use crate::scheduler::current_thread;
        // A runtime nobody drives: scheduled tasks wait in its injector.
        let shared = Arc::new(current_thread::Shared::new());
        let handle = || Handle::CurrentThread(Arc::clone(&shared));
        let (r1, h1) = spawn(async { 1 + 1 }, handle());
        let (r2, h2) = spawn(async { panic!("inside") }, handle());
        let (r3, h3) = spawn(std::future::pending::<()>(), handle());
        r1.schedule();
        r2.schedule();
        r3.schedule();
        shared.run_queued_for_test();
        assert!(h1.is_finished() && h2.is_finished() && !h3.is_finished());
        h3.abort();
        shared.run_queued_for_test();
        assert!(h3.is_finished());
        let (o1, o2, o3) = futures_lite_block_on(async { (h1.await, h2.await, h3.await) });
        assert_eq!(o1.unwrap(), 2);
        assert!(o2.unwrap_err().is_panic());
        assert!(o3.unwrap_err().is_cancelled());
        shared.shutdown();
    }

    /// A minimal block_on for futures that are already complete.
    fn futures_lite_block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => output,
            Poll::Pending => panic!("future was not ready"),
        }
    }
}
