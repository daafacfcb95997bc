//! Shutdown: dropping a runtime drops every task it owns, wherever it
//! waits, on both flavours (issue 12), and the regressions of issue 10 that
//! live on that path (bugs 1, 2, 4, 5, 10, 11).
//!
//! Every test that could hang runs under a watchdog; those whose regression
//! would kill the process (an abort, a stack overflow) run their body in a
//! child process, so that a regression fails the test instead of the suite.

#![cfg(not(loom))]

use runtime::{Builder, Runtime};
use std::cell::Cell;
use std::process::Command;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};
use sync_primitives::{Event, Mutex};

use test_util::with_watchdog;

/// Re-runs the test `name` in a child process with `CHILD_ENV` set, where
/// the test runs its dangerous body; asserts the child succeeded.
const CHILD_ENV: &str = "RUNTIME_SHUTDOWN_TEST_CHILD";

fn in_child_process(name: &str) {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "the child process failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

fn flavours() -> Vec<(&'static str, Runtime)> {
    vec![
        ("current_thread", Runtime::new()),
        (
            "multi_thread",
            Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ]
}

/// Counts its drops.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// Lets the runtime run its tasks until `done` says so.
fn run_until(rt: &Runtime, done: impl Fn() -> bool) {
    rt.block_on(async {
        while !done() {
            runtime::sleep(Duration::from_millis(1)).await;
        }
    });
}

#[test]
fn a_task_blocked_forever_on_an_event_is_dropped_with_its_runtime() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            let event = Arc::new(Event::new());
            let mutex = Arc::new(Mutex::new(0));
            let drops = Arc::new(AtomicUsize::new(0));
            let started = Arc::new(AtomicUsize::new(0));
            let handle = rt.spawn({
                let (event, mutex) = (Arc::clone(&event), Arc::clone(&mutex));
                let (guard, started) = (DropCount(Arc::clone(&drops)), Arc::clone(&started));
                async move {
                    let _guard = guard;
                    let mut held = mutex.lock().await;
                    *held += 1;
                    started.store(1, Ordering::SeqCst);
                    event.wait().await; // never set
                    unreachable!("the event is never set");
                }
            });
            run_until(&rt, || started.load(Ordering::SeqCst) == 1);
            assert!(mutex.is_locked(), "{flavour}: the task holds the mutex");
            drop(rt);
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "{flavour}: drop guard ran once"
            );
            assert!(
                !mutex.is_locked(),
                "{flavour}: the guard it held is released"
            );
            // Awaited from another runtime.
            let other = Runtime::new();
            let err = other.block_on(handle).unwrap_err();
            assert!(err.is_cancelled(), "{flavour}: {err}");
            assert_eq!(*other.block_on(mutex.lock()), 1);
            assert_eq!(drops.load(Ordering::SeqCst), 1, "{flavour}: never twice");
        }
    });
}

#[test]
fn a_task_waiting_on_another_runtimes_task_is_dropped() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            let other = Runtime::new();
            let foreign = other.spawn(std::future::pending::<()>());
            let drops = Arc::new(AtomicUsize::new(0));
            let guard = DropCount(Arc::clone(&drops));
            let handle = rt.spawn(async move {
                let _guard = guard;
                let _ = foreign.await;
            });
            rt.block_on(runtime::sleep(Duration::from_millis(5)));
            drop(rt);
            assert_eq!(drops.load(Ordering::SeqCst), 1, "{flavour}");
            assert!(other.block_on(handle).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn a_task_sleeping_an_hour_is_dropped_promptly() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            let drops = Arc::new(AtomicUsize::new(0));
            let guard = DropCount(Arc::clone(&drops));
            let handle = rt.spawn(async move {
                let _guard = guard;
                runtime::sleep(Duration::from_secs(3600)).await;
            });
            rt.block_on(runtime::sleep(Duration::from_millis(5)));
            let start = Instant::now();
            drop(rt);
            // Generous: the drop is a few microseconds of work.
            assert!(start.elapsed() < Duration::from_secs(5), "{flavour}");
            assert_eq!(drops.load(Ordering::SeqCst), 1, "{flavour}");
            assert!(runtime::block_on(handle).unwrap_err().is_cancelled());
        }
    });
}

