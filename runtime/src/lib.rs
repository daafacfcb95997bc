//! A small async runtime: the executor that asyncio's
//! `loop.run_until_complete` stands for.
//!
//! ```
//! use std::time::Duration;
//!
//! let total = runtime::block_on(async {
//!     let a = runtime::spawn(async {
//!         runtime::sleep(Duration::from_millis(2)).await;
//!         1
//!     });
//!     let b = runtime::spawn(async {
//!         runtime::yield_now().await;
//!         2
//!     });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(total, 3);
//! ```
//!
//! # What is in it
//!
//! * [`block_on`] and [`Runtime`] (built by [`Runtime::new`] or a
//!   [`Builder`]), in two flavours: *current-thread*, where every task runs
//!   on the thread that calls [`Runtime::block_on`], in FIFO order as in
//!   asyncio; and *multi-thread*, with worker threads that run tasks in
//!   parallel and steal work from each other.
//! * [`spawn`], [`spawn_local`] and [`Runtime::spawn`] return a
//!   [`JoinHandle`]: await it for `Result<T, JoinError>`, `abort()` it, or
//!   drop it to detach the task.
//! * [`yield_now()`] (asyncio's `sleep(0)`), [`sleep`], [`sleep_until`] and
//!   [`timeout`].
//! * [`gather()`](fn@gather), [`gather!`] and [`try_gather`]: await several
//!   futures concurrently inside one task, like `asyncio.gather`.
//!
//! # Semantics
//!
//! * `spawn` queues a task, it never polls it on the spot. A task calling
//!   [`yield_now()`] goes to the back of the run queue, so every other ready
//!   task runs once before it resumes. Tasks spawned with
//!   [`Runtime::spawn`] before any `block_on` run once one starts.
//! * `block_on` polls its future on the calling thread; calling it while the
//!   thread already runs a runtime panics (use `.await` or `spawn`).
//! * A panicking task does not take the runtime down: its handle resolves
//!   to a [`JoinError`] with [`is_panic`](JoinError::is_panic).
//! * Timers expiring together fire in deadline order; [`sleep`] never
//!   completes early; a runtime with only sleeping tasks parks its threads
//!   until the next deadline. [`sleep`] and [`yield_now()`] also work under
//!   other executors (tokio, `futures::executor`, ...).
//!
//! # Design
//!
//! * Tasks ([`task`] module docs): one `async-task` cell per task, with a
//!   panic-catching wrapper, and the task's scheduler and abort flag in its
//!   header.
//! * Current-thread scheduler: a thread-local, non-atomic `VecDeque` run
//!   queue, plus a lock-free injector for wake-ups from other threads.
//! * Multi-thread scheduler: per-worker `crossbeam-deque` queues, a shared
//!   injector, work stealing, and parking with a searching-worker count so
//!   that no wake-up is lost and no idle worker spins.
//! * Timers: per runtime, an ordered map of deadlines, driven by the time-out
//!   of the threads' parking.

mod builder;
mod context;
mod driver;
mod gather;
mod loom;
pub mod metrics;
mod park;
pub mod recorder;
mod runtime;
mod scheduler;
pub mod task;
pub mod time;
mod yield_now;

pub use builder::Builder;
pub use metrics::RuntimeMetrics;
pub use runtime::{block_on, Runtime};
pub use task::{JoinError, JoinHandle};
pub use time::{sleep, sleep_until, timeout, timeout_at, Elapsed, Sleep, Timeout};
pub use yield_now::{yield_now, YieldNow};

use std::future::Future;

/// Spawns a task on the runtime running on this thread and returns its
/// [`JoinHandle`].
///
/// The task is queued, not polled here: on a current-thread runtime it runs
/// after the tasks already queued, when the caller yields or waits.
///
/// # Panics
///
/// Panics if called outside a runtime (outside `block_on` and its tasks);
/// use [`Runtime::spawn`] there.
///
/// # Examples
///
/// ```
/// runtime::block_on(async {
///     let handle = runtime::spawn(async { "hello" });
///     assert_eq!(handle.await.unwrap(), "hello");
/// });
/// ```
///
/// The future must be `Send` (it may run on a worker thread); use
/// [`spawn_local`] for one that is not:
///
/// ```compile_fail
/// runtime::block_on(async {
///     let rc = std::rc::Rc::new(1);
///     let _ = runtime::spawn(async move { *rc }).await;
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    context::spawn(future)
}

/// Spawns a `!Send` task that runs on the thread that called `block_on`,
/// and returns its [`JoinHandle`].
///
/// # Panics
///
/// Panics if called outside `block_on` (including on a multi-thread
/// runtime's worker threads, which cannot run local tasks).
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// runtime::block_on(async {
///     let shared = Rc::new(5);
///     let clone = Rc::clone(&shared);
///     let handle = runtime::spawn_local(async move { *clone + 1 });
///     assert_eq!(handle.await.unwrap(), 6);
/// });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    context::spawn_local(future)
}

/// Compile-time checks of the auto traits users rely on. (What must *not*
/// be `Send` is checked by `compile_fail` doctests: [`spawn`], [`JoinHandle`].)
#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send<T: Send>() {}
    fn sync<T: Sync>() {}
    fn unpin<T: Unpin>() {}
    send::<Runtime>();
    sync::<Runtime>();
    send::<Builder>();
    send::<JoinHandle<u32>>();
    sync::<JoinHandle<u32>>();
    unpin::<JoinHandle<std::rc::Rc<u32>>>();
    send::<JoinError>();
    sync::<JoinError>();
    send::<Sleep>();
    sync::<Sleep>();
    unpin::<Sleep>();
    send::<Timeout<Sleep>>();
    send::<YieldNow>();
    send::<Elapsed>();
    sync::<Elapsed>();
}

#[doc(hidden)]
pub use gather::__private;
pub use gather::{gather, try_gather, Gather, TryGather};
