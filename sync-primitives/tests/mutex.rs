//! `Mutex`: FIFO hand-off, cancellation, no poisoning, never blocking Debug.

use std::sync::Arc;
use std::task::Poll;

use sync_primitives::Mutex;
use test_util::{poll_with, recording_wakers, CountingWaker};

#[test]
fn uncontended_lock_try_lock_and_is_locked() {
    let mutex = Mutex::new(5);
    assert!(!mutex.is_locked());
    let guard = futures::executor::block_on(mutex.lock());
    assert!(mutex.is_locked());
    assert!(mutex.try_lock().is_none());
    drop(guard);
    assert!(!mutex.is_locked());
    *mutex.try_lock().unwrap() += 1;
    assert_eq!(mutex.into_inner(), 6);
}

#[test]
fn the_lock_goes_to_100_waiters_in_the_order_they_were_first_polled() {
    let mutex = Mutex::new(Vec::new());
    let holder = mutex.try_lock().unwrap();
    let (wakers, log) = recording_wakers(100);
    let mut locks: Vec<_> = (0..100).map(|_| mutex.lock()).collect();
    // Poll them in reverse creation order: first poll decides the order.
    for i in (0..100).rev() {
        assert!(poll_with(&mut locks[i], &wakers[i]).is_pending());
    }
    drop(holder);
    let mut order = Vec::new();
    for step in 0..100 {
        // Exactly one waiter has been woken: the next in line.
        let woken = *log.lock().last().unwrap();
        assert_eq!(log.lock().len(), step + 1);
        assert!(mutex.is_locked(), "the lock is handed over, never free");
        assert!(mutex.try_lock().is_none(), "nobody can barge in");
        let Poll::Ready(mut guard) = poll_with(&mut locks[woken], &wakers[woken]) else {
            panic!("the woken waiter must own the lock");
        };
        guard.push(woken);
        order.push(woken);
    }
    assert_eq!(order, (0..100).rev().collect::<Vec<_>>());
    assert!(!mutex.is_locked());
    assert_eq!(mutex.try_lock().unwrap().len(), 100);
}

#[test]
fn try_lock_fails_while_anyone_is_queued() {
    let mutex = Mutex::new(());
    let guard = mutex.try_lock().unwrap();
    let (_, waker) = CountingWaker::new();
    let mut waiting = mutex.lock();
    assert!(poll_with(&mut waiting, &waker).is_pending());
    drop(guard);
    // Handed to `waiting`, which has not run yet: still locked.
    assert!(mutex.is_locked());
    assert!(mutex.try_lock().is_none());
    let Poll::Ready(guard) = poll_with(&mut waiting, &waker) else {
        panic!("the lock was handed over");
    };
    drop(guard);
    assert!(mutex.try_lock().is_some());
}

#[test]
fn a_dropped_lock_future_that_was_handed_the_lock_passes_it_on() {
    let mutex = Mutex::new(0);
    let holder = mutex.try_lock().unwrap();
    let (a_count, a_waker) = CountingWaker::new();
    let (b_count, b_waker) = CountingWaker::new();
    let mut a = mutex.lock();
    let mut b = mutex.lock();
    assert!(poll_with(&mut a, &a_waker).is_pending());
    assert!(poll_with(&mut b, &b_waker).is_pending());
    drop(holder);
    assert_eq!((a_count.wakes(), b_count.wakes()), (1, 0));
    drop(a); // handed the lock, never took it
    assert_eq!(b_count.wakes(), 1, "the lock passed on to b");
    let Poll::Ready(mut guard) = poll_with(&mut b, &b_waker) else {
        panic!("b owns the lock");
    };
    *guard += 1;
    drop(guard);
    assert!(!mutex.is_locked());
}

