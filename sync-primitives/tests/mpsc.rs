//! `mpsc`: ordering, parking and hand-off of bounded senders, closing from
//! either side, `recv_many`, the `Stream`, and exactness under threads on
//! our multi-thread runtime and on tokio's.

#![cfg(not(loom))]

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::StreamExt;
use sync_primitives::mpsc::{self, SendError, TryRecvError, TrySendError};
use test_util::{poll_with, recording_wakers, CountPolls, CountingWaker};

/// A value that counts its drops.
struct Counted(u32, Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.1.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn each_senders_values_arrive_in_its_order() {
    let got = test_util::with_watchdog(20, || {
        runtime::block_on(async {
            let (tx, mut rx) = mpsc::channel(3);
            for id in 0..4u32 {
                let tx = tx.clone();
                let _detached = runtime::spawn(async move {
                    for i in 0..100u32 {
                        tx.send((id, i)).await.unwrap();
                        if i % 7 == 0 {
                            runtime::yield_now().await;
                        }
                    }
                });
            }
            drop(tx);
            let mut got = Vec::new();
            while let Some(value) = rx.recv().await {
                got.push(value);
            }
            got
        })
    });
    assert_eq!(got.len(), 400);
    for id in 0..4 {
        let mine: Vec<u32> = got.iter().filter(|v| v.0 == id).map(|v| v.1).collect();
        assert_eq!(mine, (0..100).collect::<Vec<_>>(), "sender {id}");
    }
}

#[test]
fn a_full_channel_parks_senders_and_admits_them_in_order() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (wakers, log) = recording_wakers(3);
    let mut sends: Vec<_> = (1..=3).map(|i| Box::pin(tx.send(i))).collect();
    for (send, waker) in sends.iter_mut().zip(&wakers) {
        assert!(poll_with(send, waker).is_pending(), "the channel is full");
    }
    for round in 0..3 {
        // One receive frees one slot: only the oldest parked sender is
        // woken, and only it can complete.
        assert_eq!(rx.try_recv(), Ok(round));
        assert_eq!(*log.lock(), (0..=round as usize).collect::<Vec<_>>());
        for later in round as usize + 1..3 {
            assert!(poll_with(&mut sends[later], &wakers[later]).is_pending());
        }
        assert!(poll_with(&mut sends[round as usize], &wakers[round as usize]).is_ready());
    }
    assert_eq!(rx.try_recv(), Ok(3));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn dropping_a_pending_send_gives_its_turn_to_the_next_sender() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(Counted(0, drops.clone())).ok().unwrap();
    let (wakers, log) = recording_wakers(3);
    let mut first = Box::pin(tx.send(Counted(1, drops.clone())));
    let mut second = Box::pin(tx.send(Counted(2, drops.clone())));
    let mut third = Box::pin(tx.send(Counted(3, drops.clone())));
    assert!(poll_with(&mut first, &wakers[0]).is_pending());
    assert!(poll_with(&mut second, &wakers[1]).is_pending());
    assert!(poll_with(&mut third, &wakers[2]).is_pending());

    // A queued sender that leaves passes nothing on and changes no order.
    drop(third);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "its value is dropped");

    // The freed slot goes to `first`, which is dropped before it uses it:
    // the slot passes to `second`.
    assert_eq!(rx.try_recv().unwrap().0, 0);
    assert_eq!(*log.lock(), [0]);
    drop(first);
    assert_eq!(*log.lock(), [0, 1], "the turn passed on");
    assert!(poll_with(&mut second, &wakers[1]).is_ready());
    assert_eq!(rx.try_recv().unwrap().0, 2);
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Empty)));
    drop(second);
    // Values 0 and 2 were received and dropped; 1 and 3 dropped unsent.
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    // Nothing was lost: the slot is free again.
    tx.try_send(Counted(4, drops.clone())).ok().unwrap();
}

#[test]
fn recv_drains_everything_sent_before_the_last_sender_dropped_then_none() {
    test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let (tx, mut rx) = mpsc::channel(8);
            let tx2 = tx.clone();
            for i in 0..5 {
                tx.send(i).await.unwrap();
            }
            drop(tx);
            tx2.send(5).await.unwrap();
            let waiting = runtime::spawn(async move {
                let mut got = Vec::new();
                while let Some(i) = rx.recv().await {
                    got.push(i);
                }
                // Stays ended.
                assert_eq!(rx.recv().await, None);
                assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
                got
            });
            runtime::yield_now().await;
            tx2.send(6).await.unwrap();
            drop(tx2);
            assert_eq!(waiting.await.unwrap(), [0, 1, 2, 3, 4, 5, 6]);
        })
    });
}

