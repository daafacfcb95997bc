//! `Barrier`: asyncio 3.11's rules (arrival index, one leader, cyclic,
//! `abort`/`reset`), and cancel-safe withdrawal, unlike tokio's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use sync_primitives::{Barrier, BarrierWaitResult, BrokenBarrier};
use test_util::{poll_with, recording_wakers, with_watchdog, CountPolls, CountingWaker};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 20;

fn ok(poll: Poll<Result<BarrierWaitResult, BrokenBarrier>>) -> (usize, bool) {
    match poll {
        Poll::Ready(Ok(result)) => (result.index(), result.is_leader()),
        other => panic!("expected a trip, got {other:?}"),
    }
}

#[test]
fn a_trip_gives_distinct_indices_in_arrival_order_and_one_leader() {
    const PARTIES: usize = 5;
    let barrier = Barrier::new(PARTIES);
    assert_eq!(barrier.parties(), PARTIES);
    let (wakers, log) = recording_wakers(PARTIES);
    let mut waits: Vec<_> = (0..PARTIES).map(|_| barrier.wait()).collect();
    // Arrival is the first poll: poll in reverse creation order.
    for i in (1..PARTIES).rev() {
        assert!(poll_with(&mut waits[i], &wakers[i]).is_pending());
        assert_eq!(barrier.n_waiting(), PARTIES - i);
    }
    assert!(log.lock().is_empty());
    // The last to arrive trips the barrier and leads.
    assert_eq!(
        ok(poll_with(&mut waits[0], &wakers[0])),
        (PARTIES - 1, true)
    );
    assert_eq!(barrier.n_waiting(), 0, "the barrier starts over");
    assert_eq!(*log.lock(), vec![4, 3, 2, 1], "woken in arrival order");
    for i in 1..PARTIES {
        assert_eq!(
            ok(poll_with(&mut waits[i], &wakers[i])),
            (PARTIES - i - 1, false)
        );
    }
}

#[test]
fn the_barrier_is_cyclic() {
    with_watchdog(WATCHDOG_SECS, || {
        const PARTIES: usize = 3;
        const ROUNDS: usize = if cfg!(miri) { 3 } else { 20 };
        let barrier = Arc::new(Barrier::new(PARTIES));
        let rt = runtime::Runtime::new();
        let tasks: Vec<_> = (0..PARTIES)
            .map(|_| {
                let barrier = barrier.clone();
                rt.spawn(async move {
                    let mut results = Vec::new();
                    for _ in 0..ROUNDS {
                        results.push(barrier.wait().await.unwrap());
                        runtime::yield_now().await;
                    }
                    results
                })
            })
            .collect();
        let results: Vec<Vec<BarrierWaitResult>> = rt.block_on(async {
            let mut all = Vec::new();
            for task in tasks {
                all.push(task.await.unwrap());
            }
            all
        });
        for round in 0..ROUNDS {
            let mut indices: Vec<_> = results.iter().map(|r| r[round].index()).collect();
            indices.sort_unstable();
            assert_eq!(indices, [0, 1, 2], "round {round}");
            let leaders = results.iter().filter(|r| r[round].is_leader()).count();
            assert_eq!(leaders, 1, "round {round}");
        }
    });
}

#[test]
fn a_dropped_wait_withdraws_and_later_arrivals_move_up() {
    let barrier = Barrier::new(3);
    let (wakers, log) = recording_wakers(4);
    let mut a = barrier.wait();
    let mut b = barrier.wait();
    assert!(poll_with(&mut a, &wakers[0]).is_pending());
    assert!(poll_with(&mut b, &wakers[1]).is_pending());
    assert_eq!(barrier.n_waiting(), 2);
    drop(a); // cancelled before the trip: withdrawn
    assert_eq!(barrier.n_waiting(), 1);
    let mut c = barrier.wait();
    assert!(
        poll_with(&mut c, &wakers[2]).is_pending(),
        "a withdrawn wait does not count towards the trip"
    );
    assert_eq!(barrier.n_waiting(), 2);
    assert_eq!(ok(poll_with(&mut barrier.wait(), &wakers[3])), (2, true));
    assert_eq!(*log.lock(), vec![1, 2]);
    assert_eq!(ok(poll_with(&mut b, &wakers[1])), (0, false));
    assert_eq!(ok(poll_with(&mut c, &wakers[2])), (1, false));
}