#[test]
fn a_dropped_queued_lock_future_leaves_the_queue() {
    let mutex = Mutex::new(0);
    let holder = mutex.try_lock().unwrap();
    let (a_count, a_waker) = CountingWaker::new();
    let (b_count, b_waker) = CountingWaker::new();
    let mut a = mutex.lock();
    let mut b = mutex.lock();
    assert!(poll_with(&mut a, &a_waker).is_pending());
    assert!(poll_with(&mut b, &b_waker).is_pending());
    drop(a);
    drop(holder);
    assert_eq!((a_count.wakes(), b_count.wakes()), (0, 1));
    assert!(poll_with(&mut b, &b_waker).is_ready());
}

#[test]
fn the_last_queued_future_dropped_frees_the_fast_path() {
    let mutex = Mutex::new(0);
    let holder = mutex.try_lock().unwrap();
    let (_, waker) = CountingWaker::new();
    let mut a = mutex.lock();
    assert!(poll_with(&mut a, &waker).is_pending());
    drop(a);
    drop(holder);
    assert!(!mutex.is_locked());
    assert!(mutex.try_lock().is_some());
}

#[test]
fn re_polling_a_queued_lock_with_a_new_waker_keeps_only_the_newest() {
    let mutex = Mutex::new(());
    let holder = mutex.try_lock().unwrap();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut lock = mutex.lock();
    assert!(poll_with(&mut lock, &old_waker).is_pending());
    assert!(poll_with(&mut lock, &new_waker).is_pending());
    drop(holder);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[test]
fn a_panic_while_locked_does_not_poison() {
    let mutex = Mutex::new(1);
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut guard = mutex.try_lock().unwrap();
        *guard = 2;
        panic!("boom");
    }));
    assert!(result.is_err());
    assert!(!mutex.is_locked());
    assert_eq!(*futures::executor::block_on(mutex.lock()), 2);
}

#[test]
fn debug_shows_the_data_or_locked_and_never_blocks() {
    let mutex = Mutex::new(vec![1, 2]);
    assert_eq!(format!("{mutex:?}"), "Mutex { data: [1, 2] }");
    let guard = mutex.try_lock().unwrap();
    assert_eq!(format!("{mutex:?}"), "Mutex { data: <locked> }");
    assert_eq!(format!("{guard:?}"), "[1, 2]");
}

#[test]
fn get_mut_and_into_inner_need_no_lock() {
    let mut mutex = Mutex::new(String::from("a"));
    mutex.get_mut().push('b');
    assert_eq!(mutex.into_inner(), "ab");
}

#[test]
fn owned_guards_move_across_threads() {
    let mutex = Arc::new(Mutex::new(0u64));
    let guard = futures::executor::block_on(mutex.clone().lock_owned());
    let handle = std::thread::spawn(move || {
        let mut guard = guard;
        *guard += 41;
    });
    handle.join().unwrap();
    *futures::executor::block_on(mutex.clone().lock_owned()) += 1;
    assert_eq!(*mutex.try_lock().unwrap(), 42);
}

#[test]
fn a_dropped_lock_owned_future_passes_the_lock_on() {
    let mutex = Arc::new(Mutex::new(()));
    let holder = mutex.try_lock().unwrap();
    let (_, a_waker) = CountingWaker::new();
    let (b_count, b_waker) = CountingWaker::new();
    let mut a = mutex.clone().lock_owned();
    let mut b = mutex.clone().lock_owned();
    assert!(poll_with(&mut a, &a_waker).is_pending());
    assert!(poll_with(&mut b, &b_waker).is_pending());
    drop(holder);
    drop(a);
    assert_eq!(b_count.wakes(), 1);
    assert!(poll_with(&mut b, &b_waker).is_ready());
}

