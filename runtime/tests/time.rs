//! `sleep`, `sleep_until` and `timeout`: deadline order, never early, and
//! under other executors.

use runtime::{Builder, Runtime};
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

fn runtimes() -> [Runtime; 2] {
    [
        Runtime::new(),
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
    ]
}

#[test]
fn sleep_never_completes_early() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in runtimes() {
            rt.block_on(async {
                for ms in [0, 1, 3, 10] {
                    let deadline = Instant::now() + Duration::from_millis(ms);
                    runtime::sleep(Duration::from_millis(ms)).await;
                    assert!(Instant::now() >= deadline);
                    let deadline = Instant::now() + Duration::from_millis(ms);
                    runtime::sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline);
                }
            });
        }
    });
}

#[test]
fn sleeping_tasks_wake_in_deadline_order() {
    with_watchdog(WATCHDOG_SECS, || {
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime::block_on({
            let log = Arc::clone(&log);
            async move {
                let start = Instant::now();
                let handles: Vec<_> = [150_u64, 50, 100, 0, 200]
                    .into_iter()
                    .map(|ms| {
                        let log = Arc::clone(&log);
                        runtime::spawn(async move {
                            let deadline = start + Duration::from_millis(ms);
                            runtime::sleep_until(deadline).await;
                            assert!(Instant::now() >= deadline);
                            log.lock().unwrap().push(ms);
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        assert_eq!(*log.lock().unwrap(), [0, 50, 100, 150, 200]);
    });
}

#[test]
fn timers_expiring_together_fire_in_deadline_order() {
    with_watchdog(WATCHDOG_SECS, || {
        // All deadlines are in the past by the time the runtime looks at its
        // timer (the main future blocks the thread meanwhile): they expire in one
        // batch, and still fire in deadline order, equal deadlines in the order
        // they were registered.
        let log = Arc::new(Mutex::new(Vec::new()));
        runtime::block_on({
            let log = Arc::clone(&log);
            async move {
                let base = Instant::now() + Duration::from_millis(100);
                let offsets = [(5, 'a'), (1, 'b'), (3, 'c'), (1, 'd'), (2, 'e')];
                let handles: Vec<_> = offsets
                    .into_iter()
                    .map(|(ms, name)| {
                        let log = Arc::clone(&log);
                        runtime::spawn(async move {
                            runtime::sleep_until(base + Duration::from_millis(ms)).await;
                            log.lock().unwrap().push(name);
                        })
                    })
                    .collect();
                // Let every task register its timer, then block past all deadlines.
                runtime::yield_now().await;
                std::thread::sleep(Duration::from_millis(150));
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        assert_eq!(*log.lock().unwrap(), ['b', 'd', 'e', 'c', 'a']);
    });
}

#[test]
fn timeout_both_ways() {
    with_watchdog(WATCHDOG_SECS, || {
        for rt in runtimes() {
            rt.block_on(async {
                let ok = runtime::timeout(Duration::from_secs(60), async {
                    runtime::sleep(Duration::from_millis(1)).await;
                    "done"
                })
                .await;
                assert_eq!(ok, Ok("done"));

                let start = Instant::now();
                let err = runtime::timeout(
                    Duration::from_millis(10),
                    runtime::sleep(Duration::from_secs(60)),
                )
                .await
                .unwrap_err();
                assert!(start.elapsed() >= Duration::from_millis(10));
                assert_eq!(err.to_string(), "deadline has elapsed");
                let _: &dyn std::error::Error = &err;
            });
        }
    });
}

#[test]
fn timeout_drops_the_future_when_it_elapses() {
    with_watchdog(WATCHDOG_SECS, || {
        struct Flag(Arc<Mutex<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                *self.0.lock().unwrap() = true;
            }
        }
        let dropped = Arc::new(Mutex::new(false));
        let flag = Flag(Arc::clone(&dropped));
        runtime::block_on(async move {
            let fut = async move {
                let _flag = flag;
                std::future::pending::<()>().await;
            };
            assert!(runtime::timeout(Duration::from_millis(1), fut)
                .await
                .is_err());
        });
        assert!(*dropped.lock().unwrap());
    });
}

#[test]
fn sleep_works_under_tokio_and_futures_executor() {
    with_watchdog(WATCHDOG_SECS, || {
        // No runtime of ours here: the global timer thread serves these.
        let deadline = Instant::now() + Duration::from_millis(5);
        futures::executor::block_on(runtime::sleep_until(deadline));
        assert!(Instant::now() >= deadline);

        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let deadline = Instant::now() + Duration::from_millis(5);
            let sleepers: Vec<_> = (0..3)
                .map(|i| tokio::spawn(runtime::sleep_until(deadline + Duration::from_millis(i))))
                .collect();
            for sleeper in sleepers {
                sleeper.await.unwrap();
            }
            assert!(Instant::now() >= deadline);
            let err =
                runtime::timeout(Duration::from_millis(2), std::future::pending::<()>()).await;
            assert!(err.is_err());
        });
    });
}

#[test]
fn dropped_sleep_does_not_wake_anyone() {
    with_watchdog(WATCHDOG_SECS, || {
        struct Count(AtomicUsize);
        impl std::task::Wake for Count {
            fn wake(self: Arc<Self>) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        runtime::block_on(async {
            let count = Arc::new(Count(AtomicUsize::new(0)));
            let waker = std::task::Waker::from(Arc::clone(&count));
            let mut cx = std::task::Context::from_waker(&waker);
            let mut sleep = Box::pin(runtime::sleep(Duration::from_millis(20)));
            // Register it with the runtime's timer, then drop it.
            if sleep.as_mut().poll(&mut cx).is_ready() {
                return; // a very loaded machine: 20 ms went by already
            }
            drop(sleep);
            runtime::sleep(Duration::from_millis(40)).await;
            assert_eq!(count.0.load(Ordering::SeqCst), 0);
        });
    });
}

#[test]
fn many_sleepers_multi_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let start = Instant::now();
            let handles: Vec<_> = (0..1000_u64)
                .map(|i| {
                    runtime::spawn(async move {
                        let deadline = start + Duration::from_micros(i * 10);
                        runtime::sleep_until(deadline).await;
                        assert!(Instant::now() >= deadline);
                    })
                })
                .collect();
            for handle in handles {
                handle.await.unwrap();
            }
        });
    });
}

/// A task that keeps yielding must not hold back another task's timers:
/// each round of the scheduler (current-thread: also every `yield_now`;
/// multi-thread: every 61 ticks of a busy worker, or an idle worker's
/// time-out) fires the expired ones. `sleeps` 5 ms sleeps, timed one by one,
/// while `yielder` spins on `yield_now` until they are done.
///
/// Only a generous bound on the average is asserted (5 ms + 20 ms): on a
/// loaded machine the OS may take the CPU from the runtime's threads for a
/// few milliseconds at a time (a busy thread waits its turn in the run
/// queue), which no runtime can help: measured on the busy 2-core test
/// machine, every sleep more than 1 ms late coincided with at least as
/// much run-queue wait of the runtime's thread, and tokio was as late on
/// the same load. A current-thread scheduler that fired timers only when
/// idle would never wake the sleeper (the yielder stops only after the
/// sleeps): the watchdog fails the test (checked by that mutation).
#[test]
fn timers_fire_on_time_while_a_task_keeps_yielding() {
    const STEP: Duration = Duration::from_millis(5);
    const SLEEPS: u32 = 20;
    const BOUND: Duration = Duration::from_millis(5 + 20);

    async fn sleeps(done: Arc<AtomicUsize>) -> Duration {
        let mut total = Duration::ZERO;
        for _ in 0..SLEEPS {
            let start = Instant::now();
            runtime::sleep(STEP).await;
            let took = start.elapsed();
            assert!(took >= STEP);
            total += took;
        }
        done.store(1, Ordering::SeqCst);
        total / SLEEPS
    }

    async fn yielder(done: Arc<AtomicUsize>) -> u64 {
        let mut yields = 0;
        while done.load(Ordering::SeqCst) == 0 {
            runtime::yield_now().await;
            yields += 1;
        }
        yields
    }

    fn check(what: &str, average: Duration, yields: u64) {
        assert!(
            average < BOUND,
            "{what}: 5 ms sleeps took {average:?} on average ({yields} yields meanwhile)"
        );
        // The yielder really ran all along, not only once the sleeps ended.
        assert!(yields >= u64::from(SLEEPS), "{what}: only {yields} yields");
    }

    with_watchdog(WATCHDOG_SECS, || {
        for (flavour, rt) in ["current-thread", "multi-thread"]
            .into_iter()
            .zip(runtimes())
        {
            // Both spawned: on the multi-thread runtime they run on the
            // workers, wherever stealing puts them.
            let (average, yields) = rt.block_on(async {
                let done = Arc::new(AtomicUsize::new(0));
                let spinning = runtime::spawn(yielder(Arc::clone(&done)));
                let average = runtime::spawn(sleeps(done)).await.unwrap();
                (average, spinning.await.unwrap())
            });
            check(&format!("{flavour}, spawned sleeper"), average, yields);
            // The sleeper is the `block_on` future, the yielder a task.
            let (average, yields) = rt.block_on(async {
                let done = Arc::new(AtomicUsize::new(0));
                let spinning = runtime::spawn(yielder(Arc::clone(&done)));
                let average = sleeps(done).await;
                (average, spinning.await.unwrap())
            });
            check(&format!("{flavour}, block_on sleeper"), average, yields);
            // Both local to the `block_on` thread (the `demos waiter`
            // timeline's set-up): on the multi-thread runtime, its sleeps
            // register with the workers' timer.
            let (average, yields) = rt.block_on(async {
                let done = Arc::new(AtomicUsize::new(0));
                let spinning = runtime::spawn_local(yielder(Arc::clone(&done)));
                let average = runtime::spawn_local(sleeps(done)).await.unwrap();
                (average, spinning.await.unwrap())
            });
            check(&format!("{flavour}, local tasks"), average, yields);
        }
    });
}
