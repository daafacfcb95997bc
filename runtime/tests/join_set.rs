//! `JoinSet`: completion order, input order, abort on drop, panics.

use futures::channel::oneshot;
use runtime::{Builder, JoinSet};
use std::future::{pending, Future};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use test_util::with_watchdog;

/// Counts its drops.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn join_next_returns_tasks_in_completion_order() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            let mut senders = Vec::new();
            for i in 0..5u32 {
                let (tx, rx) = oneshot::channel::<()>();
                senders.push(Some(tx));
                set.spawn(async move {
                    rx.await.unwrap();
                    i
                });
            }
            assert_eq!(set.len(), 5);
            for i in [3usize, 0, 4, 1, 2] {
                senders[i].take().unwrap().send(()).unwrap();
                let got = set.join_next().await.unwrap().unwrap();
                assert_eq!(got as usize, i);
            }
            assert!(set.is_empty());
            assert!(set.join_next().await.is_none());
        })
    });
}

#[test]
fn join_next_follows_completion_order_when_all_finish_before_it_looks() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            // Task i finishes after 4 - i yields: the last spawned first.
            for i in 0..5u32 {
                set.spawn(async move {
                    for _ in 0..(4 - i) {
                        runtime::yield_now().await;
                    }
                    i
                });
            }
            for _ in 0..10 {
                runtime::yield_now().await;
            }
            let mut order = Vec::new();
            while let Some(result) = set.join_next().await {
                order.push(result.unwrap());
            }
            assert_eq!(order, [4, 3, 2, 1, 0]);
        })
    });
}

#[test]
fn join_all_returns_outputs_in_input_order() {
    with_watchdog(20, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let outputs = rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..100u32 {
                set.spawn(async move {
                    for _ in 0..(100 - i) % 7 {
                        runtime::yield_now().await;
                    }
                    i * 2
                });
            }
            set.join_all().await
        });
        assert_eq!(outputs, (0..100).map(|i| i * 2).collect::<Vec<u32>>());
    });
}

#[test]
fn dropping_the_set_aborts_every_task() {
    for multi in [false, true] {
        with_watchdog(20, move || {
            let rt = if multi {
                Builder::new_multi_thread()
                    .worker_threads(2)
                    .build()
                    .unwrap()
            } else {
                Builder::new_current_thread().build().unwrap()
            };
            let drops = Arc::new(AtomicUsize::new(0));
            let started = Arc::new(AtomicUsize::new(0));
            rt.block_on(async {
                let mut set = JoinSet::new();
                let mut aborts = Vec::new();
                for _ in 0..10 {
                    let guard = DropCount(Arc::clone(&drops));
                    let started = Arc::clone(&started);
                    aborts.push(set.spawn(async move {
                        let _guard = guard;
                        started.fetch_add(1, Ordering::SeqCst);
                        pending::<()>().await;
                    }));
                }
                while started.load(Ordering::SeqCst) < 10 {
                    runtime::yield_now().await;
                }
                drop(set);
                // Every task is cancelled: wait until each future is gone.
                while !aborts.iter().all(|a| a.is_finished()) {
                    runtime::yield_now().await;
                }
            });
            assert_eq!(drops.load(Ordering::SeqCst), 10, "multi: {multi}");
        });
    }
}

#[test]
fn a_panicking_task_comes_back_as_a_join_error() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { panic!("boom") });
            let err = set.join_next().await.unwrap().unwrap_err();
            assert!(err.is_panic());
            let payload = err.into_panic();
            assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "boom");
        })
    });
}

