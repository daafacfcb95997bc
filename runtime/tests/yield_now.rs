//! `yield_now` is asyncio's `sleep(0)`: every other ready task runs once
//! before the caller resumes.

use std::sync::{Arc, Mutex};
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: String) {
    log.lock().unwrap().push(entry);
}

#[test]
fn tasks_interleave_round_robin() {
    with_watchdog(WATCHDOG_SECS, || {
        let log: Log = Arc::default();
        runtime::block_on({
            let log = Arc::clone(&log);
            async move {
                let handles: Vec<_> = ["a", "b", "c"]
                    .into_iter()
                    .map(|name| {
                        let log = Arc::clone(&log);
                        runtime::spawn(async move {
                            for i in 0..3 {
                                push(&log, format!("{name}{i}"));
                                runtime::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        assert_eq!(
            *log.lock().unwrap(),
            ["a0", "b0", "c0", "a1", "b1", "c1", "a2", "b2", "c2"]
        );
    });
}

#[test]
fn main_future_takes_its_turn_like_a_task() {
    with_watchdog(WATCHDOG_SECS, || {
        // As with asyncio.run(main()): main is one more entry of the FIFO queue.
        let log: Log = Arc::default();
        runtime::block_on({
            let log = Arc::clone(&log);
            async move {
                let handles: Vec<_> = ["a", "b"]
                    .into_iter()
                    .map(|name| {
                        let log = Arc::clone(&log);
                        runtime::spawn(async move {
                            for i in 0..2 {
                                push(&log, format!("{name}{i}"));
                                runtime::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for i in 0..3 {
                    push(&log, format!("main{i}"));
                    runtime::yield_now().await;
                }
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        assert_eq!(
            *log.lock().unwrap(),
            ["main0", "a0", "b0", "main1", "a1", "b1", "main2"]
        );
    });
}

#[test]
fn task_spawned_during_a_round_runs_after_the_tasks_already_queued() {
    with_watchdog(WATCHDOG_SECS, || {
        let log: Log = Arc::default();
        runtime::block_on({
            let log = Arc::clone(&log);
            async move {
                let l = Arc::clone(&log);
                let a = runtime::spawn(async move {
                    push(&l, "a0".into());
                    let l2 = Arc::clone(&l);
                    let c = runtime::spawn(async move { push(&l2, "c0".into()) });
                    runtime::yield_now().await;
                    push(&l, "a1".into());
                    c.await.unwrap();
                });
                let l = Arc::clone(&log);
                let b = runtime::spawn(async move {
                    push(&l, "b0".into());
                    runtime::yield_now().await;
                    push(&l, "b1".into());
                });
                a.await.unwrap();
                b.await.unwrap();
            }
        });
        assert_eq!(*log.lock().unwrap(), ["a0", "b0", "c0", "a1", "b1"]);
    });
}

#[test]
fn works_under_other_executors() {
    with_watchdog(WATCHDOG_SECS, || {
        futures::executor::block_on(async {
            runtime::yield_now().await;
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let other = tokio::spawn(async { 7 });
            runtime::yield_now().await;
            assert_eq!(other.await.unwrap(), 7);
        });
    });
}

#[test]
fn a_task_woken_from_another_thread_runs_before_the_yielder_resumes() {
    with_watchdog(WATCHDOG_SECS, || {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        runtime::block_on(async {
            let event = Arc::new(sync_primitives::Event::new());
            let ran = Arc::new(AtomicBool::new(false));
            let woken = {
                let (event, ran) = (Arc::clone(&event), Arc::clone(&ran));
                runtime::spawn(async move {
                    event.wait().await;
                    ran.store(true, Ordering::SeqCst);
                })
            };
            runtime::yield_now().await; // it waits
            let setter = std::thread::spawn(move || event.set());
            setter.join().unwrap();
            runtime::yield_now().await;
            assert!(
                ran.load(Ordering::SeqCst),
                "a ready task did not run during the yield"
            );
            woken.await.unwrap();
        });
    });
}

#[test]
fn a_task_whose_timer_expired_runs_before_the_yielder_resumes() {
    with_watchdog(WATCHDOG_SECS, || {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        use std::time::Duration;

        runtime::block_on(async {
            let ran = Arc::new(AtomicBool::new(false));
            let sleeper = {
                let ran = Arc::clone(&ran);
                runtime::spawn(async move {
                    runtime::sleep(Duration::from_millis(1)).await;
                    ran.store(true, Ordering::SeqCst);
                })
            };
            runtime::yield_now().await; // it sleeps
            std::thread::sleep(Duration::from_millis(10)); // its deadline passes
            runtime::yield_now().await;
            assert!(
                ran.load(Ordering::SeqCst),
                "an expired timer's task did not run during the yield"
            );
            sleeper.await.unwrap();
        });
    });
}
