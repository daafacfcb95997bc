//! [`Builder`]: choose a runtime's flavour and size.

use crate::blocking::{BlockingPool, Config as BlockingConfig};
use crate::driver::Drivers;
use crate::io::Driver;
use crate::park::Parker;
use crate::runtime::Runtime;
use crate::scheduler::{current_thread, multi_thread, Handle};
use std::io;
use std::num::NonZeroUsize;
// `std`'s, also under loom: see `task::Scheduler`.
use std::sync::Arc;

/// Configures and builds a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = runtime::Builder::new_multi_thread().worker_threads(2).build()?;
/// assert_eq!(rt.block_on(rt.spawn(async { 1 + 1 })).unwrap(), 2);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    thread_name: String,
    /// Settings of the `spawn_blocking` pool.
    blocking: BlockingConfig,
    /// Events kept per worker by the recorder; `None`: off.
    record_events: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Builder {
    /// A runtime whose tasks all run on the thread that calls
    /// [`Runtime::block_on`], one at a time, in FIFO order: asyncio's model.
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// A runtime with worker threads that run tasks in parallel, each with
    /// its own run queue, stealing from each other when idle. By default one
    /// worker per CPU (see [`worker_threads`](Self::worker_threads)).
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            thread_name: "runtime-worker".to_owned(),
            blocking: BlockingConfig::default(),
            record_events: None,
        }
    }

    /// Sets the number of worker threads of a multi-thread runtime (ignored
    /// by the current-thread one).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Builder::new_multi_thread()
    ///     .worker_threads(3)
    ///     .thread_name("my-worker")
    ///     .build()?;
    /// let name = rt.block_on(rt.spawn(async {
    ///     std::thread::current().name().unwrap().to_owned()
    /// }));
    /// assert!(name.unwrap().starts_with("my-worker-"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0.
    #[track_caller]
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        assert!(
            n > 0,
            "a multi-thread runtime needs at least one worker thread"
        );
        self.worker_threads = Some(n);
        self
    }

    /// Sets the name of the worker threads ("runtime-worker" by default).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// Sets the most threads the [`spawn_blocking`](crate::spawn_blocking)
    /// pool runs at once (512 by default). Closures beyond that wait in
    /// line for a free thread. The pool starts threads only when needed.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Builder::new_current_thread()
    ///     .max_blocking_threads(2)
    ///     .build()?;
    /// let out = rt.block_on(async { runtime::spawn_blocking(|| 1 + 1).await });
    /// assert_eq!(out.unwrap(), 2);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0.
    #[track_caller]
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "the blocking pool needs at least one thread");
        self.blocking.max_threads = n;
        self
    }

    /// Sets how long a thread of the [`spawn_blocking`](crate::spawn_blocking)
    /// pool waits for work before it exits (10 s by default).
    pub fn thread_keep_alive(&mut self, keep_alive: std::time::Duration) -> &mut Builder {
        self.blocking.keep_alive = keep_alive;
        self
    }

    /// Turns the event recorder on: each worker keeps its last `capacity`
    /// events (spawns, poll starts and ends, wake-ups, parks), which
    /// [`Runtime::take_events`] returns in time order. Off by default
    /// (then each recording point costs one predictable branch).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Builder::new_current_thread().record_events(100).build()?;
    /// rt.block_on(async {
    ///     for _ in 0..100 {
    ///         runtime::spawn(async {}).await.unwrap();
    ///     }
    /// });
    /// assert_eq!(rt.take_events().len(), 100, "the newest 100 of 400");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn record_events(&mut self, capacity: usize) -> &mut Builder {
        self.record_events = Some(capacity);
        self
    }

    /// Builds the runtime. Fails only if a worker thread or the I/O reactor
    /// (an epoll instance) cannot be created.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let handle = match self.flavor {
            Flavor::CurrentThread => Handle::CurrentThread(Arc::new(
                current_thread::Shared::with_parker(Parker::with_driver(Driver::new()?)),
            )),
            Flavor::MultiThread => {
                let workers = self.worker_threads.unwrap_or_else(|| {
                    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
                });
                // The recorder is on before any worker runs: every worker's
                // first event is recorded.
                let drivers = Drivers::new(workers, Some(Driver::new()?));
                if let Some(capacity) = self.record_events {
                    drivers.metrics.record_events(capacity);
                }
                Handle::MultiThread(multi_thread::Shared::start(
                    workers,
                    &self.thread_name,
                    drivers,
                )?)
            }
        };
        let pool = BlockingPool::new(self.blocking.clone());
        let _ = handle.drivers().blocking.set(pool);
        if let (Some(capacity), Handle::CurrentThread(_)) = (self.record_events, &handle) {
            // Nothing runs a current-thread runtime before its first
            // `block_on`.
            handle.drivers().metrics.record_events(capacity);
        }
        Ok(Runtime::from_handle(handle))
    }
}

// `Runtime::new` lives here, beside what it calls, so that `runtime.rs` does
// not import the builder that builds it (see `.ci/modgraph.py`).
impl Runtime {
    /// A current-thread runtime, like
    /// `Builder::new_current_thread().build().unwrap()` (which cannot fail).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = runtime::Runtime::new();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    pub fn new() -> Runtime {
        Builder::new_current_thread()
            .build()
            .expect("building a current-thread runtime does not fail")
    }
}
