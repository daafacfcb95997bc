//! `Waiter`: parks, wakes once, in FIFO order, never polls in a loop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use sync_primitives::Waiter;
use test_util::with_watchdog;
use test_util::{poll_with, recording_wakers, yield_once, CountPolls, CountingWaker};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 20;

#[test]
fn wait_on_a_done_waiter_is_ready_at_once() {
    let waiter = Waiter::new();
    waiter.set_done();
    assert!(waiter.is_done());
    let (counter, waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut waiter.wait(), &waker), Poll::Ready(()));
    assert_eq!(counter.wakes(), 0);
}

#[test]
fn a_waiting_task_is_polled_twice_around_one_wake() {
    let waiter = Waiter::new();
    let (counter, waker) = CountingWaker::new();
    let mut wait = waiter.wait();
    assert_eq!(poll_with(&mut wait, &waker), Poll::Pending);
    assert_eq!(counter.wakes(), 0, "nothing wakes it before set_done");
    waiter.set_done();
    assert_eq!(counter.wakes(), 1, "set_done wakes it exactly once");
    waiter.set_done();
    assert_eq!(counter.wakes(), 1, "set_done is idempotent");
    assert_eq!(poll_with(&mut wait, &waker), Poll::Ready(()));
}

#[test]
fn the_chapter_pair_polls_the_waiting_task_twice() {
    with_watchdog(WATCHDOG_SECS, || {
        // wait_job waits while count_up_to counts 0..9, yielding at each step:
        // the chapter's spinning Waiter would be polled ~10 times, ours twice.
        // Two tasks (each with its own waker), as asyncio.gather wraps its
        // coroutines in tasks.
        use futures::task::LocalSpawnExt;
        use std::rc::Rc;

        let waiter = Rc::new(Waiter::new());
        let polls = Rc::new(AtomicUsize::new(0));
        let log = Rc::new(parking_lot::Mutex::new(Vec::new()));
        let mut pool = futures::executor::LocalPool::new();
        let spawner = pool.spawner();
        {
            let (waiter, polls, log) = (waiter.clone(), polls.clone(), log.clone());
            spawner
                .spawn_local(async move {
                    log.lock().push("start".to_string());
                    CountPolls {
                        inner: waiter.wait(),
                        polls: &polls,
                    }
                    .await;
                    log.lock().push("finished".to_string());
                })
                .unwrap();
        }
        {
            let (waiter, log) = (waiter.clone(), log.clone());
            spawner
                .spawn_local(async move {
                    for i in 0..10 {
                        log.lock().push(i.to_string());
                        yield_once().await;
                    }
                    waiter.set_done();
                })
                .unwrap();
        }
        pool.run();
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        let expected: Vec<String> = std::iter::once("start".to_string())
            .chain((0..10).map(|i| i.to_string()))
            .chain(std::iter::once("finished".to_string()))
            .collect();
        assert_eq!(*log.lock(), expected);
    });
}

#[test]
fn set_done_wakes_100_waiters_in_the_order_they_started() {
    let waiter = Waiter::new();
    let (wakers, log) = recording_wakers(100);
    let mut waits: Vec<_> = (0..100).map(|_| waiter.wait()).collect();
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, waker), Poll::Pending);
    }
    waiter.set_done();
    assert_eq!(*log.lock(), (0..100).collect::<Vec<_>>());
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, waker), Poll::Ready(()));
    }
}

#[test]
fn re_polling_with_a_new_waker_keeps_only_the_newest() {
    let waiter = Waiter::new();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut wait = waiter.wait();
    assert_eq!(poll_with(&mut wait, &old_waker), Poll::Pending);
    for _ in 0..1000 {
        assert_eq!(poll_with(&mut wait, &new_waker), Poll::Pending);
    }
    waiter.set_done();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[test]
fn a_dropped_wait_leaves_the_queue() {
    let waiter = Waiter::new();
    let (wakers, log) = recording_wakers(3);
    let mut waits: Vec<_> = (0..3).map(|_| waiter.wait()).collect();
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, waker), Poll::Pending);
    }
    drop(waits.remove(1));
    waiter.set_done();
    assert_eq!(*log.lock(), vec![0, 2]);
}

#[test]
fn a_waiter_is_awaitable_by_reference() {
    with_watchdog(WATCHDOG_SECS, || {
        let waiter = Waiter::new();
        futures::executor::block_on(async {
            futures::join!(async { (&waiter).await }, async { waiter.set_done() });
        });
        assert!(waiter.is_done());
    });
}

#[test]
fn set_done_from_another_thread_wakes_a_blocked_task() {
    with_watchdog(WATCHDOG_SECS, || {
        let waiter = std::sync::Arc::new(Waiter::default());
        let setter = {
            let waiter = waiter.clone();
            std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(10));
                waiter.set_done();
            })
        };
        futures::executor::block_on(waiter.wait());
        setter.join().unwrap();
        assert!(format!("{waiter:?}").contains("is_done: true"));
    });
}
