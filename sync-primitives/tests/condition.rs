//! `Condition`: asyncio's rules with our `Mutex`: register before release,
//! FIFO notifications, a dropped notified wait passes its notification on,
//! `wait_for` re-checks under the lock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use sync_primitives::{Condition, Mutex};
use test_util::{poll_with, recording_wakers, with_watchdog, CountPolls, CountingWaker};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 20;

#[test]
fn fifty_waiters_are_notified_one_at_a_time_in_the_order_they_started_waiting() {
    const N: usize = 50;
    let mutex = Mutex::new(Vec::new());
    let cond = Condition::new();
    let (wakers, log) = recording_wakers(N);
    let mut waits = Vec::new();
    for waker in &wakers {
        let mut wait = cond.wait(mutex.try_lock().unwrap());
        assert!(poll_with(&mut wait, waker).is_pending());
        assert!(!mutex.is_locked(), "the wait released the mutex");
        waits.push(wait);
    }
    for step in 0..N {
        cond.notify_one();
        assert_eq!(log.lock().len(), step + 1, "one task per notify_one");
        let woken = *log.lock().last().unwrap();
        let Poll::Ready(mut guard) = poll_with(&mut waits[woken], &wakers[woken]) else {
            panic!("a notified task takes the free mutex");
        };
        guard.push(woken);
    }
    assert_eq!(*mutex.try_lock().unwrap(), (0..N).collect::<Vec<_>>());
}

#[test]
fn notify_n_wakes_the_n_oldest_and_notify_all_the_rest() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (wakers, log) = recording_wakers(6);
    let mut waits: Vec<_> = wakers
        .iter()
        .map(|waker| {
            let mut wait = cond.wait(mutex.try_lock().unwrap());
            assert!(poll_with(&mut wait, waker).is_pending());
            wait
        })
        .collect();
    cond.notify(0);
    assert!(log.lock().is_empty());
    cond.notify(2);
    assert_eq!(*log.lock(), vec![0, 1]);
    cond.notify(1);
    assert_eq!(*log.lock(), vec![0, 1, 2]);
    cond.notify_all();
    assert_eq!(*log.lock(), vec![0, 1, 2, 3, 4, 5]);
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert!(matches!(poll_with(wait, waker), Poll::Ready(_)));
    }
    cond.notify(10); // more than are waiting: nothing happens
}

#[test]
fn a_notify_with_nobody_waiting_is_not_remembered() {
    let mutex = Mutex::new(());
    let cond = Condition::default();
    cond.notify_one();
    cond.notify_all();
    let (counter, waker) = CountingWaker::new();
    let mut wait = cond.wait(mutex.try_lock().unwrap());
    assert!(poll_with(&mut wait, &waker).is_pending());
    assert!(poll_with(&mut wait, &waker).is_pending());
    assert_eq!(counter.wakes(), 0);
    cond.notify_one();
    assert_eq!(counter.wakes(), 1);
    assert!(matches!(poll_with(&mut wait, &waker), Poll::Ready(_)));
}

#[test]
fn a_notify_right_after_the_release_is_not_lost() {
    let mutex = Mutex::new(0);
    let cond = Condition::new();
    let (locker_count, locker_waker) = CountingWaker::new();
    let (wait_count, wait_waker) = CountingWaker::new();
    let holder = mutex.try_lock().unwrap();
    let mut locker = mutex.lock();
    assert!(poll_with(&mut locker, &locker_waker).is_pending());
    // The wait registers, then releases: the lock goes to `locker`...
    let mut wait = cond.wait(holder);
    assert!(poll_with(&mut wait, &wait_waker).is_pending());
    assert_eq!(locker_count.wakes(), 1);
    // ...whose notify, sent after the release, reaches the wait.
    let Poll::Ready(mut guard) = poll_with(&mut locker, &locker_waker) else {
        panic!("the released lock was handed to the locker");
    };
    *guard += 1;
    cond.notify_one();
    assert_eq!(wait_count.wakes(), 1);
    // Woken while the notifier still holds the mutex: it queues for it.
    assert!(poll_with(&mut wait, &wait_waker).is_pending());
    drop(guard);
    assert_eq!(wait_count.wakes(), 2);
    let Poll::Ready(guard) = poll_with(&mut wait, &wait_waker) else {
        panic!("the mutex was handed to the notified wait");
    };
    assert_eq!(*guard, 1);
}

