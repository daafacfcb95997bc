//! `Queue`, `LifoQueue`, `PriorityQueue`: asyncio's rules, from CPython's
//! `Lib/test/test_asyncio/test_queues.py` (3.13), and exactness under
//! threads.

#![cfg(not(loom))]

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use sync_primitives::queue::{GetError, PutError, ShutDown};
use sync_primitives::{LifoQueue, PriorityQueue, Queue};
use test_util::{poll_with, recording_wakers, CountingWaker};

/// An item that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn sizes_as_in_asyncio() {
    let q = Queue::new(2);
    assert_eq!(q.maxsize(), 2);
    assert!(q.empty() && !q.full());
    q.put_nowait(1).unwrap();
    assert_eq!(q.qsize(), 1);
    q.put_nowait(2).unwrap();
    assert!(q.full() && !q.empty());
    assert!(matches!(q.put_nowait(3), Err(PutError::Full(3))));
    let unbounded = Queue::<u8>::new(0);
    assert_eq!(unbounded.maxsize(), 0);
    for i in 0..100 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.full(), "an unbounded queue is never full");
    assert_eq!(Queue::<u8>::default().maxsize(), 0);
}

#[test]
fn fifo_lifo_and_priority_orders() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for i in [3, 1, 4, 1, 5, 9, 2, 6] {
        fifo.put_nowait(i).unwrap();
        lifo.put_nowait(i).unwrap();
        prio.put_nowait(i).unwrap();
    }
    let drain = |get: &dyn Fn() -> Result<i32, GetError>| {
        std::iter::from_fn(|| get().ok()).collect::<Vec<_>>()
    };
    assert_eq!(drain(&|| fifo.get_nowait()), [3, 1, 4, 1, 5, 9, 2, 6]);
    assert_eq!(drain(&|| lifo.get_nowait()), [6, 2, 9, 5, 1, 4, 1, 3]);
    assert_eq!(drain(&|| prio.get_nowait()), [1, 1, 2, 3, 4, 5, 6, 9]);
}

#[test]
fn priority_queue_hands_out_smallest_first_to_waiting_getters() {
    let got = test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let q = Arc::new(PriorityQueue::new(0));
            for (p, name) in [(3, "c"), (1, "a"), (2, "b")] {
                q.put((p, name)).await.unwrap();
            }
            let mut got = Vec::new();
            for _ in 0..3 {
                got.push(q.get().await.unwrap().1);
            }
            // A getter that waits gets the smallest of what comes.
            let getter = {
                let q = q.clone();
                runtime::spawn(async move { q.get().await.unwrap() })
            };
            runtime::yield_now().await;
            q.put_nowait((5, "e")).unwrap();
            got.push(getter.await.unwrap().1);
            q.put_nowait((9, "z")).unwrap();
            q.put_nowait((0, "first")).unwrap();
            got.push(q.get().await.unwrap().1);
            got
        })
    });
    assert_eq!(got, ["a", "b", "c", "e", "first"]);
}

#[test]
fn waiting_getters_and_putters_are_served_in_order() {
    // Getters, in the order they started waiting.
    let q = Queue::new(1);
    let (wakers, log) = recording_wakers(3);
    let mut gets: Vec<_> = (0..3).map(|_| Box::pin(q.get())).collect();
    for (get, waker) in gets.iter_mut().zip(&wakers) {
        assert!(poll_with(get, waker).is_pending());
    }
    for (i, get) in gets.iter_mut().enumerate() {
        q.put_nowait(i).unwrap();
        assert_eq!(*log.lock(), (0..=i).collect::<Vec<_>>());
        assert_eq!(poll_with(get, &wakers[i]), Poll::Ready(Ok(i)));
    }

    // Putters, in the order they started waiting.
    q.put_nowait(100).unwrap();
    let (wakers, log) = recording_wakers(3);
    let mut puts: Vec<_> = (0..3).map(|i| Box::pin(q.put(i))).collect();
    for (put, waker) in puts.iter_mut().zip(&wakers) {
        assert!(poll_with(put, waker).is_pending());
    }
    assert_eq!(q.get_nowait(), Ok(100));
    for (i, put) in puts.iter_mut().enumerate() {
        assert_eq!(log.lock().last(), Some(&i));
        assert!(poll_with(put, &wakers[i]).is_ready());
        assert_eq!(q.get_nowait(), Ok(i));
    }
}