#[test]
fn a_detached_task_pending_without_a_waker_is_dropped() {
    // Issue 10, bug 11: the former "zombie" (its cell was freed without
    // running the future's destructor).
    for (flavour, rt) in flavours() {
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = DropCount(Arc::clone(&drops));
        drop(rt.spawn(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        }));
        rt.block_on(runtime::sleep(Duration::from_millis(5)));
        assert_eq!(drops.load(Ordering::SeqCst), 0, "{flavour}");
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{flavour}");
    }
}

#[test]
#[allow(clippy::async_yields_async)] // the block_on returns the handle, on purpose
fn local_task_outliving_a_multi_thread_block_on_is_dropped_on_its_thread() {
    // Issue 10, bug 1.
    with_watchdog(30, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let dropped_on = Arc::new(std::sync::Mutex::new(None));
        let handle = rt.block_on({
            let dropped_on = Arc::clone(&dropped_on);
            async move {
                // `!Send` (the `Rc`), as a local task's state may be.
                struct Where(Arc<std::sync::Mutex<Option<thread::ThreadId>>>, Rc<()>);
                impl Drop for Where {
                    fn drop(&mut self) {
                        let _rc = &self.1;
                        *self.0.lock().unwrap() = Some(thread::current().id());
                    }
                }
                let guard = Where(dropped_on, Rc::new(()));
                let handle = runtime::spawn_local(async move {
                    let _guard = guard;
                    runtime::sleep(Duration::from_millis(50)).await;
                    5
                });
                runtime::yield_now().await;
                runtime::yield_now().await;
                handle
            }
        });
        assert_eq!(
            *dropped_on.lock().unwrap(),
            Some(thread::current().id()),
            "dropped when block_on returned, on the block_on thread"
        );
        assert!(rt.block_on(handle).unwrap_err().is_cancelled());
    });
}

#[test]
fn spawn_local_from_a_second_concurrent_block_on_completes() {
    // Issue 10, bug 2.
    with_watchdog(30, || {
        let rt = Arc::new(Runtime::new());
        let (started_tx, started_rx) = mpsc::channel();
        let first = {
            let rt = Arc::clone(&rt);
            thread::spawn(move || {
                rt.block_on(async {
                    started_tx.send(()).unwrap();
                    runtime::sleep(Duration::from_secs(2)).await;
                })
            })
        };
        started_rx.recv().unwrap();
        let start = Instant::now();
        let out = rt.block_on(async {
            let local = Rc::new(Cell::new(0));
            let l = Rc::clone(&local);
            let handle = runtime::spawn_local(async move {
                l.set(7);
                7
            });
            handle.await.unwrap() + local.get()
        });
        assert_eq!(out, 14);
        // It did not wait for the other block_on to leave (generous).
        assert!(start.elapsed() < Duration::from_millis(1500));
        first.join().unwrap();
    });
}

#[test]
fn local_tasks_are_never_dropped_on_another_thread() {
    // A current-thread runtime dropped on another thread than its local
    // task's: the task cannot be dropped there (documented on `Runtime`),
    // so it is leaked, and the process does not abort.
    with_watchdog(30, || {
        let rt = Runtime::new();
        let drops = Arc::new(AtomicUsize::new(0));
        rt.block_on({
            let drops = Arc::clone(&drops);
            async move {
                let guard = (DropCount(drops), Rc::new(()));
                drop(runtime::spawn_local(async move {
                    let _guard = guard;
                    std::future::pending::<()>().await;
                }));
                runtime::yield_now().await;
            }
        });
        thread::spawn(move || drop(rt)).join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 0, "never dropped elsewhere");
    });
}

