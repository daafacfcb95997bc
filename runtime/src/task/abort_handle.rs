//! [`AbortHandle`]: aborting a task without owning its output; and
//! [`abort_task`], the one code path of every abort.

use super::raw::Header;
use super::TaskMeta;
use std::fmt;
use std::ptr::NonNull;
use std::task::Waker;

/// Cancels a task: sets its abort flag, then wakes it so that its scheduler
/// picks it up and drops its future instead of polling it.
///
/// `waker` is the task's waker if the caller holds one (an unlisted
/// blocking-pool task); otherwise it is taken from the runtime's task list,
/// and a task no longer listed there has completed: its abort is a no-op.
///
/// [`JoinHandle::abort`](super::JoinHandle::abort) and
/// [`AbortHandle::abort`] both call this.
pub(super) fn abort_task(meta: &TaskMeta, waker: Option<&Waker>) {
    meta.abort();
    let listed;
    let waker = match waker {
        Some(waker) => waker,
        None => match meta.listed_waker() {
            Some(waker) => {
                listed = waker;
                &listed
            }
            None => return,
        },
    };
    // Schedules the task (a no-op if it already completed): the scheduler
    // then drops it instead of running it, before any other task on the
    // current-thread runtime.
    waker.wake_by_ref();
    meta.scheduler().note_abort(meta);
}

/// A handle that can abort a spawned task, without awaiting it.
///
/// Returned by [`JoinHandle::abort_handle`](super::JoinHandle::abort_handle)
/// and [`JoinSet::spawn`](crate::JoinSet::spawn). Unlike a
/// [`JoinHandle`](super::JoinHandle) it is not generic over the task's
/// output, it is `Clone`, and dropping it does nothing.
///
/// # Examples
///
/// ```
/// runtime::block_on(async {
///     let handle = runtime::spawn(std::future::pending::<()>());
///     let abort = handle.abort_handle();
///     assert!(!abort.is_finished());
///     abort.abort();
///     assert!(handle.await.unwrap_err().is_cancelled());
///     assert!(abort.is_finished());
/// });
/// ```
pub struct AbortHandle {
    /// The header of the task's cell, and the task's own waker. Besides
    /// scheduling the task on `abort`, the waker holds a reference to the
    /// task's cell, which keeps the header alive. `None`: the task had
    /// completed (and left the runtime's task list) when this handle was
    /// made; it is finished for good, and `abort` does nothing.
    task: Option<(NonNull<Header>, Waker)>,
}

// SAFETY: the header is only read through `&Header`, which is `Sync`
// (atomics and a `Send + Sync` scheduler handle); the waker is
// `Send + Sync`.
unsafe impl Send for AbortHandle {}
// SAFETY: as for `Send`: every method takes `&self` and only reads `meta`
// through shared references.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// `waker` must be a waker of the task whose header is `header`, or
    /// `None` if the task has completed and holds none for us.
    pub(super) fn new(header: &Header, waker: Option<Waker>) -> AbortHandle {
        AbortHandle {
            task: waker.map(|waker| (NonNull::from(header), waker)),
        }
    }

    /// The task's header and waker; `None` if it had completed when this
    /// handle was made.
    fn task(&self) -> Option<(&Header, &Waker)> {
        let (header, waker) = self.task.as_ref()?;
        // SAFETY: `header` is the header of the task cell that `waker`
        // holds a reference to: the cell is freed only once every
        // reference is gone, and never moves.
        Some((unsafe { header.as_ref() }, waker))
    }

    /// Cancels the task, exactly as
    /// [`JoinHandle::abort`](super::JoinHandle::abort) does: its future is
    /// dropped without being polled again and its `JoinHandle` resolves to
    /// a cancelled [`JoinError`](super::JoinError). Does nothing if the task
    /// has finished.
    pub fn abort(&self) {
        if let Some((header, waker)) = self.task() {
            abort_task(&header.meta, Some(waker));
        }
    }

    /// Returns `true` if the task has finished: completed, panicked or been
    /// cancelled.
    pub fn is_finished(&self) -> bool {
        self.task().is_none_or(|(header, _)| header.is_complete())
    }
}

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        AbortHandle {
            task: self.task.clone(),
        }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("finished", &self.is_finished())
            .finish_non_exhaustive()
    }
}