#[test]
fn the_unbounded_receiver_drains_too() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..1000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 1000);
    drop(tx);
    let got: Vec<i32> = futures::executor::block_on(rx.by_ref().collect());
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
    assert!(rx.is_closed());
}

#[test]
fn sending_to_a_dropped_or_closed_receiver_hands_the_value_back() {
    let (tx, rx) = mpsc::channel(2);
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(
        futures::executor::block_on(tx.send("a")),
        Err(SendError("a"))
    );
    assert!(matches!(tx.try_send("b"), Err(TrySendError::Closed("b"))));

    // Closed, not dropped: sends fail, what was sent is still received.
    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    rx.close();
    assert_eq!(tx.send(2), Err(SendError(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // A parked sender is woken and gets its value back.
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(Counted(0, drops.clone())).ok().unwrap();
    let (counter, waker) = CountingWaker::new();
    let mut send = Box::pin(tx.send(Counted(1, drops.clone())));
    assert!(poll_with(&mut send, &waker).is_pending());
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "the buffered value");
    assert_eq!(counter.wakes(), 1);
    match poll_with(&mut send, &waker) {
        Poll::Ready(Err(SendError(value))) => assert_eq!(value.0, 1),
        _ => panic!("the parked send fails with its value"),
    }
}

#[test]
fn try_send_fails_full_while_a_sender_is_parked() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let (_counter, waker) = CountingWaker::new();
    let mut parked = Box::pin(tx.send(2));
    assert!(poll_with(&mut parked, &waker).is_pending());
    // A slot is free now, but it is the parked sender's.
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(rx.len(), 1);
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert!(poll_with(&mut parked, &waker).is_ready());
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert_eq!(rx.try_recv(), Ok(1));
    tx.try_send(3).unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn a_waiting_receiver_is_polled_exactly_twice_around_one_send() {
    // By hand: one wake-up for one send.
    let (tx, mut rx) = mpsc::channel(4);
    let (counter, waker) = CountingWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(poll_with(&mut recv, &waker).is_pending());
    assert!(
        poll_with(&mut recv, &waker).is_pending(),
        "a re-poll is harmless"
    );
    assert_eq!(counter.wakes(), 0);
    tx.try_send(7).unwrap();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Some(7)));

    // On the runtime: the receiving task is polled twice in all.
    let polls = test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let (tx, mut rx) = mpsc::unbounded_channel();
            let polls = Arc::new(AtomicUsize::new(0));
            let counted = polls.clone();
            let receiver = runtime::spawn(async move {
                CountPolls {
                    inner: Box::pin(rx.recv()),
                    polls: &counted,
                }
                .await
            });
            // Let the receiver park, then send once.
            for _ in 0..3 {
                runtime::yield_now().await;
            }
            tx.send("one").unwrap();
            assert_eq!(receiver.await.unwrap(), Some("one"));
            polls.load(Ordering::SeqCst)
        })
    });
    assert_eq!(polls, 2);
}

#[test]
fn recv_many_takes_up_to_limit_and_frees_room_for_parked_senders() {
    test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let (tx, mut rx) = mpsc::channel(3);
            let producer = runtime::spawn(async move {
                for i in 0..10 {
                    tx.send(i).await.unwrap();
                }
            });
            let mut got = Vec::new();
            assert_eq!(rx.recv_many(&mut got, 0).await, 0);
            loop {
                let n = rx.recv_many(&mut got, 4).await;
                if n == 0 {
                    break;
                }
                assert!((1..=3).contains(&n), "at most the capacity is buffered");
            }
            producer.await.unwrap();
            assert_eq!(got, (0..10).collect::<Vec<_>>());
        })
    });

    // Freeing several slots at once wakes as many parked senders.
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    let (wakers, log) = recording_wakers(2);
    let mut a = Box::pin(tx.send(2));
    let mut b = Box::pin(tx.send(3));
    assert!(poll_with(&mut a, &wakers[0]).is_pending());
    assert!(poll_with(&mut b, &wakers[1]).is_pending());
    let mut got = Vec::new();
    let mut many = Box::pin(rx.recv_many(&mut got, 10));
    assert_eq!(poll_with(&mut many, &wakers[0]), Poll::Ready(2));
    drop(many);
    assert_eq!(*log.lock(), [0, 1]);
    assert!(poll_with(&mut a, &wakers[0]).is_ready());
    assert!(poll_with(&mut b, &wakers[1]).is_ready());
    assert_eq!(got, [0, 1]);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn the_receiver_is_a_stream() {
    let values = test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let (tx, rx) = mpsc::channel(2);
            let _detached = runtime::spawn(async move {
                for i in 0..6 {
                    tx.send(i).await.unwrap();
                }
            });
            rx.map(|i| i * 10).collect::<Vec<_>>().await
        })
    });
    assert_eq!(values, [0, 10, 20, 30, 40, 50]);
}

