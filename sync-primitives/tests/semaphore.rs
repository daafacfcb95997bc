//! `Semaphore`: FIFO permits, `acquire_many` at the head, no barging,
//! cancellation that passes permits on, `close`, `forget`.

use std::sync::Arc;
use std::task::Poll;

use sync_primitives::semaphore::Acquire;
use sync_primitives::{AcquireError, Semaphore, TryAcquireError};
use test_util::with_watchdog;
use test_util::{pending, poll_with, recording_wakers, CountingWaker};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 20;

/// Polls an acquire and expects a permit of `n`.
fn ready(acquire: &mut Acquire<'_>, waker: &std::task::Waker, n: usize) {
    match poll_with(acquire, waker) {
        Poll::Ready(Ok(permit)) => {
            assert_eq!(permit.num_permits(), n);
            permit.forget();
        }
        Poll::Ready(Err(e)) => panic!("acquire failed: {e}"),
        Poll::Pending => panic!("expected a permit"),
    }
}

#[test]
fn uncontended_acquire_and_release() {
    with_watchdog(WATCHDOG_SECS, || {
        let semaphore = Semaphore::new(3);
        let a = futures::executor::block_on(semaphore.acquire()).unwrap();
        let b = futures::executor::block_on(semaphore.acquire_many(2)).unwrap();
        assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
        assert_eq!(semaphore.available_permits(), 0);
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::NoPermits
        );
        drop(b);
        assert_eq!(semaphore.available_permits(), 2);
        drop(a);
        assert_eq!(semaphore.available_permits(), 3);
        let zero = semaphore.try_acquire_many(0).unwrap();
        assert_eq!(zero.num_permits(), 0);
    });
}

#[test]
fn permits_go_to_50_waiters_in_the_order_they_were_first_polled_each_polled_twice() {
    let semaphore = Semaphore::new(0);
    let (wakers, log) = recording_wakers(50);
    let mut acquires: Vec<_> = (0..50).map(|_| semaphore.acquire()).collect();
    // First poll decides the order: poll them in reverse creation order.
    for i in (0..50).rev() {
        pending(&mut acquires[i], &wakers[i]);
    }
    for step in 0..50 {
        semaphore.add_permits(1);
        assert_eq!(log.lock().len(), step + 1, "one permit wakes one waiter");
        let woken = *log.lock().last().unwrap();
        assert_eq!(woken, 49 - step, "FIFO by first poll");
        // Its second poll, after its one wake-up, completes.
        ready(&mut acquires[woken], &wakers[woken], 1);
    }
    assert_eq!(semaphore.available_permits(), 0);
}

#[test]
fn acquire_many_at_the_head_holds_back_smaller_later_acquires() {
    let semaphore = Semaphore::new(1);
    let (wakers, log) = recording_wakers(3);
    let mut big = semaphore.acquire_many(4);
    let mut small = semaphore.acquire();
    let mut smaller = semaphore.acquire_many(0);
    pending(&mut big, &wakers[0]); // takes the 1 free permit, owes 3
    pending(&mut small, &wakers[1]);
    // Two more: not enough for the head, and not given to the small one.
    semaphore.add_permits(2);
    assert!(log.lock().is_empty());
    assert_eq!(semaphore.available_permits(), 0);
    // The last one completes the head; the next permit goes to `small`.
    semaphore.add_permits(2);
    assert_eq!(*log.lock(), vec![0, 1]);
    ready(&mut big, &wakers[0], 4);
    ready(&mut small, &wakers[1], 1);
    // acquire_many(0) is served at once, even behind nobody.
    ready(&mut smaller, &wakers[2], 0);
}

#[test]
fn try_acquire_fails_while_anyone_is_queued_even_with_permits_unused() {
    let semaphore = Semaphore::new(3);
    let held = semaphore.try_acquire_many(2).unwrap();
    let (counter, waker) = CountingWaker::new();
    let mut big = semaphore.acquire_many(3);
    pending(&mut big, &waker); // holds the third permit, owes 2
    assert_eq!(
        semaphore.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits
    );
    assert_eq!(
        semaphore.try_acquire_many(0).map(|p| p.num_permits()),
        Ok(0)
    );
    drop(held);
    assert_eq!(counter.wakes(), 1);
    ready(&mut big, &waker, 3);
    assert!(semaphore.try_acquire().is_err());
}

#[test]
fn a_dropped_queued_acquire_passes_on_the_permits_it_was_given() {
    let semaphore = Semaphore::new(3);
    let held = semaphore.try_acquire_many(2).unwrap();
    let (wakers, log) = recording_wakers(2);
    let mut big = semaphore.acquire_many(3);
    let mut small = semaphore.acquire();
    pending(&mut big, &wakers[0]); // was given 1 of 3
    pending(&mut small, &wakers[1]);
    drop(big);
    assert_eq!(*log.lock(), vec![1], "its one permit went to the next");
    ready(&mut small, &wakers[1], 1);
    drop(held);
    assert_eq!(semaphore.available_permits(), 2);
}

