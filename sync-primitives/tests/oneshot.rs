//! `oneshot`: one value, handed over once; every way of not handing it over
//! is an error value.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;

use sync_primitives::oneshot::{self, RecvError, TryRecvError};
use test_util::{poll_with, CountPolls, CountingWaker};

#[test]
fn a_waiting_receiver_is_polled_exactly_twice_around_one_send() {
    test_util::with_watchdog(10, || {
        let polls = AtomicUsize::new(0);
        let (tx, rx) = oneshot::channel();
        let (counter, waker) = CountingWaker::new();
        let mut rx = CountPolls {
            inner: rx,
            polls: &polls,
        };
        assert_eq!(poll_with(&mut rx, &waker), Poll::Pending);
        assert_eq!(counter.wakes(), 0);
        tx.send(5).unwrap();
        assert_eq!(counter.wakes(), 1, "one send, one wake-up");
        assert_eq!(poll_with(&mut rx, &waker), Poll::Ready(Ok(5)));
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        assert_eq!(counter.wakes(), 1);
    });
}

#[test]
fn a_waiting_receiver_on_our_runtime_is_polled_twice() {
    test_util::with_watchdog(10, || {
        let polls = AtomicUsize::new(0);
        let (tx, rx) = oneshot::channel();
        runtime::block_on(async {
            let sender = runtime::spawn(async move {
                runtime::yield_now().await;
                tx.send("v").unwrap();
            });
            let got = CountPolls {
                inner: rx,
                polls: &polls,
            }
            .await;
            assert_eq!(got, Ok("v"));
            sender.await.unwrap();
        });
        assert_eq!(polls.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn send_to_a_dropped_receiver_hands_the_value_back() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(String::from("back")), Err(String::from("back")));
}

#[test]
fn send_to_a_closed_receiver_hands_the_value_back_and_try_recv_says_closed() {
    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(vec![1, 2]), Err(vec![1, 2]));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_value_sent_before_close_can_still_be_taken() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn sender_dropped_unsent_gives_recv_error() {
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    assert_eq!(runtime::block_on(rx), Err(RecvError::default_for_tests()));
}

/// `RecvError` has no public constructor; get one the way a user does.
trait DefaultForTests {
    fn default_for_tests() -> Self;
}

impl DefaultForTests for RecvError {
    fn default_for_tests() -> Self {
        let (tx, rx) = oneshot::channel::<()>();
        drop(tx);
        futures::executor::block_on(rx).unwrap_err()
    }
}

#[test]
fn sender_dropped_while_the_receiver_waits_wakes_it_with_an_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (counter, waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut rx, &waker), Poll::Pending);
    drop(tx);
    assert_eq!(counter.wakes(), 1);
    assert!(matches!(poll_with(&mut rx, &waker), Poll::Ready(Err(_))));
}

#[test]
fn try_recv_is_empty_then_the_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.send('x').unwrap();
    assert_eq!(rx.try_recv(), Ok('x'));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<char>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn closed_completes_when_the_receiver_goes() {
    test_util::with_watchdog(10, || {
        let (mut tx, rx) = oneshot::channel::<u32>();
        let (counter, waker) = CountingWaker::new();
        {
            let mut closed = tx.closed();
            assert_eq!(poll_with(&mut closed, &waker), Poll::Pending);
            assert_eq!(poll_with(&mut closed, &waker), Poll::Pending);
            drop(rx);
            assert_eq!(counter.wakes(), 1);
            assert_eq!(poll_with(&mut closed, &waker), Poll::Ready(()));
        }
        // Once closed, a new `closed()` is ready at once.
        assert_eq!(poll_with(&mut tx.closed(), &waker), Poll::Ready(()));
        assert_eq!(tx.send(1), Err(1));
    });
}

