//! [`spawn_blocking`]: blocking code on a pool of threads, so that it never
//! stalls a runtime's thread (asyncio's `to_thread`).
//!
//! Each runtime has its own pool (`pool.rs`), started lazily: threads are
//! created when closures wait and no idle thread is left, up to
//! `Builder::max_blocking_threads`, and exit after `Builder::thread_keep_alive`
//! without work.
//!
//! A closure becomes a task like any other (same cell, same `JoinHandle`,
//! panic caught into a `JoinError`) whose future runs the closure in its one
//! poll; its first `Runnable` goes to the pool instead of a run queue. As the
//! future never returns `Pending`, the task is never woken, so its scheduler
//! never sees it, except through `abort`: a job aborted before a pool thread
//! picks it up is cancelled instead of run; a running closure cannot be
//! interrupted and runs to its end.

mod pool;

pub(crate) use pool::{BlockingPool, Config};

use crate::context;
use crate::task::JoinHandle;

const OUTSIDE: &str = "`runtime::spawn_blocking` called outside of a runtime: call it from a \
future driven by `runtime::block_on` / `Runtime::block_on` (or a task)";

/// Runs the blocking function `f` on a thread of the runtime's blocking
/// pool, and returns a [`JoinHandle`] for its result: asyncio's
/// `to_thread`, tokio's `spawn_blocking`.
///
/// Use it for code that blocks the thread (file I/O, a synchronous library,
/// a long computation): run directly in a task, it would stop every other
/// task of a current-thread runtime, or a worker of a multi-thread one.
///
/// The pool grows up to `Builder::max_blocking_threads` threads (512 by
/// default); beyond that, closures wait in line for a free thread. A thread
/// left idle for about 10 seconds exits. If `f` panics, the handle resolves
/// to a [`JoinError`](crate::JoinError) with
/// [`is_panic`](crate::JoinError::is_panic). `abort` cancels a closure that
/// has not started yet; one that runs cannot be interrupted.
///
/// The closure runs outside the runtime: [`spawn`](crate::spawn) would panic
/// there, but [`block_on`](crate::block_on) works.
///
/// # Panics
///
/// Panics if called outside a runtime, or if no thread can be started for
/// the pool while it has none.
///
/// # Examples
///
/// ```
/// #[runtime::main]
/// async fn main() {
///     let contents = runtime::spawn_blocking(|| {
///         // A blocking call, off the runtime's thread.
///         std::thread::sleep(std::time::Duration::from_millis(10));
///         "read"
///     });
///     // Meanwhile, the runtime runs other tasks.
///     runtime::yield_now().await;
///     assert_eq!(contents.await.unwrap(), "read");
/// }
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let Some(handle) = context::handle() else {
        panic!("{OUTSIDE}");
    };
    let (runnable, join_handle) = handle.spawn_unlisted(async move { f() });
    handle.blocking_pool().spawn(runnable);
    join_handle
}
