//! `broadcast`: every receiver sees every value, in order; a slow one is
//! told how many it missed, once.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use sync_primitives::broadcast::{self, RecvError, TryRecvError};
use test_util::{poll_with, CountPolls, CountingWaker};

#[test]
fn every_receiver_sees_every_value_in_order() {
    let (tx, rx) = broadcast::channel(8);
    let mut receivers = vec![rx, tx.subscribe(), tx.subscribe()];
    for i in 0..8 {
        assert_eq!(tx.send(i), Ok(3));
    }
    for rx in &mut receivers {
        let got: Vec<i32> = (0..8).map(|_| rx.try_recv().unwrap()).collect();
        assert_eq!(got, (0..8).collect::<Vec<_>>());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    }
}

#[test]
fn a_receiver_sees_only_values_sent_after_it_subscribed() {
    let (tx, mut early) = broadcast::channel(4);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    tx.send(2).unwrap();
    assert_eq!(early.try_recv(), Ok(1));
    assert_eq!(early.try_recv(), Ok(2));
    assert_eq!(late.try_recv(), Ok(2));
    assert_eq!(late.try_recv(), Err(TryRecvError::Empty));
    let mut again = late.resubscribe();
    assert_eq!(again.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn a_lagging_receiver_gets_lagged_once_then_the_oldest_kept_value() {
    let (tx, mut slow) = broadcast::channel(4);
    let mut fast = tx.subscribe();
    for i in 0..10 {
        tx.send(i).unwrap();
        assert_eq!(fast.try_recv(), Ok(i));
    }
    // 10 sent, 4 kept (6..10): 6 missed.
    assert_eq!(slow.len(), 4);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(6)));
    let rest: Vec<i32> = (0..4).map(|_| slow.try_recv().unwrap()).collect();
    assert_eq!(rest, [6, 7, 8, 9]);
    assert_eq!(slow.try_recv(), Err(TryRecvError::Empty));

    // The async path reports the same.
    for i in 10..20 {
        tx.send(i).unwrap();
    }
    runtime::block_on(async {
        assert_eq!(slow.recv().await, Err(RecvError::Lagged(6)));
        assert_eq!(slow.recv().await, Ok(16));
    });
}

#[test]
fn capacity_rounds_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    // 4 kept, none lost.
    let got: Vec<i32> = (0..4).map(|_| rx.try_recv().unwrap()).collect();
    assert_eq!(got, [0, 1, 2, 3]);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(1)));
}

#[test]
#[should_panic(expected = "capacity must be at least 1")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<u8>(0);
}

#[test]
fn closed_after_the_last_sender_drops_and_the_buffer_drains() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    tx2.send(2).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx2);
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    assert_eq!(runtime::block_on(rx.recv()), Err(RecvError::Closed));
}

#[test]
fn closing_wakes_a_parked_receiver() {
    let (tx, mut rx) = broadcast::channel::<u8>(4);
    let (counter, waker) = CountingWaker::new();
    let mut recv = rx.recv();
    assert_eq!(poll_with(&mut recv, &waker), Poll::Pending);
    drop(tx);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(
        poll_with(&mut recv, &waker),
        Poll::Ready(Err(RecvError::Closed))
    );
}

#[test]
fn a_waiting_receiver_is_polled_exactly_twice_around_one_send() {
    let polls = AtomicUsize::new(0);
    let (tx, mut rx) = broadcast::channel(4);
    let (counter, waker) = CountingWaker::new();
    let mut recv = CountPolls {
        inner: rx.recv(),
        polls: &polls,
    };
    assert_eq!(poll_with(&mut recv, &waker), Poll::Pending);
    assert_eq!(tx.send(7), Ok(1));
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut recv, &waker), Poll::Ready(Ok(7)));
    assert_eq!(polls.load(Ordering::SeqCst), 2);
}

