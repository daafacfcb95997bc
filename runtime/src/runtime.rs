//! [`Runtime`], and the free [`block_on`] built on it.

use crate::metrics::RuntimeMetrics;
use crate::recorder::Event;
use crate::scheduler::Handle;
use crate::task::JoinHandle;
use std::fmt;
use std::future::Future;
use std::time::Duration;

/// An executor: runs futures and the tasks they spawn, with a timer.
///
/// Built by [`Runtime::new`] (current-thread) or a [`Builder`](crate::Builder).
///
/// # Shutdown
///
/// Dropping a runtime (or [`shutdown_timeout`](Runtime::shutdown_timeout))
/// stops its worker threads, joining them, and drops every task it owns,
/// wherever the task waits (on a timer, a lock held elsewhere, an event,
/// another runtime's task), by the time `drop` returns: the task's future
/// is dropped, so whatever it held (a lock guard, say) is released, and its
/// [`JoinHandle`] resolves to a cancelled [`JoinError`](crate::JoinError).
/// The runtime keeps a list of its tasks for this (one short, sharded lock
/// per spawn and per completion). A task spawned on a runtime that is shut
/// down is cancelled at once.
///
/// [`spawn_local`](crate::spawn_local) tasks are dropped on their own
/// thread: on a multi-thread runtime they belong to the `block_on` call
/// that spawned them and are dropped when it returns; on a current-thread
/// runtime they outlive `block_on` and are dropped with the runtime. Only a
/// current-thread runtime dropped on another thread than one of its local
/// tasks' cannot drop that task (its future is `!Send`): the task is then
/// leaked (its destructor never runs, its handle never resolves), never
/// dropped on the wrong thread.
///
/// # Examples
///
/// ```
/// let rt = runtime::Runtime::new();
/// let handle = rt.spawn(async { "spawned before block_on" });
/// let out = rt.block_on(async { handle.await.unwrap() });
/// assert_eq!(out, "spawned before block_on");
/// ```
pub struct Runtime {
    handle: Handle,
}

impl Runtime {
    pub(crate) fn from_handle(handle: Handle) -> Runtime {
        Runtime { handle }
    }

    /// Runs `future` to completion on the current thread, like asyncio's
    /// `loop.run_until_complete`, and returns its output. Meanwhile the
    /// runtime's tasks run: on this thread for a current-thread runtime, on
    /// the workers for a multi-thread one (`spawn_local` tasks always run on
    /// this thread).
    ///
    /// # Panics
    ///
    /// Panics if called while this thread is already running a runtime
    /// (inside `block_on` or a task): `.await` the future, or `spawn` it,
    /// instead. Panics of `future` itself propagate.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Builder::new_multi_thread().worker_threads(2).build()?;
    /// let caller = std::thread::current().id();
    /// let (main, task) = rt.block_on(async {
    ///     let task = runtime::spawn(async { std::thread::current().id() });
    ///     (std::thread::current().id(), task.await.unwrap())
    /// });
    /// assert_eq!(main, caller); // the future itself runs here
    /// assert_ne!(task, caller); // spawned tasks run on the workers
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime and returns its [`JoinHandle`]. The task
    /// is queued, not polled here: on a current-thread runtime it runs once
    /// some `block_on` runs. Unlike [`crate::spawn`], it works from any
    /// thread.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Runtime::new();
    /// let handle = rt.spawn(async { "queued until block_on" });
    /// assert!(!handle.is_finished());
    /// assert_eq!(rt.block_on(handle).unwrap(), "queued until block_on");
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }
}

impl Runtime {
    /// Shuts the runtime down, as dropping it does (every task it owns is
    /// dropped before this returns), then waits for the blocking closures
    /// still running on its blocking pool to finish, but at most `timeout`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = runtime::Runtime::new();
    /// let forever = rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// assert!(runtime::block_on(forever).unwrap_err().is_cancelled());
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        // Every task dropped, queued blocking closures cancelled...
        self.handle.shutdown();
        // ...then the running ones waited for, at most `timeout`. (Dropping
        // `self` afterwards shuts down again: a no-op by then.)
        if let Some(pool) = self.handle.drivers().blocking.get() {
            pool.shutdown(timeout);
        }
    }
}

