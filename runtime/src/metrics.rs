//! Runtime metrics: per-worker counters, summed when read
//! ([`Runtime::metrics`](crate::Runtime::metrics)).
//!
//! Each worker (the `block_on` thread of a current-thread runtime, each
//! worker thread of a multi-thread one) owns a block of counters alone on
//! its cache lines. The scheduler calls the hooks with its worker index,
//! from that worker's thread only, so a hook bumps a counter with a relaxed
//! load and store: no read-modify-write, no line shared with another
//! worker, no thread-local lookup. Only wake-ups from outside the workers
//! (counted with one `fetch_add` on a shared counter) happen elsewhere:
//! that path is the cold one already (it pushes to an injector and unparks
//! a thread).
//!
//! A current-thread runtime's block 0 passes from one `block_on` thread to
//! the next; the scheduler's ownership hand-off (an Acquire/Release pair on
//! its `running` flag) orders their writes.
//!
//! Counts that the runtime keeps anyway are read, not counted again: tasks
//! spawned and alive come from the task list, the injector's depth from
//! the injector.
//!
//! The same hooks feed the event [`recorder`](crate::recorder) when it is
//! on (`Builder::record_events`); with it off, each hook costs one
//! predictable branch more.

use crate::loom::{AtomicU64, Ordering};
use crate::recorder::{Event, EventKind, Recorder};
use std::cell::Cell;
use std::fmt;
use std::ptr;
use std::sync::OnceLock;

/// A snapshot of a runtime's counters, from
/// [`Runtime::metrics`](crate::Runtime::metrics). The names follow tokio's
/// `RuntimeMetrics` where tokio has the counter.
///
/// Counters count since the runtime was built. Tasks run by the current-thread
/// scheduler that a multi-thread runtime's `block_on` keeps for its
/// `spawn_local` tasks are not included: that scheduler lives only as long
/// as its `block_on`.
///
/// Blocking threads are not counted yet: the blocking pool comes with its
/// own counter (`num_blocking_threads` in tokio) when it is merged.
///
/// # Examples
///
/// ```
/// let rt = runtime::Runtime::new();
/// rt.block_on(async {
///     let tasks: Vec<_> = (0..10).map(|_| runtime::spawn(runtime::yield_now())).collect();
///     for task in tasks {
///         task.await.unwrap();
///     }
/// });
/// let metrics = rt.metrics();
/// assert_eq!(metrics.spawned_tasks_count, 10);
/// assert_eq!(metrics.num_alive_tasks, 0);
/// assert_eq!(metrics.poll_count, 20); // each task: once to yield, once to finish
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuntimeMetrics {
    /// Worker threads: 1 for a current-thread runtime (the `block_on`
    /// thread).
    pub num_workers: usize,
    /// Tasks spawned on the runtime (`spawn`, `spawn_local`), including
    /// those cancelled at once because the runtime was shut down.
    pub spawned_tasks_count: u64,
    /// Tasks spawned and not finished yet (neither completed nor cancelled).
    /// A task counts until its worker is done with it, which on a
    /// multi-thread runtime can be a moment after its `JoinHandle`
    /// resolved on another thread.
    pub num_alive_tasks: usize,
    /// Task polls, summed over the workers (an aborted task's last run,
    /// which drops it, counts too).
    pub poll_count: u64,
    /// Tasks scheduled by a worker of the runtime onto its own run queue (a
    /// wake-up, or a spawn, from inside the runtime).
    pub local_schedule_count: u64,
    /// Tasks scheduled from outside the runtime's workers, through the
    /// injector.
    pub remote_schedule_count: u64,
    /// Times a worker parked (went to sleep with nothing to run).
    pub park_count: u64,
    /// Batches of tasks a worker stole from another worker's queue
    /// (always 0 on a current-thread runtime).
    pub steal_count: u64,
    /// Tasks waiting in the injector (the queue for wake-ups and spawns
    /// from outside the workers) at the time of the snapshot.
    pub injection_queue_depth: usize,
    /// The same counters worker by worker, in worker order.
    pub workers: Vec<WorkerMetrics>,
}

/// One worker's counters in a [`RuntimeMetrics`] snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls on this worker.
    pub poll_count: u64,
    /// Tasks this worker scheduled onto its own run queue.
    pub local_schedule_count: u64,
    /// Times this worker parked.
    pub park_count: u64,
    /// Batches this worker stole from other workers.
    pub steal_count: u64,
}

/// The counters of one worker, alone on their cache line(s).
#[repr(align(128))]
#[derive(Default)]
struct Counters {
    polls: AtomicU64,
    local_schedules: AtomicU64,
    parks: AtomicU64,
    steals: AtomicU64,
}

