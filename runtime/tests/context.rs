//! The thread-local runtime context: spawning outside a runtime, nesting
//! `block_on`.

use runtime::{Builder, Runtime};
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

#[test]
#[should_panic(expected = "`runtime::spawn` called outside of a runtime")]
fn spawn_outside_a_runtime_panics() {
    drop(runtime::spawn(async {}));
}

#[test]
#[should_panic(expected = "`runtime::spawn_local` called outside of `block_on`")]
fn spawn_local_outside_block_on_panics() {
    drop(runtime::spawn_local(async {}));
}

#[test]
#[should_panic(expected = "cannot call `block_on` while this thread is already running a runtime")]
fn nested_block_on_panics() {
    with_watchdog(WATCHDOG_SECS, || {
        runtime::block_on(async {
            runtime::block_on(async {});
        });
    });
}

#[test]
#[should_panic(expected = "Use `.await` on the future instead")]
fn nested_block_on_of_another_runtime_says_what_to_do() {
    with_watchdog(WATCHDOG_SECS, || {
        let outer = Runtime::new();
        let inner = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        outer.block_on(async {
            inner.block_on(async {});
        });
    });
}

#[test]
fn nested_block_on_in_a_task_is_a_join_error() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let err = rt.block_on(async {
            runtime::spawn(async { runtime::block_on(async {}) })
                .await
                .unwrap_err()
        });
        assert!(err.is_panic());
        assert!(err.to_string().contains("cannot call `block_on`"));
    });
}

#[test]
fn block_on_polls_on_the_calling_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let caller = std::thread::current().id();
        let seen = runtime::block_on(async { std::thread::current().id() });
        assert_eq!(seen, caller);
    });
}

#[test]
fn context_is_restored_after_block_on() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Runtime::new();
        rt.block_on(async {});
        // Outside again: a fresh block_on is allowed, spawn is not.
        runtime::block_on(async {});
        let spawned = std::panic::catch_unwind(|| drop(runtime::spawn(async {})));
        assert!(spawned.is_err());
    });
}

#[test]
fn spawn_inside_tasks_uses_their_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let out = rt.block_on(async {
            runtime::spawn(async { runtime::spawn(async { 9 }).await.unwrap() })
                .await
                .unwrap()
        });
        assert_eq!(out, 9);
    });
}

#[test]
fn block_on_from_two_threads_at_once() {
    with_watchdog(WATCHDOG_SECS, || {
        // One thread drives the tasks; the other only its own future until it
        // can take over. Both complete.
        let rt = std::sync::Arc::new(Runtime::new());
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let rt2 = std::sync::Arc::clone(&rt);
        let other = std::thread::spawn(move || rt2.block_on(async { rx.await.unwrap() }));
        let out = rt.block_on(async move {
            let task = runtime::spawn(async { 1 });
            runtime::sleep(std::time::Duration::from_millis(5)).await;
            tx.send(41).unwrap();
            task.await.unwrap()
        });
        assert_eq!(out + other.join().unwrap(), 42);
    });
}

#[test]
fn a_waker_kept_from_an_earlier_block_on_does_not_poll_the_next_one() {
    with_watchdog(WATCHDOG_SECS, || {
        use std::future::Future;
        use std::pin::Pin;
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::task::{Context, Poll, Waker};

        /// Pending once (keeping its waker out), then ready; counts its polls.
        struct PendingOnce<'a> {
            polls: &'a AtomicUsize,
            kept: &'a std::sync::Mutex<Option<Waker>>,
            release: &'a std::sync::atomic::AtomicBool,
        }

        impl Future for PendingOnce<'_> {
            type Output = ();
            fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
                self.polls.fetch_add(1, Ordering::SeqCst);
                if self.release.load(Ordering::SeqCst) {
                    return Poll::Ready(());
                }
                *self.kept.lock().unwrap() = Some(cx.waker().clone());
                cx.waker().wake_by_ref();
                self.release.store(true, Ordering::SeqCst);
                Poll::Pending
            }
        }

        let rt = runtime::Runtime::new();
        let kept = std::sync::Mutex::new(None);
        let (first_polls, second_polls) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let release = std::sync::atomic::AtomicBool::new(false);
        rt.block_on(PendingOnce {
            polls: &first_polls,
            kept: &kept,
            release: &release,
        });
        // The first block_on's waker, woken after it returned.
        kept.lock().unwrap().take().unwrap().wake();
        let release = std::sync::atomic::AtomicBool::new(false);
        let other = std::sync::Mutex::new(None);
        rt.block_on(PendingOnce {
            polls: &second_polls,
            kept: &other,
            release: &release,
        });
        assert_eq!(first_polls.load(Ordering::SeqCst), 2);
        assert_eq!(
            second_polls.load(Ordering::SeqCst),
            2,
            "a stale wake-up polled the next block_on's future"
        );
    });
}

#[test]
fn the_spawn_outside_panic_points_at_the_callers_line() {
    use std::sync::{Arc, Mutex};

    // Panic hooks are process-wide: record only this thread's panic.
    let me = std::thread::current().id();
    let location = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&location);
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == me {
            *seen.lock().unwrap() = info.location().map(|l| (l.file().to_string(), l.line()));
        }
    }));
    let call_line = line!() + 1;
    let result = std::panic::catch_unwind(|| drop(runtime::spawn(async {})));
    let _ = std::panic::take_hook();
    std::panic::set_hook(previous);
    assert!(result.is_err());
    let (file, line) = location.lock().unwrap().clone().unwrap();
    assert!(
        file.ends_with("context.rs") && file.contains("tests"),
        "{file}"
    );
    assert_eq!(line, call_line);
}
