//! `OnceCell`: one initialiser at a time, parked waiters, and recovery from
//! a cancelled, failed or panicking initialiser.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use sync_primitives::{Event, OnceCell};
use test_util::{poll_with, recording_wakers, with_watchdog, CountingWaker};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 20;

type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A `get_or_init` whose initialiser counts its runs, waits for `gate`,
/// then returns `value`.
fn gated_init<'a>(
    cell: &'a OnceCell<u32>,
    runs: &'a AtomicUsize,
    gate: &'a Event,
    value: u32,
) -> Boxed<'a, &'a u32> {
    Box::pin(cell.get_or_init(move || async move {
        runs.fetch_add(1, Ordering::SeqCst);
        gate.wait().await;
        value
    }))
}

#[test]
fn set_get_and_into_inner() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    assert!(!cell.is_initialized());
    assert_eq!(cell.set(5), Ok(()));
    assert_eq!(cell.set(6), Err(6));
    assert_eq!(cell.get(), Some(&5));
    assert!(cell.is_initialized());
    let value = futures::executor::block_on(cell.get_or_init(|| async { unreachable!() }));
    assert_eq!(*value, 5);
    assert_eq!(cell.into_inner(), Some(5));
    assert_eq!(OnceCell::<u32>::new().into_inner(), None);
    assert_eq!(OnceCell::from(3).get(), Some(&3));
    let mut cell = OnceCell::from(String::from("a"));
    cell.get_mut().unwrap().push('b');
    assert_eq!(cell.take().as_deref(), Some("ab"));
    assert_eq!(cell.get_mut(), None);
    assert_eq!(cell.set(String::new()), Ok(()), "empty again after take");
}

#[test]
fn one_initialiser_runs_and_every_waiter_gets_its_value_after_one_wake() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let gate = Event::new();
    let (first_count, first_waker) = CountingWaker::new();
    let mut first = gated_init(&cell, &runs, &gate, 1);
    assert!(poll_with(&mut first, &first_waker).is_pending());
    assert_eq!(cell.set(9), Err(9), "an initialiser is running");

    let counters: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
    let mut waiters: Vec<_> = (0..3)
        .map(|i| gated_init(&cell, &runs, &gate, 10 + i))
        .collect();
    for (waiter, (_, waker)) in waiters.iter_mut().zip(&counters) {
        assert!(poll_with(waiter, waker).is_pending());
    }
    // Parked: re-polling does not start another initialiser.
    assert!(poll_with(&mut waiters[0], &counters[0].1).is_pending());
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one initialiser at a time");

    gate.set();
    assert_eq!(first_count.wakes(), 1);
    assert_eq!(poll_with(&mut first, &first_waker), Poll::Ready(&1));
    for (waiter, (count, waker)) in waiters.iter_mut().zip(&counters) {
        assert_eq!(count.wakes(), 1, "each waiter is woken once");
        assert_eq!(poll_with(waiter, waker), Poll::Ready(&1));
    }
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn a_cancelled_initialiser_hands_the_turn_to_the_oldest_waiter() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let gate = Event::new();
    let (_, waker) = CountingWaker::new();
    let mut first = gated_init(&cell, &runs, &gate, 1);
    assert!(poll_with(&mut first, &waker).is_pending());
    let (wakers, log) = recording_wakers(2);
    let mut second = gated_init(&cell, &runs, &gate, 2);
    let mut third = gated_init(&cell, &runs, &gate, 3);
    assert!(poll_with(&mut second, &wakers[0]).is_pending());
    assert!(poll_with(&mut third, &wakers[1]).is_pending());

    drop(first); // cancelled mid-way
    assert_eq!(*log.lock(), vec![0], "only the oldest waiter is woken");
    assert!(!cell.is_initialized());
    assert_eq!(cell.set(7), Err(7), "the turn is the woken waiter's");
    assert!(poll_with(&mut second, &wakers[0]).is_pending());
    assert_eq!(runs.load(Ordering::SeqCst), 2, "the second runs its own");
    gate.set();
    assert_eq!(poll_with(&mut second, &wakers[0]), Poll::Ready(&2));
    assert_eq!(*log.lock(), vec![0, 0, 1]);
    assert_eq!(poll_with(&mut third, &wakers[1]), Poll::Ready(&2));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_handed_turn_dropped_before_it_ran_passes_on() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let gate = Event::new();
    gate.set();
    let (wakers, log) = recording_wakers(3);
    let mut first = gated_init(&cell, &runs, &gate, 1);
    let mut second = gated_init(&cell, &runs, &gate, 2);
    let mut third = gated_init(&cell, &runs, &gate, 3);
    // `first` takes the turn; its initialiser waits on a cleared gate.
    gate.clear();
    assert!(poll_with(&mut first, &wakers[0]).is_pending());
    assert!(poll_with(&mut second, &wakers[1]).is_pending());
    assert!(poll_with(&mut third, &wakers[2]).is_pending());
    drop(first);
    assert_eq!(*log.lock(), vec![1]);
    drop(second); // handed the turn, never polled again
    assert_eq!(*log.lock(), vec![1, 2]);
    gate.set();
    assert_eq!(poll_with(&mut third, &wakers[2]), Poll::Ready(&3));
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[test]
fn a_failed_initialiser_leaves_the_cell_empty_and_the_next_waiter_runs_its_own() {
    let cell = OnceCell::new();
    let gate = Event::new();
    let (_, waker) = CountingWaker::new();
    let mut failing: Boxed<'_, Result<&u32, &str>> = Box::pin(cell.get_or_try_init(|| async {
        gate.wait().await;
        Err("failed")
    }));
    assert!(poll_with(&mut failing, &waker).is_pending());
    let (next_count, next_waker) = CountingWaker::new();
    let mut next: Boxed<'_, Result<&u32, &str>> =
        Box::pin(cell.get_or_try_init(|| async { Ok(4) }));
    assert!(poll_with(&mut next, &next_waker).is_pending());
    gate.set();
    assert_eq!(poll_with(&mut failing, &waker), Poll::Ready(Err("failed")));
    assert_eq!(next_count.wakes(), 1);
    assert!(!cell.is_initialized());
    assert_eq!(poll_with(&mut next, &next_waker), Poll::Ready(Ok(&4)));
    assert_eq!(cell.get(), Some(&4));
}