#[test]
fn join_all_resumes_a_panic_and_aborts_the_rest() {
    with_watchdog(20, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = Arc::clone(&drops);
        let result = catch_unwind(AssertUnwindSafe(|| {
            runtime::block_on(async move {
                let mut set = JoinSet::new();
                for _ in 0..3 {
                    let guard = DropCount(Arc::clone(&d));
                    set.spawn(async move {
                        let _guard = guard;
                        pending::<u32>().await
                    });
                }
                set.spawn(async {
                    runtime::yield_now().await;
                    panic!("task failed")
                });
                set.join_all().await
            })
        }));
        let payload = result.unwrap_err();
        assert_eq!(*payload.downcast_ref::<&str>().unwrap(), "task failed");
        // The runtime dropped at the end of `block_on`; but the aborts came
        // first, from `join_all` itself: each pending future was dropped.
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn abort_all_keeps_tasks_until_join_next_returns_them() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            set.spawn(async { 7 });
            runtime::yield_now().await; // the first one completes
            for _ in 0..3 {
                set.spawn(pending::<i32>());
            }
            set.abort_all();
            assert_eq!(set.len(), 4);
            let mut ok = Vec::new();
            let mut cancelled = 0;
            while let Some(result) = set.join_next().await {
                match result {
                    Ok(v) => ok.push(v),
                    Err(e) => {
                        assert!(e.is_cancelled());
                        cancelled += 1;
                    }
                }
            }
            assert_eq!(ok, [7]);
            assert_eq!(cancelled, 3);
        })
    });
}

#[test]
fn the_abort_handle_from_spawn_aborts_that_task_only() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            let victim = set.spawn(async {
                pending::<()>().await;
                0
            });
            set.spawn(async move {
                rx.await.unwrap();
                1
            });
            victim.abort();
            let first = set.join_next().await.unwrap();
            assert!(first.unwrap_err().is_cancelled());
            assert!(victim.is_finished());
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), 1);
        })
    });
}

#[test]
fn shutdown_waits_until_every_future_is_dropped() {
    with_watchdog(20, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let mut set = JoinSet::new();
            for _ in 0..50 {
                let guard = DropCount(Arc::clone(&drops));
                set.spawn(async move {
                    let _guard = guard;
                    pending::<()>().await
                });
            }
            set.shutdown().await;
            assert!(set.is_empty());
            assert_eq!(drops.load(Ordering::SeqCst), 50);
        });
    });
}

#[test]
fn spawn_local_tasks_join_too() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            let shared = Rc::new(5);
            for i in 0..3 {
                let shared = Rc::clone(&shared);
                set.spawn_local(async move { *shared + i });
            }
            let mut outputs = set.join_all().await;
            outputs.sort();
            assert_eq!(outputs, [5, 6, 7]);
        })
    });
}

#[test]
fn ten_thousand_tasks_on_two_workers_each_come_back_once() {
    with_watchdog(60, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let mut set = JoinSet::new();
            for i in 0..10_000u64 {
                set.spawn(async move {
                    if i % 3 == 0 {
                        runtime::yield_now().await;
                    }
                    i
                });
            }
            let mut seen = vec![false; 10_000];
            while let Some(result) = set.join_next().await {
                let i = result.unwrap() as usize;
                assert!(!seen[i], "task {i} returned twice");
                seen[i] = true;
            }
            assert!(seen.iter().all(|s| *s));
        });
    });
}

#[test]
fn a_slot_reused_after_join_next_does_not_confuse_tasks() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            for round in 0..100u32 {
                set.spawn(async move { round });
                set.spawn(async move {
                    runtime::yield_now().await;
                    round + 1000
                });
                let a = set.join_next().await.unwrap().unwrap();
                let b = set.join_next().await.unwrap().unwrap();
                assert_eq!((a, b), (round, round + 1000));
            }
        })
    });
}

#[test]
fn a_dropped_join_next_loses_no_output() {
    with_watchdog(20, || {
        runtime::block_on(async {
            let mut set = JoinSet::new();
            let (tx, rx) = oneshot::channel::<()>();
            set.spawn(async move {
                rx.await.unwrap();
                "kept"
            });
            // Poll `join_next` once (it waits), then drop it.
            {
                let next = set.join_next();
                let mut next = std::pin::pin!(next);
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                assert!(next.as_mut().poll(&mut cx).is_pending());
            }
            tx.send(()).unwrap();
            assert_eq!(set.join_next().await.unwrap().unwrap(), "kept");
            assert!(set.is_empty());
        })
    });
}

#[test]
fn an_abort_handle_aborts_from_another_thread() {
    with_watchdog(20, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(Arc::clone(&drops));
        let handle = rt.spawn(async move {
            let _guard = guard;
            pending::<()>().await
        });
        let abort = handle.abort_handle();
        std::thread::spawn(move || abort.abort()).join().unwrap();
        let result = rt.block_on(handle);
        assert!(result.unwrap_err().is_cancelled());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}
