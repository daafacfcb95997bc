//! `watch`: the latest value, and `changed` once per version.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use sync_primitives::watch;
use test_util::{poll_with, CountPolls, CountingWaker};

#[test]
fn changed_completes_once_per_version_and_never_for_a_seen_one() {
    let (tx, mut rx) = watch::channel(0);
    let (_, waker) = CountingWaker::new();
    // The initial value counts as seen.
    assert_eq!(poll_with(&mut rx.changed(), &waker), Poll::Pending);
    tx.send(1).unwrap();
    assert_eq!(poll_with(&mut rx.changed(), &waker), Poll::Ready(Ok(())));
    assert_eq!(*rx.borrow(), 1);
    // Version 1 is seen now: no second completion for it.
    assert_eq!(poll_with(&mut rx.changed(), &waker), Poll::Pending);
    // Two sends before a look: one completion, for the latest.
    tx.send(2).unwrap();
    tx.send(3).unwrap();
    assert_eq!(poll_with(&mut rx.changed(), &waker), Poll::Ready(Ok(())));
    assert_eq!(*rx.borrow(), 3);
    assert_eq!(poll_with(&mut rx.changed(), &waker), Poll::Pending);
}

#[test]
fn a_waiting_receiver_is_polled_exactly_twice_around_one_send() {
    let polls = AtomicUsize::new(0);
    let (tx, mut rx) = watch::channel("a");
    let (counter, waker) = CountingWaker::new();
    let mut changed = CountPolls {
        inner: rx.changed(),
        polls: &polls,
    };
    assert_eq!(poll_with(&mut changed, &waker), Poll::Pending);
    tx.send("b").unwrap();
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut changed, &waker), Poll::Ready(Ok(())));
    assert_eq!(polls.load(Ordering::SeqCst), 2);
    drop(changed);
    assert_eq!(*rx.borrow(), "b");
}

#[test]
fn a_send_wakes_every_waiting_receiver_once() {
    let (tx, rx) = watch::channel(0);
    let mut receivers = [rx.clone(), rx, tx.subscribe()];
    let wakers: Vec<_> = (0..3).map(|_| CountingWaker::new()).collect();
    let mut futures: Vec<_> = receivers.iter_mut().map(|rx| rx.changed()).collect();
    for (fut, (_, waker)) in futures.iter_mut().zip(&wakers) {
        assert_eq!(poll_with(fut, waker), Poll::Pending);
    }
    tx.send(1).unwrap();
    for (fut, (counter, waker)) in futures.iter_mut().zip(&wakers) {
        assert_eq!(counter.wakes(), 1);
        assert_eq!(poll_with(fut, waker), Poll::Ready(Ok(())));
    }
}

#[test]
fn borrow_and_update_marks_seen_and_borrow_does_not() {
    let (tx, mut rx) = watch::channel(String::from("v0"));
    tx.send(String::from("v1")).unwrap();
    {
        let value = rx.borrow();
        assert!(value.has_changed());
        assert_eq!(*value, "v1");
    }
    assert_eq!(rx.has_changed(), Ok(true), "borrow leaves it unseen");
    {
        let value = rx.borrow_and_update();
        assert!(value.has_changed());
        assert_eq!(*value, "v1");
    }
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(!rx.borrow_and_update().has_changed());
    let (_, waker) = CountingWaker::new();
    assert_eq!(poll_with(&mut rx.changed(), &waker), Poll::Pending);
}

#[test]
fn has_changed_reports_unseen_versions_then_the_closed_sender() {
    let (tx, mut rx) = watch::channel(0);
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send(1).unwrap();
    assert_eq!(rx.has_changed(), Ok(true));
    drop(tx);
    // The last value is still news; once seen, the closed channel shows.
    assert_eq!(rx.has_changed(), Ok(true));
    rx.mark_unchanged();
    assert!(rx.has_changed().is_err());
}

#[test]
fn changed_fails_once_the_sender_is_dropped() {
    test_util::with_watchdog(10, || {
        let (tx, mut rx) = watch::channel(0);
        let (counter, waker) = CountingWaker::new();
        let mut changed = rx.changed();
        assert_eq!(poll_with(&mut changed, &waker), Poll::Pending);
        drop(tx);
        assert_eq!(counter.wakes(), 1);
        assert!(matches!(
            poll_with(&mut changed, &waker),
            Poll::Ready(Err(_))
        ));
        drop(changed);
        // And keeps failing; the last value stays readable.
        assert!(runtime::block_on(rx.changed()).is_err());
        assert_eq!(*rx.borrow(), 0);

        // A version sent just before the drop is reported first.
        let (tx, mut rx) = watch::channel(0);
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(runtime::block_on(rx.changed()), Ok(()));
        assert!(runtime::block_on(rx.changed()).is_err());
    });
}

