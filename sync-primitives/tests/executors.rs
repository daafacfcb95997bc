//! The same scenarios on every executor a user might pick: ours (both
//! flavours), tokio (both flavours), smol's async-executor and
//! `futures::executor`. The primitives must not depend on any of them.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sync_primitives::{Event, Mutex, RwLock, Semaphore, Waiter};

/// Every scenario on every executor runs under a watchdog: a lost wake-up
/// fails the test instead of hanging the suite.
const WATCHDOG_SECS: u64 = 60;

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

/// Eight tasks through a `Semaphore::new(2)`, yielding inside: never more
/// than two inside at once, every permit back at the end.
fn semaphore_bounds_concurrency<E: Executor>(ex: &E) {
    const TASKS: usize = 8;
    const ROUNDS: usize = 50;
    let semaphore = Arc::new(Semaphore::new(2));
    let inside = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<Task> = (0..TASKS)
        .map(|_| {
            let (semaphore, inside, most) = (semaphore.clone(), inside.clone(), most.clone());
            ex.spawn(Box::pin(async move {
                for _ in 0..ROUNDS {
                    let permit = semaphore.acquire().await.unwrap();
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    runtime::yield_now().await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                    drop(permit);
                }
            }))
        })
        .collect();
    ex.block_on(Box::pin(async move {
        futures::future::join_all(tasks).await;
    }));
    let most = most.load(Ordering::SeqCst);
    assert!(most <= 2, "{most} tasks held a permit at once");
    assert_eq!(semaphore.available_permits(), 2);
}

/// A task waiting for a permit is polled once to register and once when
/// `add_permits` wakes it; the same for a read waiting on a writer.
fn semaphore_and_rwlock_waiters_are_polled_twice<E: Executor>(ex: &E) {
    let semaphore = Arc::new(Semaphore::new(0));
    let lock = Arc::new(RwLock::new(0));
    let acquire_polls = Arc::new(AtomicUsize::new(0));
    let read_polls = Arc::new(AtomicUsize::new(0));
    let writer = futures::executor::block_on(lock.clone().write_owned());
    let waiting = {
        let (semaphore, lock) = (semaphore.clone(), lock.clone());
        let (acquire_polls, read_polls) = (acquire_polls.clone(), read_polls.clone());
        ex.spawn(Box::pin(async move {
            let permit = CountPolls {
                inner: semaphore.acquire_owned(),
                polls: acquire_polls,
            }
            .await
            .unwrap();
            assert_eq!(permit.num_permits(), 1);
            let value = *CountPolls {
                inner: lock.read_owned(),
                polls: read_polls,
            }
            .await;
            assert_eq!(value, 1);
        }))
    };
    let releasing = {
        let semaphore = semaphore.clone();
        ex.spawn(Box::pin(async move {
            for _ in 0..3 {
                runtime::yield_now().await;
            }
            semaphore.add_permits(1);
            let mut writer = writer;
            for _ in 0..3 {
                runtime::yield_now().await;
            }
            *writer = 1;
        }))
    };
    ex.block_on(Box::pin(async move {
        futures::join!(waiting, releasing);
    }));
    for polls in [&acquire_polls, &read_polls] {
        let polls = polls.load(Ordering::SeqCst);
        if E::OWN_TASKS && !E::PARALLEL {
            assert_eq!(polls, 2, "the waiting task was polled in between");
        } else if E::OWN_TASKS {
            assert!((1..=2).contains(&polls), "polled {polls} times");
        }
    }
}

/// Two writers and two readers: readers see a value that no writer
/// changes while they hold the lock, and no increment is lost.
fn rwlock_readers_and_writers<E: Executor>(ex: &E) {
    const ROUNDS: usize = 100;
    let lock = Arc::new(RwLock::new(0usize));
    let writing = Arc::new(AtomicBool::new(false));
    let tasks: Vec<Task> = (0..4)
        .map(|i| {
            let (lock, writing) = (lock.clone(), writing.clone());
            ex.spawn(Box::pin(async move {
                for _ in 0..ROUNDS {
                    if i % 2 == 0 {
                        let mut guard = lock.write().await;
                        assert!(!writing.swap(true, Ordering::SeqCst), "two writers");
                        runtime::yield_now().await;
                        *guard += 1;
                        writing.store(false, Ordering::SeqCst);
                    } else {
                        let guard = lock.read().await;
                        assert!(!writing.load(Ordering::SeqCst), "a writer beside a reader");
                        let seen = *guard;
                        runtime::yield_now().await;
                        assert_eq!(*guard, seen);
                    }
                }
            }))
        })
        .collect();
    ex.block_on(Box::pin(async move {
        futures::future::join_all(tasks).await;
    }));
    assert_eq!(*lock.try_read().unwrap(), 2 * ROUNDS);
}

