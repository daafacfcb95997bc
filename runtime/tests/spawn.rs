//! Spawning: outputs, FIFO order, detaching, tasks spawned before
//! `block_on`, and many tasks on each flavour.

use runtime::{Builder, Runtime};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

#[test]
fn join_handles_give_outputs() {
    with_watchdog(WATCHDOG_SECS, || {
        let out = runtime::block_on(async {
            let a = runtime::spawn(async { 1 });
            let b = runtime::spawn(async { String::from("two") });
            let c = runtime::spawn(async { vec![3; 3] });
            (a.await.unwrap(), b.await.unwrap(), c.await.unwrap())
        });
        assert_eq!(out, (1, "two".to_owned(), vec![3, 3, 3]));
    });
}

#[test]
fn spawn_queues_and_does_not_poll_on_the_spot() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let ran = Arc::new(AtomicUsize::new(0));
            let r = Arc::clone(&ran);
            let handle = runtime::spawn(async move { r.fetch_add(1, Ordering::SeqCst) });
            assert_eq!(
                ran.load(Ordering::SeqCst),
                0,
                "spawn polled the task on the spot"
            );
            assert!(!handle.is_finished());
            handle.await.unwrap();
            assert_eq!(ran.load(Ordering::SeqCst), 1);
        });
    });
}

#[test]
fn tasks_run_in_spawn_order() {
    with_watchdog(WATCHDOG_SECS, || {
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime::block_on({
            let log = Arc::clone(&log);
            async move {
                let handles: Vec<_> = (0..10)
                    .map(|i| {
                        let log = Arc::clone(&log);
                        runtime::spawn(async move { log.lock().unwrap().push(i) })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        assert_eq!(*log.lock().unwrap(), (0..10).collect::<Vec<_>>());
    });
}

#[test]
fn dropping_the_handle_detaches_the_task() {
    with_watchdog(WATCHDOG_SECS, || {
        let done = Arc::new(AtomicUsize::new(0));
        runtime::block_on({
            let done = Arc::clone(&done);
            async move {
                let d = Arc::clone(&done);
                drop(runtime::spawn(async move {
                    runtime::yield_now().await;
                    runtime::yield_now().await;
                    d.fetch_add(1, Ordering::SeqCst);
                }));
                // Three yields: the detached task needs two, then finishes.
                for _ in 0..3 {
                    runtime::yield_now().await;
                }
            }
        });
        assert_eq!(done.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn tasks_spawned_before_block_on_run_once_it_starts() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Runtime::new();
        let ran = Arc::new(AtomicUsize::new(0));
        let r = Arc::clone(&ran);
        let handle = rt.spawn(async move { r.fetch_add(1, Ordering::SeqCst) + 10 });
        assert_eq!(ran.load(Ordering::SeqCst), 0);
        assert!(!handle.is_finished());
        // The main future does not await the handle: the task runs before it
        // anyway, since it was queued first.
        let seen = rt.block_on(async { ran.load(Ordering::SeqCst) });
        assert_eq!(seen, 1);
        assert!(handle.is_finished());
        assert_eq!(rt.block_on(handle).unwrap(), 10);
    });
}

#[test]
fn handle_can_be_awaited_in_a_later_block_on() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Runtime::new();
        let handle = rt.block_on(async {
            let handle = runtime::spawn(async { 5 });
            // Keep the handle: the task will run in the next block_on.
            Some(handle)
        });
        let handle = handle.unwrap();
        assert_eq!(rt.block_on(handle).unwrap(), 5);
    });
}

fn spawn_many(rt: &Runtime, n: usize) {
    let count = Arc::new(AtomicUsize::new(0));
    let total: usize = rt.block_on({
        let count = Arc::clone(&count);
        async move {
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let count = Arc::clone(&count);
                    runtime::spawn(async move {
                        count.fetch_add(1, Ordering::Relaxed);
                        i
                    })
                })
                .collect();
            let mut total = 0;
            for handle in handles {
                total += handle.await.unwrap();
            }
            total
        }
    });
    assert_eq!(count.load(Ordering::Relaxed), n);
    assert_eq!(total, n * (n - 1) / 2);
}

#[test]
fn hundred_thousand_tasks_current_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        spawn_many(&Runtime::new(), 100_000);
    });
}

#[test]
fn hundred_thousand_tasks_multi_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        spawn_many(&rt, 100_000);
    });
}

#[test]
fn hundred_thousand_tasks_spawned_from_tasks_multi_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        // Spawned from a worker: they go to that worker's deque and get stolen.
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let n = rt
            .block_on(rt.spawn(async {
                let handles: Vec<_> = (0..100_000)
                    .map(|i| runtime::spawn(async move { i % 2 }))
                    .collect();
                let mut odd = 0;
                for handle in handles {
                    odd += handle.await.unwrap();
                }
                odd
            }))
            .unwrap();
        assert_eq!(n, 50_000);
    });
}
