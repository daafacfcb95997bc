//! `Event`: asyncio's rules, on wakers.

use std::task::Poll;

use sync_primitives::Event;
use test_util::{poll_with, recording_wakers, CountingWaker};

#[test]
fn wait_on_a_set_event_completes_at_once() {
    let event = Event::new();
    event.set();
    let (_, waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut event.wait(), &waker), Poll::Ready(()));
    assert!(event.is_set());
}

#[test]
fn set_wakes_every_current_waiter_in_fifo_order() {
    let event = Event::new();
    let (wakers, log) = recording_wakers(100);
    let mut waits: Vec<_> = (0..100).map(|_| event.wait()).collect();
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, waker), Poll::Pending);
    }
    event.set();
    assert_eq!(*log.lock(), (0..100).collect::<Vec<_>>());
}

#[test]
fn a_woken_waiter_completes_even_if_clear_runs_first() {
    let event = Event::new();
    let (counter, waker) = CountingWaker::new();
    let mut woken = event.wait();
    assert_eq!(poll_with(&mut woken, &waker), Poll::Pending);
    event.set();
    event.clear();
    assert!(!event.is_set());
    assert_eq!(counter.wakes(), 1);
    // asyncio's rule: the wake-up is not taken back by clear().
    assert_eq!(poll_with(&mut woken, &waker), Poll::Ready(()));

    // A wait that starts after the clear waits for the next set.
    let (later_counter, later_waker) = CountingWaker::new();
    let mut later = event.wait();
    assert_eq!(poll_with(&mut later, &later_waker), Poll::Pending);
    assert_eq!(poll_with(&mut later, &later_waker), Poll::Pending);
    assert_eq!(later_counter.wakes(), 0);
    event.set();
    assert_eq!(later_counter.wakes(), 1);
    assert_eq!(poll_with(&mut later, &later_waker), Poll::Ready(()));
}

#[test]
fn a_second_set_does_not_wake_twice() {
    let event = Event::new();
    let (counter, waker) = CountingWaker::new();
    let mut wait = event.wait();
    assert_eq!(poll_with(&mut wait, &waker), Poll::Pending);
    event.set();
    event.set();
    assert_eq!(counter.wakes(), 1);
}

#[test]
fn waiters_queued_after_a_clear_are_not_woken_by_the_earlier_set() {
    let event = Event::new();
    let (wakers, log) = recording_wakers(2);
    let mut first = event.wait();
    assert_eq!(poll_with(&mut first, &wakers[0]), Poll::Pending);
    event.set();
    event.clear();
    let mut second = event.wait();
    assert_eq!(poll_with(&mut second, &wakers[1]), Poll::Pending);
    assert_eq!(*log.lock(), vec![0]);
    assert_eq!(poll_with(&mut first, &wakers[0]), Poll::Ready(()));
    assert_eq!(poll_with(&mut second, &wakers[1]), Poll::Pending);
}

#[test]
fn re_polling_with_a_new_waker_keeps_only_the_newest() {
    let event = Event::new();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut wait = event.wait();
    assert_eq!(poll_with(&mut wait, &old_waker), Poll::Pending);
    assert_eq!(poll_with(&mut wait, &new_waker), Poll::Pending);
    event.set();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[test]
fn a_dropped_wait_is_not_woken() {
    let event = Event::default();
    let (wakers, log) = recording_wakers(3);
    let mut waits: Vec<_> = (0..3).map(|_| event.wait()).collect();
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, waker), Poll::Pending);
    }
    drop(waits.remove(0));
    event.set();
    assert_eq!(*log.lock(), vec![1, 2]);
}

#[test]
fn debug_shows_the_flag() {
    let event = Event::new();
    assert!(format!("{event:?}").contains("is_set: false"));
    event.set();
    assert!(format!("{event:?}").contains("is_set: true"));
}

#[test]
fn a_waker_the_event_replaces_or_frees_may_use_the_same_event() {
    // The waker's last drop sets the event, as a task's destructor might:
    // it runs once the event's lock is released (or this deadlocks, and
    // the watchdog fails the test).
    test_util::with_watchdog(10, || {
        let event = std::sync::Arc::new(Event::new());
        let setting_waker = || {
            let event = event.clone();
            test_util::drop_hook_waker(move || event.set())
        };
        let (counter, waker) = CountingWaker::new();
        // Replaced by a re-poll with another waker.
        let mut wait = event.wait();
        assert_eq!(poll_with(&mut wait, &setting_waker()), Poll::Pending);
        assert_eq!(poll_with(&mut wait, &waker), Poll::Pending);
        assert!(event.is_set(), "the replaced waker was dropped");
        assert_eq!(counter.wakes(), 1, "the set woke the new waker");
        assert_eq!(poll_with(&mut wait, &waker), Poll::Ready(()));
        // Freed by dropping a queued wait.
        event.clear();
        let mut wait = event.wait();
        assert_eq!(poll_with(&mut wait, &setting_waker()), Poll::Pending);
        drop(wait);
        assert!(event.is_set(), "the freed waker was dropped");
    });
}

/// A waker that runs a hook when woken.
struct WakeHook<F>(F);

impl<F: Fn() + Send + Sync + 'static> std::task::Wake for WakeHook<F> {
    fn wake(self: std::sync::Arc<Self>) {
        (self.0)();
    }
}

#[test]
fn a_waker_woken_by_set_may_use_the_same_event() {
    // `set` wakes once the queue's lock is released: a wake() that clears
    // the event and waits on it again (as a waker that polls its task
    // inline may) queues a new wait, which that `set` does not wake. Woken
    // under the queue's spin lock, it would spin on it forever and the
    // watchdog would fail the test. One waiter (woken alone) and two (woken
    // as a batch).
    type Again = Vec<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>>;
    for waiters in 1..=2 {
        test_util::with_watchdog(10, move || {
            use std::sync::Arc;
            let event = Arc::new(Event::new());
            let again: Arc<parking_lot::Mutex<Again>> = Arc::default();
            let (counter, waker) = CountingWaker::new();
            let hook_waker = {
                let (event, again, waker) = (event.clone(), again.clone(), waker.clone());
                std::task::Waker::from(Arc::new(WakeHook(move || {
                    event.clear();
                    let event = event.clone();
                    let mut wait = Box::pin(async move { event.wait().await });
                    assert_eq!(poll_with(&mut wait, &waker), Poll::Pending);
                    again.lock().push(wait);
                })))
            };
            let mut waits: Vec<_> = (0..waiters).map(|_| event.wait()).collect();
            for wait in &mut waits {
                assert_eq!(poll_with(wait, &hook_waker), Poll::Pending);
            }
            event.set();
            assert_eq!(again.lock().len(), waiters, "each waiter woken once");
            assert_eq!(counter.wakes(), 0, "the waits queued since are not woken");
            for wait in &mut waits {
                assert_eq!(poll_with(wait, &hook_waker), Poll::Ready(()));
            }
            event.set();
            assert_eq!(counter.wakes(), waiters);
            for wait in again.lock().iter_mut() {
                assert_eq!(poll_with(wait, &waker), Poll::Ready(()));
            }
        });
    }
}