macro_rules! on_every_executor {
    ($($scenario:ident),* $(,)?) => {
        $(
            mod $scenario {
                use super::*;

                #[test]
                fn futures_executor() {
                    test_util::with_watchdog(WATCHDOG_SECS, || {
                        $scenario(&FuturesExecutor);
                    });
                }

                #[test]
                fn tokio_current_thread() {
                    test_util::with_watchdog(WATCHDOG_SECS, || {
                        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
                        $scenario(&Tokio::<false>(rt));
                    });
                }

                #[test]
                fn tokio_multi_thread() {
                    test_util::with_watchdog(WATCHDOG_SECS, || {
                        let rt = tokio::runtime::Builder::new_multi_thread()
                            .worker_threads(2)
                            .build()
                            .unwrap();
                        $scenario(&Tokio::<true>(rt));
                    });
                }

                #[test]
                fn async_executor() {
                    test_util::with_watchdog(WATCHDOG_SECS, || {
                        $scenario(&AsyncExecutor(Arc::new(async_executor::Executor::new())));
                    });
                }

                #[test]
                fn ours_current_thread() {
                    test_util::with_watchdog(WATCHDOG_SECS, || {
                        $scenario(&Ours::<false>(runtime::Runtime::new()));
                    });
                }

                #[test]
                fn ours_multi_thread() {
                    test_util::with_watchdog(WATCHDOG_SECS, || {
                        let rt = runtime::Builder::new_multi_thread()
                            .worker_threads(2)
                            .build()
                            .unwrap();
                        $scenario(&Ours::<true>(rt));
                    });
                }
            }
        )*
    };
}

on_every_executor!(chapter_waiter, event_ping_pong, mutex_counter);
on_every_executor!(
    semaphore_bounds_concurrency,
    semaphore_and_rwlock_waiters_are_polled_twice,
    rwlock_readers_and_writers,
);

/// Two consumers wait on a `Condition` for items a producer pushes under
/// the mutex: every item is taken exactly once, no notification is lost.
fn condition_producer_consumers<E: Executor>(ex: &E) {
    const ITEMS: usize = 200;
    let state = Arc::new((
        Mutex::new(std::collections::VecDeque::new()),
        sync_primitives::Condition::new(),
    ));
    let consumed = Arc::new(AtomicUsize::new(0));
    let mut tasks: Vec<Task> = (0..2)
        .map(|_| {
            let (state, consumed) = (state.clone(), consumed.clone());
            ex.spawn(Box::pin(async move {
                let (queue, cond) = &*state;
                loop {
                    let mut guard = cond.wait_for(queue.lock().await, |q| !q.is_empty()).await;
                    match guard.pop_front().expect("wait_for saw an item") {
                        Some(_) => consumed.fetch_add(1, Ordering::SeqCst),
                        None => return,
                    };
                }
            }))
        })
        .collect();
    let producer = {
        let state = state.clone();
        ex.spawn(Box::pin(async move {
            let (queue, cond) = &*state;
            for i in 0..ITEMS {
                queue.lock().await.push_back(Some(i));
                cond.notify_one();
                if i % 10 == 0 {
                    runtime::yield_now().await;
                }
            }
            queue.lock().await.extend([None, None]);
            cond.notify_all();
        }))
    };
    tasks.push(producer);
    ex.block_on(Box::pin(async move {
        futures::future::join_all(tasks).await;
    }));
    assert_eq!(consumed.load(Ordering::SeqCst), ITEMS);
}

