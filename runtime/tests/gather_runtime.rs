//! `gather`, `gather!` and `try_gather` on our own runtime: the chapter's
//! pair with `yield_now`, input order, first error, and gathers inside
//! tasks of the multi-thread runtime.
#![cfg(not(loom))]

mod common;

use common::{chapter_lines, count_up_to, wait_job};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runtime::{gather, try_gather, yield_now, Builder};
use sync_primitives::Waiter;
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

#[test]
fn chapter_pair_on_block_on() {
    with_watchdog(WATCHDOG_SECS, || {
        let waiter = Waiter::new();
        let log = Mutex::new(Vec::new());
        let results = runtime::block_on(async {
            runtime::gather!(wait_job(&waiter, &log), count_up_to(&waiter, 10, &log))
        });
        assert_eq!(results, ((), ()));
        assert_eq!(log.into_inner().unwrap(), chapter_lines());
    });
}

#[test]
fn chapter_pair_on_both_flavours() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in [
            Builder::new_current_thread().build().unwrap(),
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ] {
            let handle = rt.spawn(async {
                let waiter = Waiter::new();
                let log = Mutex::new(Vec::new());
                let results =
                    runtime::gather!(wait_job(&waiter, &log), count_up_to(&waiter, 10, &log));
                (results, log.into_inner().unwrap())
            });
            let (results, lines) = rt.block_on(handle).unwrap();
            assert_eq!(results, ((), ()));
            assert_eq!(lines, chapter_lines());
        }
    });
}

#[test]
fn input_order_kept_when_children_finish_in_reverse() {
    with_watchdog(WATCHDOG_SECS, || {
        let finished = Mutex::new(Vec::new());
        let n = 100;
        let outputs = runtime::block_on(gather((0..n).map(|i| {
            let finished = &finished;
            async move {
                for _ in 0..n - i {
                    yield_now().await;
                }
                finished.lock().unwrap().push(i);
                i
            }
        })));
        assert_eq!(outputs, (0..n).collect::<Vec<_>>());
        assert_eq!(
            finished.into_inner().unwrap(),
            (0..n).rev().collect::<Vec<_>>()
        );
    });
}

#[test]
fn sleeping_children_finish_in_deadline_order_outputs_in_input_order() {
    with_watchdog(WATCHDOG_SECS, || {
        let finished = Mutex::new(Vec::new());
        let outputs = runtime::block_on(gather((0..5u64).map(|i| {
            let finished = &finished;
            async move {
                runtime::sleep(Duration::from_millis(5 * (5 - i))).await;
                finished.lock().unwrap().push(i);
                i
            }
        })));
        assert_eq!(outputs, [0, 1, 2, 3, 4]);
        assert_eq!(finished.into_inner().unwrap(), [4, 3, 2, 1, 0]);
    });
}

#[test]
fn try_gather_first_error_drops_the_rest() {
    with_watchdog(WATCHDOG_SECS, || {
        struct Guard(Arc<AtomicUsize>);
        impl Drop for Guard {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let dropped = Arc::new(AtomicUsize::new(0));
        let polled_after = Arc::new(AtomicUsize::new(0));
        let n = 1_000;
        let result = runtime::block_on(try_gather((0..n).map(|i| {
            let guard = Guard(dropped.clone());
            let polled_after = polled_after.clone();
            async move {
                let _guard = guard;
                yield_now().await;
                if i == 500 {
                    return Err(i);
                }
                if i > 500 {
                    polled_after.fetch_add(1, Ordering::SeqCst);
                }
                std::future::pending::<Result<usize, usize>>().await
            }
        })));
        assert_eq!(result, Err(500));
        assert_eq!(dropped.load(Ordering::SeqCst), n);
        // Woken in input order by `yield_now`: those after 500 never ran again.
        assert_eq!(polled_after.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn gathers_inside_tasks_of_the_multi_thread_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let handles: Vec<_> = (0..8u64)
            .map(|t| {
                rt.spawn(async move {
                    let values = gather((0..100u64).map(|i| async move {
                        yield_now().await;
                        i * t
                    }))
                    .await;
                    values.iter().sum::<u64>()
                })
            })
            .collect();
        let sums = rt.block_on(gather(handles));
        let sums: Vec<u64> = sums.into_iter().map(Result::unwrap).collect();
        assert_eq!(sums, (0..8).map(|t| 4950 * t).collect::<Vec<_>>());
    });
}

#[test]
fn panicking_child_fails_only_its_task() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_current_thread().build().unwrap();
        let failed = rt.spawn(async {
            let (a, ()) = runtime::gather!(async { 1 }, async {
                yield_now().await;
                panic!("child panicked");
            });
            a
        });
        let ok = rt.spawn(gather([async { 2 }]));
        let (failed, ok) = rt.block_on(async { runtime::gather!(failed, ok) });
        assert!(failed.unwrap_err().is_panic());
        assert_eq!(ok.unwrap(), [2]);
    });
}
