//! The pool of threads that runs `spawn_blocking` closures.
//!
//! One lock guards the queue of jobs and the thread counts; idle threads
//! wait on a condition variable, each for at most the keep-alive time, and
//! exit when it passes without work (as tokio's `runtime/blocking/pool.rs`
//! and smol's `blocking` do).
//!
//! * `spawn` queues the job, then either notifies an idle thread that has
//!   not been notified yet, or, if there is none, starts a thread, unless
//!   `max_threads` run already (then a running thread takes the job when it
//!   finishes its own).
//! * `notified` counts notifications sent to idle threads and not yet
//!   consumed, so that two quick `spawn`s wake two threads rather than
//!   notifying the same one twice, and a thread that times out while a
//!   notification is in flight takes the job instead of exiting.
//! * `shutdown` cancels the queued jobs, wakes the idle threads (they exit)
//!   and waits, at most the given time, for the running closures.

use crate::loom::{thread, Arc, Condvar, Mutex};
use crate::task::{self, Runnable};
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// How long an idle pool thread waits for work before it exits.
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

/// The default of `Builder::max_blocking_threads` (tokio's).
pub(crate) const DEFAULT_MAX_THREADS: usize = 512;

/// The pool's settings, from the runtime's `Builder`.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) max_threads: usize,
    pub(crate) keep_alive: Duration,
    pub(crate) thread_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_threads: DEFAULT_MAX_THREADS,
            keep_alive: DEFAULT_KEEP_ALIVE,
            thread_name: "runtime-blocking".to_owned(),
        }
    }
}

/// A runtime's blocking pool. Cheap to share: the state is behind an `Arc`.
pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Idle threads wait here for a job (or shutdown).
    work: Condvar,
    /// `shutdown` waits here for the last thread to exit.
    exited: Condvar,
    config: Config,
}

struct State {
    /// Jobs waiting for a thread.
    queue: VecDeque<Runnable>,
    /// Live pool threads (running a job, looking for one, or idle).
    threads: usize,
    /// Threads waiting on `work`.
    idle: usize,
    /// Notifications sent on `work` that no thread has consumed yet.
    notified: usize,
    /// Set by `shutdown`: no new jobs run, threads exit.
    shutdown: bool,
    /// The most threads ever alive at once (for tests and `Debug`).
    peak_threads: usize,
}

impl BlockingPool {
    pub(crate) fn new(config: Config) -> BlockingPool {
        assert!(config.max_threads > 0, "the blocking pool needs a thread");
        BlockingPool {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    queue: VecDeque::new(),
                    threads: 0,
                    idle: 0,
                    notified: 0,
                    shutdown: false,
                    peak_threads: 0,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                config,
            }),
        }
    }

    /// Queues a task whose future runs its closure in one poll: a pool
    /// thread runs it with [`task::run_unlisted`] (which cancels it instead if it was
    /// aborted meanwhile).
    pub(crate) fn spawn(&self, job: Runnable) {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            drop(state);
            // The runtime is gone: the handle resolves as cancelled.
            task::cancel_unlisted(job);
            return;
        }
        state.queue.push_back(job);
        if state.idle > state.notified {
            state.notified += 1;
            drop(state);
            self.inner.work.notify_one();
        } else if state.threads < self.inner.config.max_threads {
            state.threads += 1;
            state.peak_threads = state.peak_threads.max(state.threads);
            let id = state.peak_threads;
            drop(state);
            self.start_thread(id);
        }
        // Else every thread is busy and the pool is full: the first one to
        // finish its closure takes this job.
    }

    fn start_thread(&self, id: usize) {
        let inner = Arc::clone(&self.inner);
        let spawned = thread::Builder::new()
            .name(format!("{}-{id}", self.inner.config.thread_name))
            .spawn(move || inner.run());
        if let Err(err) = spawned {
            let mut state = self.inner.state.lock();
            state.threads -= 1;
            if state.threads > 0 {
                // A running thread will take the job later.
                return;
            }
            let jobs: Vec<Runnable> = state.queue.drain(..).collect();
            drop(state);
            for job in jobs {
                task::cancel_unlisted(job);
            }
            panic!("failed to start a thread for `spawn_blocking`: {err}");
        }
    }

    /// Cancels the jobs not started yet, lets the idle threads exit, and
    /// waits until every pool thread has exited (their running closures
    /// finished), but at most `timeout`. Returns `true` if they all exited
    /// in time. Later `spawn`s are cancelled at once.
    pub(crate) fn shutdown(&self, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut state = self.inner.state.lock();
        state.shutdown = true;
        let jobs: Vec<Runnable> = state.queue.drain(..).collect();
        self.inner.work.notify_all();
        if !jobs.is_empty() {
            // Cancelled outside the lock: dropping a future is user code.
            drop(state);
            for job in jobs {
                task::cancel_unlisted(job);
            }
            state = self.inner.state.lock();
        }
        while state.threads > 0 {
            match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    let _ = self.inner.exited.wait_for(&mut state, deadline - now);
                }
                None => self.inner.exited.wait(&mut state),
            }
        }
        true
    }

    /// Live pool threads (for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn threads(&self) -> usize {
        self.inner.state.lock().threads
    }
}