#[test]
fn a_detached_task_whose_output_panics_on_drop_is_contained() {
    // Issue 10, bug 4: was a process abort.
    if !is_child() {
        return in_child_process("a_detached_task_whose_output_panics_on_drop_is_contained");
    }
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            if !thread::panicking() {
                panic!("output dropped");
            }
        }
    }
    for (_, rt) in flavours() {
        rt.block_on(async {
            drop(runtime::spawn(async { PanicOnDrop }));
            drop(runtime::spawn(async { std::panic::panic_any(PanicOnDrop) }));
            let done = runtime::spawn(async { PanicOnDrop });
            runtime::sleep(Duration::from_millis(20)).await;
            drop(done); // finished, output never taken
            runtime::sleep(Duration::from_millis(5)).await;
        });
        // The runtime still works.
        assert_eq!(rt.block_on(rt.spawn(async { 3 })).unwrap(), 3);
    }
}

#[test]
fn shutdown_with_thousands_of_waiters_on_a_held_mutex_keeps_a_bounded_stack() {
    // Issue 10, bug 5: cancelling each `Lock` inline inside the wake-up of
    // the previous one recursed as deep as the queue. Runs on a 256 KiB
    // stack in a child process (an overflow aborts the process).
    if !is_child() {
        return in_child_process(
            "shutdown_with_thousands_of_waiters_on_a_held_mutex_keeps_a_bounded_stack",
        );
    }
    thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            for (flavour, rt) in flavours() {
                let mutex = Arc::new(Mutex::new(()));
                let held = futures::executor::block_on(Arc::clone(&mutex).lock_owned());
                let drops = Arc::new(AtomicUsize::new(0));
                let handles: Vec<_> = (0..5_000)
                    .map(|_| {
                        let mutex = Arc::clone(&mutex);
                        let guard = DropCount(Arc::clone(&drops));
                        rt.spawn(async move {
                            let _guard = guard;
                            let _lock = mutex.lock().await;
                        })
                    })
                    .collect();
                rt.block_on(runtime::sleep(Duration::from_millis(20)));
                drop(rt);
                assert_eq!(drops.load(Ordering::SeqCst), 5_000, "{flavour}");
                drop(held);
                for handle in handles {
                    assert!(runtime::block_on(handle).unwrap_err().is_cancelled());
                }
                assert!(!mutex.is_locked(), "{flavour}");
            }
        })
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn shutdown_timeout_drops_every_task() {
    for (flavour, rt) in flavours() {
        let drops = Arc::new(AtomicUsize::new(0));
        let handles: Vec<_> = (0..10)
            .map(|_| {
                let guard = DropCount(Arc::clone(&drops));
                rt.spawn(async move {
                    let _guard = guard;
                    runtime::sleep(Duration::from_secs(3600)).await;
                })
            })
            .collect();
        rt.block_on(runtime::sleep(Duration::from_millis(5)));
        rt.shutdown_timeout(Duration::from_millis(100));
        assert_eq!(drops.load(Ordering::SeqCst), 10, "{flavour}");
        for handle in handles {
            assert!(runtime::block_on(handle).unwrap_err().is_cancelled());
        }
    }
}

#[test]
#[allow(clippy::async_yields_async)] // the block_on returns the handle, on purpose
fn a_local_task_woken_while_another_thread_runs_the_runtime_waits_for_its_own() {
    // A local task of thread T, woken while thread U runs the runtime, is
    // set aside (U cannot poll it) and runs when T runs the runtime again;
    // it is neither lost nor polled on U.
    with_watchdog(30, || {
        let rt = Arc::new(Runtime::new());
        let event = Arc::new(Event::new());
        let handle = rt.block_on({
            let event = Arc::clone(&event);
            async move {
                let here = Rc::new(thread::current().id());
                let handle = runtime::spawn_local(async move {
                    event.wait().await;
                    assert_eq!(*here, thread::current().id(), "polled on its thread");
                    9
                });
                runtime::yield_now().await; // it waits on the event
                handle
            }
        });
        let other = {
            let (rt, event) = (Arc::clone(&rt), Arc::clone(&event));
            thread::spawn(move || {
                rt.block_on(async {
                    event.set(); // wakes the local task, queued for U's loop
                    for _ in 0..3 {
                        runtime::yield_now().await;
                    }
                })
            })
        };
        other.join().unwrap();
        assert!(!handle.is_finished(), "not run on the other thread");
        assert_eq!(rt.block_on(handle).unwrap(), 9);
    });
}