#[test]
fn a_woken_getter_that_is_dropped_passes_the_item_on() {
    let q = Queue::new(0);
    let (wakers, log) = recording_wakers(2);
    let mut first = Box::pin(q.get());
    let mut second = Box::pin(q.get());
    assert!(poll_with(&mut first, &wakers[0]).is_pending());
    assert!(poll_with(&mut second, &wakers[1]).is_pending());
    q.put_nowait("x").unwrap();
    assert_eq!(*log.lock(), [0]);
    drop(first);
    assert_eq!(*log.lock(), [0, 1]);
    assert_eq!(poll_with(&mut second, &wakers[1]), Poll::Ready(Ok("x")));
}

#[test]
fn task_done_too_many_times_panics_and_the_queue_keeps_working() {
    let q = Queue::new(0);
    let panic = catch_unwind(AssertUnwindSafe(|| q.task_done())).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<&str>().copied(),
        Some("task_done() called too many times")
    );
    q.put_nowait(1).unwrap();
    assert_eq!(q.unfinished_tasks(), 1);
    assert_eq!(q.get_nowait(), Ok(1));
    q.task_done();
    assert!(catch_unwind(AssertUnwindSafe(|| q.task_done())).is_err());
    // Still working, and join sees nothing unfinished.
    q.put_nowait(2).unwrap();
    assert_eq!(q.get_nowait(), Ok(2));
    q.task_done();
    futures::executor::block_on(q.join());
}

#[test]
fn join_waits_for_every_task_done() {
    test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let q = Arc::new(Queue::new(0));
            q.join().await; // nothing unfinished: at once
            for i in 0..3 {
                q.put(i).await.unwrap();
            }
            let joiners: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    runtime::spawn(async move { q.join().await })
                })
                .collect();
            for _ in 0..3 {
                q.get().await.unwrap();
                runtime::yield_now().await;
                assert!(joiners.iter().all(|j| !j.is_finished()));
                q.task_done();
            }
            for joiner in joiners {
                joiner.await.unwrap();
            }
        })
    });
}

#[test]
fn shutdown_false_fails_puts_lets_gets_drain_and_wakes_every_waiter() {
    // Waiting getters on an empty queue: all woken, all fail.
    let q = Queue::<u32>::new(1);
    let (wakers, log) = recording_wakers(3);
    let mut gets: Vec<_> = (0..3).map(|_| Box::pin(q.get())).collect();
    for (get, waker) in gets.iter_mut().zip(&wakers) {
        assert!(poll_with(get, waker).is_pending());
    }
    q.shutdown(false);
    assert_eq!(*log.lock(), [0, 1, 2]);
    for (get, waker) in gets.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(get, waker), Poll::Ready(Err(ShutDown(()))));
    }

    // Waiting putters on a full queue, and a joiner.
    let q = Queue::new(1);
    q.put_nowait("kept").unwrap();
    let (wakers, log) = recording_wakers(3);
    let mut put_a = Box::pin(q.put("a"));
    let mut put_b = Box::pin(q.put("b"));
    let mut join = Box::pin(q.join());
    assert!(poll_with(&mut put_a, &wakers[0]).is_pending());
    assert!(poll_with(&mut put_b, &wakers[1]).is_pending());
    assert!(poll_with(&mut join, &wakers[2]).is_pending());
    q.shutdown(false);
    assert!(q.is_shutdown());
    assert_eq!(*log.lock(), [0, 1], "every waiting put is woken");
    assert_eq!(
        poll_with(&mut put_a, &wakers[0]),
        Poll::Ready(Err(ShutDown("a")))
    );
    assert_eq!(
        poll_with(&mut put_b, &wakers[1]),
        Poll::Ready(Err(ShutDown("b")))
    );
    assert!(matches!(q.put_nowait("c"), Err(PutError::ShutDown("c"))));
    assert_eq!(
        futures::executor::block_on(q.put("d")),
        Err(ShutDown("d")),
        "a put after shutdown fails at once"
    );
    // `get` drains what is left, then fails.
    assert_eq!(futures::executor::block_on(q.get()), Ok("kept"));
    assert_eq!(futures::executor::block_on(q.get()), Err(ShutDown(())));
    assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
    // The joiner waits for the item taken to be marked done.
    assert!(poll_with(&mut join, &wakers[2]).is_pending());
    q.task_done();
    assert_eq!(*log.lock(), [0, 1, 2]);
    assert_eq!(poll_with(&mut join, &wakers[2]), Poll::Ready(()));
}