#[test]
fn a_dropped_acquire_that_was_served_passes_its_permits_on() {
    let semaphore = Semaphore::new(0);
    let (wakers, log) = recording_wakers(2);
    let mut first = semaphore.acquire_many(2);
    let mut second = semaphore.acquire_many(2);
    pending(&mut first, &wakers[0]);
    pending(&mut second, &wakers[1]);
    semaphore.add_permits(2);
    assert_eq!(*log.lock(), vec![0]);
    drop(first); // served, never polled again
    assert_eq!(*log.lock(), vec![0, 1]);
    ready(&mut second, &wakers[1], 2);
    assert_eq!(semaphore.available_permits(), 0);
}

#[test]
fn a_dropped_last_waiter_frees_the_fast_path() {
    let semaphore = Semaphore::new(0);
    let (_, waker) = CountingWaker::new();
    let mut acquire = semaphore.acquire_many(2);
    pending(&mut acquire, &waker);
    drop(acquire);
    semaphore.add_permits(1);
    assert_eq!(semaphore.available_permits(), 1);
    assert!(semaphore.try_acquire().is_ok());
}

#[test]
fn add_permits_wakes_as_many_waiters_as_it_covers_in_order() {
    let semaphore = Semaphore::new(0);
    let (wakers, log) = recording_wakers(5);
    let mut acquires: Vec<_> = (0..5).map(|_| semaphore.acquire()).collect();
    for (acquire, waker) in acquires.iter_mut().zip(&wakers) {
        pending(acquire, waker);
    }
    semaphore.add_permits(3);
    assert_eq!(*log.lock(), vec![0, 1, 2]);
    semaphore.add_permits(5);
    assert_eq!(*log.lock(), vec![0, 1, 2, 3, 4]);
    assert_eq!(semaphore.available_permits(), 3, "the rest is free");
}