/// Three tasks meet at a `Barrier` ten times: each round hands out the
/// indices 0, 1, 2 and one leader.
fn barrier_rounds<E: Executor>(ex: &E) {
    const PARTIES: usize = 3;
    const ROUNDS: usize = 10;
    let barrier = Arc::new(sync_primitives::Barrier::new(PARTIES));
    let results = Arc::new(parking_lot::Mutex::new(vec![Vec::new(); ROUNDS]));
    let tasks: Vec<Task> = (0..PARTIES)
        .map(|_| {
            let (barrier, results) = (barrier.clone(), results.clone());
            ex.spawn(Box::pin(async move {
                for round in 0..ROUNDS {
                    let result = barrier.wait().await.expect("never broken");
                    results.lock()[round].push(result);
                    runtime::yield_now().await;
                }
            }))
        })
        .collect();
    ex.block_on(Box::pin(async move {
        futures::future::join_all(tasks).await;
    }));
    for (round, results) in results.lock().iter().enumerate() {
        let mut indices: Vec<_> = results.iter().map(|r| r.index()).collect();
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2], "round {round}");
        let leaders = results.iter().filter(|r| r.is_leader()).count();
        assert_eq!(leaders, 1, "round {round}");
    }
    assert_eq!(barrier.n_waiting(), 0);
}

/// Four tasks race to initialise a `OnceCell` whose initialiser yields:
/// it runs once, everyone gets its value, and the waiting tasks are parked.
fn once_cell_racing_initialisers<E: Executor>(ex: &E) {
    const TASKS: usize = 4;
    let cell = Arc::new(sync_primitives::OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<Task> = (0..TASKS)
        .map(|i| {
            let (cell, runs) = (cell.clone(), runs.clone());
            ex.spawn(Box::pin(async move {
                let value = cell
                    .get_or_init(|| async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        for _ in 0..5 {
                            runtime::yield_now().await;
                        }
                        i
                    })
                    .await;
                assert!(*value < TASKS);
            }))
        })
        .collect();
    ex.block_on(Box::pin(async move {
        futures::future::join_all(tasks).await;
    }));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one initialiser ran");
    let value = *cell.get().expect("initialised");
    if !E::PARALLEL {
        assert_eq!(value, 0, "the first task polled initialises");
    }
}

on_every_executor!(
    condition_producer_consumers,
    barrier_rounds,
    once_cell_racing_initialisers
);

/// Three producers through a bounded mpsc channel of capacity 2 (so
/// senders park) to a receiver: every value once, each sender's in order.
fn mpsc_pipeline<E: Executor>(ex: &E) {
    use sync_primitives::mpsc;
    const PRODUCERS: usize = 3;
    const VALUES: usize = 300;
    let (tx, mut rx) = mpsc::channel(2);
    let producers: Vec<Task> = (0..PRODUCERS)
        .map(|id| {
            let tx = tx.clone();
            ex.spawn(Box::pin(async move {
                for i in 0..VALUES {
                    tx.send((id, i)).await.unwrap();
                }
            }))
        })
        .collect();
    drop(tx);
    let got = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let sink = got.clone();
    ex.block_on(Box::pin(async move {
        let receive = async {
            while let Some(value) = rx.recv().await {
                sink.lock().push(value);
            }
        };
        futures::join!(futures::future::join_all(producers), receive);
    }));
    let got = got.lock();
    assert_eq!(got.len(), PRODUCERS * VALUES);
    for id in 0..PRODUCERS {
        let mine: Vec<usize> = got.iter().filter(|v| v.0 == id).map(|v| v.1).collect();
        assert_eq!(mine, (0..VALUES).collect::<Vec<_>>());
    }
}

/// asyncio's worker pool: a producer, four workers, a bounded `Queue`,
/// `join`, then `shutdown`: every item is handled once.
fn queue_workers<E: Executor>(ex: &E) {
    use sync_primitives::Queue;
    const ITEMS: usize = 500;
    let queue = Arc::new(Queue::new(3));
    let handled = Arc::new(AtomicUsize::new(0));
    let workers: Vec<Task> = (0..4)
        .map(|_| {
            let (queue, handled) = (queue.clone(), handled.clone());
            ex.spawn(Box::pin(async move {
                while let Ok(item) = queue.get().await {
                    handled.fetch_add(item, Ordering::SeqCst);
                    queue.task_done();
                }
            }))
        })
        .collect();
    let main = {
        let queue = queue.clone();
        async move {
            for item in 1..=ITEMS {
                queue.put(item).await.unwrap();
            }
            queue.join().await;
            queue.shutdown(false);
        }
    };
    ex.block_on(Box::pin(async move {
        futures::join!(futures::future::join_all(workers), main);
    }));
    assert_eq!(handled.load(Ordering::SeqCst), ITEMS * (ITEMS + 1) / 2);
    assert_eq!(queue.unfinished_tasks(), 0);
}

on_every_executor!(mpsc_pipeline, queue_workers);

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