#[test]
fn shutdown_true_drops_items_counts_them_done_and_wakes_every_waiter() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(2);
    q.put_nowait(Counted(drops.clone())).ok().unwrap();
    q.put_nowait(Counted(drops.clone())).ok().unwrap();
    // One item is taken and not yet done; one stays queued.
    let taken = q.get_nowait().ok().unwrap();
    q.put_nowait(Counted(drops.clone())).ok().unwrap();
    let (wakers, log) = recording_wakers(3);
    let mut put = Box::pin(q.put(Counted(drops.clone())));
    let mut join_a = Box::pin(q.join());
    let mut join_b = Box::pin(q.join());
    assert!(poll_with(&mut put, &wakers[0]).is_pending());
    assert!(poll_with(&mut join_a, &wakers[1]).is_pending());
    assert!(poll_with(&mut join_b, &wakers[2]).is_pending());
    assert_eq!(q.unfinished_tasks(), 3);

    q.shutdown(true);
    assert_eq!(drops.load(Ordering::SeqCst), 2, "both queued items dropped");
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.unfinished_tasks(), 1, "only the item taken is unfinished");
    assert_eq!(*log.lock(), [0], "the putter is woken; joiners wait");
    assert!(matches!(
        poll_with(&mut put, &wakers[0]),
        Poll::Ready(Err(ShutDown(_)))
    ));
    assert_eq!(
        drops.load(Ordering::SeqCst),
        3,
        "the refused item handed back and dropped"
    );
    assert!(matches!(q.get_nowait(), Err(GetError::ShutDown)));
    assert!(poll_with(&mut join_a, &wakers[1]).is_pending());

    drop(taken);
    q.task_done();
    assert_eq!(*log.lock(), [0, 1, 2], "every joiner woken");
    assert_eq!(poll_with(&mut join_a, &wakers[1]), Poll::Ready(()));
    assert_eq!(poll_with(&mut join_b, &wakers[2]), Poll::Ready(()));
    assert!(catch_unwind(AssertUnwindSafe(|| q.task_done())).is_err());
}

#[test]
fn shutdown_true_wakes_waiting_getters_and_completes_join_with_nothing_taken() {
    test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let q = Arc::new(Queue::<u32>::new(0));
            let getters: Vec<_> = (0..3)
                .map(|_| {
                    let q = q.clone();
                    runtime::spawn(async move { q.get().await })
                })
                .collect();
            runtime::yield_now().await;
            q.shutdown(true);
            for getter in getters {
                assert_eq!(getter.await.unwrap(), Err(ShutDown(())));
            }

            let q = Arc::new(Queue::new(0));
            for i in 0..5 {
                q.put_nowait(i).unwrap();
            }
            let joiner = {
                let q = q.clone();
                runtime::spawn(async move { q.join().await })
            };
            runtime::yield_now().await;
            assert!(!joiner.is_finished());
            q.shutdown(true);
            joiner.await.unwrap();
            assert_eq!(q.unfinished_tasks(), 0);
        })
    });
}