/// Metrics and recorded events.
impl Runtime {
    /// A snapshot of the runtime's counters (see [`RuntimeMetrics`]):
    /// per-worker counters summed at the time of the call.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Runtime::new();
    /// rt.block_on(async { runtime::spawn(async {}).await.unwrap() });
    /// let metrics = rt.metrics();
    /// assert_eq!(metrics.num_workers, 1);
    /// assert_eq!(metrics.spawned_tasks_count, 1);
    /// assert_eq!(metrics.poll_count, 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        let drivers = self.handle.drivers();
        let depth = match &self.handle {
            Handle::CurrentThread(shared) => shared.injection_queue_depth(),
            Handle::MultiThread(shared) => shared.injection_queue_depth(),
        };
        drivers
            .metrics
            .snapshot(drivers.tasks.spawned(), drivers.tasks.len(), depth)
    }

    /// The events recorded since the last call (or since the runtime was
    /// built), in time order, if the runtime was built with
    /// [`Builder::record_events`](crate::Builder::record_events); empty otherwise. Each worker keeps at
    /// most the capacity given there (the newest events).
    ///
    /// # Examples
    ///
    /// ```
    /// use runtime::recorder::EventKind;
    ///
    /// let rt = runtime::Builder::new_current_thread().record_events(1024).build()?;
    /// rt.block_on(async { runtime::spawn(async {}).await.unwrap() });
    /// let kinds: Vec<EventKind> = rt.take_events().iter().map(|e| e.kind).collect();
    /// assert_eq!(
    ///     kinds,
    ///     [
    ///         EventKind::Spawn,
    ///         EventKind::Wake { by: None },
    ///         EventKind::PollStart,
    ///         EventKind::PollEnd { ready: true },
    ///     ]
    /// );
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take_events(&self) -> Vec<Event> {
        self.handle.drivers().metrics.take_events()
    }
}

impl Default for Runtime {
    fn default() -> Runtime {
        Runtime::new()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.handle.shutdown();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flavor = match self.handle {
            Handle::CurrentThread(_) => "current_thread",
            Handle::MultiThread(_) => "multi_thread",
        };
        f.debug_struct("Runtime")
            .field("flavor", &flavor)
            .finish_non_exhaustive()
    }
}

/// Runs `future` to completion on a new current-thread runtime, like
/// `asyncio.run`, and returns its output. Tasks it spawned and that are still
/// pending when it completes are dropped with the runtime.
///
/// # Panics
///
/// Panics if called while this thread is already running a runtime: use
/// `.await` (or `spawn`) there instead.
///
/// # Examples
///
/// ```
/// let answer = runtime::block_on(async {
///     let task = runtime::spawn(async { 40 });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    Runtime::new().block_on(future)
}

#[cfg(test)]
mod tests {
    //! Small end-to-end runs of both schedulers, sized for miri.

    use super::*;
    use crate::builder::Builder;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// Counts how many times it is dropped.
    struct Counted(Arc<AtomicUsize>);

    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn exercise(rt: &Runtime) {
        let drops = Arc::new(AtomicUsize::new(0));
        let out = rt.block_on(async {
            let counted = Counted(Arc::clone(&drops));
            let done = crate::spawn(async move {
                let _counted = counted;
                crate::yield_now().await;
                1
            });
            let counted = Counted(Arc::clone(&drops));
            let aborted = crate::spawn(async move {
                let _counted = counted;
                std::future::pending::<()>().await;
            });
            let panicked = crate::spawn(async { panic!("expected") });
            let slept = crate::spawn(crate::sleep(Duration::from_millis(1)));
            crate::yield_now().await;
            aborted.abort();
            assert!(aborted.await.unwrap_err().is_cancelled());
            assert!(panicked.await.unwrap_err().is_panic());
            slept.await.unwrap();
            done.await.unwrap()
        });
        assert_eq!(out, 1);
        assert_eq!(drops.load(Ordering::SeqCst), 2);

        // Pending tasks are dropped with the runtime: see the callers.
        let counted = Counted(Arc::clone(&drops));
        drop(rt.spawn(async move {
            let _counted = counted;
            crate::sleep(Duration::from_secs(3600)).await;
        }));
    }

    #[test]
    fn current_thread_end_to_end() {
        let rt = Runtime::new();
        exercise(&rt);
        drop(rt);
    }

