//! [`AbortHandle`]: aborting a task without owning its output.

use super::raw::TaskRef;
use std::fmt;

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
    /// A counted reference to the task's cell: it keeps the header alive
    /// (the abort flags, the state word), not the future.
    task: TaskRef,
}

impl AbortHandle {
    pub(super) fn new(task: TaskRef) -> AbortHandle {
        AbortHandle { task }
    }

    /// Cancels the task, exactly as
    /// [`JoinHandle::abort`](super::JoinHandle::abort) does: its future is
    /// dropped without being polled again and its `JoinHandle` resolves to
    /// a cancelled [`JoinError`](super::JoinError). Does nothing if the task
    /// has finished.
    pub fn abort(&self) {
        self.task.abort();
    }

    /// Returns `true` if the task has finished: completed, panicked or been
    /// cancelled.
    pub fn is_finished(&self) -> bool {
        self.task.header().is_complete()
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