#[test]
fn unsized_data_behind_an_arc() {
    let mutex: Arc<Mutex<[u32]>> = Arc::new(Mutex::new([1, 2, 3]));
    futures::executor::block_on(async {
        mutex.lock().await[1] = 20;
    });
    assert_eq!(&*mutex.try_lock().unwrap(), &[1, 20, 3]);
    let shown: Arc<Mutex<dyn std::fmt::Debug + Send>> = Arc::new(Mutex::new(7));
    assert_eq!(format!("{shown:?}"), "Mutex { data: 7 }");
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_completed_lock_panics() {
    let mutex = Mutex::new(());
    let (_, waker) = CountingWaker::new();
    let mut lock = mutex.lock();
    let Poll::Ready(_guard) = poll_with(&mut lock, &waker) else {
        unreachable!()
    };
    let _ = poll_with(&mut lock, &waker);
}

/// A waker that owns the mutex's guard, so dropping it unlocks the mutex
/// (as dropping the last waker of a cancelled task that holds a guard
/// does): the queue must not drop it under its own lock (issue 10, bug 6).
struct GuardInWaker(parking_lot::Mutex<Option<sync_primitives::OwnedMutexGuard<u32>>>);

impl std::task::Wake for GuardInWaker {
    /// Waking gives the guard up too (the queue never does it here).
    fn wake(self: Arc<Self>) {
        self.0.lock().take();
    }
}

#[test]
fn a_waker_dropped_by_the_queue_may_unlock_the_same_mutex() {
    test_util::with_watchdog(10, || {
        let mutex = Arc::new(Mutex::new(0u32));
        let guard = futures::executor::block_on(mutex.clone().lock_owned());
        let guard_waker = |guard| {
            std::task::Waker::from(Arc::new(GuardInWaker(parking_lot::Mutex::new(Some(guard)))))
        };

        // Re-polling with a new waker drops the old one, which unlocks.
        let mut lock = mutex.lock();
        assert!(poll_with(&mut lock, &guard_waker(guard)).is_pending());
        let (counter, waker) = CountingWaker::new();
        assert!(poll_with(&mut lock, &waker).is_pending());
        assert_eq!(counter.wakes(), 1, "the unlock handed the lock over");
        let Poll::Ready(mut guard) = poll_with(&mut lock, &waker) else {
            panic!("handed the lock, still pending");
        };
        *guard += 1;
        drop(guard);

        // Dropping a queued future frees its slot and the waker with it.
        let guard = futures::executor::block_on(mutex.clone().lock_owned());
        let mut lock = mutex.lock();
        assert!(poll_with(&mut lock, &guard_waker(guard)).is_pending());
        drop(lock);
        assert!(!mutex.is_locked());
        assert_eq!(*mutex.try_lock().unwrap(), 1);
    });
}

#[test]
fn a_lock_from_another_thread_never_passes_a_queued_waiter() {
    // The other thread's lock() starts while the holder unlocks: it may
    // stand back, spin or queue, but the waiter queued before it started
    // always gets the lock first. 100 rounds, to meet it in each state (3
    // under miri, which runs it a thousand times slower).
    let rounds = if cfg!(miri) { 3 } else { 100 };
    test_util::with_watchdog(60, move || {
        for _ in 0..rounds {
            let mutex = Arc::new(Mutex::new(Vec::new()));
            let holder = mutex.try_lock().unwrap();
            let (counter, waker) = CountingWaker::new();
            let mut first = mutex.lock();
            assert!(poll_with(&mut first, &waker).is_pending());
            let start = Arc::new(std::sync::Barrier::new(2));
            let late = {
                let (mutex, start) = (mutex.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    futures::executor::block_on(mutex.lock()).push("late");
                })
            };
            start.wait();
            drop(holder);
            assert_eq!(
                counter.wakes(),
                1,
                "the unlock hands it to the queued waiter"
            );
            let Poll::Ready(mut guard) = poll_with(&mut first, &waker) else {
                panic!("the queued waiter owns the lock");
            };
            guard.push("first");
            drop(guard);
            late.join().unwrap();
            assert_eq!(*mutex.try_lock().unwrap(), ["first", "late"]);
        }
    });
}

/// A waker that runs a hook when woken (and counts the wake-ups).
struct WakeHook<F>(F);

impl<F: Fn() + Send + Sync + 'static> std::task::Wake for WakeHook<F> {
    fn wake(self: Arc<Self>) {
        (self.0)();
    }
}

