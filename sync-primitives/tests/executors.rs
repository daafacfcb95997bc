//! The same scenarios on every executor a user might pick: ours (both
//! flavours), tokio (both flavours), smol's async-executor and
//! `futures::executor`. The primitives must not depend on any of them.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sync_primitives::{Event, Mutex, Waiter};

type Task = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// What a scenario needs from an executor.
trait Executor {
    /// Whether tasks may run in parallel (then only orders that are
    /// guaranteed across threads are asserted).
    const PARALLEL: bool;
    /// Whether `spawn` makes a real task with its own waker (otherwise all
    /// "tasks" share the `block_on` task and are polled together).
    const OWN_TASKS: bool = true;
    /// Starts `task` as its own task (its own waker); returns a future
    /// that completes when it has.
    fn spawn(&self, task: Task) -> Task;
    /// Runs `fut` to completion, driving spawned tasks.
    fn block_on(&self, fut: Task);
}

/// `futures::executor`: no spawning; "tasks" are joined in one task.
struct FuturesExecutor;

impl Executor for FuturesExecutor {
    const PARALLEL: bool = false;
    const OWN_TASKS: bool = false;
    fn spawn(&self, task: Task) -> Task {
        task
    }
    fn block_on(&self, fut: Task) {
        futures::executor::block_on(fut)
    }
}

/// tokio; `PARALLEL` for the multi-thread flavour.
struct Tokio<const PARALLEL: bool>(tokio::runtime::Runtime);

impl<const P: bool> Executor for Tokio<P> {
    const PARALLEL: bool = P;
    fn spawn(&self, task: Task) -> Task {
        let handle = self.0.spawn(task);
        Box::pin(async move { handle.await.unwrap() })
    }
    fn block_on(&self, fut: Task) {
        self.0.block_on(fut)
    }
}

struct AsyncExecutor(Arc<async_executor::Executor<'static>>);

impl Executor for AsyncExecutor {
    const PARALLEL: bool = false;
    fn spawn(&self, task: Task) -> Task {
        Box::pin(self.0.spawn(task))
    }
    fn block_on(&self, fut: Task) {
        futures::executor::block_on(self.0.run(fut))
    }
}

/// Our runtime; `PARALLEL` for the multi-thread flavour.
struct Ours<const PARALLEL: bool>(runtime::Runtime);

impl<const P: bool> Executor for Ours<P> {
    const PARALLEL: bool = P;
    fn spawn(&self, task: Task) -> Task {
        let handle = self.0.spawn(task);
        Box::pin(async move { handle.await.unwrap() })
    }
    fn block_on(&self, fut: Task) {
        self.0.block_on(fut)
    }
}

/// Counts the polls of the future it wraps.
struct CountPolls<F> {
    inner: F,
    polls: Arc<AtomicUsize>,
}

impl<F: Future + Unpin> Future for CountPolls<F> {
    type Output = F::Output;
    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// The chapter: `wait_job` waits on a `Waiter` while `count_up_to` counts
/// to ten, yielding between steps. The waiting task is parked, not polled.
fn chapter_waiter<E: Executor>(ex: &E) {
    let waiter = Arc::new(Waiter::new());
    let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let polls = Arc::new(AtomicUsize::new(0));
    let wait_job = {
        let (waiter, log, polls) = (waiter.clone(), log.clone(), polls.clone());
        ex.spawn(Box::pin(async move {
            log.lock().push("start".to_string());
            let waiter = waiter.clone();
            CountPolls {
                inner: waiter.wait(),
                polls,
            }
            .await;
            log.lock().push("finished".to_string());
        }))
    };
    let count_up_to = {
        let (waiter, log) = (waiter.clone(), log.clone());
        ex.spawn(Box::pin(async move {
            for i in 0..10 {
                log.lock().push(i.to_string());
                runtime::yield_now().await;
            }
            waiter.set_done();
        }))
    };
    ex.block_on(Box::pin(async move {
        futures::join!(wait_job, count_up_to);
    }));
    let log = log.lock().clone();
    assert_eq!(log.last().map(String::as_str), Some("finished"));
    assert_eq!(log.len(), 12);
    if !E::PARALLEL {
        let expected: Vec<String> = std::iter::once("start".to_string())
            .chain((0..10).map(|i| i.to_string()))
            .chain(std::iter::once("finished".to_string()))
            .collect();
        assert_eq!(log, expected);
    }
    let polls = polls.load(Ordering::SeqCst);
    if E::OWN_TASKS && !E::PARALLEL {
        // Its own task: polled once to register, once when woken.
        assert_eq!(polls, 2, "the waiting task was polled in between");
    } else if E::OWN_TASKS {
        // Or once, if set_done came first on another thread.
        assert!((1..=2).contains(&polls), "polled {polls} times");
    }
}

/// Two tasks bounce a ball 100 times through two `Event`s.
fn event_ping_pong<E: Executor>(ex: &E) {
    const ROUNDS: usize = 100;
    let ping = Arc::new(Event::new());
    let pong = Arc::new(Event::new());
    let hits = Arc::new(AtomicUsize::new(0));
    let server = {
        let (ping, pong, hits) = (ping.clone(), pong.clone(), hits.clone());
        ex.spawn(Box::pin(async move {
            for round in 0..ROUNDS {
                ping.wait().await;
                ping.clear();
                assert_eq!(hits.fetch_add(1, Ordering::SeqCst), 2 * round + 1);
                pong.set();
            }
        }))
    };
    let client = {
        let (ping, pong, hits) = (ping.clone(), pong.clone(), hits.clone());
        ex.spawn(Box::pin(async move {
            for round in 0..ROUNDS {
                assert_eq!(hits.fetch_add(1, Ordering::SeqCst), 2 * round);
                ping.set();
                pong.wait().await;
                pong.clear();
            }
        }))
    };
    ex.block_on(Box::pin(async move {
        futures::join!(server, client);
    }));
    assert_eq!(hits.load(Ordering::SeqCst), 2 * ROUNDS);
}

/// Four tasks increment a counter under the lock, yielding while they hold
/// it: mutual exclusion holds and no increment is lost.
fn mutex_counter<E: Executor>(ex: &E) {
    const TASKS: usize = 4;
    const ROUNDS: usize = 200;
    let counter = Arc::new(Mutex::new(0usize));
    let inside = Arc::new(AtomicBool::new(false));
    let tasks: Vec<Task> = (0..TASKS)
        .map(|_| {
            let (counter, inside) = (counter.clone(), inside.clone());
            ex.spawn(Box::pin(async move {
                for _ in 0..ROUNDS {
                    let mut guard = counter.lock().await;
                    assert!(!inside.swap(true, Ordering::SeqCst), "two owners");
                    runtime::yield_now().await;
                    *guard += 1;
                    inside.store(false, Ordering::SeqCst);
                }
            }))
        })
        .collect();
    ex.block_on(Box::pin(async move {
        futures::future::join_all(tasks).await;
    }));
    assert_eq!(*counter.try_lock().unwrap(), TASKS * ROUNDS);
}

macro_rules! on_every_executor {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                use super::*;

                #[test]
                fn futures_executor() {
                    $scenario(&FuturesExecutor);
                }

                #[test]
                fn tokio_current_thread() {
                    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                    $scenario(&Tokio::<false>(rt));
                }

                #[test]
                fn tokio_multi_thread() {
                    let rt = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .build()
                        .unwrap();
                    $scenario(&Tokio::<true>(rt));
                }

                #[test]
                fn async_executor() {
                    $scenario(&AsyncExecutor(Arc::new(async_executor::Executor::new())));
                }

                #[test]
                fn ours_current_thread() {
                    $scenario(&Ours::<false>(runtime::Runtime::new()));
                }

                #[test]
                fn ours_multi_thread() {
                    let rt = runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .build()
                        .unwrap();
                    $scenario(&Ours::<true>(rt));
                }
            }
        )*
    };
}