#[test]
fn a_wait_dropped_after_the_trip_does_not_disturb_the_next_round() {
    let barrier = Barrier::new(2);
    let (_, waker) = CountingWaker::new();
    let mut tripped = barrier.wait();
    assert!(poll_with(&mut tripped, &waker).is_pending());
    assert_eq!(ok(poll_with(&mut barrier.wait(), &waker)), (1, true));
    drop(tripped); // tripped, never polled again
    assert_eq!(barrier.n_waiting(), 0);
    let mut next = barrier.wait();
    assert!(poll_with(&mut next, &waker).is_pending());
    assert_eq!(barrier.n_waiting(), 1);
    assert_eq!(ok(poll_with(&mut barrier.wait(), &waker)), (1, true));
    assert_eq!(ok(poll_with(&mut next, &waker)), (0, false));
}

#[test]
fn abort_breaks_pending_and_later_waits_until_reset() {
    let barrier = Barrier::new(3);
    let (counter, waker) = CountingWaker::new();
    let mut pending = barrier.wait();
    assert!(poll_with(&mut pending, &waker).is_pending());
    barrier.abort();
    assert!(barrier.is_broken());
    assert_eq!(counter.wakes(), 1);
    assert_eq!(
        poll_with(&mut pending, &waker),
        Poll::Ready(Err(BrokenBarrier))
    );
    assert_eq!(
        poll_with(&mut barrier.wait(), &waker),
        Poll::Ready(Err(BrokenBarrier))
    );
    assert_eq!(barrier.n_waiting(), 0);
    barrier.reset();
    assert!(!barrier.is_broken());
    let mut waits: Vec<_> = (0..2).map(|_| barrier.wait()).collect();
    for wait in &mut waits {
        assert!(poll_with(wait, &waker).is_pending());
    }
    assert_eq!(ok(poll_with(&mut barrier.wait(), &waker)), (2, true));
    assert_eq!(ok(poll_with(&mut waits[0], &waker)), (0, false));
    assert_eq!(ok(poll_with(&mut waits[1], &waker)), (1, false));
}

#[test]
fn reset_fails_the_waiting_tasks_and_empties_the_barrier() {
    let barrier = Barrier::new(3);
    let (wakers, log) = recording_wakers(2);
    let mut waits: Vec<_> = (0..2).map(|_| barrier.wait()).collect();
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert!(poll_with(wait, waker).is_pending());
    }
    barrier.reset();
    assert_eq!(*log.lock(), vec![0, 1]);
    assert!(!barrier.is_broken());
    assert_eq!(barrier.n_waiting(), 0);
    for (wait, waker) in waits.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(wait, waker), Poll::Ready(Err(BrokenBarrier)));
    }
    // A full round after the reset.
    let mut fresh: Vec<_> = (0..2).map(|_| barrier.wait()).collect();
    for (wait, waker) in fresh.iter_mut().zip(&wakers) {
        assert!(poll_with(wait, waker).is_pending());
    }
    assert_eq!(ok(poll_with(&mut barrier.wait(), &wakers[0])), (2, true));
}

