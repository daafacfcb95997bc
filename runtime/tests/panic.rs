//! A panicking task never takes the runtime down.

use runtime::{Builder, Runtime};
use std::panic::{catch_unwind, AssertUnwindSafe};
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

#[test]
fn panic_gives_a_join_error_with_the_payload() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            // A formatted message with a run-time argument: a `String` payload.
            let n = std::hint::black_box(7);
            let handle = runtime::spawn(async move { panic!("task {n} failed") });
            let err = handle.await.unwrap_err();
            assert!(err.is_panic());
            assert!(!err.is_cancelled());
            assert_eq!(err.to_string(), "task panicked: task 7 failed");
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<String>().unwrap(), "task 7 failed");
        });
    });
}

#[test]
fn non_string_payload() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let err = runtime::spawn(async { std::panic::panic_any(42_u8) })
                .await
                .unwrap_err();
            assert_eq!(err.to_string(), "task panicked");
            assert_eq!(*err.into_panic().downcast::<u8>().unwrap(), 42);
        });
    });
}

#[test]
fn runtime_keeps_running_other_tasks() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in [
            Runtime::new(),
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ] {
            let out = rt.block_on(async {
                let bad: Vec<_> = (0..10)
                    .map(|_| runtime::spawn(async { panic!("boom") }))
                    .collect();
                let good: Vec<_> = (0..10).map(|i| runtime::spawn(async move { i })).collect();
                for handle in bad {
                    assert!(handle.await.unwrap_err().is_panic());
                }
                let mut sum = 0;
                for handle in good {
                    sum += handle.await.unwrap();
                }
                sum
            });
            assert_eq!(out, 45);
            // And the runtime is still usable.
            assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
        }
    });
}

#[test]
fn detached_panicking_task_is_harmless() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            drop(runtime::spawn(async { panic!("nobody listens") }));
            runtime::yield_now().await;
            assert_eq!(runtime::spawn(async { 2 }).await.unwrap(), 2);
        });
    });
}

#[test]
fn panic_in_the_main_future_propagates_and_the_runtime_survives() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Runtime::new();
        let pending = rt.spawn(async { 5 });
        let result = catch_unwind(AssertUnwindSafe(|| {
            rt.block_on(async { panic!("main failed") });
        }));
        assert!(result.is_err());
        // The queued task was kept, and the runtime can block_on again.
        assert_eq!(rt.block_on(pending).unwrap(), 5);
    });
}