#[test]
fn send_fails_with_no_receivers_but_send_replace_and_send_modify_store() {
    let (tx, rx) = watch::channel(vec![0]);
    assert_eq!(tx.receiver_count(), 1);
    drop(rx);
    assert!(tx.is_closed());
    let err = tx.send(vec![1]).unwrap_err();
    assert_eq!(err.0, [1]);
    assert_eq!(err.to_string(), "watch channel has no receiver");
    assert_eq!(*tx.borrow(), [0], "a failed send stores nothing");

    assert_eq!(tx.send_replace(vec![2]), [0]);
    assert_eq!(*tx.borrow(), [2]);
    tx.send_modify(|v| v.push(3));
    assert_eq!(*tx.borrow(), [2, 3]);

    // A receiver subscribed now sees the stored value as already seen.
    let mut rx = tx.subscribe();
    assert_eq!(*rx.borrow(), [2, 3]);
    assert_eq!(rx.has_changed(), Ok(false));
    tx.send_modify(|v| v.clear());
    assert_eq!(rx.has_changed(), Ok(true));
    assert!(rx.borrow_and_update().is_empty());
}

#[test]
fn send_if_modified_announces_only_real_changes() {
    let (tx, rx) = watch::channel(1);
    assert!(!tx.send_if_modified(|v| {
        *v = 1;
        false
    }));
    assert_eq!(rx.has_changed(), Ok(false));
    assert!(tx.send_if_modified(|v| {
        *v = 2;
        true
    }));
    assert_eq!(rx.has_changed(), Ok(true));
}

#[test]
fn a_clone_has_seen_what_the_original_has() {
    let (tx, mut rx) = watch::channel(0);
    tx.send(1).unwrap();
    let unseen = rx.clone();
    rx.mark_unchanged();
    let seen = rx.clone();
    assert_eq!(unseen.has_changed(), Ok(true));
    assert_eq!(seen.has_changed(), Ok(false));
    assert_eq!(tx.receiver_count(), 3);
}

#[test]
fn closed_completes_when_the_last_receiver_goes() {
    let (tx, rx) = watch::channel(0);
    let rx2 = rx.clone();
    let (counter, waker) = CountingWaker::new();
    let mut closed = tx.closed();
    assert_eq!(poll_with(&mut closed, &waker), Poll::Pending);
    drop(rx);
    assert_eq!(counter.wakes(), 0, "one receiver left");
    assert_eq!(poll_with(&mut closed, &waker), Poll::Pending);
    drop(rx2);
    assert_eq!(counter.wakes(), 1);
    assert_eq!(poll_with(&mut closed, &waker), Poll::Ready(()));
}

#[test]
fn a_repoll_with_a_new_waker_wakes_only_the_newest() {
    let (tx, mut rx) = watch::channel(0);
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut changed = rx.changed();
    assert_eq!(poll_with(&mut changed, &old_waker), Poll::Pending);
    assert_eq!(poll_with(&mut changed, &new_waker), Poll::Pending);
    tx.send(1).unwrap();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[cfg(not(miri))]
#[test]
fn watchers_on_threads_see_versions_only_go_forward_and_see_the_last() {
    const SENDS: u64 = 20_000;
    test_util::with_watchdog(120, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, rx) = watch::channel(0u64);
            let watchers: Vec<_> = (0..4)
                .map(|_| {
                    let mut rx = rx.clone();
                    runtime::spawn(async move {
                        let mut last = 0;
                        let mut wakeups = 0u64;
                        while rx.changed().await.is_ok() {
                            let value = *rx.borrow_and_update();
                            assert!(value > last, "{value} after {last}: never an old one");
                            last = value;
                            wakeups += 1;
                        }
                        (last, wakeups)
                    })
                })
                .collect();
            drop(rx);
            let sender = runtime::spawn(async move {
                for i in 1..=SENDS {
                    tx.send(i).unwrap();
                    if i % 16 == 0 {
                        runtime::yield_now().await;
                    }
                }
            });
            sender.await.unwrap();
            for watcher in watchers {
                let (last, wakeups) = watcher.await.unwrap();
                assert_eq!(last, SENDS, "the last value is always seen");
                assert!(wakeups <= SENDS);
            }
        });
    });
}

#[test]
fn errors_print_and_are_std_errors() {
    fn error<E: std::error::Error + Send + Sync + 'static>(e: E) -> String {
        e.to_string()
    }
    let (tx, mut rx) = watch::channel(0u8);
    drop(tx);
    let err = runtime::block_on(rx.changed()).unwrap_err();
    assert_eq!(error(err), "watch sender dropped");
    assert_eq!(
        error(watch::SendError(0u8)),
        "watch channel has no receiver"
    );
    assert_eq!(format!("{:?}", rx.borrow()), "0");
    assert!(format!("{rx:?}").contains("Receiver"));
    assert!(format!("{:?}", rx.changed()).contains("Changed"));
}

#[test]
fn the_halves_and_futures_are_send_where_t_is() {
    fn send<T: Send>(_: &T) {}
    fn sync<T: Sync>(_: &T) {}
    let (tx, mut rx) = watch::channel(String::new());
    send(&tx);
    sync(&tx);
    send(&tx.closed());
    send(&rx.changed());
    send(&rx);
    sync(&rx);
}