on_every_executor!(chapter_waiter, event_ping_pong, mutex_counter);

/// A relay of ten tasks, each waiting on a oneshot and passing the value,
/// plus one, to the next.
fn oneshot_relay<E: Executor>(ex: &E) {
    const HOPS: usize = 10;
    let (first_tx, mut rx) = sync_primitives::oneshot::channel::<usize>();
    let mut tasks = Vec::new();
    for _ in 0..HOPS {
        let (tx, next_rx) = sync_primitives::oneshot::channel();
        tasks.push(ex.spawn(Box::pin(async move {
            let value = rx.await.expect("the previous hop sends");
            tx.send(value + 1).expect("the next hop waits");
        })));
        rx = next_rx;
    }
    let result = Arc::new(AtomicUsize::new(0));
    let out = result.clone();
    ex.block_on(Box::pin(async move {
        first_tx.send(0).unwrap();
        let (value, _) = futures::join!(rx, futures::future::join_all(tasks));
        out.store(value.unwrap(), Ordering::SeqCst);
    }));
    assert_eq!(result.load(Ordering::SeqCst), HOPS);
}

/// Three receiver tasks each see all 100 values of a broadcast, in order,
/// then `Closed`.
fn broadcast_fanout<E: Executor>(ex: &E) {
    use sync_primitives::broadcast::{self, RecvError};
    const VALUES: usize = 100;
    let (tx, rx) = broadcast::channel(128);
    let receivers: Vec<Task> = [rx, tx.subscribe(), tx.subscribe()]
        .into_iter()
        .map(|mut rx| {
            ex.spawn(Box::pin(async move {
                for expected in 0..VALUES {
                    assert_eq!(rx.recv().await, Ok(expected));
                }
                assert_eq!(rx.recv().await, Err(RecvError::Closed));
            }))
        })
        .collect();
    let sender = ex.spawn(Box::pin(async move {
        for i in 0..VALUES {
            tx.send(i).unwrap();
            if i % 10 == 0 {
                runtime::yield_now().await;
            }
        }
    }));
    ex.block_on(Box::pin(async move {
        futures::join!(sender, futures::future::join_all(receivers));
    }));
}

/// A watcher task follows 50 sends: versions only move forward, and it
/// sees the last one before `changed` fails.
fn watch_follows_the_latest<E: Executor>(ex: &E) {
    const SENDS: usize = 50;
    let (tx, mut rx) = sync_primitives::watch::channel(0usize);
    let last = Arc::new(AtomicUsize::new(0));
    let watcher = {
        let last = last.clone();
        ex.spawn(Box::pin(async move {
            while rx.changed().await.is_ok() {
                let value = *rx.borrow_and_update();
                assert!(value > last.load(Ordering::SeqCst));
                last.store(value, Ordering::SeqCst);
            }
        }))
    };
    let sender = ex.spawn(Box::pin(async move {
        for i in 1..=SENDS {
            tx.send(i).unwrap();
            runtime::yield_now().await;
        }
    }));
    ex.block_on(Box::pin(async move {
        futures::join!(sender, watcher);
    }));
    assert_eq!(last.load(Ordering::SeqCst), SENDS);
}

on_every_executor!(oneshot_relay, broadcast_fanout, watch_follows_the_latest);
