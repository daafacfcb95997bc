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
//! * [`JoinSet`]: a group of tasks joined in the order they finish
//!   (`asyncio.TaskGroup`); [`task::AbortHandle`] aborts a task without
//!   owning its output.
//! * [`spawn_blocking`]: blocking code on a per-runtime pool of threads
//!   (`asyncio.to_thread`), sized by [`Builder::max_blocking_threads`].
//! * [`select!`]: wait for the first of several futures, with tokio's
//!   syntax; [`interval`]: ticks at a fixed period.
//! * [`macro@main`] and [`macro@test`]: `async fn main` and async tests
//!   without the runtime boilerplate.
//! * [`net`]: TCP, UDP and Unix-domain sockets on an epoll reactor (one per
//!   runtime), whose waits share one `epoll_wait` with the timers.
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
//! * Tasks ([`task`] module docs): one cell of our own per task (one
//!   allocation: a state word, the future then its output, the join
//!   waker), catching panics and cancelling in place, with the task's
//!   scheduler in its header. Each runtime keeps a sharded list of its tasks, so that
//!   dropping it drops every task wherever it waits (see [`Runtime`]).
//! * Current-thread scheduler: a thread-local, non-atomic `VecDeque` run
//!   queue, plus a lock-free injector for wake-ups from other threads.
//! * Multi-thread scheduler: per-worker `crossbeam-deque` queues, a shared
//!   injector, work stealing, and parking with a searching-worker count so
//!   that no wake-up is lost and no idle worker spins.
//! * Timers: per runtime, an ordered map of deadlines, driven by the time-out
//!   of the threads' parking. The timer and the task list are the runtime's
//!   drivers, shared by both schedulers.

mod blocking;
mod builder;
mod driver;
mod gather;
mod io;
mod join_set;
mod loom;
pub mod metrics;
pub mod net;
mod park;
pub mod recorder;
mod runtime;
mod scheduler;
mod select;
pub mod task;
pub mod time;
mod timer;
mod yield_now;

pub use builder::Builder;
#[doc(hidden)]
pub use gather::__private;
pub use gather::{gather, try_gather, Gather, TryGather};
pub use join_set::JoinSet;
pub use metrics::RuntimeMetrics;
pub use runtime::{block_on, Runtime};
pub use scheduler::context::spawn_blocking;
#[doc(hidden)]
pub use select::__private as __select;
pub use task::AbortHandle;
pub use task::{JoinError, JoinHandle};
pub use time::{interval, interval_at};
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
    scheduler::context::spawn(future)
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
    scheduler::context::spawn_local(future)
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
    fn io_type<T: Send + Sync + Unpin>() {}
    io_type::<net::TcpListener>();
    io_type::<net::TcpStream>();
    io_type::<net::UdpSocket>();
    io_type::<net::UnixListener>();
    io_type::<net::UnixStream>();
    fn send_future<F: std::future::Future + Send>(_: F) {}
    let listener: &net::TcpListener = unreachable_ref();
    send_future(listener.accept());
    send_future(net::TcpStream::connect("127.0.0.1:1"));
    send_future(net::TcpListener::bind("127.0.0.1:0"));
    let udp: &net::UdpSocket = unreachable_ref();
    send_future(udp.recv_from(&mut []));
    send_future(udp.send_to(&[], "127.0.0.1:1"));
    let unix: &net::UnixListener = unreachable_ref();
    send_future(unix.accept());
    send_future(net::UnixStream::connect("/nonexistent"));
}

/// A reference to name a type's methods in `_assert_auto_traits`, which
/// never runs.
#[allow(dead_code)]
fn unreachable_ref<T>() -> &'static T {
    unreachable!("only type-checked")
}

/// Marks `async fn main` to run on a runtime: builds one with the given
/// options, `block_on`s the body, and returns its output.
///
/// Options: `flavor = "current_thread"` (the default) or
/// `flavor = "multi_thread"`, and, with the latter, `worker_threads = N`
/// (default: one per CPU).
///
/// ```
/// #[runtime::main]
/// async fn main() {
///     let handle = runtime::spawn(async { 6 * 7 });
///     assert_eq!(handle.await.unwrap(), 42);
/// }
/// ```
///
/// ```
/// #[runtime::main(flavor = "multi_thread", worker_threads = 2)]
/// async fn main() -> Result<(), std::io::Error> {
///     runtime::spawn(async {}).await.unwrap();
///     Ok(())
/// }
/// ```
///
/// It expands to (roughly):
///
/// ```text
/// fn main() {
///     let body = async { /* the body */ };
///     runtime::Builder::new_current_thread()
///         .build()
///         .expect("failed to build the runtime")
///         .block_on(body)
/// }
/// ```
///
/// A bad option is a compile error naming it, at its place:
///
/// ```compile_fail
/// #[runtime::main(flavour = "multi_thread")] // error: unknown option `flavour`
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[runtime::main(flavor = "parallel")] // error: unknown `flavor` "parallel"
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[runtime::main(worker_threads = 2)] // error: needs `flavor = "multi_thread"`
/// async fn main() {}
/// ```
///
/// ```compile_fail
/// #[runtime::main]
/// fn main() {} // error: needs an `async fn`
/// ```
pub use runtime_macros::main;

/// Marks an `async fn` as a test that runs on a fresh runtime: like
/// [`main`](macro@main), with the same options, plus `#[test]`.
///
/// ```
/// #[runtime::test]
/// async fn adds() {
///     assert_eq!(runtime::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
///
/// #[runtime::test(flavor = "multi_thread", worker_threads = 2)]
/// async fn on_two_workers() {
///     runtime::spawn(async {}).await.unwrap();
/// }
/// ```
///
/// ```compile_fail
/// #[runtime::test(flavor = "multi_thread", worker_threads = "four")]
/// async fn bad() {} // error: option `worker_threads` takes a positive integer
/// ```
pub use runtime_macros::test;

/// Compile-time checks of the auto traits of the group, blocking, select
/// and interval API.
#[allow(dead_code)]
fn _assert_feature_auto_traits() {
    fn send<T: Send>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    fn unpin<T: Unpin>(_: &T) {}
    let mut set = JoinSet::<u32>::new();
    send(&set);
    sync(&set);
    unpin(&set);
    send(&set.join_next());
    send(&set.shutdown());
    let abort = spawn(async {}).abort_handle();
    send(&abort);
    sync(&abort);
    send(&JoinSet::<u32>::new().join_all());
    let mut interval = interval(std::time::Duration::from_secs(1));
    send(&interval);
    sync(&interval);
    unpin(&interval);
    send(&interval.tick());
    send(&spawn_blocking(|| 1));
    send(&async {
        select! {
            _ = sleep(std::time::Duration::from_secs(1)) => 0,
            v = async { 1 } => v,
        }
    });
}