#[test]
fn a_failed_initialiser_with_nobody_waiting_empties_the_cell() {
    let cell = OnceCell::new();
    let result = futures::executor::block_on(cell.get_or_try_init(|| async { Err::<u32, _>(()) }));
    assert_eq!(result, Err(()));
    assert_eq!(cell.set(1), Ok(()), "the cell is empty and usable");
}

#[test]
fn a_panicking_initialiser_leaves_the_cell_empty_and_usable() {
    let cell = OnceCell::<u32>::new();
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(cell.get_or_init(|| async { panic!("init failed") }))
    }));
    assert!(panicked.is_err());
    assert!(!cell.is_initialized());
    let value = futures::executor::block_on(cell.get_or_init(|| async { 8 }));
    assert_eq!(*value, 8);
}

#[test]
fn a_panicking_initialiser_hands_the_turn_to_a_waiter() {
    let cell = OnceCell::<u32>::new();
    let gate = Event::new();
    let (_, waker) = CountingWaker::new();
    let mut panicking: Boxed<'_, &u32> = Box::pin(cell.get_or_init(|| async {
        gate.wait().await;
        panic!("init failed")
    }));
    assert!(poll_with(&mut panicking, &waker).is_pending());
    let (next_count, next_waker) = CountingWaker::new();
    let mut next: Boxed<'_, &u32> = Box::pin(cell.get_or_init(|| async { 5 }));
    assert!(poll_with(&mut next, &next_waker).is_pending());
    gate.set();
    let panicked = catch_unwind(AssertUnwindSafe(|| poll_with(&mut panicking, &waker)));
    assert!(panicked.is_err());
    // The executor drops a task whose poll panicked.
    drop(panicking);
    assert_eq!(next_count.wakes(), 1);
    assert_eq!(poll_with(&mut next, &next_waker), Poll::Ready(&5));
}

#[test]
fn fifty_waiters_get_the_turn_in_the_order_they_started_waiting() {
    const N: usize = 50;
    let cell = OnceCell::<usize>::new();
    let gate = Event::new();
    let (_, waker) = CountingWaker::new();
    let mut first: Boxed<'_, Result<&usize, usize>> = Box::pin(cell.get_or_try_init(|| async {
        gate.wait().await;
        Err(N)
    }));
    assert!(poll_with(&mut first, &waker).is_pending());
    // Each waiter's initialiser fails at once, handing the turn on.
    let (wakers, log) = recording_wakers(N);
    let mut waiters: Vec<Boxed<'_, Result<&usize, usize>>> = (0..N)
        .map(|i| -> Boxed<'_, _> { Box::pin(cell.get_or_try_init(move || async move { Err(i) })) })
        .collect();
    // Polled in reverse creation order: the first poll decides the order.
    for i in (0..N).rev() {
        assert!(poll_with(&mut waiters[i], &wakers[i]).is_pending());
    }
    gate.set();
    assert_eq!(poll_with(&mut first, &waker), Poll::Ready(Err(N)));
    let mut order = Vec::new();
    for step in 0..N {
        assert_eq!(log.lock().len(), step + 1, "one turn at a time");
        let woken = *log.lock().last().unwrap();
        assert_eq!(
            poll_with(&mut waiters[woken], &wakers[woken]),
            Poll::Ready(Err(woken))
        );
        order.push(woken);
    }
    assert_eq!(order, (0..N).rev().collect::<Vec<_>>());
    assert!(!cell.is_initialized());
}

