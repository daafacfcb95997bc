//! `spawn_local`: `!Send` tasks on the thread that called `block_on`.

use runtime::{Builder, Runtime};
use std::cell::RefCell;
use std::rc::Rc;
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

#[test]
fn local_tasks_share_rc_state_and_run_on_the_block_on_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let caller = std::thread::current().id();
        let log = runtime::block_on(async move {
            let log = Rc::new(RefCell::new(Vec::new()));
            let handles: Vec<_> = (0..3)
                .map(|i| {
                    let log = Rc::clone(&log);
                    runtime::spawn_local(async move {
                        assert_eq!(std::thread::current().id(), caller);
                        log.borrow_mut().push(i);
                        runtime::yield_now().await;
                        log.borrow_mut().push(i + 10);
                        Rc::new(i) // a !Send output
                    })
                })
                .collect();
            for (i, handle) in handles.into_iter().enumerate() {
                assert_eq!(*handle.await.unwrap(), i);
            }
            Rc::try_unwrap(log).unwrap().into_inner()
        });
        assert_eq!(log, [0, 1, 2, 10, 11, 12]);
    });
}

#[test]
fn local_and_send_tasks_share_the_fifo_queue() {
    with_watchdog(WATCHDOG_SECS, || {
        let log = Rc::new(RefCell::new(Vec::new()));
        let rt = Runtime::new();
        rt.block_on({
            let log = Rc::clone(&log);
            async move {
                let l = Rc::clone(&log);
                let local = runtime::spawn_local(async move { l.borrow_mut().push("local") });
                let send = runtime::spawn(async { "send" });
                let send = send.await.unwrap();
                log.borrow_mut().push(send);
                local.await.unwrap();
            }
        });
        assert_eq!(*log.borrow(), ["local", "send"]);
    });
}

#[test]
fn spawn_local_on_multi_thread_runs_on_the_block_on_thread() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let caller = std::thread::current().id();
        rt.block_on(async move {
            let rc = Rc::new(5);
            let r = Rc::clone(&rc);
            let local = runtime::spawn_local(async move {
                // Wait on a worker's task, then resume here.
                let from_worker = runtime::spawn(async { std::thread::current().id() })
                    .await
                    .unwrap();
                assert_ne!(from_worker, caller);
                runtime::sleep(std::time::Duration::from_millis(1)).await;
                assert_eq!(std::thread::current().id(), caller);
                *r + 1
            });
            assert_eq!(local.await.unwrap(), 6);
        });
    });
}

#[test]
fn spawn_local_on_a_worker_thread_panics() {
    with_watchdog(WATCHDOG_SECS, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let err = rt
            .block_on(rt.spawn(async { drop(runtime::spawn_local(async {})) }))
            .unwrap_err();
        assert!(err
            .to_string()
            .contains("`runtime::spawn_local` called outside of `block_on`"));
    });
}

#[test]
fn local_tasks_left_over_are_dropped_with_the_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        struct Flag(Rc<RefCell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                *self.0.borrow_mut() = true;
            }
        }
        let dropped = Rc::new(RefCell::new(false));
        let rt = Runtime::new();
        let flag = Flag(Rc::clone(&dropped));
        rt.block_on(async move {
            drop(runtime::spawn_local(async move {
                let _flag = flag;
                runtime::sleep(std::time::Duration::from_secs(3600)).await;
            }));
            runtime::yield_now().await;
        });
        assert!(!*dropped.borrow());
        drop(rt);
        assert!(*dropped.borrow());
    });
}
