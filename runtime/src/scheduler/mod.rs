//! The two schedulers and the [`Handle`] that names either of them.
//!
//! * [`current_thread`]: one thread (the one in `block_on`) runs everything;
//!   a thread-local `VecDeque` run queue, a lock-free injector for wake-ups
//!   from other threads.
//! * [`multi_thread`]: worker threads with `crossbeam-deque` run queues, a
//!   shared injector, work stealing, and a parking protocol without lost
//!   wake-ups. Its `block_on` runs the future (and `spawn_local` tasks) on
//!   the calling thread with a [`current_thread`] scheduler of its own.
//!
//! A task's cell records its scheduler's [`Handle`] (see `TaskMeta`), and
//! [`schedule`] routes every wake-up to it.

pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use crate::io::Driver;
use crate::task::{JoinHandle, Runnable};
use crate::time::Timer;
use std::future::Future;
use std::sync::Arc;

/// A cheap, clonable reference to a runtime's shared state.
#[derive(Clone, Debug)]
pub(crate) enum Handle {
    CurrentThread(Arc<current_thread::Shared>),
    MultiThread(Arc<multi_thread::Shared>),
}

impl Handle {
    pub(crate) fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => shared.spawn(future),
            Handle::MultiThread(shared) => shared.spawn(future),
        }
    }

    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Handle::CurrentThread(shared) => shared.block_on(self.clone(), future),
            Handle::MultiThread(shared) => shared.block_on(self.clone(), future),
        }
    }

    /// The runtime's timer, where `sleep` registers.
    pub(crate) fn timer(&self) -> &Timer {
        match self {
            Handle::CurrentThread(shared) => shared.timer(),
            Handle::MultiThread(shared) => shared.timer(),
        }
    }

    /// The runtime's I/O reactor, where sockets register (every runtime a
    /// `Builder` makes has one).
    pub(crate) fn driver(&self) -> Option<&Arc<Driver>> {
        match self {
            Handle::CurrentThread(shared) => shared.driver(),
            Handle::MultiThread(shared) => Some(shared.driver()),
        }
    }

    /// A timer entry became the earliest one: make sure a thread of the
    /// runtime parks with the new, shorter time-out.
    pub(crate) fn timer_changed(&self) {
        match self {
            Handle::CurrentThread(shared) => shared.timer_changed(),
            Handle::MultiThread(shared) => shared.timer_changed(),
        }
    }

    /// A task of this runtime was aborted and woken: the current-thread
    /// scheduler drops it before it picks any other task.
    pub(crate) fn note_abort(&self) {
        match self {
            Handle::CurrentThread(shared) => shared.note_abort(),
            // Workers drop an aborted task when they pop it.
            Handle::MultiThread(_) => {}
        }
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        match self {
            Handle::CurrentThread(shared) => shared.is_shut_down(),
            Handle::MultiThread(shared) => shared.is_shut_down(),
        }
    }

    pub(crate) fn shutdown(&self) {
        match self {
            Handle::CurrentThread(shared) => shared.shutdown(),
            Handle::MultiThread(shared) => shared.shutdown(),
        }
    }
}

/// The schedule function of every task: queues the runnable on the
/// scheduler recorded in its metadata. Zero-sized on purpose (see
/// `TaskMeta::scheduler`).
pub(crate) fn schedule(runnable: Runnable) {
    match runnable.metadata().scheduler() {
        Handle::CurrentThread(_) => current_thread::schedule_task(runnable),
        Handle::MultiThread(_) => multi_thread::schedule_task(runnable),
    }
}