impl Inner {
    /// A pool thread: runs jobs until it has been idle for the keep-alive
    /// time, or the pool shuts down.
    fn run(&self) {
        let mut state = self.state.lock();
        'work: loop {
            while let Some(job) = state.queue.pop_front() {
                // The closure runs without the lock; its panic is caught by
                // the task (it becomes the handle's `JoinError`).
                drop(state);
                task::run_unlisted(job);
                state = self.state.lock();
            }
            if state.shutdown {
                break;
            }
            // Idle: wait for a notification, at most the keep-alive time.
            state.idle += 1;
            let deadline = Instant::now() + self.config.keep_alive;
            loop {
                let now = Instant::now();
                let timed_out = now >= deadline || {
                    let _ = self.work.wait_for(&mut state, deadline - now);
                    false
                };
                if state.notified > 0 {
                    // A `spawn` counted on this thread (or on another
                    // idle one that it stands in for).
                    state.notified -= 1;
                    state.idle -= 1;
                    continue 'work;
                }
                if state.shutdown || timed_out {
                    state.idle -= 1;
                    break 'work;
                }
                // Spurious or timed-out wake-up: look at the deadline again.
            }
        }
        state.threads -= 1;
        if state.threads == 0 && state.shutdown {
            self.exited.notify_all();
        }
    }
}

