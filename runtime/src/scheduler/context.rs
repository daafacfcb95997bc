//! The thread-local "current runtime": what [`spawn`](crate::spawn),
//! [`spawn_local`](crate::spawn_local), [`spawn_blocking`],
//! [`sleep`](crate::sleep) and the sockets of [`net`](crate::net) use, and
//! the check that refuses to nest `block_on`.
//!
//! Part of the scheduler module: it holds a [`Handle`], and the schedulers
//! enter it on the threads they run. So the mechanisms below the schedulers
//! (the timer, the reactor, the blocking pool, the task list) never look it
//! up: their front ends do (`time`, `net`, and `spawn_blocking` here).
//! `.ci/modgraph.py` keeps the module graph a DAG.

use super::Handle;
use crate::io;
use crate::task::JoinHandle;
use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

struct Context {
    /// The runtime this thread is running (inside `block_on`, or as a
    /// multi-thread worker): where `spawn` sends tasks and `sleep` registers.
    handle: RefCell<Option<Handle>>,
    /// The scheduler of the `block_on` running on this thread, which runs
    /// `spawn_local` tasks. `None` on multi-thread workers.
    local: RefCell<Option<Handle>>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            local: RefCell::new(None),
        }
    };
}

const NESTED_BLOCK_ON: &str = "cannot call `block_on` while this thread is already running a \
runtime (inside `block_on` or on a worker thread): it would block the thread that has to drive \
the outer runtime. Use `.await` on the future instead, or `runtime::spawn` it and await its \
`JoinHandle`";

const SPAWN_OUTSIDE: &str = "`runtime::spawn` called outside of a runtime: call it from a future \
driven by `runtime::block_on` / `Runtime::block_on` (or a task), or use `Runtime::spawn`";

const SPAWN_LOCAL_OUTSIDE: &str = "`runtime::spawn_local` called outside of `block_on`: local \
tasks run on the thread that calls `block_on`, so call it from the future passed to `block_on` or \
from another local task (multi-thread workers cannot run them)";

const SPAWN_BLOCKING_OUTSIDE: &str =
    "`runtime::spawn_blocking` called outside of a runtime: call it \
from a future driven by `runtime::block_on` / `Runtime::block_on` (or a task)";

/// Marks this thread as running a runtime until dropped.
#[derive(Debug)]
pub(crate) struct EnterGuard {
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Enters `handle` on this thread (`local`: the scheduler of `spawn_local`).
///
/// # Panics
///
/// Panics if this thread already runs a runtime: nesting `block_on` would
/// deadlock.
#[track_caller]
pub(crate) fn enter(handle: Handle, local: Option<Handle>) -> EnterGuard {
    let entered = CONTEXT.with(|cx| {
        let mut current = cx.handle.borrow_mut();
        if current.is_some() {
            return false;
        }
        *current = Some(handle);
        *cx.local.borrow_mut() = local;
        true
    });
    // Outside the closure, so that `#[track_caller]` reports the user's
    // `block_on` call.
    if !entered {
        panic!("{NESTED_BLOCK_ON}");
    }
    EnterGuard {
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        // Taken out first and dropped after the borrows end: dropping the
        // last handle may run arbitrary destructors.
        let _old =
            CONTEXT.try_with(|cx| (cx.handle.borrow_mut().take(), cx.local.borrow_mut().take()));
    }
}

/// Runs `f` with the current runtime, if any.
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    CONTEXT.with(|cx| f(cx.handle.borrow().as_ref()))
}

/// A clone of the current runtime's handle, if any.
pub(crate) fn handle() -> Option<Handle> {
    CONTEXT
        .try_with(|cx| cx.handle.borrow().clone())
        .ok()
        .flatten()
}

/// Spawns `future` on the current runtime.
#[track_caller]
pub(crate) fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // The panic happens here, outside the closure, so that
    // `#[track_caller]` reports the user's call site.
    match with_handle(|handle| handle.map(|handle| handle.spawn(future))) {
        Some(join_handle) => join_handle,
        None => panic!("{SPAWN_OUTSIDE}"),
    }
}

/// Spawns `future` on this thread's `block_on`.
#[track_caller]
pub(crate) fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let local = CONTEXT.with(|cx| cx.local.borrow().clone());
    match local {
        Some(local) => local.spawn_local(future),
        None => panic!("{SPAWN_LOCAL_OUTSIDE}"),
    }
}

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
    let Some(handle) = handle() else {
        panic!("{SPAWN_BLOCKING_OUTSIDE}");
    };
    let (runnable, join_handle) = handle.spawn_unlisted(async move { f() });
    handle.blocking_pool().spawn(runnable);
    join_handle
}

/// The reactor of the runtime running on this thread, else the global one
/// (see `io::driver::global`): where a new socket registers.
pub(crate) fn io_driver() -> Arc<io::Driver> {
    match handle() {
        Some(handle) if !handle.is_shut_down() => match handle.driver() {
            Some(driver) => Arc::clone(driver),
            None => Arc::clone(io::global()),
        },
        _ => Arc::clone(io::global()),
    }
}

/// Before a task on this thread yields (see [`crate::yield_now`]): if this
/// thread runs a current-thread scheduler, it queues what became ready
/// meanwhile (expired timers, wake-ups from other threads), so that the
/// yielding task goes behind them.
pub(crate) fn before_yield() {
    let _ = CONTEXT.try_with(|cx| {
        if let Ok(local) = cx.local.try_borrow() {
            if let Some(local) = local.as_ref() {
                local.collect_ready();
            }
        }
    });
}
