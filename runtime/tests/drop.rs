//! Every task future (and output) is dropped exactly once: completed,
//! aborted, detached, or left pending when the runtime is dropped.

use runtime::{Builder, Runtime};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

/// Counts its drops.
#[derive(Default, Clone)]
struct Drops(Arc<AtomicUsize>);

impl Drops {
    fn token(&self) -> Token {
        Token(Arc::clone(&self.0))
    }

    fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

struct Token(Arc<AtomicUsize>);

impl Drop for Token {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn flavours() -> Vec<Runtime> {
    vec![
        Runtime::new(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

#[test]
fn completed_task_drops_future_and_output_once() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in flavours() {
            let futures = Drops::default();
            let outputs = Drops::default();
            rt.block_on(async {
                let token = futures.token();
                let output = outputs.token();
                let handle = runtime::spawn(async move {
                    let _token = token;
                    runtime::yield_now().await;
                    output
                });
                let output = handle.await.unwrap();
                assert_eq!(futures.count(), 1);
                assert_eq!(outputs.count(), 0);
                drop(output);
            });
            assert_eq!(futures.count(), 1);
            assert_eq!(outputs.count(), 1);
        }
    });
}

#[test]
fn detached_task_drops_its_output_once() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in flavours() {
            let outputs = Drops::default();
            rt.block_on(async {
                let output = outputs.token();
                let handle = runtime::spawn(async move { output });
                drop(handle);
                // Let it run (on multi-thread: wait for it).
                for _ in 0..1000 {
                    if outputs.count() == 1 {
                        break;
                    }
                    runtime::sleep(Duration::from_millis(1)).await;
                }
            });
            assert_eq!(outputs.count(), 1);
        }
    });
}

#[test]
fn aborted_task_drops_its_future_once() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in flavours() {
            let futures = Drops::default();
            rt.block_on(async {
                let token = futures.token();
                let handle = runtime::spawn(async move {
                    let _token = token;
                    runtime::sleep(Duration::from_secs(3600)).await;
                });
                runtime::yield_now().await;
                handle.abort();
                handle.abort();
                assert!(handle.await.unwrap_err().is_cancelled());
                assert_eq!(futures.count(), 1);
            });
            assert_eq!(futures.count(), 1);
        }
    });
}

#[test]
fn panicked_task_drops_its_future_once() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in flavours() {
            let futures = Drops::default();
            rt.block_on(async {
                let token = futures.token();
                let handle = runtime::spawn(async move {
                    let _token = token;
                    runtime::yield_now().await;
                    panic!("expected");
                });
                assert!(handle.await.unwrap_err().is_panic());
            });
            assert_eq!(futures.count(), 1);
        }
    });
}

#[test]
fn dropping_the_runtime_drops_pending_tasks_once() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in flavours() {
            let sleeping = Drops::default();
            let finished = Drops::default();
            let started = Drops::default();
            let mut kept = Vec::new();
            rt.block_on(async {
                for i in 0..10 {
                    let token = sleeping.token();
                    let mark = started.token();
                    let handle = runtime::spawn(async move {
                        let _token = token;
                        drop(mark);
                        runtime::sleep(Duration::from_secs(3600)).await;
                    });
                    // Keep half of the handles, detach the others.
                    if i % 2 == 0 {
                        kept.push(handle);
                    }
                }
                for _ in 0..5 {
                    let token = finished.token();
                    drop(runtime::spawn(async move {
                        let _token = token;
                    }));
                }
                while started.count() < 10 || finished.count() < 5 {
                    runtime::sleep(Duration::from_millis(1)).await;
                }
            });
            assert_eq!(sleeping.count(), 0);
            drop(rt);
            assert_eq!(sleeping.count(), 10);
            assert_eq!(finished.count(), 5);
            for handle in kept {
                assert!(futures::executor::block_on(handle)
                    .unwrap_err()
                    .is_cancelled());
            }
            assert_eq!(sleeping.count(), 10);
        }
    });
}

#[test]
fn task_parked_on_a_foreign_waker_is_dropped_with_its_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        // The runtime keeps a list of its tasks: one waiting on something
        // outside it (here a channel) is dropped by the runtime's drop, not
        // left alive until that wakes it.
        for rt in flavours() {
            let futures = Drops::default();
            let started = Drops::default();
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            let token = futures.token();
            let mark = started.token();
            let handle = rt.spawn(async move {
                let _token = token;
                drop(mark);
                let _ = rx.await;
                unreachable!("polled after its runtime was dropped");
            });
            rt.block_on(async {
                while started.count() == 0 {
                    runtime::sleep(Duration::from_millis(1)).await;
                }
            });
            drop(rt);
            assert_eq!(futures.count(), 1);
            drop(tx); // wakes nothing: the task is gone
            assert_eq!(futures.count(), 1);
            assert!(futures::executor::block_on(handle)
                .unwrap_err()
                .is_cancelled());
            assert_eq!(futures.count(), 1);
        }
    });
}

#[test]
fn runtime_drop_cancels_sleeping_tasks_with_kept_handles() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in flavours() {
            let futures = Drops::default();
            let token = futures.token();
            let handle = rt.spawn(async move {
                let _token = token;
                runtime::sleep(Duration::from_secs(3600)).await;
            });
            // Let it register its timer.
            rt.block_on(async {
                runtime::sleep(Duration::from_millis(20)).await;
            });
            drop(rt);
            assert_eq!(futures.count(), 1);
            assert!(futures::executor::block_on(handle)
                .unwrap_err()
                .is_cancelled());
            assert_eq!(futures.count(), 1);
        }
    });
}

#[test]
fn runtime_drop_drops_never_started_tasks() {
    with_watchdog(WATCHDOG_SECS, || {
        // Current-thread: no block_on, so none of them ever runs.
        let rt = Runtime::new();
        let futures = Drops::default();
        let handles: Vec<_> = (0..100)
            .map(|_| {
                let token = futures.token();
                rt.spawn(async move {
                    let _token = token;
                    unreachable!("never polled");
                })
            })
            .collect();
        drop(rt);
        assert_eq!(futures.count(), 100);
        for handle in handles {
            assert!(futures::executor::block_on(handle)
                .unwrap_err()
                .is_cancelled());
        }
        assert_eq!(futures.count(), 100);
    });
}