#[test]
fn closed_and_a_waiting_receiver_at_the_same_time() {
    // tokio's pattern: the producer watches `closed()` while the consumer
    // waits for the value. Each side's event wakes only the other side.
    let (mut tx, mut rx) = oneshot::channel::<u32>();
    let (tx_counter, tx_waker) = CountingWaker::new();
    let (rx_counter, rx_waker) = CountingWaker::new();
    let mut closed = tx.closed();
    assert_eq!(poll_with(&mut closed, &tx_waker), Poll::Pending);
    assert_eq!(poll_with(&mut rx, &rx_waker), Poll::Pending);
    drop(closed);
    tx.send(9).unwrap();
    assert_eq!(rx_counter.wakes(), 1);
    assert_eq!(tx_counter.wakes(), 0);
    assert_eq!(poll_with(&mut rx, &rx_waker), Poll::Ready(Ok(9)));

    let (mut tx, mut rx) = oneshot::channel::<u32>();
    let mut closed = tx.closed();
    assert_eq!(poll_with(&mut closed, &tx_waker), Poll::Pending);
    assert_eq!(poll_with(&mut rx, &rx_waker), Poll::Pending);
    rx.close();
    assert_eq!(tx_counter.wakes(), 1);
    assert_eq!(
        rx_counter.wakes(),
        1,
        "the receiver is not woken by its own close"
    );
    assert_eq!(poll_with(&mut closed, &tx_waker), Poll::Ready(()));
}

#[test]
fn a_repoll_with_a_new_waker_wakes_only_the_newest() {
    let (tx, mut rx) = oneshot::channel();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut rx, &old_waker), Poll::Pending);
    assert_eq!(poll_with(&mut rx, &new_waker), Poll::Pending);
    tx.send(()).unwrap();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

/// Counts how many times values of this type are dropped.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn an_untaken_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = oneshot::channel();
    assert!(tx.send(DropCount(drops.clone())).is_ok());
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(rx);
    assert_eq!(drops.load(Ordering::SeqCst), 1);

    // Handed back: dropped by the caller, once.
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(DropCount(drops.clone())).err().unwrap();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(back);
    assert_eq!(drops.load(Ordering::SeqCst), 2);
}

#[cfg(not(miri))]
#[test]
fn many_channels_across_threads_each_deliver_once() {
    test_util::with_watchdog(60, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let sum = rt.block_on(async {
            let mut receivers = Vec::new();
            for i in 0..2_000u64 {
                let (tx, rx) = oneshot::channel();
                // Detached: the receiver sees the value.
                drop(runtime::spawn(async move {
                    tx.send(i).unwrap();
                }));
                receivers.push(rx);
            }
            let mut sum = 0;
            for rx in receivers {
                sum += rx.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..2_000u64).sum());
    });
}

#[test]
fn errors_print_and_are_std_errors() {
    fn error<E: std::error::Error + Send + Sync + 'static>(e: E) -> String {
        e.to_string()
    }
    assert_eq!(
        error(RecvError::default_for_tests()),
        "oneshot sender dropped without sending"
    );
    assert_eq!(error(TryRecvError::Empty), "oneshot channel empty");
    assert_eq!(error(TryRecvError::Closed), "oneshot channel closed");
    let (tx, rx) = oneshot::channel::<u8>();
    assert!(format!("{tx:?}").contains("empty"));
    assert!(format!("{rx:?}").contains("Receiver"));
}

#[test]
fn the_halves_and_futures_are_send_where_t_is() {
    fn send<T: Send>(_: &T) {}
    fn unpin<T: Unpin>(_: &T) {}
    let (mut tx, rx) = oneshot::channel::<String>();
    send(&rx);
    unpin(&rx);
    send(&tx.closed());
    send(&tx);
}

#[test]
fn a_cancelled_wait_is_not_woken_later() {
    // A `Closed` future dropped while waiting withdraws its waker.
    let (mut tx, rx) = oneshot::channel::<u8>();
    let (counter, waker) = CountingWaker::new();
    {
        let mut closed = tx.closed();
        assert_eq!(poll_with(&mut closed, &waker), Poll::Pending);
    }
    drop(rx);
    assert_eq!(counter.wakes(), 0);
    assert!(tx.is_closed());

    // A receiver dropped while waiting is not woken by the send (which
    // fails), nor by the sender's drop.
    let (tx, mut rx) = oneshot::channel::<u8>();
    let (counter, waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut rx, &waker), Poll::Pending);
    drop(rx);
    assert_eq!(tx.send(1), Err(1));
    assert_eq!(counter.wakes(), 0);
}