#[test]
fn four_producers_and_four_consumers_with_join_on_a_multi_thread_runtime() {
    const PER_PRODUCER: u64 = 10_000;
    let (seen, total) = test_util::with_watchdog(120, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(async {
            let q = Arc::new(Queue::new(8));
            let consumers: Vec<_> = (0..4)
                .map(|_| {
                    let q = q.clone();
                    runtime::spawn(async move {
                        let mut seen = Vec::new();
                        while let Ok(item) = q.get().await {
                            seen.push(item);
                            q.task_done();
                        }
                        seen
                    })
                })
                .collect();
            let producers: Vec<_> = (0..4u64)
                .map(|id| {
                    let q = q.clone();
                    runtime::spawn(async move {
                        for i in 0..PER_PRODUCER {
                            q.put((id, i)).await.unwrap();
                        }
                    })
                })
                .collect();
            for producer in producers {
                producer.await.unwrap();
            }
            q.join().await;
            assert_eq!(q.qsize(), 0);
            assert_eq!(q.unfinished_tasks(), 0);
            q.shutdown(false);
            let mut seen = Vec::new();
            for consumer in consumers {
                let mine = consumer.await.unwrap();
                // Each consumer sees each producer's items in its order.
                for id in 0..4 {
                    let of: Vec<_> = mine.iter().filter(|v| v.0 == id).map(|v| v.1).collect();
                    assert!(of.windows(2).all(|w| w[0] < w[1]));
                }
                seen.extend(mine);
            }
            let total = seen.len();
            seen.sort_unstable();
            seen.dedup();
            (seen.len(), total)
        })
    });
    assert_eq!(total, 4 * PER_PRODUCER as usize, "every item once");
    assert_eq!(seen, total, "no item twice");
}

#[test]
fn a_dropped_put_passes_its_room_on() {
    let q = Queue::new(1);
    q.put_nowait(0).unwrap();
    let (counter, waker) = CountingWaker::new();
    let mut first = Box::pin(q.put(1));
    let mut second = Box::pin(q.put(2));
    assert!(poll_with(&mut first, &waker).is_pending());
    assert!(poll_with(&mut second, &waker).is_pending());
    assert_eq!(q.get_nowait(), Ok(0));
    drop(first);
    assert_eq!(counter.wakes(), 2);
    assert!(poll_with(&mut second, &waker).is_ready());
    assert_eq!(q.get_nowait(), Ok(2));
}

#[test]
fn errors_print_and_are_errors() {
    fn error<E: std::error::Error>(e: E) -> String {
        format!("{e} / {e:?}")
    }
    assert_eq!(error(ShutDown(())), "queue is shut down / ShutDown { .. }");
    assert_eq!(error(PutError::Full(1)), "queue is full / Full(..)");
    assert_eq!(
        error(PutError::ShutDown(1)),
        "queue is shut down / ShutDown(..)"
    );
    assert_eq!(error(GetError::Empty), "queue is empty / Empty");
    assert_eq!(error(GetError::ShutDown), "queue is shut down / ShutDown");
    assert_eq!(PutError::Full(4).into_inner(), 4);
}

#[test]
fn queues_and_their_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let q = Queue::<String>::new(1);
    send_sync(&q);
    send_sync(&LifoQueue::<String>::new(1));
    send_sync(&PriorityQueue::<String>::new(1));
    send(&q.put(String::new()));
    send(&q.get());
    send(&q.join());
}