#[test]
fn each_waiting_task_is_polled_exactly_twice_on_our_runtime() {
    with_watchdog(WATCHDOG_SECS, || {
        let cell = Arc::new(OnceCell::<u32>::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let polls: Vec<_> = (0..4).map(|_| Arc::new(AtomicUsize::new(0))).collect();
        let rt = runtime::Runtime::new();
        let init = {
            let (cell, runs) = (cell.clone(), runs.clone());
            rt.spawn(async move {
                *cell
                    .get_or_init(|| async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        for _ in 0..5 {
                            runtime::yield_now().await;
                        }
                        42
                    })
                    .await
            })
        };
        let waiters: Vec<_> = polls
            .iter()
            .map(|polls| {
                let (cell, polls) = (cell.clone(), polls.clone());
                rt.spawn(async move {
                    let wait = Box::pin(cell.get_or_init(|| async { unreachable!() }));
                    *test_util::CountPolls {
                        inner: wait,
                        polls: &polls,
                    }
                    .await
                })
            })
            .collect();
        rt.block_on(async {
            assert_eq!(init.await.unwrap(), 42);
            for waiter in waiters {
                assert_eq!(waiter.await.unwrap(), 42);
            }
        });
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        for polls in &polls {
            assert_eq!(polls.load(Ordering::SeqCst), 2, "polled in between");
        }
    });
}

#[test]
fn a_cancelled_initialiser_task_on_our_runtime_lets_a_waiter_finish() {
    with_watchdog(WATCHDOG_SECS, || {
        let cell = Arc::new(OnceCell::<u32>::new());
        let rt = runtime::Runtime::new();
        let stuck = {
            let cell = cell.clone();
            rt.spawn(async move { *cell.get_or_init(std::future::pending::<u32>).await })
        };
        let waiter = {
            let cell = cell.clone();
            rt.spawn(async move { *cell.get_or_init(|| async { 2 }).await })
        };
        rt.block_on(async {
            runtime::yield_now().await;
            stuck.abort();
            assert!(stuck.await.unwrap_err().is_cancelled());
            assert_eq!(waiter.await.unwrap(), 2);
        });
        assert_eq!(cell.get(), Some(&2));
    });
}

#[test]
fn the_value_is_dropped_exactly_once() {
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = OnceCell::new();
    assert!(cell.set(Counted(drops.clone())).is_ok());
    let refused = cell.set(Counted(drops.clone()));
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(refused);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(cell);
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    let cell = OnceCell::new();
    assert!(cell.set(Counted(drops.clone())).is_ok());
    let inner = cell.into_inner();
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    drop(inner);
    assert_eq!(drops.load(Ordering::SeqCst), 3);
}

#[test]
fn debug_shows_the_value_or_uninit() {
    let cell = OnceCell::new();
    assert_eq!(format!("{cell:?}"), "OnceCell(<uninit>)");
    cell.set("x").unwrap();
    assert_eq!(format!("{cell:?}"), "OnceCell(\"x\")");
}

#[test]
fn get_or_init_futures_are_send_where_the_value_is() {
    fn send<T: Send>(_: &T) {}
    let cell = OnceCell::<String>::new();
    send(&cell.get_or_init(|| async { String::new() }));
    send(&cell.get_or_try_init(|| async { Ok::<_, ()>(String::new()) }));
}

#[test]
fn re_polling_with_a_new_waker_keeps_only_the_newest() {
    let cell = OnceCell::new();
    let runs = AtomicUsize::new(0);
    let gate = Event::new();
    let (_, waker) = CountingWaker::new();
    let mut first = gated_init(&cell, &runs, &gate, 1);
    assert!(poll_with(&mut first, &waker).is_pending());
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut waiting = gated_init(&cell, &runs, &gate, 2);
    assert!(poll_with(&mut waiting, &old_waker).is_pending());
    assert!(poll_with(&mut waiting, &new_waker).is_pending());
    gate.set();
    assert_eq!(poll_with(&mut first, &waker), Poll::Ready(&1));
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
    assert_eq!(poll_with(&mut waiting, &new_waker), Poll::Ready(&1));
}

#[test]
fn the_cell_is_send_and_sync_where_the_value_is() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<OnceCell<String>>();
    send_sync::<sync_primitives::Condition>();
    send_sync::<sync_primitives::Barrier>();
}

#[test]
fn a_panicking_initialiser_task_on_our_runtime_lets_a_waiter_finish() {
    with_watchdog(WATCHDOG_SECS, || {
        let cell = Arc::new(OnceCell::<u32>::new());
        let rt = runtime::Runtime::new();
        let panicking = {
            let cell = cell.clone();
            rt.spawn(async move {
                *cell
                    .get_or_init(|| async {
                        runtime::yield_now().await;
                        panic!("init failed")
                    })
                    .await
            })
        };
        let waiter = {
            let cell = cell.clone();
            rt.spawn(async move { *cell.get_or_init(|| async { 3 }).await })
        };
        rt.block_on(async {
            assert!(panicking.await.unwrap_err().is_panic());
            assert_eq!(waiter.await.unwrap(), 3);
        });
        assert_eq!(cell.get(), Some(&3));
    });
}