impl fmt::Debug for BlockingPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.inner.state.lock();
        f.debug_struct("BlockingPool")
            .field("threads", &state.threads)
            .field("idle", &state.idle)
            .field("queued", &state.queue.len())
            .field("max_threads", &self.inner.config.max_threads)
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::scheduler::{current_thread, Handle};
    use crate::task::JoinHandle;
    use std::sync::mpsc;

    fn pool(max_threads: usize, keep_alive: Duration) -> BlockingPool {
        BlockingPool::new(Config {
            max_threads,
            keep_alive,
            thread_name: "test-blocking".to_owned(),
        })
    }

    /// Queues `f` on `pool` as `spawn_blocking` does.
    fn run_on<R: Send + 'static>(
        pool: &BlockingPool,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> JoinHandle<R> {
        let handle = Handle::CurrentThread(std::sync::Arc::new(current_thread::Shared::new()));
        let (runnable, join) = handle.spawn_unlisted(async move { f() });
        pool.spawn(runnable);
        join
    }

    /// Polls `condition` until it holds; panics after 10 s.
    fn wait_until(mut condition: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !condition() {
            assert!(Instant::now() < deadline, "condition not reached in 10 s");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn idle(pool: &BlockingPool) -> usize {
        pool.inner.state.lock().idle
    }

    #[test]
    fn an_idle_thread_is_reused() {
        let pool = pool(4, DEFAULT_KEEP_ALIVE);
        let first = crate::block_on(run_on(&pool, || std::thread::current().id())).unwrap();
        for _ in 0..3 {
            wait_until(|| idle(&pool) == 1);
            let again = crate::block_on(run_on(&pool, || std::thread::current().id())).unwrap();
            assert_eq!(again, first);
            assert_eq!(pool.threads(), 1);
        }
        assert!(pool.shutdown(Duration::from_secs(10)));
    }

    #[test]
    fn idle_threads_exit_after_the_keep_alive() {
        let pool = pool(4, Duration::from_millis(20));
        let handles: Vec<_> = (0..3).map(|i| run_on(&pool, move || i)).collect();
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(crate::block_on(handle).unwrap(), i);
        }
        wait_until(|| pool.threads() == 0);
        // And the pool starts threads again afterwards.
        assert_eq!(crate::block_on(run_on(&pool, || 7)).unwrap(), 7);
    }

    #[test]
    fn shutdown_waits_for_running_closures_at_most_the_timeout() {
        let pool = pool(2, DEFAULT_KEEP_ALIVE);
        let (tx, rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let running = run_on(&pool, move || {
            started_tx.send(()).unwrap();
            rx.recv().unwrap();
            "finished"
        });
        started_rx.recv().unwrap();
        let before = Instant::now();
        assert!(!pool.shutdown(Duration::from_millis(30)));
        assert!(before.elapsed() >= Duration::from_millis(30));
        // A closure that is running is never cut short.
        tx.send(()).unwrap();
        assert!(pool.shutdown(Duration::from_secs(10)));
        assert_eq!(pool.threads(), 0);
        assert_eq!(crate::block_on(running).unwrap(), "finished");
        // After shutdown, new closures are cancelled, never run.
        let late = run_on(&pool, || unreachable!("ran after shutdown"));
        assert!(crate::block_on(late).unwrap_err().is_cancelled());
    }

    #[test]
    fn shutdown_cancels_the_queued_closures() {
        let pool = pool(1, DEFAULT_KEEP_ALIVE);
        let (tx, rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let busy = run_on(&pool, move || {
            started_tx.send(()).unwrap();
            rx.recv().unwrap();
        });
        started_rx.recv().unwrap();
        let queued = run_on(&pool, || {
            unreachable!("a queued closure ran after shutdown")
        });
        assert!(!pool.shutdown(Duration::ZERO));
        assert!(crate::block_on(queued).unwrap_err().is_cancelled());
        tx.send(()).unwrap();
        crate::block_on(busy).unwrap();
        assert!(pool.shutdown(Duration::from_secs(10)));
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! The pool's hand-offs: a `spawn` racing a thread that finishes its
    //! job (busy, about to look at the queue, or idle and waiting), and
    //! `shutdown` racing both. Every job runs exactly once or is cancelled,
    //! and `shutdown` sees every thread exit. (loom's condition variable
    //! never times out, so the keep-alive is an hour: no thread exits idle.)

    use super::*;
    use crate::loom::{AtomicUsize, Ordering};
    use crate::scheduler::{current_thread, Handle};
    use crate::task::JoinHandle;

    fn job(pool: &BlockingPool, runs: &Arc<AtomicUsize>) -> JoinHandle<()> {
        let handle = Handle::CurrentThread(std::sync::Arc::new(current_thread::Shared::new()));
        let runs = Arc::clone(runs);
        let (runnable, join) = handle.spawn_unlisted(async move {
            runs.fetch_add(1, Ordering::SeqCst);
        });
        pool.spawn(runnable);
        join
    }

    fn pool(max_threads: usize) -> BlockingPool {
        BlockingPool::new(Config {
            max_threads,
            keep_alive: Duration::from_secs(3600),
            thread_name: "loom-blocking".to_owned(),
        })
    }

    #[test]
    fn a_second_job_is_never_lost_by_a_full_pool() {
        // One thread: the second job is either queued for the busy thread
        // or handed to it while it waits.
        loom::model(|| {
            let pool = pool(1);
            let runs = Arc::new(AtomicUsize::new(0));
            let first = job(&pool, &runs);
            let second = job(&pool, &runs);
            // Both jobs run without help (a lost job spins here forever,
            // which loom reports).
            while runs.load(Ordering::SeqCst) < 2 {
                thread::yield_now();
            }
            assert!(pool.shutdown(Duration::from_secs(3600)));
            assert!(first.is_finished() && second.is_finished());
            assert_eq!(runs.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn shutdown_racing_a_spawn_runs_or_cancels_it_once() {
        loom::model(|| {
            let pool = Arc::new(pool(2));
            let runs = Arc::new(AtomicUsize::new(0));
            let first = job(&pool, &runs);
            let spawner = {
                let pool = Arc::clone(&pool);
                let runs = Arc::clone(&runs);
                thread::spawn(move || job(&pool, &runs))
            };
            assert!(pool.shutdown(Duration::from_secs(3600)));
            let second = spawner.join().unwrap();
            // Every thread has exited: each job ran or was cancelled, and
            // its handle resolved.
            assert!(first.is_finished() && second.is_finished());
            assert!(runs.load(Ordering::SeqCst) <= 2);
        });
    }
}