#[test]
fn close_fails_pending_and_later_acquires_and_keeps_held_permits_valid() {
    with_watchdog(WATCHDOG_SECS, || {
        let semaphore = Semaphore::new(2);
        let held = semaphore.try_acquire().unwrap();
        let (wakers, log) = recording_wakers(2);
        let mut big = semaphore.acquire_many(3); // given 1, owes 2
        let mut small = semaphore.acquire();
        pending(&mut big, &wakers[0]);
        pending(&mut small, &wakers[1]);
        semaphore.close();
        assert!(semaphore.is_closed());
        assert_eq!(*log.lock(), vec![0, 1], "every waiter is woken");
        assert_eq!(
            poll_with(&mut big, &wakers[0]).map(|r| r.err()),
            Poll::Ready(Some(err()))
        );
        assert!(matches!(
            poll_with(&mut small, &wakers[1]),
            Poll::Ready(Err(_))
        ));
        assert!(futures::executor::block_on(semaphore.acquire()).is_err());
        assert_eq!(
            semaphore.try_acquire().unwrap_err(),
            TryAcquireError::Closed
        );
        // The closed waiter's one permit came back; the held one still counts.
        assert_eq!(semaphore.available_permits(), 1);
        drop(held);
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// An `AcquireError`, got the only way there is: from a closed semaphore.
fn err() -> AcquireError {
    let semaphore = Semaphore::new(0);
    semaphore.close();
    futures::executor::block_on(semaphore.acquire()).unwrap_err()
}

#[test]
fn an_acquire_served_before_the_close_keeps_its_permits() {
    let semaphore = Semaphore::new(0);
    let (_, waker) = CountingWaker::new();
    let mut acquire = semaphore.acquire();
    pending(&mut acquire, &waker);
    semaphore.add_permits(1);
    semaphore.close();
    ready(&mut acquire, &waker, 1);
}

#[test]
fn forget_keeps_the_permits_out() {
    let semaphore = Arc::new(Semaphore::new(3));
    semaphore.try_acquire().unwrap().forget();
    semaphore.clone().try_acquire_owned().unwrap().forget();
    assert_eq!(semaphore.available_permits(), 1);
    semaphore.add_permits(2);
    assert_eq!(semaphore.available_permits(), 3);
}

#[test]
fn re_polling_a_queued_acquire_keeps_only_the_newest_waker() {
    let semaphore = Semaphore::new(0);
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut acquire = semaphore.acquire();
    pending(&mut acquire, &old_waker);
    pending(&mut acquire, &new_waker);
    semaphore.add_permits(1);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    ready(&mut acquire, &new_waker, 1);
}

#[test]
fn owned_permits_move_across_threads() {
    with_watchdog(WATCHDOG_SECS, || {
        let semaphore = Arc::new(Semaphore::new(1));
        let permit = futures::executor::block_on(semaphore.clone().acquire_many_owned(1)).unwrap();
        assert!(Arc::ptr_eq(permit.semaphore(), &semaphore));
        let waiter = {
            let semaphore = semaphore.clone();
            std::thread::spawn(move || {
                futures::executor::block_on(semaphore.acquire_owned())
                    .unwrap()
                    .num_permits()
            })
        };
        std::thread::spawn(move || drop(permit)).join().unwrap();
        assert_eq!(waiter.join().unwrap(), 1);
        assert_eq!(semaphore.available_permits(), 1);
    });
}

#[test]
fn a_dropped_queued_acquire_owned_passes_on() {
    let semaphore = Arc::new(Semaphore::new(0));
    let (wakers, log) = recording_wakers(2);
    let mut first = semaphore.clone().acquire_owned();
    let mut second = semaphore.clone().acquire_owned();
    pending(&mut first, &wakers[0]);
    pending(&mut second, &wakers[1]);
    semaphore.add_permits(1);
    drop(first);
    assert_eq!(*log.lock(), vec![0, 1]);
    assert!(matches!(
        poll_with(&mut second, &wakers[1]),
        Poll::Ready(Ok(_))
    ));
    assert_eq!(semaphore.available_permits(), 1);
}

#[test]
fn errors_and_debug() {
    with_watchdog(WATCHDOG_SECS, || {
        let e = err();
        assert_eq!(e.to_string(), "semaphore closed");
        assert_eq!(
            TryAcquireError::NoPermits.to_string(),
            "no permits available"
        );
        assert_eq!(TryAcquireError::Closed.to_string(), "semaphore closed");
        let _: &dyn std::error::Error = &e;
        let _: &dyn std::error::Error = &TryAcquireError::Closed;
        let semaphore = Semaphore::new(2);
        assert_eq!(
            format!("{semaphore:?}"),
            "Semaphore { available_permits: 2, is_closed: false }"
        );
        let permit = semaphore.try_acquire().unwrap();
        assert!(format!("{permit:?}").contains("permits: 1"));
        assert!(format!("{:?}", semaphore.acquire()).starts_with("Acquire"));
    });
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_completed_acquire_panics() {
    let semaphore = Semaphore::new(1);
    let (_, waker) = CountingWaker::new();
    let mut acquire = semaphore.acquire();
    ready(&mut acquire, &waker, 1);
    let _ = poll_with(&mut acquire, &waker);
}

#[test]
#[should_panic(expected = "at most")]
fn too_many_permits_panics() {
    let semaphore = Semaphore::new(Semaphore::MAX_PERMITS);
    semaphore.add_permits(1);
}

/// `new` is a `const fn`: a semaphore can be a `static`.
static LIMIT: Semaphore = Semaphore::new(2);

#[test]
fn a_static_semaphore() {
    let permit = LIMIT.try_acquire_many(2).unwrap();
    assert_eq!(LIMIT.available_permits(), 0);
    drop(permit);
    assert_eq!(LIMIT.available_permits(), 2);
}

/// The futures and permits can cross threads (spawned on multi-thread
/// runtimes); checked at compile time.
#[allow(dead_code)]
fn auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Semaphore>();
    send_sync::<sync_primitives::semaphore::Acquire<'static>>();
    send_sync::<sync_primitives::semaphore::AcquireOwned>();
    send_sync::<sync_primitives::SemaphorePermit<'static>>();
    send_sync::<sync_primitives::OwnedSemaphorePermit>();
    send_sync::<AcquireError>();
    send_sync::<TryAcquireError>();
}

/// A served waiter learns it was served (from the semaphore's watermark,
/// without the queue's lock) whatever waker it is re-polled with, and
/// whether it was served by one release or piecewise by several; a
/// waiter behind it that is still owed permits stays pending.
#[test]
fn served_waiters_complete_on_their_next_poll_and_later_ones_wait() {
    let semaphore = Semaphore::new(0);
    let (first_count, first) = CountingWaker::new();
    let (second_count, second) = CountingWaker::new();
    let (_fresh_count, fresh) = CountingWaker::new();
    let mut a = semaphore.acquire_many(2);
    let mut b = semaphore.acquire_many(2);
    pending(&mut a, &first);
    pending(&mut b, &second);
    semaphore.add_permits(1);
    pending(&mut a, &first);
    semaphore.add_permits(2);
    assert_eq!((first_count.wakes(), second_count.wakes()), (1, 0));
    ready(&mut a, &fresh, 2);
    pending(&mut b, &second);
    semaphore.add_permits(1);
    assert_eq!(second_count.wakes(), 1);
    ready(&mut b, &fresh, 2);
    assert_eq!(semaphore.available_permits(), 0);
}