#[test]
fn closed_completes_when_the_receiver_goes() {
    test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let (tx, mut rx) = mpsc::channel::<u8>(1);
            let utx = {
                let (utx, urx) = mpsc::unbounded_channel::<u8>();
                let _detached = runtime::spawn(async move {
                    runtime::yield_now().await;
                    drop(urx);
                });
                utx
            };
            utx.closed().await;
            assert!(utx.is_closed());
            let watcher = {
                let tx = tx.clone();
                runtime::spawn(async move { tx.closed().await })
            };
            runtime::yield_now().await;
            assert!(!watcher.is_finished());
            rx.close();
            watcher.await.unwrap();
            tx.closed().await; // already closed: at once
        })
    });
}

#[test]
fn a_dropped_recv_loses_nothing() {
    let (tx, mut rx) = mpsc::channel(1);
    let (_counter, waker) = CountingWaker::new();
    {
        let mut recv = Box::pin(rx.recv());
        assert!(poll_with(&mut recv, &waker).is_pending());
    }
    tx.try_send(5).unwrap();
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn the_receivers_drop_drops_buffered_values_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    for i in 0..10 {
        tx.send(Counted(i, drops.clone())).ok().unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 10);
    drop(tx);
    assert_eq!(drops.load(Ordering::SeqCst), 10);
}

#[test]
fn errors_print_and_are_errors() {
    fn error<E: std::error::Error>(e: E) -> String {
        format!("{e} / {e:?}")
    }
    assert_eq!(error(SendError(1)), "channel closed / SendError { .. }");
    assert_eq!(
        error(TrySendError::Full(1)),
        "no available capacity / Full(..)"
    );
    assert_eq!(
        error(TrySendError::Closed(1)),
        "channel closed / Closed(..)"
    );
    assert_eq!(
        error(TryRecvError::Empty),
        "receiving on an empty channel / Empty"
    );
    assert_eq!(
        error(TryRecvError::Disconnected),
        "receiving on a closed channel / Disconnected"
    );
    assert_eq!(TrySendError::Full(3).into_inner(), 3);
}

#[test]
#[should_panic(expected = "capacity > 0")]
fn a_zero_capacity_panics() {
    let _ = mpsc::channel::<()>(0);
}

#[test]
fn one_receive_admits_a_parked_sender_at_once() {
    // Whatever the capacity, one freed slot admits the oldest parked
    // sender now, not once more room is free: here the receiver takes one
    // value and then waits for that sender, which would hang for ever if
    // room were handed out in batches.
    let (tx, mut rx) = mpsc::channel(8);
    for i in 0..8 {
        tx.try_send(i).unwrap();
    }
    let (counter, waker) = CountingWaker::new();
    let mut send = Box::pin(tx.send(8));
    assert!(poll_with(&mut send, &waker).is_pending(), "full");
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(counter.wakes(), 1, "woken by the first receive");
    assert!(poll_with(&mut send, &waker).is_ready());

    // The same on the runtime: the receiver joins the sender after one
    // receive.
    let got = test_util::with_watchdog(10, || {
        runtime::block_on(async {
            let (tx, mut rx) = mpsc::channel(8);
            for i in 0..8 {
                tx.send(i).await.unwrap();
            }
            let sender = runtime::spawn(async move { tx.send(8).await.unwrap() });
            for _ in 0..3 {
                runtime::yield_now().await;
            }
            let first = rx.recv().await;
            sender.await.unwrap();
            let mut rest = Vec::new();
            rx.recv_many(&mut rest, 16).await;
            (first, rest)
        })
    });
    assert_eq!(got, (Some(0), (1..=8).collect::<Vec<_>>()));
}