#[test]
fn re_polling_with_a_new_waker_keeps_only_the_newest() {
    let barrier = Barrier::new(2);
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut wait = barrier.wait();
    assert!(poll_with(&mut wait, &old_waker).is_pending());
    assert!(poll_with(&mut wait, &new_waker).is_pending());
    assert_eq!(barrier.n_waiting(), 1, "re-polling is not a new arrival");
    assert_eq!(ok(poll_with(&mut barrier.wait(), &new_waker)), (1, true));
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[test]
fn one_party_trips_at_once_and_zero_parties_panics() {
    let barrier = Barrier::new(1);
    let (_, waker) = CountingWaker::new();
    for _ in 0..3 {
        assert_eq!(ok(poll_with(&mut barrier.wait(), &waker)), (0, true));
    }
    assert!(std::panic::catch_unwind(|| Barrier::new(0)).is_err());
}

#[test]
fn each_waiting_task_is_polled_exactly_twice_on_our_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        const PARTIES: usize = 4;
        let barrier = Arc::new(Barrier::new(PARTIES));
        let polls: Vec<_> = (0..PARTIES)
            .map(|_| Arc::new(AtomicUsize::new(0)))
            .collect();
        let rt = runtime::Runtime::new();
        let tasks: Vec<_> = polls
            .iter()
            .map(|polls| {
                let (barrier, polls) = (barrier.clone(), polls.clone());
                rt.spawn(async move {
                    CountPolls {
                        inner: barrier.wait(),
                        polls: &polls,
                    }
                    .await
                    .unwrap()
                })
            })
            .collect();
        let results: Vec<_> = rt.block_on(async {
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.unwrap());
            }
            results
        });
        // Spawned tasks run in order: the last one arrives last and leads
        // in its first poll; every other is polled to arrive and once woken.
        for (i, (result, polls)) in results.iter().zip(&polls).enumerate() {
            assert_eq!(result.index(), i);
            let expected = if result.is_leader() { 1 } else { 2 };
            assert_eq!(polls.load(Ordering::SeqCst), expected, "task {i}");
        }
        assert!(results[PARTIES - 1].is_leader());
    });
}

#[test]
fn threads_meeting_round_after_round_get_one_leader_per_round() {
    const THREADS: usize = 4;
    const ROUNDS: usize = if cfg!(miri) { 5 } else { 500 };
    with_watchdog(WATCHDOG_SECS, || {
        let barrier = Arc::new(Barrier::new(THREADS));
        let leaders = Arc::new(AtomicUsize::new(0));
        let index_sum = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let (barrier, leaders, index_sum) =
                    (barrier.clone(), leaders.clone(), index_sum.clone());
                std::thread::spawn(move || {
                    for _ in 0..ROUNDS {
                        let result = futures::executor::block_on(barrier.wait()).unwrap();
                        leaders.fetch_add(usize::from(result.is_leader()), Ordering::SeqCst);
                        index_sum.fetch_add(result.index(), Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(leaders.load(Ordering::SeqCst), ROUNDS);
        assert_eq!(index_sum.load(Ordering::SeqCst), ROUNDS * (1 + 2 + 3));
    });
}

#[test]
fn futures_are_send_errors_display_and_debug() {
    fn send<T: Send + Sync>(_: &T) {}
    let barrier = Barrier::new(2);
    let wait = barrier.wait();
    send(&wait);
    send(&barrier);
    assert!(format!("{wait:?}").contains("Idle"));
    assert_eq!(
        format!("{barrier:?}"),
        "Barrier { parties: 2, n_waiting: 0, broken: false }"
    );
    let error: Box<dyn std::error::Error> = Box::new(BrokenBarrier);
    assert_eq!(error.to_string(), "the barrier is broken");
}

/// A waker replaced by a re-poll, or freed by a withdrawal, is dropped
/// with no lock held: its destructor may use the barrier.
#[test]
fn a_waker_dropped_by_a_wait_may_use_the_barrier() {
    with_watchdog(WATCHDOG_SECS, || {
        let barrier = Arc::new(Barrier::new(2));
        let drops = Arc::new(AtomicUsize::new(0));
        let hook = || {
            let (barrier, drops) = (barrier.clone(), drops.clone());
            test_util::drop_hook_waker(move || {
                let _ = barrier.n_waiting();
                drops.fetch_add(1, Ordering::SeqCst);
            })
        };
        let (_other, other) = CountingWaker::new();
        let mut wait = barrier.wait();
        assert!(poll_with(&mut wait, &hook()).is_pending());
        assert!(poll_with(&mut wait, &other).is_pending());
        assert_eq!(drops.load(Ordering::SeqCst), 1, "replaced");
        assert!(poll_with(&mut wait, &hook()).is_pending());
        drop(wait);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "freed by the withdrawal");
        assert_eq!(barrier.n_waiting(), 0);
    });
}