#[test]
fn a_repoll_with_a_new_waker_wakes_only_the_newest() {
    let (tx, mut rx) = broadcast::channel(4);
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut recv = rx.recv();
    assert_eq!(poll_with(&mut recv, &old_waker), Poll::Pending);
    assert_eq!(poll_with(&mut recv, &new_waker), Poll::Pending);
    tx.send(1).unwrap();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[test]
fn dropping_a_pending_recv_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(4);
    let (_, waker) = CountingWaker::new();
    {
        let mut recv = rx.recv();
        assert_eq!(poll_with(&mut recv, &waker), Poll::Pending);
    }
    tx.send("kept").unwrap();
    assert_eq!(rx.try_recv(), Ok("kept"));
}

#[test]
fn send_without_receivers_hands_the_value_back() {
    let (tx, rx) = broadcast::channel(2);
    assert_eq!(tx.receiver_count(), 1);
    drop(rx);
    assert_eq!(tx.receiver_count(), 0);
    let err = tx.send(String::from("nobody")).unwrap_err();
    assert_eq!(err.0, "nobody");
    assert_eq!(err.to_string(), "broadcast channel has no receiver");
    // A new subscriber brings the channel back to life.
    let mut rx = tx.subscribe();
    assert_eq!(tx.send(String::from("you")), Ok(1));
    assert_eq!(rx.try_recv().unwrap(), "you");
}