#[test]
fn a_dropped_notified_wait_passes_the_notification_to_the_next_waiter() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (wakers, log) = recording_wakers(3);
    let mut waits: Vec<_> = wakers
        .iter()
        .map(|waker| {
            let mut wait = cond.wait(mutex.try_lock().unwrap());
            assert!(poll_with(&mut wait, waker).is_pending());
            wait
        })
        .collect();
    cond.notify_one();
    assert_eq!(*log.lock(), vec![0]);
    drop(waits.remove(0)); // notified, never polled again
    assert_eq!(*log.lock(), vec![0, 1], "the notification went on to 1");
    assert!(matches!(
        poll_with(&mut waits[0], &wakers[1]),
        Poll::Ready(_)
    ));
    // Dropping a wait that was not notified wakes nobody.
    drop(waits.pop());
    assert_eq!(*log.lock(), vec![0, 1]);
}

#[test]
fn a_wait_dropped_while_taking_the_mutex_again_passes_both_on() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (wakers, log) = recording_wakers(2);
    let mut first = cond.wait(mutex.try_lock().unwrap());
    assert!(poll_with(&mut first, &wakers[0]).is_pending());
    let mut second = cond.wait(mutex.try_lock().unwrap());
    assert!(poll_with(&mut second, &wakers[1]).is_pending());
    let holder = mutex.try_lock().unwrap();
    cond.notify_one();
    // Notified, queued for the held mutex.
    assert!(poll_with(&mut first, &wakers[0]).is_pending());
    drop(first);
    assert_eq!(*log.lock(), vec![0, 1], "the notification went on");
    drop(holder);
    assert!(matches!(poll_with(&mut second, &wakers[1]), Poll::Ready(_)));
}

#[test]
fn wait_for_checks_before_waiting_and_after_every_wake_up() {
    let mutex = Mutex::new(0);
    let cond = Condition::new();
    let checks = AtomicUsize::new(0);
    // Already true: no waiting, the guard comes straight back.
    let (_, waker) = CountingWaker::new();
    let mut at_once = cond.wait_for(mutex.try_lock().unwrap(), |n| {
        checks.fetch_add(1, Ordering::SeqCst);
        *n == 0
    });
    assert!(matches!(poll_with(&mut at_once, &waker), Poll::Ready(_)));
    drop(at_once);
    assert_eq!(checks.swap(0, Ordering::SeqCst), 1);

    let (counter, waker) = CountingWaker::new();
    let mut wait = cond.wait_for(mutex.try_lock().unwrap(), |n| {
        checks.fetch_add(1, Ordering::SeqCst);
        *n >= 2
    });
    assert!(poll_with(&mut wait, &waker).is_pending());
    assert_eq!(checks.load(Ordering::SeqCst), 1);
    for round in 1..=2 {
        *mutex.try_lock().unwrap() += 1;
        cond.notify_one();
        assert_eq!(counter.wakes(), round);
        let polled = poll_with(&mut wait, &waker);
        assert_eq!(checks.load(Ordering::SeqCst), round + 1, "re-checked");
        assert_eq!(polled.is_ready(), round == 2);
        if let Poll::Ready(guard) = polled {
            assert_eq!(*guard, 2);
        }
    }
}