impl Counters {
    fn read(&self) -> WorkerMetrics {
        // Relaxed: independent counters; a snapshot is not a consistent cut.
        WorkerMetrics {
            poll_count: self.polls.load(Ordering::Relaxed),
            local_schedule_count: self.local_schedules.load(Ordering::Relaxed),
            park_count: self.parks.load(Ordering::Relaxed),
            steal_count: self.steals.load(Ordering::Relaxed),
        }
    }
}

/// Which worker of which runtime the current thread is, if any (the
/// runtime's [`Metrics`], only compared, and the worker index): the
/// recorder's spawn and remote wake-up events use it.
#[derive(Clone, Copy)]
struct Current {
    metrics: *const Metrics,
    worker: usize,
}

thread_local! {
    static CURRENT: Cell<Current> = const {
        Cell::new(Current { metrics: ptr::null(), worker: 0 })
    };
}

/// A runtime's counters and, when on, its event recorder. One per
/// [`Drivers`](crate::driver::Drivers).
pub(crate) struct Metrics {
    workers: Box<[Counters]>,
    /// Wake-ups from outside the workers (cold path, `fetch_add`).
    remote_schedules: AtomicU64,
    /// Installed once by `Builder::record_events`, before any task runs.
    recorder: OnceLock<Recorder>,
}

/// Restores the thread's previous counter block when dropped (see
/// [`Metrics::enter`]).
pub(crate) struct EnterGuard<'a> {
    previous: Current,
    _metrics: std::marker::PhantomData<&'a Metrics>,
}

impl Drop for EnterGuard<'_> {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.previous));
    }
}

impl Metrics {
    /// Counters for `workers` worker threads.
    pub(crate) fn new(workers: usize) -> Metrics {
        Metrics {
            workers: (0..workers.max(1)).map(|_| Counters::default()).collect(),
            remote_schedules: AtomicU64::new(0),
            recorder: OnceLock::new(),
        }
    }

    /// Turns the event recorder on, keeping `capacity` events per worker.
    /// Has no effect if it is on already.
    pub(crate) fn record_events(&self, capacity: usize) {
        let _ = self
            .recorder
            .set(Recorder::new(self.workers.len(), capacity));
    }

    /// Notes that the current thread is worker `worker` until the guard
    /// drops (for the recorder's events that are not given a worker). The
    /// schedulers call this where a thread takes a worker's place (a worker
    /// thread's start, the start of a `block_on` run).
    pub(crate) fn enter(&self, worker: usize) -> EnterGuard<'_> {
        let worker = worker.min(self.workers.len() - 1);
        let previous = CURRENT.with(|c| {
            c.replace(Current {
                metrics: self,
                worker,
            })
        });
        EnterGuard {
            previous,
            _metrics: std::marker::PhantomData,
        }
    }

    /// The worker index the current thread holds here, if any (for the
    /// recorder, off the hot path).
    fn current_worker(&self) -> Option<usize> {
        let current = CURRENT.try_with(Cell::get).ok()?;
        ptr::eq(current.metrics, self).then_some(current.worker)
    }

    /// Adds one to the counter `which` picks in worker `worker`'s block.
    /// Only that worker's thread may call this (see the module docs).
    #[inline]
    fn bump(&self, worker: usize, which: fn(&Counters) -> &AtomicU64) {
        let counter = which(&self.workers[worker]);
        // Relaxed load and store, not an RMW: only the thread that runs
        // worker `worker` writes this block, and readers only need some
        // recent value.
        counter.store(counter.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
    }

    /// Records an event if the recorder is on: the one branch of the hooks
    /// when it is off.
    #[inline]
    fn record(&self, worker: Option<usize>, task: Option<u64>, kind: EventKind) {
        if let Some(recorder) = self.recorder.get() {
            Self::record_slow(recorder, worker, task, kind);
        }
    }

    #[cold]
    #[inline(never)]
    fn record_slow(recorder: &Recorder, worker: Option<usize>, task: Option<u64>, kind: EventKind) {
        let kind = match kind {
            EventKind::Wake { .. } => EventKind::Wake {
                by: crate::recorder::running_task(),
            },
            kind => kind,
        };
        recorder.record(worker, task, kind);
    }

    /// Task `id` was spawned (the task list counts spawns; this records).
    pub(crate) fn spawned(&self, id: u64) {
        if let Some(recorder) = self.recorder.get() {
            Self::record_slow(recorder, self.current_worker(), Some(id), EventKind::Spawn);
        }
    }

    /// Task `id` is about to be polled by worker `worker`, on its thread.
    #[inline]
    pub(crate) fn poll_start(&self, worker: usize, id: u64) {
        self.bump(worker, |c| &c.polls);
        self.record(Some(worker), Some(id), EventKind::PollStart);
    }

    /// Task `id`'s poll by worker `worker` returned (`ready`: it completed).
    #[inline]
    pub(crate) fn poll_end(&self, worker: usize, id: u64, ready: bool) {
        self.record(Some(worker), Some(id), EventKind::PollEnd { ready });
    }

    /// Worker `worker`, on its thread, queued the woken task `id` on its
    /// own run queue.
    #[inline]
    pub(crate) fn scheduled_local(&self, worker: usize, id: u64) {
        self.bump(worker, |c| &c.local_schedules);
        self.record(Some(worker), Some(id), EventKind::Wake { by: None });
    }

    /// Task `id` was woken from outside the workers (through the injector:
    /// the cold path).
    pub(crate) fn scheduled_remote(&self, id: u64) {
        // Relaxed: a count.
        self.remote_schedules.fetch_add(1, Ordering::Relaxed);
        self.record(
            self.current_worker(),
            Some(id),
            EventKind::Wake { by: None },
        );
    }

    /// Worker `worker` is about to park.
    pub(crate) fn park(&self, worker: usize) {
        self.bump(worker, |c| &c.parks);
        self.record(Some(worker), None, EventKind::Park);
    }

    /// Worker `worker` woke up from parking.
    pub(crate) fn unpark(&self, worker: usize) {
        self.record(Some(worker), None, EventKind::Unpark);
    }

    /// Worker `worker` stole a batch of tasks from another.
    pub(crate) fn steal(&self, worker: usize) {
        self.bump(worker, |c| &c.steals);
    }

    /// The recorded events, in time order, emptying the rings (empty if the
    /// recorder is off).
    pub(crate) fn take_events(&self) -> Vec<Event> {
        self.recorder
            .get()
            .map(Recorder::take_events)
            .unwrap_or_default()
    }

    /// Sums the counters; `spawned`, `alive` and `injection_queue_depth`
    /// come from the runtime's task list and injector.
    pub(crate) fn snapshot(
        &self,
        spawned: u64,
        alive: usize,
        injection_queue_depth: usize,
    ) -> RuntimeMetrics {
        let workers: Vec<WorkerMetrics> = self.workers.iter().map(Counters::read).collect();
        let sum = |f: fn(&WorkerMetrics) -> u64| workers.iter().map(f).sum::<u64>();
        RuntimeMetrics {
            num_workers: workers.len(),
            spawned_tasks_count: spawned,
            num_alive_tasks: alive,
            poll_count: sum(|w| w.poll_count),
            local_schedule_count: sum(|w| w.local_schedule_count),
            // Relaxed: see `Counters::read`.
            remote_schedule_count: self.remote_schedules.load(Ordering::Relaxed),
            park_count: sum(|w| w.park_count),
            steal_count: sum(|w| w.steal_count),
            injection_queue_depth,
            workers,
        }
    }
}

