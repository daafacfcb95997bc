//! The multi-thread flavour: real parallelism, work from any thread,
//! wake-ups after idling.

use runtime::Builder;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

/// Spins until `flag` is set; gives up (returns false) after a generous
/// bound so that a broken scheduler fails the test instead of hanging it.
fn spin_until(flag: &AtomicBool) -> bool {
    let give_up = Instant::now() + Duration::from_secs(20);
    while !flag.load(Ordering::SeqCst) {
        if Instant::now() > give_up {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

#[test]
fn two_cpu_bound_tasks_run_at_the_same_time() {
    with_watchdog(WATCHDOG_SECS, || {
        // Each task announces it started, then blocks its thread until the other
        // has started too: only possible if they run on two threads at once.
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let a_started = Arc::new(AtomicBool::new(false));
        let b_started = Arc::new(AtomicBool::new(false));
        let task = |me: Arc<AtomicBool>, other: Arc<AtomicBool>| async move {
            me.store(true, Ordering::SeqCst);
            spin_until(&other)
        };
        let a = rt.spawn(task(Arc::clone(&a_started), Arc::clone(&b_started)));
        let b = rt.spawn(task(Arc::clone(&b_started), Arc::clone(&a_started)));
        let (a, b) = rt.block_on(async { (a.await.unwrap(), b.await.unwrap()) });
        assert!(a && b, "the two tasks never ran at the same time");
    });
}

#[test]
fn parallel_when_spawned_from_a_worker() {
    with_watchdog(WATCHDOG_SECS, || {
        // Both spawned from one worker: they land on its deque, and the other
        // worker has to steal one.
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let ok = rt.block_on(rt.spawn(async {
            let a_started = Arc::new(AtomicBool::new(false));
            let b_started = Arc::new(AtomicBool::new(false));
            let (a1, b1) = (Arc::clone(&a_started), Arc::clone(&b_started));
            let a = runtime::spawn(async move {
                a1.store(true, Ordering::SeqCst);
                spin_until(&b1)
            });
            let b = runtime::spawn(async move {
                b_started.store(true, Ordering::SeqCst);
                spin_until(&a_started)
            });
            a.await.unwrap() && b.await.unwrap()
        }));
        assert!(ok.unwrap());
    });
}

#[test]
fn tasks_run_on_worker_threads_and_block_on_on_the_caller() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mt-test")
            .build()
            .unwrap();
        let caller = std::thread::current().id();
        let (main_thread, task_thread) = rt.block_on(async {
            let task_thread =
                runtime::spawn(async { std::thread::current().name().map(str::to_owned) });
            (std::thread::current().id(), task_thread.await.unwrap())
        });
        assert_eq!(main_thread, caller);
        assert!(task_thread.unwrap().starts_with("mt-test-"));
    });
}

#[test]
fn idle_workers_wake_for_work_from_outside() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        for round in 0..20 {
            // Let the workers park, then give them work from this thread.
            std::thread::sleep(Duration::from_millis(2));
            let handle = rt.spawn(async move { round * 2 });
            assert_eq!(futures::executor::block_on(handle).unwrap(), round * 2);
        }
    });
}

#[test]
fn wake_ups_from_foreign_threads_are_not_lost() {
    with_watchdog(WATCHDOG_SECS, || {
        // Tasks park on channels fed by plain threads, many times over.
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let total = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (tx, rx) = futures::channel::mpsc::unbounded::<usize>();
                let total = Arc::clone(&total);
                let task = rt.spawn(async move {
                    use futures::StreamExt;
                    let mut rx = rx;
                    while let Some(n) = rx.next().await {
                        total.fetch_add(n, Ordering::Relaxed);
                    }
                });
                let feeder = std::thread::spawn(move || {
                    for _ in 0..1000 {
                        tx.unbounded_send(1).unwrap();
                        std::thread::yield_now();
                    }
                });
                (task, feeder)
            })
            .collect();
        for (task, feeder) in handles {
            feeder.join().unwrap();
            rt.block_on(task).unwrap();
        }
        assert_eq!(total.load(Ordering::Relaxed), 8000);
    });
}

#[test]
fn yield_now_lets_other_tasks_run() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let flag = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&flag);
        let ok = rt.block_on(rt.spawn(async move {
            let setter = runtime::spawn(async move { f.store(true, Ordering::SeqCst) });
            // One worker: the setter can only run if we yield.
            runtime::yield_now().await;
            let seen = flag.load(Ordering::SeqCst);
            setter.await.unwrap();
            seen
        }));
        assert!(ok.unwrap());
    });
}

#[test]
fn runtime_can_be_dropped_from_its_own_worker_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Arc::new(
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        );
        let (go_tx, go_rx) = futures::channel::oneshot::channel::<()>();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let last = Arc::clone(&rt);
        drop(rt.spawn(async move {
            go_rx.await.unwrap();
            // The last reference: the runtime shuts down from this worker (and
            // must not try to join it).
            drop(last);
            done_tx.send(()).unwrap();
        }));
        drop(rt);
        go_tx.send(()).unwrap();
        done_rx.recv_timeout(Duration::from_secs(20)).unwrap();
    });
}