/// Counts clones and drops of one logical value.
struct Tracked {
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Clone for Tracked {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        Tracked {
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn the_last_reader_takes_the_value_without_a_clone_and_nothing_leaks() {
    let clones = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let tracked = || Tracked {
        clones: clones.clone(),
        drops: drops.clone(),
    };
    let (tx, mut a) = broadcast::channel(2);
    let mut b = tx.subscribe();
    tx.send(tracked()).unwrap();
    drop(a.try_recv().unwrap());
    drop(b.try_recv().unwrap());
    assert_eq!(
        clones.load(Ordering::SeqCst),
        1,
        "only the first reader clones"
    );
    assert_eq!(drops.load(Ordering::SeqCst), 2);

    // Values nobody will read are dropped: overwritten ones by the send,
    // unread ones when the last receiver that could read them goes.
    for _ in 0..3 {
        tx.send(tracked()).unwrap();
    }
    assert_eq!(drops.load(Ordering::SeqCst), 3, "one overwritten");
    drop(a);
    assert_eq!(drops.load(Ordering::SeqCst), 3, "b still needs them");
    drop(b);
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    drop(tx);
    assert_eq!(clones.load(Ordering::SeqCst), 1);
}

#[cfg(not(miri))]
#[test]
fn four_receivers_on_threads_see_every_value_of_two_senders_in_sender_order() {
    const PER_SENDER: u64 = 20_000;
    test_util::with_watchdog(120, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            // Big enough that nobody lags: then every value must arrive.
            let (tx, rx) = broadcast::channel::<(u64, u64)>(2 * PER_SENDER as usize);
            let mut receivers = vec![rx];
            for _ in 0..3 {
                receivers.push(tx.subscribe());
            }
            let readers: Vec<_> = receivers
                .into_iter()
                .map(|mut rx| {
                    runtime::spawn(async move {
                        let mut next = [0u64; 2];
                        loop {
                            match rx.recv().await {
                                Ok((sender, i)) => {
                                    let sender = sender as usize;
                                    assert_eq!(i, next[sender], "per-sender order");
                                    next[sender] += 1;
                                }
                                Err(RecvError::Closed) => return next,
                                Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                            }
                        }
                    })
                })
                .collect();
            let writers: Vec<_> = (0..2u64)
                .map(|sender| {
                    let tx = tx.clone();
                    runtime::spawn(async move {
                        for i in 0..PER_SENDER {
                            tx.send((sender, i)).unwrap();
                            if i % 64 == 0 {
                                runtime::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            drop(tx);
            for writer in writers {
                writer.await.unwrap();
            }
            for reader in readers {
                assert_eq!(reader.await.unwrap(), [PER_SENDER; 2]);
            }
        });
    });
}

#[test]
fn errors_print_and_are_std_errors() {
    fn error<E: std::error::Error + Send + Sync + 'static>(e: E) -> String {
        e.to_string()
    }
    assert_eq!(error(RecvError::Closed), "broadcast channel closed");
    assert_eq!(
        error(RecvError::Lagged(3)),
        "broadcast receiver lagged by 3 values"
    );
    assert_eq!(error(TryRecvError::Empty), "broadcast channel empty");
    assert_eq!(
        error(broadcast::SendError(1u8)),
        "broadcast channel has no receiver"
    );
    let (tx, mut rx) = broadcast::channel::<u8>(2);
    assert!(format!("{tx:?}").contains("capacity: 2"));
    assert!(format!("{:?}", rx.recv()).contains("Recv"));
}

#[test]
fn the_halves_and_futures_are_send_where_t_is() {
    fn send<T: Send>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    let (tx, mut rx) = broadcast::channel::<String>(2);
    send(&tx);
    sync(&tx);
    send(&rx.recv());
    send(&rx);

    // `Send` is enough, as in tokio: receivers' clones of one value are
    // serialised, so a `Send + !Sync` type may cross threads too.
    let (tx, mut rx) = broadcast::channel::<std::cell::Cell<u32>>(2);
    send(&tx);
    sync(&tx);
    send(&rx.recv());
    send(&rx);
    let mut rx2 = tx.subscribe();
    tx.send(std::cell::Cell::new(4)).unwrap();
    let reader = std::thread::spawn(move || rx2.try_recv().unwrap().get());
    assert_eq!(rx.try_recv().unwrap().get(), 4);
    assert_eq!(reader.join().unwrap(), 4);
}

/// A waker replaced by a re-poll is dropped with no lock held: its
/// destructor may use the channel.
#[test]
fn a_waker_replaced_by_a_repoll_may_use_the_channel() {
    test_util::with_watchdog(10, || {
        let (tx, mut rx) = broadcast::channel::<u32>(4);
        let tx = Arc::new(tx);
        let drops = Arc::new(AtomicUsize::new(0));
        let hooked = {
            let (tx, drops) = (tx.clone(), drops.clone());
            test_util::drop_hook_waker(move || {
                assert_eq!(tx.receiver_count(), 1);
                drops.fetch_add(1, Ordering::SeqCst);
            })
        };
        let (_other, other) = CountingWaker::new();
        let mut recv = rx.recv();
        assert_eq!(poll_with(&mut recv, &hooked), Poll::Pending);
        drop(hooked);
        assert_eq!(poll_with(&mut recv, &other), Poll::Pending);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        tx.send(3).unwrap();
        assert_eq!(poll_with(&mut recv, &other), Poll::Ready(Ok(3)));
    });
}

/// A value whose `Clone` panics while `PANICS` is set: the receiver that
/// cloned it unwinds, and its turn at the value must still end (its
/// ticket served), or the next reader would wait for ever.
struct PanicsOnClone {
    panics: Arc<std::sync::atomic::AtomicBool>,
    drops: Arc<AtomicUsize>,
}

impl Clone for PanicsOnClone {
    fn clone(&self) -> Self {
        assert!(!self.panics.load(Ordering::SeqCst), "a user's Clone panics");
        PanicsOnClone {
            panics: self.panics.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Drop for PanicsOnClone {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_panicking_clone_releases_the_value_for_the_other_receivers() {
    test_util::with_watchdog(60, || {
        let panics = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut a) = broadcast::channel(1);
        let mut b = tx.subscribe();
        tx.send(PanicsOnClone {
            panics: panics.clone(),
            drops: drops.clone(),
        })
        .unwrap();
        // `a` is not the last reader: it clones, and the clone panics.
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| a.try_recv()));
        assert!(unwound.is_err());
        assert_eq!(drops.load(Ordering::SeqCst), 0, "the value is still kept");
        // The turn was passed on: `b`, the last reader, takes the
        // value (a hung lock would stall here until the watchdog fires).
        let value = b.try_recv().unwrap();
        drop(value);
        assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped once, by b");
        // Both moved on: the channel works as before.
        panics.store(false, Ordering::SeqCst);
        tx.send(PanicsOnClone {
            panics: panics.clone(),
            drops: drops.clone(),
        })
        .unwrap();
        drop((a.try_recv().unwrap(), b.try_recv().unwrap()));
        assert_eq!(drops.load(Ordering::SeqCst), 3, "the clone and the value");
        assert!(matches!(a.try_recv(), Err(TryRecvError::Empty)));
    });
}

#[cfg(not(miri))]
#[test]
fn receivers_on_threads_cloning_the_same_values_while_the_sender_laps_them() {
    // A ring of 2 overwritten while 3 receivers on threads clone (and take)
    // the values: every receiver sees an increasing sequence with every
    // gap reported by `Lagged`, and every copy is dropped exactly once.
    const VALUES: u64 = 20_000;
    test_util::with_watchdog(120, || {
        let clones = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, first) = broadcast::channel::<(u64, Tracked)>(2);
        let receivers = [first, tx.subscribe(), tx.subscribe()];
        let readers: Vec<_> = receivers
            .into_iter()
            .map(|mut rx| {
                std::thread::spawn(move || {
                    let mut expected = 0;
                    loop {
                        match rx.try_recv() {
                            Ok((value, _tracked)) => {
                                assert_eq!(value, expected, "in order");
                                expected += 1;
                            }
                            Err(TryRecvError::Lagged(n)) => expected += n,
                            Err(TryRecvError::Empty) => std::thread::yield_now(),
                            Err(TryRecvError::Closed) => break,
                        }
                    }
                    assert_eq!(expected, VALUES, "every value seen or reported");
                })
            })
            .collect();
        for i in 0..VALUES {
            let tracked = Tracked {
                clones: clones.clone(),
                drops: drops.clone(),
            };
            tx.send((i, tracked)).unwrap();
        }
        drop(tx);
        for reader in readers {
            reader.join().unwrap();
        }
        let clones = clones.load(Ordering::SeqCst);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            clones + VALUES as usize,
            "every value and every clone dropped once"
        );
    });
}

/// A value whose clone, while `block` is set, waits between two barriers:
/// the test knows a receiver is in the middle of cloning it.
struct SlowClone {
    id: u8,
    block: Arc<std::sync::atomic::AtomicBool>,
    entered: Arc<std::sync::Barrier>,
    leave: Arc<std::sync::Barrier>,
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

/// What a test watches of the `SlowClone` values it sends.
struct Probes {
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
    entered: Arc<std::sync::Barrier>,
    leave: Arc<std::sync::Barrier>,
}

impl SlowClone {
    fn first(id: u8) -> Self {
        SlowClone {
            id,
            block: Arc::new(std::sync::atomic::AtomicBool::new(true)),
            entered: Arc::new(std::sync::Barrier::new(2)),
            leave: Arc::new(std::sync::Barrier::new(2)),
            clones: Arc::new(AtomicUsize::new(0)),
            drops: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The test's handles on the shared counters and gate.
    fn probes(&self) -> Probes {
        Probes {
            clones: self.clones.clone(),
            drops: self.drops.clone(),
            entered: self.entered.clone(),
            leave: self.leave.clone(),
        }
    }

    /// Another value sharing the same counters and gate.
    fn with_id(&self, id: u8) -> Self {
        SlowClone {
            id,
            block: self.block.clone(),
            entered: self.entered.clone(),
            leave: self.leave.clone(),
            clones: self.clones.clone(),
            drops: self.drops.clone(),
        }
    }
}

impl Clone for SlowClone {
    fn clone(&self) -> Self {
        if self.block.swap(false, Ordering::SeqCst) {
            self.entered.wait();
            self.leave.wait();
        }
        self.clones.fetch_add(1, Ordering::SeqCst);
        self.with_id(self.id)
    }
}

impl Drop for SlowClone {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_value_overwritten_while_cloned_is_dropped_by_the_next_send() {
    test_util::with_watchdog(60, || {
        let v0 = SlowClone::first(0);
        let Probes {
            clones,
            drops,
            entered,
            leave,
        } = v0.probes();
        let (tx, mut a) = broadcast::channel(1);
        let mut b = tx.subscribe();
        let v1 = v0.with_id(1);
        let v2 = v0.with_id(2);
        tx.send(v0).unwrap();
        // `a` is not the last reader (`b` has yet to read): it clones.
        let cloner = std::thread::spawn(move || {
            let value = a.try_recv().map(|v| v.id);
            (a, value)
        });
        entered.wait();
        // Overwritten in the middle of that clone: the send neither waits
        // for it nor drops the value under it; the value stays (buried).
        assert_eq!(tx.send(v1).ok(), Some(2));
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        leave.wait();
        let (mut a, value) = cloner.join().unwrap();
        assert_eq!(value, Ok(0), "the old value, intact");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "a's copy");
        // The next send frees the buried cell, with the old value in it.
        assert_eq!(tx.send(v2).ok(), Some(2));
        assert_eq!(drops.load(Ordering::SeqCst), 3, "0 and the overwritten 1");
        assert_eq!(a.try_recv().map(|v| v.id), Err(TryRecvError::Lagged(1)));
        assert_eq!(a.try_recv().map(|v| v.id), Ok(2));
        assert_eq!(b.try_recv().map(|v| v.id), Err(TryRecvError::Lagged(2)));
        assert_eq!(b.try_recv().map(|v| v.id), Ok(2));
        drop((a, b, tx));
        let clones = clones.load(Ordering::SeqCst);
        assert_eq!(clones, 2, "a cloned 0 and 2; b took 2");
        assert_eq!(drops.load(Ordering::SeqCst), 3 + clones, "every copy once");
    });
}

#[test]
fn a_value_overwritten_while_cloned_is_dropped_by_the_next_receive() {
    test_util::with_watchdog(60, || {
        let v0 = SlowClone::first(0);
        let Probes {
            drops,
            entered,
            leave,
            ..
        } = v0.probes();
        let (tx, mut a) = broadcast::channel(1);
        let mut b = tx.subscribe();
        let v1 = v0.with_id(1);
        tx.send(v0).unwrap();
        let cloner = std::thread::spawn(move || {
            let value = a.try_recv().map(|v| v.id);
            (a, value)
        });
        entered.wait();
        assert_eq!(tx.send(v1).ok(), Some(2));
        leave.wait();
        let (mut a, value) = cloner.join().unwrap();
        assert_eq!(value, Ok(0));
        assert_eq!(drops.load(Ordering::SeqCst), 1, "a's copy of 0");
        // No further send: the channel goes quiet, and a receive frees the
        // buried value all the same.
        assert_eq!(a.try_recv().map(|v| v.id), Ok(1));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            3,
            "a's copy of 0, the overwritten 0, a's copy of 1"
        );
        assert_eq!(b.try_recv().map(|v| v.id), Err(TryRecvError::Lagged(1)));
        assert_eq!(b.try_recv().map(|v| v.id), Ok(1));
        assert_eq!(drops.load(Ordering::SeqCst), 4, "every copy once");
        drop((a, b, tx));
    });
}

#[test]
fn the_last_reader_waits_for_a_clone_under_way_and_takes_the_value() {
    test_util::with_watchdog(60, || {
        let v0 = SlowClone::first(0);
        let Probes {
            clones,
            drops,
            entered,
            leave,
        } = v0.probes();
        let (tx, mut a) = broadcast::channel(1);
        let mut b = tx.subscribe();
        tx.send(v0).unwrap();
        let cloner = std::thread::spawn(move || a.try_recv().map(|v| v.id));
        entered.wait();
        // `b` reads while `a` clones: it waits its turn (or, if it comes
        // after the clone, finds nobody cloning), then moves the value.
        let taker = std::thread::spawn(move || b.try_recv().map(|v| v.id));
        leave.wait();
        assert_eq!(cloner.join().unwrap(), Ok(0));
        assert_eq!(taker.join().unwrap(), Ok(0));
        assert_eq!(
            clones.load(Ordering::SeqCst),
            1,
            "the last reader never clones"
        );
        assert_eq!(drops.load(Ordering::SeqCst), 2, "the clone and the value");
        // The cell stayed in its slot: the next value reuses it.
        drop(tx);
    });
}

/// Review: `Recv::poll` holds an unserved ticket while `queue.remove(key)`
/// drops the receiver's old waker (user code). If that waker is still
/// queued (a send waking more than one batch of waiters), and its drop
/// receives the same value through another receiver, that receiver waits
/// for ever for the ticket of the thread it runs on.
#[test]
fn a_waker_dropped_while_its_receiver_holds_a_ticket_may_receive_the_same_value() {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Mutex;
    use std::task::{Context, Wake};
    // Each future owns its receiver, so nothing borrows past the test.
    type Fut = Pin<Box<dyn Future<Output = Result<u32, broadcast::RecvError>> + Send>>;
    fn recv_owning(mut rx: broadcast::Receiver<u32>) -> Fut {
        Box::pin(async move { rx.recv().await })
    }
    struct RepollLast(Arc<Mutex<Option<Fut>>>);
    impl Wake for RepollLast {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            // Receiver 0's wake, first batch, the queue lock released:
            // receiver 32, still queued in the second batch, is repolled.
            if let Some(mut fut) = self.0.lock().unwrap().take() {
                let (_c, noop) = CountingWaker::new();
                let got = fut.as_mut().poll(&mut Context::from_waker(&noop));
                assert_eq!(got, Poll::Ready(Ok(7)));
            }
        }
    }
    test_util::with_watchdog(10, || {
        let (tx, rx0) = broadcast::channel::<u32>(4);
        let extra = Arc::new(Mutex::new(tx.subscribe()));
        let mut futs: Vec<Fut> = vec![recv_owning(rx0)];
        for _ in 0..32 {
            futs.push(recv_owning(tx.subscribe()));
        }
        let mut last = futs.pop().unwrap();
        let slot = Arc::new(Mutex::new(None));
        let repoll = std::task::Waker::from(Arc::new(RepollLast(slot.clone())));
        let (_c, counting) = CountingWaker::new();
        for (i, fut) in futs.iter_mut().enumerate() {
            let waker = if i == 0 { &repoll } else { &counting };
            assert!(fut
                .as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending());
        }
        let got = Arc::new(Mutex::new(None));
        let hook = {
            let got = got.clone();
            let extra = extra.clone();
            test_util::drop_hook_waker(move || {
                // Receives the value receiver 32 holds a ticket for.
                *got.lock().unwrap() = Some(extra.lock().unwrap().try_recv());
            })
        };
        assert!(last
            .as_mut()
            .poll(&mut Context::from_waker(&hook))
            .is_pending());
        drop(hook); // the queue holds the last clone
        *slot.lock().unwrap() = Some(last);
        assert_eq!(tx.send(7), Ok(34));
        assert!(slot.lock().unwrap().is_none(), "receiver 32 was repolled");
        assert_eq!(*got.lock().unwrap(), Some(Ok(7)));
    });
}
