//! [`spawn_blocking`](crate::spawn_blocking): blocking code on a pool of threads, so that it never
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
//!
//! This module is the mechanism; the front end, `spawn_blocking`, is in
//! `scheduler/context.rs` with `spawn` and `spawn_local`, as it needs the
//! thread's current runtime (see `.ci/modgraph.py`).

mod pool;

pub(crate) use pool::{BlockingPool, Config};
