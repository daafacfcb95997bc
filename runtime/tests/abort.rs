//! `JoinHandle::abort`: the future is dropped, then the handle resolves to a
//! cancelled `JoinError`.

use runtime::{Builder, JoinHandle};
use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn abort_then_one_yield_sees_the_future_dropped() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let guard = DropFlag(Arc::clone(&dropped));
            let handle = runtime::spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
            // Let it start and block.
            runtime::yield_now().await;
            assert!(!dropped.load(Ordering::SeqCst));
            handle.abort();
            runtime::yield_now().await;
            assert!(
                dropped.load(Ordering::SeqCst),
                "abort + yield_now left the future alive"
            );
            assert!(handle.is_finished());
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled());
            assert!(!err.is_panic());
            assert_eq!(err.to_string(), "task was cancelled");
        });
    });
}

#[test]
fn abort_before_the_first_poll_never_polls() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let polled = Arc::new(AtomicUsize::new(0));
            let p = Arc::clone(&polled);
            let handle = runtime::spawn(async move {
                p.fetch_add(1, Ordering::SeqCst);
            });
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
            assert_eq!(polled.load(Ordering::SeqCst), 0);
        });
    });
}

#[test]
fn abort_after_completion_keeps_the_output() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let handle = runtime::spawn(async { 3 });
            runtime::yield_now().await;
            assert!(handle.is_finished());
            handle.abort();
            assert_eq!(handle.await.unwrap(), 3);
        });
    });
}

#[test]
fn abort_a_sleeping_task() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let guard = DropFlag(Arc::clone(&dropped));
            let handle = runtime::spawn(async move {
                let _guard = guard;
                runtime::sleep(Duration::from_secs(3600)).await;
            });
            runtime::yield_now().await;
            handle.abort();
            assert!(handle.await.unwrap_err().is_cancelled());
            assert!(dropped.load(Ordering::SeqCst));
        });
    });
}

#[test]
fn a_task_aborting_itself_is_not_polled_again() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let slot: Arc<Mutex<Option<JoinHandle<()>>>> = Arc::default();
            let dropped = Arc::new(AtomicBool::new(false));
            let resumed = Arc::new(AtomicBool::new(false));
            let (guard, s, r) = (
                DropFlag(Arc::clone(&dropped)),
                Arc::clone(&slot),
                Arc::clone(&resumed),
            );
            let handle = runtime::spawn(async move {
                let _guard = guard;
                runtime::yield_now().await;
                let me = s.lock().unwrap().take().unwrap();
                me.abort();
                runtime::yield_now().await;
                r.store(true, Ordering::SeqCst);
            });
            *slot.lock().unwrap() = Some(handle);
            for _ in 0..3 {
                runtime::yield_now().await;
            }
            assert!(dropped.load(Ordering::SeqCst));
            assert!(!resumed.load(Ordering::SeqCst));
        });
    });
}

#[test]
fn abort_from_another_thread_on_multi_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(Arc::clone(&dropped));
        let started = Arc::new(AtomicBool::new(false));
        let s = Arc::clone(&started);
        let handle = rt.spawn(async move {
            let _guard = guard;
            s.store(true, Ordering::SeqCst);
            pending::<()>().await;
        });
        while !started.load(Ordering::SeqCst) {
            std::thread::yield_now();
        }
        std::thread::spawn(move || {
            handle.abort();
            let err = futures::executor::block_on(handle).unwrap_err();
            assert!(err.is_cancelled());
        })
        .join()
        .unwrap();
        assert!(dropped.load(Ordering::SeqCst));
    });
}

#[test]
fn aborted_task_is_dropped_before_the_next_task_runs() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let guard = DropFlag(Arc::clone(&dropped));
            let victim = runtime::spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
            runtime::yield_now().await; // the victim starts and blocks
            let d = Arc::clone(&dropped);
            let witness = runtime::spawn(async move { d.load(Ordering::SeqCst) });
            // The witness is queued first, but the abort goes to the front.
            victim.abort();
            assert!(
                witness.await.unwrap(),
                "the task picked after abort() saw the victim alive"
            );
            assert!(victim.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn a_task_already_queued_is_dropped_before_the_next_pick() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let seen_by_first = {
                let dropped = Arc::clone(&dropped);
                runtime::spawn(async move { dropped.load(Ordering::SeqCst) })
            };
            let guard = DropFlag(Arc::clone(&dropped));
            let aborted = runtime::spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            });
            // Both are queued, `seen_by_first` ahead of `aborted`.
            aborted.abort();
            assert!(
                seen_by_first.await.unwrap(),
                "the task picked after the abort ran before the aborted future was dropped"
            );
            assert!(aborted.await.unwrap_err().is_cancelled());
        });
    });
}

#[test]
fn a_task_woken_from_another_thread_then_aborted_is_gone_after_one_yield() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            let dropped = Arc::new(AtomicBool::new(false));
            let event = Arc::new(sync_primitives::Event::new());
            let guard = DropFlag(Arc::clone(&dropped));
            let handle = {
                let event = Arc::clone(&event);
                runtime::spawn(async move {
                    let _guard = guard;
                    event.wait().await;
                    pending::<()>().await;
                })
            };
            runtime::yield_now().await; // it waits on the event
                                        // The wake-up goes through the injector.
            let setter = std::thread::spawn(move || event.set());
            setter.join().unwrap();
            handle.abort();
            runtime::yield_now().await;
            assert!(
                dropped.load(Ordering::SeqCst),
                "abort + yield_now left it alive"
            );
            assert!(handle.await.unwrap_err().is_cancelled());
        });
    });
}

/// Issue 10, bug 7: each abort re-partitioned the whole run queue, so N
/// pairs of tasks aborting each other cost O(N²) (7.6 s at N = 40_000 in a
/// release build). Now each abort is O(1): the run stays linear. The bound
/// is generous (a debug build on a loaded machine runs this in well under a
/// second); the quadratic version takes minutes here.
#[test]
fn abort_pairs_cost_linear_time() {
    with_watchdog(WATCHDOG_SECS, || {
        const PAIRS: usize = 40_000;
        type Slot = Arc<Mutex<Option<JoinHandle<()>>>>;
        let start = std::time::Instant::now();
        let finished = Arc::new(AtomicUsize::new(0));
        runtime::block_on(async {
            for _ in 0..PAIRS {
                let (a, b): (Slot, Slot) = Default::default();
                let task = |mine: Slot, theirs: Slot, finished: Arc<AtomicUsize>| async move {
                    runtime::yield_now().await;
                    drop(mine.lock().unwrap().take());
                    if let Some(partner) = theirs.lock().unwrap().take() {
                        partner.abort();
                    }
                    finished.fetch_add(1, Ordering::Relaxed);
                };
                let ha = runtime::spawn(task(a.clone(), b.clone(), finished.clone()));
                let hb = runtime::spawn(task(b.clone(), a.clone(), finished.clone()));
                *a.lock().unwrap() = Some(ha);
                *b.lock().unwrap() = Some(hb);
            }
            for _ in 0..3 {
                runtime::yield_now().await;
            }
        });
        assert_eq!(finished.load(Ordering::Relaxed), PAIRS, "one of each pair");
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{PAIRS} abort pairs took {:?}",
            start.elapsed()
        );
    });
}
