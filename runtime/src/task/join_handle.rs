//! [`JoinHandle`]: awaiting, aborting or detaching a spawned task.

use super::raw::RawTask;
use super::{AbortHandle, JoinError, Output};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output, or to abort it.
///
/// Awaiting it gives `Ok(output)`, or `Err(`[`JoinError`]`)` if the task
/// panicked or was cancelled. Dropping it *detaches* the task: it keeps
/// running to completion and its output is dropped.
///
/// Returned by [`spawn`](crate::spawn), [`spawn_local`](crate::spawn_local)
/// and [`Runtime::spawn`](crate::Runtime::spawn).
///
/// # Examples
///
/// ```
/// runtime::block_on(async {
///     let handle = runtime::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// });
/// ```
///
/// It is `Send` and `Sync` when `T: Send`; the handle of a local task with a
/// `!Send` output stays on its thread:
///
/// ```compile_fail
/// fn assert_send<T: Send>(_: &T) {}
/// runtime::block_on(async {
///     let handle = runtime::spawn_local(async { std::rc::Rc::new(1) });
///     assert_send(&handle);
/// });
/// ```
#[must_use = "dropping a JoinHandle detaches the task; await it to get its output"]
pub struct JoinHandle<T> {
    /// The task's cell: this handle's reference and its `JOIN_INTEREST`
    /// (released by `RawTask`'s drop, which also drops an output not
    /// taken). `None` once `poll` returned the output: taking it released
    /// both.
    raw: Option<RawTask>,
    /// The output type, read out of the cell by `poll`.
    _output: PhantomData<T>,
}

// SAFETY: the handle hands the output (a `T`) to whichever thread polls
// it, or drops it there: it may move to another thread if `T` may. The
// rest of what it reaches (the cell's header) is `Sync`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only reads the header (`abort`, `is_finished`,
// `abort_handle`); the output is reached through `&mut` only.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

// The handle never pins anything: the output is moved out of the cell.
impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// `raw` must be the handle's side of a cell whose output type is `T`.
    pub(super) fn new(raw: RawTask) -> Self {
        JoinHandle {
            raw: Some(raw),
            _output: PhantomData,
        }
    }

    /// Cancels the task: its future is dropped without being polled again,
    /// and then this handle resolves to a [`JoinError`] for which
    /// [`is_cancelled`](JoinError::is_cancelled) is true. If the task had
    /// already completed, the handle still gives its output.
    ///
    /// On the current-thread runtime the scheduler drops the future before
    /// it picks any other task (the task may be waiting, queued, or woken
    /// from another thread): a caller that aborts a task and then yields
    /// once ([`yield_now`](fn@crate::yield_now)) sees it gone. (That is
    /// for an abort on the thread running the runtime; an abort from
    /// another thread drops a task already in the run queue when the
    /// scheduler reaches it.) Each abort costs O(1). On the
    /// multi-thread runtime it is dropped when a worker next picks it; a
    /// task being polled at this moment finishes that poll first.
    ///
    /// # Examples
    ///
    /// ```
    /// runtime::block_on(async {
    ///     let handle = runtime::spawn(std::future::pending::<()>());
    ///     handle.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort(&self) {
        if let Some(raw) = &self.raw {
            raw.abort();
        }
    }

    /// Returns an [`AbortHandle`] for this task: it can abort the task
    /// (exactly as [`abort`](Self::abort) does) but not await its output,
    /// and it is not generic over the output type.
    ///
    /// # Panics
    ///
    /// Panics if this handle was polled to completion already (it no
    /// longer refers to the task).
    ///
    /// # Examples
    ///
    /// ```
    /// runtime::block_on(async {
    ///     let handle = runtime::spawn(std::future::pending::<()>());
    ///     let abort = handle.abort_handle();
    ///     abort.abort();
    ///     assert!(handle.await.unwrap_err().is_cancelled());
    ///     assert!(abort.is_finished());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        let raw = self
            .raw
            .as_ref()
            .expect("JoinHandle::abort_handle called after the handle returned the task's result");
        AbortHandle::new(raw.task_ref())
    }

    /// Returns `true` if the task has finished: completed, panicked or been
    /// cancelled. Awaiting the handle then does not wait.
    ///
    /// # Examples
    ///
    /// ```
    /// runtime::block_on(async {
    ///     let handle = runtime::spawn(async {});
    ///     assert!(!handle.is_finished()); // queued, not run yet
    ///     runtime::yield_now().await;
    ///     assert!(handle.is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw
            .as_ref()
            .is_none_or(|raw| raw.header().is_complete())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let raw = self
            .raw
            .as_ref()
            .expect("JoinHandle polled after it returned the task's result");
        // The cell always completes with an output, also when the task is
        // cancelled (see the `task` module docs).
        let mut output: Poll<Output<T>> = Poll::Pending;
        // SAFETY: `output` is a `Poll<Output<T>>`, and `T` is the task's
        // output type (`new`'s contract).
        let join_waker = unsafe {
            raw.try_read_output((&mut output as *mut Poll<Output<T>>).cast(), cx.waker())
        };
        if output.is_ready() {
            // Taking the output released the handle's reference.
            std::mem::forget(self.raw.take());
        }
        // The old join waker goes only now: if its destructor panics, the
        // handle no longer holds the reference released above.
        drop(join_waker);
        output
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
