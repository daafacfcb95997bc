//! `spawn_blocking`: off the runtime's threads, bounded by
//! `max_blocking_threads`, panics as `JoinError`s, on both flavours.

use runtime::Builder;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;
use test_util::with_watchdog;

#[test]
fn a_current_thread_runtime_stays_responsive_while_closures_block() {
    // Four closures block until the runtime has done async work that needs
    // its only thread (tasks that yield and sleep): if a closure ran on
    // that thread, nothing would release it (the watchdog fails the test).
    with_watchdog(30, || {
        runtime::block_on(async {
            let (release_tx, release_rx) = mpsc::channel::<()>();
            let release_rx = Arc::new(Mutex::new(release_rx));
            let started = Arc::new(AtomicUsize::new(0));
            let mut handles = Vec::new();
            for i in 0..4 {
                let release_rx = Arc::clone(&release_rx);
                let started = Arc::clone(&started);
                handles.push(runtime::spawn_blocking(move || {
                    started.fetch_add(1, Ordering::SeqCst);
                    release_rx.lock().unwrap().recv().unwrap();
                    i
                }));
            }
            // The runtime goes on: a task ticks, sleeps and yields.
            let ticker = runtime::spawn(async {
                for _ in 0..10 {
                    runtime::sleep(Duration::from_millis(1)).await;
                    runtime::yield_now().await;
                }
                "ticked"
            });
            assert_eq!(ticker.await.unwrap(), "ticked");
            // The closures started, each on its own thread, and still block.
            while started.load(Ordering::SeqCst) < 4 {
                runtime::sleep(Duration::from_millis(1)).await;
            }
            assert!(handles.iter().all(|h| !h.is_finished()));
            for _ in 0..4 {
                release_tx.send(()).unwrap();
            }
            let mut outputs = Vec::new();
            for handle in handles {
                outputs.push(handle.await.unwrap());
            }
            assert_eq!(outputs, [0, 1, 2, 3]);
        })
    });
}

#[test]
fn never_more_than_max_blocking_threads_at_once() {
    for multi in [false, true] {
        with_watchdog(30, move || {
            let rt = if multi {
                Builder::new_multi_thread()
                    .worker_threads(2)
                    .max_blocking_threads(3)
                    .build()
                    .unwrap()
            } else {
                Builder::new_current_thread()
                    .max_blocking_threads(3)
                    .build()
                    .unwrap()
            };
            let running = Arc::new(AtomicUsize::new(0));
            let peak = Arc::new(AtomicUsize::new(0));
            let threads = Arc::new(Mutex::new(HashSet::new()));
            rt.block_on(async {
                let mut handles = Vec::new();
                for i in 0..20u32 {
                    let (running, peak, threads) = (
                        Arc::clone(&running),
                        Arc::clone(&peak),
                        Arc::clone(&threads),
                    );
                    handles.push(runtime::spawn_blocking(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        threads.lock().unwrap().insert(std::thread::current().id());
                        // The first three (the first taken, FIFO) wait for
                        // each other: the pool must run them at once.
                        let start = std::time::Instant::now();
                        while i < 3 && peak.load(Ordering::SeqCst) < 3 {
                            assert!(start.elapsed() < Duration::from_secs(10), "no third thread");
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        std::thread::sleep(Duration::from_millis(1));
                        running.fetch_sub(1, Ordering::SeqCst);
                        i
                    }));
                }
                for (i, handle) in handles.into_iter().enumerate() {
                    assert_eq!(handle.await.unwrap(), i as u32);
                }
            });
            let peak = peak.load(Ordering::SeqCst);
            assert!(peak <= 3, "{peak} closures ran at once (multi: {multi})");
            // The pool did grow to its limit.
            assert_eq!(
                peak, 3,
                "the pool never reached its 3 threads (multi: {multi})"
            );
            assert!(threads.lock().unwrap().len() <= 3);
        });
    }
}

#[test]
fn a_panic_comes_back_as_a_join_error() {
    with_watchdog(30, || {
        runtime::block_on(async {
            let err = runtime::spawn_blocking(|| -> u32 { panic!("blocked and panicked") })
                .await
                .unwrap_err();
            assert!(err.is_panic());
            let payload = err.into_panic();
            assert_eq!(
                *payload.downcast_ref::<&str>().unwrap(),
                "blocked and panicked"
            );
            // The pool survives the panic.
            assert_eq!(runtime::spawn_blocking(|| 5).await.unwrap(), 5);
        })
    });
}

#[test]
fn works_from_a_multi_thread_worker_and_leaves_the_workers_free() {
    with_watchdog(30, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let out = rt.block_on(rt.spawn(async {
            let (tx, rx) = mpsc::channel::<u32>();
            let blocked = runtime::spawn_blocking(move || rx.recv().unwrap() * 2);
            // The only worker is free to run this task, which unblocks it.
            let sender = runtime::spawn(async move {
                runtime::yield_now().await;
                tx.send(21).unwrap();
            });
            sender.await.unwrap();
            let name = runtime::spawn_blocking(|| std::thread::current().name().map(str::to_owned));
            (blocked.await.unwrap(), name.await.unwrap())
        }));
        let (doubled, name) = out.unwrap();
        assert_eq!(doubled, 42);
        assert!(name.unwrap().starts_with("runtime-blocking"));
    });
}

#[test]
fn an_abort_before_the_closure_starts_cancels_it() {
    with_watchdog(30, || {
        let rt = Builder::new_current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = mpsc::channel::<()>();
            let busy = runtime::spawn_blocking(move || rx.recv().unwrap());
            let ran = Arc::new(AtomicUsize::new(0));
            let r = Arc::clone(&ran);
            let queued = runtime::spawn_blocking(move || {
                r.fetch_add(1, Ordering::SeqCst);
            });
            queued.abort();
            tx.send(()).unwrap();
            busy.await.unwrap();
            assert!(queued.await.unwrap_err().is_cancelled());
            assert_eq!(ran.load(Ordering::SeqCst), 0);
        });
    });
}

#[test]
#[should_panic(expected = "outside of a runtime")]
fn outside_a_runtime_it_panics() {
    drop(runtime::spawn_blocking(|| ()));
}