#[test]
fn each_waiting_task_is_polled_exactly_twice_on_our_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        let state = Arc::new((Mutex::new(0usize), Condition::new()));
        let rt = runtime::Runtime::new();
        let polls: Vec<_> = (0..4).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let waiters: Vec<_> = polls
            .iter()
            .map(|polls| {
                let (state, polls) = (state.clone(), polls.clone());
                rt.spawn(async move {
                    let (count, cond) = &*state;
                    let guard = count.lock().await;
                    let guard = CountPolls {
                        inner: cond.wait(guard),
                        polls: &polls,
                    }
                    .await;
                    *guard
                })
            })
            .collect();
        rt.block_on(async {
            let (count, cond) = &*state;
            // Let every waiter register.
            runtime::yield_now().await;
            *count.lock().await = 7;
            cond.notify_all();
            for waiter in waiters {
                assert_eq!(waiter.await.unwrap(), 7);
            }
        });
        for polls in &polls {
            assert_eq!(polls.load(Ordering::SeqCst), 2, "polled in between");
        }
    });
}

#[test]
fn producers_and_consumers_on_threads_lose_no_notification() {
    const ITEMS: usize = if cfg!(miri) { 20 } else { 5_000 };
    with_watchdog(WATCHDOG_SECS, || {
        let state = Arc::new((Mutex::new(Vec::new()), Condition::new()));
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let state = state.clone();
                std::thread::spawn(move || {
                    futures::executor::block_on(async {
                        let (queue, cond) = &*state;
                        let mut taken = 0;
                        loop {
                            let mut guard =
                                cond.wait_for(queue.lock().await, |q| !q.is_empty()).await;
                            match guard.pop() {
                                Some(None) => return taken,
                                Some(Some(_)) => taken += 1,
                                None => unreachable!("wait_for returned on an empty queue"),
                            }
                        }
                    })
                })
            })
            .collect();
        futures::executor::block_on(async {
            let (queue, cond) = &*state;
            for i in 0..ITEMS {
                queue.lock().await.insert(0, Some(i));
                cond.notify_one();
            }
            for _ in 0..2 {
                queue.lock().await.insert(0, None);
                cond.notify_one();
            }
        });
        let taken: usize = consumers.into_iter().map(|c| c.join().unwrap()).sum();
        assert_eq!(taken, ITEMS);
    });
}

#[test]
fn futures_are_send_and_debug() {
    fn send<T: Send>(_: &T) {}
    let mutex = Mutex::new(String::new());
    let cond = Condition::new();
    let wait = cond.wait(mutex.try_lock().unwrap());
    send(&wait);
    assert!(format!("{wait:?}").contains("Start"));
    drop(wait);
    let wait_for = cond.wait_for(mutex.try_lock().unwrap(), |s| s.is_empty());
    send(&wait_for);
    assert!(format!("{wait_for:?}").contains("WaitFor"));
    assert!(format!("{cond:?}").contains("Condition"));
}

#[test]
fn re_polling_with_a_new_waker_keeps_only_the_newest() {
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut wait = cond.wait(mutex.try_lock().unwrap());
    assert!(poll_with(&mut wait, &old_waker).is_pending());
    assert!(poll_with(&mut wait, &new_waker).is_pending());
    cond.notify_one();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    assert!(matches!(poll_with(&mut wait, &new_waker), Poll::Ready(_)));
}

#[test]
fn notify_n_beyond_a_stack_batch_wakes_exactly_n_in_order() {
    const N: usize = 80;
    let mutex = Mutex::new(());
    let cond = Condition::new();
    let (wakers, log) = recording_wakers(N);
    let _waits: Vec<_> = wakers
        .iter()
        .map(|waker| {
            let mut wait = cond.wait(mutex.try_lock().unwrap());
            assert!(poll_with(&mut wait, waker).is_pending());
            wait
        })
        .collect();
    cond.notify(70);
    assert_eq!(*log.lock(), (0..70).collect::<Vec<_>>());
    cond.notify(70);
    assert_eq!(*log.lock(), (0..N).collect::<Vec<_>>());
}
