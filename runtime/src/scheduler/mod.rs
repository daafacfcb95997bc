//! The two schedulers and the [`Handle`] that names either of them.
//!
//! * [`current_thread`]: one thread (the one in `block_on`) runs everything;
//!   a thread-local `VecDeque` run queue, a lock-free injector for wake-ups
//!   from other threads.
//! * [`multi_thread`]: worker threads with `crossbeam-deque` run queues, a
//!   shared injector, work stealing, and a parking protocol without lost
//!   wake-ups. Its `block_on` runs the future (and `spawn_local` tasks) on
//!   the calling thread with a [`current_thread`] scheduler of its own.
//! * [`context`]: the thread-local current runtime (a [`Handle`]) the
//!   schedulers enter on their threads, and the front ends that look it up
//!   (`spawn`, `spawn_local`, `spawn_blocking`, a socket's reactor).
//!
//! What both flavours have (the timer, the task list) is in their
//! [`Drivers`], reached through [`Handle::drivers`]; the schedulers keep
//! only their queues and threads. Shutdown, the same protocol for both, is
//! written once here ([`Handle::shutdown`]).
//!
//! Each scheduler's shared state implements [`task::Schedule`], which is
//! all a task knows of it; a task's wake-ups go to the zero-sized schedule
//! function of its flavour (`current_thread::schedule_task`,
//! `multi_thread::schedule_task`), chosen when it is spawned. The task
//! module does not import this one (`.ci/modgraph.py` checks it, names
//! used through the crate root included).

pub(crate) mod context;
pub(crate) mod current_thread;
pub(crate) mod multi_thread;