#[test]
fn gets_and_puts_raced_against_cancellation_lose_no_item() {
    // Two producers and three consumers on a queue of 2; every third put
    // and every other get that must wait is dropped after one poll. Every
    // item put is got exactly once, and the run never wedges (a lost turn
    // or wake-up would hang the join).
    const PER_PRODUCER: u64 = 3_000;
    let (put, got) = test_util::with_watchdog(60, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(3)
            .build()
            .unwrap();
        rt.block_on(async {
            let q = Arc::new(Queue::new(2));
            let put = Arc::new(AtomicUsize::new(0));
            let got = Arc::new(parking_lot::Mutex::new(Vec::new()));
            let consumers: Vec<_> = (0..3)
                .map(|_| {
                    let (q, got) = (q.clone(), got.clone());
                    runtime::spawn(async move {
                        let mut turn = 0u64;
                        loop {
                            turn += 1;
                            let mut get = pin!(q.get());
                            let first = std::future::poll_fn(|cx: &mut Context<'_>| {
                                Poll::Ready(get.as_mut().poll(cx))
                            })
                            .await;
                            let item = match first {
                                Poll::Ready(item) => item,
                                Poll::Pending if turn % 2 == 0 => {
                                    runtime::yield_now().await;
                                    continue;
                                }
                                Poll::Pending => get.await,
                            };
                            match item {
                                Ok(item) => {
                                    got.lock().push(item);
                                    q.task_done();
                                }
                                Err(ShutDown(())) => return,
                            }
                        }
                    })
                })
                .collect();
            let producers: Vec<_> = (0..2u64)
                .map(|id| {
                    let (q, put) = (q.clone(), put.clone());
                    runtime::spawn(async move {
                        for i in 0..PER_PRODUCER {
                            let mut op = pin!(q.put(id * 100_000 + i));
                            let first = std::future::poll_fn(|cx: &mut Context<'_>| {
                                Poll::Ready(op.as_mut().poll(cx))
                            })
                            .await;
                            match first {
                                Poll::Ready(result) => result.unwrap(),
                                Poll::Pending if i % 3 == 0 => continue,
                                Poll::Pending => op.await.unwrap(),
                            }
                            put.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for producer in producers {
                producer.await.unwrap();
            }
            q.join().await;
            q.shutdown(false);
            for consumer in consumers {
                consumer.await.unwrap();
            }
            let mut got = std::mem::take(&mut *got.lock());
            let n = got.len();
            got.sort_unstable();
            got.dedup();
            assert_eq!(got.len(), n, "no item twice");
            (put.load(Ordering::Relaxed), n)
        })
    });
    assert_eq!(put, got);
}

/// A waker replaced by a re-poll, or freed by a cancelled put, get or
/// join, is dropped with no lock held: its destructor may use the queue.
#[test]
fn a_waker_dropped_by_a_put_get_or_join_may_use_the_queue() {
    test_util::with_watchdog(10, || {
        let queue = Arc::new(Queue::new(1));
        let drops = Arc::new(AtomicUsize::new(0));
        let hook = || {
            let (queue, drops) = (queue.clone(), drops.clone());
            test_util::drop_hook_waker(move || {
                let _ = queue.qsize();
                drops.fetch_add(1, Ordering::SeqCst);
            })
        };
        let (_other, other) = CountingWaker::new();
        queue.put_nowait(1).unwrap();
        // A put in line (the queue is full), then a get on an empty queue,
        // then a join with a task unfinished: each re-polled with a new
        // waker, then re-polled with a hooked one and dropped in line.
        {
            let mut put = pin!(queue.put(2));
            assert!(poll_with(&mut put, &hook()).is_pending());
            assert!(poll_with(&mut put, &other).is_pending());
            assert_eq!(drops.load(Ordering::SeqCst), 1, "replaced");
            assert!(poll_with(&mut put, &hook()).is_pending());
        }
        assert_eq!(drops.load(Ordering::SeqCst), 2, "freed by the cancel");
        assert_eq!(queue.get_nowait(), Ok(1));
        {
            let mut get = pin!(queue.get());
            assert!(poll_with(&mut get, &hook()).is_pending());
            assert!(poll_with(&mut get, &other).is_pending());
            assert_eq!(drops.load(Ordering::SeqCst), 3, "replaced");
            assert!(poll_with(&mut get, &hook()).is_pending());
        }
        assert_eq!(drops.load(Ordering::SeqCst), 4, "freed by the cancel");
        {
            let mut join = pin!(queue.join());
            assert!(poll_with(&mut join, &hook()).is_pending());
            assert!(poll_with(&mut join, &other).is_pending());
            assert_eq!(drops.load(Ordering::SeqCst), 5, "replaced");
            assert!(poll_with(&mut join, &hook()).is_pending());
        }
        assert_eq!(drops.load(Ordering::SeqCst), 6, "freed by the cancel");
    });
}