#[test]
fn a_receiver_that_is_not_parked_is_never_woken() {
    let (tx, mut rx) = mpsc::channel(4);
    let (counter, waker) = CountingWaker::new();
    let mut recv = Box::pin(rx.recv());
    assert!(poll_with(&mut recv, &waker).is_pending());
    // The first send wakes the parked receiver; the next ones find it out
    // of the line (woken, not yet run) and wake nobody.
    for i in 0..3 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Some(0)));
    drop(recv);
    // A receiver that takes values without parking is never woken.
    tx.try_send(3).unwrap();
    for i in 1..4 {
        let mut recv = Box::pin(rx.recv());
        assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Some(i)));
    }
    assert_eq!(counter.wakes(), 1, "one wake-up for one park");
}

const PRODUCERS: u64 = 4;
const PER_PRODUCER: u64 = 50_000;

/// Checks that every value of every producer came once, in its order.
fn check_exact(got: &[(u64, u64)]) {
    assert_eq!(got.len() as u64, PRODUCERS * PER_PRODUCER);
    let mut next = [0u64; PRODUCERS as usize];
    for &(id, i) in got {
        assert_eq!(next[id as usize], i, "producer {id}: out of order");
        next[id as usize] += 1;
    }
    assert!(next.iter().all(|&n| n == PER_PRODUCER));
}

/// Four producers, spawned with `spawn`, each send `PER_PRODUCER` values
/// into a channel of 16; returns what the receiver got, in order.
async fn four_producers_into_channel_16(
    spawn: impl Fn(Pin<Box<dyn Future<Output = ()> + Send>>),
) -> Vec<(u64, u64)> {
    let (tx, mut rx) = mpsc::channel(16);
    for id in 0..PRODUCERS {
        let tx = tx.clone();
        spawn(Box::pin(async move {
            for i in 0..PER_PRODUCER {
                tx.send((id, i)).await.unwrap();
            }
        }));
    }
    drop(tx);
    let mut got = Vec::with_capacity((PRODUCERS * PER_PRODUCER) as usize);
    while let Some(value) = rx.recv().await {
        got.push(value);
    }
    got
}

#[test]
fn four_producers_x_50_000_into_channel_16_on_our_multi_thread_runtime() {
    let got = test_util::with_watchdog(120, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(four_producers_into_channel_16(|producer| {
            let _detached = runtime::spawn(producer);
        }))
    });
    check_exact(&got);
}

#[test]
fn four_producers_x_50_000_into_channel_16_on_tokio() {
    let got = test_util::with_watchdog(120, || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        rt.block_on(four_producers_into_channel_16(|producer| {
            tokio::spawn(producer);
        }))
    });
    check_exact(&got);
}

#[test]
fn sends_raced_against_cancellation_lose_no_slot() {
    // Sends that are dropped (at any point) while four producers compete
    // for 2 slots: every completed send is received once, and the channel
    // never wedges (a lost slot or turn would hang the receiver).
    let (sent, got) = test_util::with_watchdog(60, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(3)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(2);
            let sent = Arc::new(AtomicUsize::new(0));
            for id in 0..4u64 {
                let tx = tx.clone();
                let sent = sent.clone();
                let _detached = runtime::spawn(async move {
                    for i in 0..5_000u64 {
                        let mut send = pin!(tx.send(id * 100_000 + i));
                        // Poll once; give up on every third value if it
                        // must wait.
                        let first = std::future::poll_fn(|cx: &mut Context<'_>| {
                            Poll::Ready(send.as_mut().poll(cx))
                        })
                        .await;
                        match first {
                            Poll::Ready(result) => result.unwrap(),
                            Poll::Pending if i % 3 == 0 => continue,
                            Poll::Pending => send.await.unwrap(),
                        }
                        sent.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            drop(tx);
            let mut got = 0;
            while rx.recv().await.is_some() {
                got += 1;
            }
            (sent.load(Ordering::Relaxed), got)
        })
    });
    assert_eq!(sent, got);
}

#[test]
fn futures_are_send() {
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = mpsc::channel::<String>(1);
    send(&tx.send(String::new()));
    send(&tx.closed());
    send(&rx.recv());
    let mut buffer = Vec::new();
    send(&rx.recv_many(&mut buffer, 1));
}