/// With the `tracing` feature, a `tracing` span named `poll` (target
/// `runtime::task`, field `task.id`), entered for the duration of one poll
/// of task `id`; without it, nothing.
#[cfg(feature = "tracing")]
#[inline]
pub(crate) fn poll_span(id: u64) -> tracing::span::EnteredSpan {
    tracing::trace_span!(target: "runtime::task", "poll", task.id = id).entered()
}

/// Without the `tracing` feature: nothing to enter.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn poll_span(_id: u64) -> NoSpan {
    NoSpan
}

/// What [`poll_span`] returns without the `tracing` feature: nothing.
#[cfg(not(feature = "tracing"))]
pub(crate) struct NoSpan;

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("workers", &self.workers.len())
            .field("recording", &self.recorder.get().is_some())
            .finish_non_exhaustive()
    }
}

/// Loom models (`LOOM_MAX_PREEMPTIONS=2 RUSTFLAGS="--cfg loom"
/// cargo test -p runtime --lib --release loom_models`): workers counting
/// with plain loads and stores, a remote waker with `fetch_add`, and a
/// reader summing meanwhile.
#[cfg(all(test, loom))]
mod loom_models {
    use super::Metrics;
    use crate::loom::{thread, Arc};

    /// Each worker's block is written by its thread only, so no count is
    /// lost; a snapshot taken meanwhile never sees more than was counted,
    /// and one taken after the joins sees every count.
    #[test]
    fn per_worker_counts_are_exact_after_join() {
        loom::model(|| {
            let metrics = Arc::new(Metrics::new(2));
            let workers: Vec<_> = (0..2)
                .map(|worker| {
                    let metrics = Arc::clone(&metrics);
                    thread::spawn(move || {
                        metrics.poll_start(worker, 0);
                        metrics.scheduled_remote(1);
                        metrics.poll_start(worker, 0);
                    })
                })
                .collect();
            let during = metrics.snapshot(0, 0, 0);
            assert!(during.poll_count <= 4);
            assert!(during.remote_schedule_count <= 2);
            for worker in workers {
                worker.join().unwrap();
            }
            let after = metrics.snapshot(0, 0, 0);
            assert_eq!(after.poll_count, 4);
            assert_eq!(after.remote_schedule_count, 2);
            assert_eq!(after.workers[0].poll_count, 2);
            assert_eq!(after.workers[1].poll_count, 2);
        });
    }
}