use crate::blocking::{BlockingPool, Config as BlockingConfig};
use crate::driver::Drivers;
use crate::io::Driver;
use crate::task::{self, JoinHandle, OwnedTasks, Runnable};
use crate::timer;
use std::future::Future;
// A `std` `Arc`, also under loom: a task holds its scheduler as an
// `Arc<dyn task::Schedule>` (see `task::Scheduler`).
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
        // One arm per flavour: each passes its own zero-sized schedule
        // function, so that a wake-up needs no `match` and no dynamic call.
        match self {
            Handle::CurrentThread(shared) => {
                let schedule = current_thread::schedule_task;
                let (runnable, join_handle) = task::spawn(future, shared.clone(), schedule);
                if let Some(runnable) = runnable {
                    schedule(runnable);
                }
                join_handle
            }
            Handle::MultiThread(shared) => {
                let schedule = multi_thread::schedule_task;
                let (runnable, join_handle) = task::spawn(future, shared.clone(), schedule);
                if let Some(runnable) = runnable {
                    schedule(runnable);
                }
                join_handle
            }
        }
    }

    /// Allocates a task for the blocking pool (see `task::spawn_unlisted`),
    /// belonging to this scheduler.
    pub(crate) fn spawn_unlisted<F>(&self, future: F) -> (Runnable, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            Handle::CurrentThread(shared) => {
                task::spawn_unlisted(future, shared.clone(), current_thread::schedule_task)
            }
            Handle::MultiThread(shared) => {
                task::spawn_unlisted(future, shared.clone(), multi_thread::schedule_task)
            }
        }
    }

    /// Spawns a `!Send` task on this scheduler: the current-thread one of
    /// a `block_on` thread (see `context::enter`).
    pub(crate) fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        match self {
            Handle::CurrentThread(shared) => {
                current_thread::Shared::spawn_local(Arc::clone(shared), future)
            }
            Handle::MultiThread(_) => unreachable!("local tasks run on a block_on thread"),
        }
    }

    /// Before a task yields: see `current_thread::Shared::collect_ready`.
    pub(crate) fn collect_ready(&self) {
        if let Handle::CurrentThread(shared) = self {
            shared.collect_ready();
        }
    }

    #[track_caller]
    pub(crate) fn block_on<F: Future>(&self, future: F) -> F::Output {
        match self {
            Handle::CurrentThread(shared) => {
                current_thread::Shared::block_on(shared, self.clone(), future)
            }
            Handle::MultiThread(shared) => shared.block_on(self.clone(), future),
        }
    }

    /// The runtime's timer, task list, and the other mechanisms both
    /// flavours share.
    pub(crate) fn drivers(&self) -> &Drivers {
        match self {
            Handle::CurrentThread(shared) => shared.drivers(),
            Handle::MultiThread(shared) => shared.drivers(),
        }
    }

    /// The runtime's I/O reactor, where sockets register (every runtime a
    /// `Builder` makes has one).
    pub(crate) fn driver(&self) -> Option<&Arc<Driver>> {
        self.drivers().io.as_ref()
    }

    /// This runtime as a `Sleep` keeps it (see `timer::Driver`).
    pub(crate) fn time_driver(&self) -> Arc<dyn timer::Driver> {
        match self {
            Handle::CurrentThread(shared) => shared.clone(),
            Handle::MultiThread(shared) => shared.clone(),
        }
    }

    /// The runtime's `spawn_blocking` pool (started with the default
    /// settings if the `Builder` did not set it up).
    pub(crate) fn blocking_pool(&self) -> &BlockingPool {
        self.drivers()
            .blocking
            .get_or_init(|| BlockingPool::new(BlockingConfig::default()))
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.drivers().tasks.is_closed()
    }

    /// Shuts the runtime down: every task it owns is cancelled (its future
    /// dropped, its handle resolved to a cancelled `JoinError`) by the time
    /// this returns, wherever it waited; a task spawned later is cancelled
    /// at once.
    ///
    /// The protocol: close the task list (no new task gets in), stop the
    /// scheduler's threads, then, until the list is empty, wake every
    /// listed task and cancel whatever reaches the scheduler's queues. A
    /// closed runtime never cancels a task inside the `wake()` that
    /// scheduled it: cancelling runs destructors, which wake more tasks (a
    /// mutex guard passes the lock on), and doing that inline would recurse
    /// as deep as the chain of waiters. Here each task is cancelled from
    /// this loop, on a stack of bounded depth.
    pub(crate) fn shutdown(&self) {
        let tasks = &self.drivers().tasks;
        tasks.close();
        let can_wait = match self {
            // No thread runs a current-thread runtime being dropped (its
            // `block_on` borrows it).
            Handle::CurrentThread(_) => true,
            Handle::MultiThread(shared) => shared.stop_workers(),
        };
        loop {
            let mut progressed = self.cancel_queued();
            if tasks.is_empty() {
                break;
            }
            // Woken outside the list's locks: each wake-up queues an idle
            // task (a no-op for a task queued already).
            for waker in tasks.wakers() {
                waker.wake();
            }
            progressed |= self.cancel_queued();
            if tasks.is_empty() {
                break;
            }
            if !progressed {
                if !can_wait {
                    // Called on one of the runtime's own workers (a task
                    // dropped the last handle of its runtime): the task
                    // running here cannot be cancelled from inside itself;
                    // the workers cancel what is left as they exit.
                    break;
                }
                // Another thread is between a task's wake-up and its push
                // to our queue: it will push soon.
                std::thread::yield_now();
            }
        }
        // Wakes whatever else waits on the timer (a `Sleep` first polled
        // here, now elsewhere): it registers with another timer.
        self.drivers().timer.clear();
        // Blocking closures are not waited for here: queued ones are
        // cancelled, running ones finish on their own
        // (`Runtime::shutdown_timeout` waits for them).
        if let Some(pool) = self.drivers().blocking.get() {
            pool.shutdown(std::time::Duration::ZERO);
        }
        // Sockets still registered (held outside the runtime) fail from now
        // on instead of waiting for a reactor nobody drives.
        if let Some(io) = &self.drivers().io {
            io.shut_down();
        }
    }

    /// Cancels every task in the scheduler's queues. Returns whether there
    /// was any.
    fn cancel_queued(&self) -> bool {
        match self {
            Handle::CurrentThread(shared) => shared.cancel_queued(),
            Handle::MultiThread(shared) => shared.cancel_queued(),
        }
    }
}

/// Cancels a task of a runtime that shuts down (`tasks`: its list), on this
/// thread; a local task of another thread cannot be, and is orphaned (see
/// `task::orphan`).
pub(crate) fn cancel(runnable: Runnable, tasks: &OwnedTasks) {
    if let Err(runnable) = task::shutdown(runnable, tasks) {
        task::orphan(runnable, tasks);
    }
}