#[test]
fn chains_of_wake_ups_across_workers_complete() {
    // Task i waits for task i-1's message, so every step is a wake-up of a
    // task that is idle, often while the workers are parking: a lost wake-up
    // hangs the chain (the watchdog below turns that into a failure).
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        for _round in 0..20 {
            let (first_tx, mut rx) = futures::channel::oneshot::channel::<usize>();
            let mut handles = Vec::new();
            for _ in 0..200 {
                let (tx, next_rx) = futures::channel::oneshot::channel::<usize>();
                handles.push(rt.spawn(async move {
                    let n = rx.await.unwrap();
                    tx.send(n + 1).unwrap();
                }));
                rx = next_rx;
            }
            first_tx.send(0).unwrap();
            let last = rt.block_on(rx).unwrap();
            assert_eq!(last, 200);
            for handle in handles {
                rt.block_on(handle).unwrap();
            }
        }
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("a wake-up was lost: the chain did not complete");
}

#[test]
fn mixed_stress_with_aborts_from_another_thread() {
    // Yields, sleeps, nested spawns and aborts racing with the tasks they
    // abort; every future is dropped exactly once and every handle resolves.
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(3)
            .build()
            .unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        struct Count(Arc<AtomicUsize>);
        impl Drop for Count {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        const TASKS: usize = 2000;
        let handles: Vec<_> = (0..TASKS)
            .map(|i| {
                let count = Count(Arc::clone(&drops));
                rt.spawn(async move {
                    let _count = count;
                    for step in 0..(i % 7) {
                        match (i + step) % 3 {
                            0 => runtime::yield_now().await,
                            1 => runtime::sleep(Duration::from_micros((i % 500) as u64)).await,
                            _ => {
                                let child = runtime::spawn(async move { step });
                                assert_eq!(child.await.unwrap(), step);
                            }
                        }
                    }
                    i
                })
            })
            .collect();
        let (to_abort, to_await): (Vec<_>, Vec<_>) = handles
            .into_iter()
            .enumerate()
            .partition(|(i, _)| i % 5 == 0);
        let aborter = std::thread::spawn(move || {
            to_abort
                .into_iter()
                .map(|(i, handle)| {
                    handle.abort();
                    match futures::executor::block_on(handle) {
                        Ok(out) => assert_eq!(out, i),
                        Err(err) => assert!(err.is_cancelled()),
                    }
                })
                .count()
        });
        for (i, handle) in to_await {
            assert_eq!(rt.block_on(handle).unwrap(), i);
        }
        assert_eq!(aborter.join().unwrap(), TASKS / 5);
        assert_eq!(drops.load(Ordering::SeqCst), TASKS);
        done_tx.send(()).unwrap();
    });
    done_rx
        .recv_timeout(Duration::from_secs(120))
        .expect("the stress run hung");
}

#[test]
fn a_task_blocking_its_worker_does_not_hold_up_the_tasks_its_reactor_turn_woke() {
    with_watchdog(WATCHDOG_SECS, || {
        // Issue 15: the tasks a parked worker's reactor turn wakes go to its own
        // deque without a notification each, and one idle worker is woken after
        // the turn if two or more are queued. Two readers on two descriptors of
        // one socket (`try_clone`: two epoll registrations), so that one write
        // makes both ready in the same turn; each reader then blocks its thread
        // until the other has run, which is only possible if the other worker
        // was woken to steal one.
        use futures::AsyncReadExt;
        use std::io::Write;
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        for round in 0..20u8 {
            let ran = [
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicBool::new(false)),
            ];
            let (ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
            let descriptors = [ours.try_clone().unwrap(), ours];
            let mut readers = Vec::new();
            for (me, descriptor) in descriptors.into_iter().enumerate() {
                let (mine, other) = (Arc::clone(&ran[me]), Arc::clone(&ran[1 - me]));
                readers.push(rt.spawn(async move {
                    // Made on the worker: registered with the runtime's
                    // reactor, not the global one.
                    let stream = runtime::net::UnixStream::try_from(descriptor).unwrap();
                    let mut byte = [0u8; 1];
                    (&stream).read_exact(&mut byte).await.unwrap();
                    mine.store(true, Ordering::SeqCst);
                    spin_until(&other)
                }));
            }
            // Both readers wait in the reactor before the write.
            std::thread::sleep(Duration::from_millis(10));
            theirs.write_all(&[round, round]).unwrap();
            let both = rt.block_on(async {
                let mut both = true;
                for reader in readers {
                    both &= reader.await.unwrap();
                }
                both
            });
            assert!(
                both,
                "round {round}: a woken reader never ran beside the other"
            );
        }
    });
}