#[test]
fn a_waker_woken_by_the_hand_off_may_lock_the_same_mutex() {
    // The unlock wakes the waiter it hands the lock to once the queue's
    // lock is released: a wake() that locks the same mutex (as a waker that
    // polls its task inline may) finds it handed and queues behind it. Woken
    // under the queue's spin lock, it would spin on it forever and the
    // watchdog would fail the test.
    test_util::with_watchdog(10, || {
        let mutex = Arc::new(Mutex::new(Vec::new()));
        let holder = mutex.try_lock().unwrap();
        let late: Arc<parking_lot::Mutex<Option<sync_primitives::mutex::LockOwned<_>>>> =
            Arc::default();
        let (late_counter, late_waker) = CountingWaker::new();
        let locking_waker = {
            let (mutex, late, late_waker) = (mutex.clone(), late.clone(), late_waker.clone());
            std::task::Waker::from(Arc::new(WakeHook(move || {
                let mut lock = mutex.clone().lock_owned();
                assert!(
                    poll_with(&mut lock, &late_waker).is_pending(),
                    "handed to the woken waiter, not to this later lock()"
                );
                *late.lock() = Some(lock);
            })))
        };
        let mut first = mutex.lock();
        assert!(poll_with(&mut first, &locking_waker).is_pending());
        drop(holder);
        let mut late = late.lock().take().expect("the hand-off woke the waker");
        let Poll::Ready(mut guard) = poll_with(&mut first, &locking_waker) else {
            panic!("the queued waiter owns the lock");
        };
        guard.push("first");
        drop(guard);
        assert_eq!(late_counter.wakes(), 1, "handed on to the later lock()");
        let Poll::Ready(mut guard) = poll_with(&mut late, &late_waker) else {
            panic!("handed the lock, still pending");
        };
        guard.push("late");
        drop(guard);
        assert_eq!(*mutex.try_lock().unwrap(), ["first", "late"]);
    });
}

/// A waker whose `clone` panics: a static vtable, no data. Waking or
/// dropping it does nothing.
fn waker_whose_clone_panics() -> std::task::Waker {
    use std::task::{RawWaker, RawWakerVTable};
    fn clone(_: *const ()) -> RawWaker {
        panic!("a waker whose clone panics");
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions ignore the data pointer (null), and
    // none of them breaks the `RawWaker` contract: `clone` never returns.
    unsafe { std::task::Waker::from_raw(RawWaker::new(std::ptr::null(), &VTABLE)) }
}

#[test]
fn a_lock_poll_whose_waker_clone_panics_leaves_the_mutex_usable() {
    // The poll announces a waiter (or gives up its spinner's place) before
    // it clones the waker to queue it: a clone that panics leaves "someone
    // is queued" set with nobody queued. The unlock must then find nobody
    // to hand the lock to and free it, not leave it stuck.
    test_util::with_watchdog(10, || {
        let mutex = Arc::new(Mutex::new(0u32));
        let holder = mutex.try_lock().unwrap();
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut lock = mutex.lock();
            let _ = poll_with(&mut lock, &waker_whose_clone_panics());
        }));
        assert!(panicked.is_err(), "the clone panicked inside the poll");
        drop(holder);
        assert!(!mutex.is_locked(), "freed, not handed to a ghost");
        *mutex.try_lock().expect("free again") += 1;
        // A queued waiter behind it is still served.
        let holder = mutex.try_lock().unwrap();
        let (counter, waker) = CountingWaker::new();
        let mut lock = mutex.lock();
        assert!(poll_with(&mut lock, &waker).is_pending());
        drop(holder);
        assert_eq!(counter.wakes(), 1);
        let Poll::Ready(mut guard) = poll_with(&mut lock, &waker) else {
            panic!("handed the lock, still pending");
        };
        *guard += 1;
        drop(guard);
        assert_eq!(*mutex.try_lock().unwrap(), 2);
    });
}