    // crossbeam-epoch (behind the deques' work stealing) is not Stacked
    // Borrows clean, only Tree Borrows clean (crossbeam-rs/crossbeam#996), so
    // under miri's default model the multi-thread runs are skipped. They pass
    // with `MIRIFLAGS="-Zmiri-disable-isolation -Zmiri-tree-borrows
    // -Zmiri-ignore-leaks"` (the leaks are crossbeam-epoch's global
    // collector) and `-- --include-ignored`.
    #[test]
    #[cfg_attr(miri, ignore = "crossbeam-epoch needs -Zmiri-tree-borrows")]
    fn multi_thread_end_to_end() {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        exercise(&rt);
        drop(rt);
    }

    /// Shutdown racing a remote wake-up of the task it is dropping (issue
    /// 12): another thread wakes the task (its waker taken from the task's
    /// own poll) while the runtime is dropped. Whichever comes first, the
    /// task is dropped exactly once, on the dropping thread, never inside
    /// the remote `wake()`, and its handle resolves to cancelled. This runs
    /// under miri (which checks the cell's memory and explores thread
    /// interleavings) and many times natively; the cell's own races have
    /// loom models in `task/raw.rs`.
    #[test]
    fn shutdown_racing_a_remote_wake_drops_the_task_once() {
        use std::sync::Mutex;
        let rounds = if cfg!(miri) { 4 } else { 200 };
        for _ in 0..rounds {
            let rt = Runtime::new();
            let slot: Arc<Mutex<Option<std::task::Waker>>> = Arc::default();
            // Records the thread its destructor runs on.
            struct Where(Arc<Mutex<Vec<std::thread::ThreadId>>>);
            impl Drop for Where {
                fn drop(&mut self) {
                    self.0.lock().unwrap().push(std::thread::current().id());
                }
            }
            let dropped_on: Arc<Mutex<Vec<std::thread::ThreadId>>> = Arc::default();
            let guard = Where(Arc::clone(&dropped_on));
            let task = rt.spawn({
                let slot = Arc::clone(&slot);
                std::future::poll_fn(move |cx| {
                    let _guard = &guard;
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    std::task::Poll::<()>::Pending
                })
            });
            rt.block_on(crate::yield_now());
            let waker = slot.lock().unwrap().take().expect("polled once");
            let waking = std::thread::spawn(move || waker.wake());
            drop(rt);
            waking.join().unwrap();
            assert_eq!(
                *dropped_on.lock().unwrap(),
                [std::thread::current().id()],
                "dropped once, by the runtime's drop, not inside the remote wake()"
            );
            assert!(crate::block_on(task).unwrap_err().is_cancelled());
        }
    }

    #[test]
    fn spawn_on_a_shut_down_runtime_is_cancelled_at_once() {
        let rt = Runtime::new();
        let handle = rt.handle.clone();
        drop(rt);
        let drops = Arc::new(AtomicUsize::new(0));
        let counted = Counted(Arc::clone(&drops));
        let join = handle.spawn(async move {
            let _counted = counted;
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped inside spawn");
        assert!(join.is_finished());
        assert!(crate::block_on(join).unwrap_err().is_cancelled());
    }

    #[test]
    fn dropping_a_runtime_drops_pending_tasks_once() {
        // Under miri, only the current-thread flavour (see above).
        let flavours: &[bool] = if cfg!(miri) { &[false] } else { &[false, true] };
        for &multi in flavours {
            let rt = if multi {
                Builder::new_multi_thread()
                    .worker_threads(1)
                    .build()
                    .unwrap()
            } else {
                Runtime::new()
            };
            let drops = Arc::new(AtomicUsize::new(0));
            let counted = Counted(Arc::clone(&drops));
            let sleeping = rt.spawn(async move {
                let _counted = counted;
                crate::sleep(Duration::from_secs(3600)).await;
            });
            let counted = Counted(Arc::clone(&drops));
            let queued = rt.spawn(async move {
                let _counted = counted;
            });
            if multi {
                // Let the worker register the sleep.
                while drops.load(Ordering::SeqCst) == 0 && !queued.is_finished() {
                    std::thread::yield_now();
                }
            }
            drop(rt);
            assert_eq!(drops.load(Ordering::SeqCst), 2);
            let sleeping = crate::block_on(sleeping);
            assert!(sleeping.unwrap_err().is_cancelled());
            let _ = crate::block_on(queued);
            assert_eq!(drops.load(Ordering::SeqCst), 2);
        }
    }
}
