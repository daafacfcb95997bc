//! Loom models: every interleaving of each race the primitives promise to
//! win. Run with
//! `LOOM_MAX_PREEMPTIONS=2 RUSTFLAGS="--cfg loom" cargo test -p sync-primitives --test loom --release`.

#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use sync_primitives::{Event, Mutex, Waiter};

/// A waker that counts its wake-ups, with a loom atomic so loom sees it.
struct Counter(AtomicUsize);

impl Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counting_waker() -> (Arc<Counter>, Waker) {
    let counter = Arc::new(Counter(AtomicUsize::new(0)));
    (counter.clone(), Waker::from(counter))
}

fn poll_once<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(2);
    }
    builder.check(f);
}

/// `set_done` racing with the first poll of a wait: the wait either
/// completes at once or is woken; it is never left pending.
#[test]
fn set_done_vs_first_poll() {
    model(|| {
        let waiter = Arc::new(Waiter::new());
        let setter = {
            let waiter = waiter.clone();
            thread::spawn(move || waiter.set_done())
        };
        loom::future::block_on(waiter.wait());
        setter.join().unwrap();
    });
}

/// Two tasks waiting and one `set_done`: both are woken.
#[test]
fn two_waiters_one_wake() {
    model(|| {
        let waiter = Arc::new(Waiter::new());
        let threads: Vec<_> = (0..2)
            .map(|_| {
                let waiter = waiter.clone();
                thread::spawn(move || loom::future::block_on(waiter.wait()))
            })
            .collect();
        waiter.set_done();
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// A registered wait, then `set` and `clear` racing: the wait is woken once
/// and completes, whatever `clear` did (asyncio's rule).
#[test]
fn event_set_vs_clear_with_a_registered_waiter() {
    model(|| {
        let event = Arc::new(Event::new());
        let (counter, waker) = counting_waker();
        let mut wait = event.wait();
        assert!(poll_once(&mut wait, &waker).is_pending());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        let clearer = {
            let event = event.clone();
            thread::spawn(move || event.clear())
        };
        setter.join().unwrap();
        clearer.join().unwrap();
        assert_eq!(counter.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(&mut wait, &waker).is_ready());
    });
}

/// `set`, `clear` and the first poll of a wait all racing: if the wait
/// stays pending and was not woken, the event must be clear now (it never
/// saw a set it missed).
#[test]
fn event_set_vs_wait_vs_clear() {
    model(|| {
        let event = Arc::new(Event::new());
        let setter = {
            let event = event.clone();
            thread::spawn(move || event.set())
        };
        let clearer = {
            let event = event.clone();
            thread::spawn(move || event.clear())
        };
        let (counter, waker) = counting_waker();
        let mut wait = event.wait();
        let first = poll_once(&mut wait, &waker);
        setter.join().unwrap();
        clearer.join().unwrap();
        if first.is_pending() {
            if counter.0.load(Ordering::SeqCst) == 1 {
                assert!(poll_once(&mut wait, &waker).is_ready());
            } else {
                assert_eq!(counter.0.load(Ordering::SeqCst), 0);
                assert!(!event.is_set(), "a wait missed a set");
                assert!(poll_once(&mut wait, &waker).is_pending());
            }
        }
    });
}

/// Two tasks locking and unlocking: no lost hand-off, no lost update.
#[test]
fn unlock_vs_lock() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let other = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                *loom::future::block_on(mutex.lock()) += 1;
            })
        };
        *loom::future::block_on(mutex.lock()) += 1;
        other.join().unwrap();
        assert_eq!(*mutex.try_lock().unwrap(), 2);
        assert!(!mutex.is_locked());
    });
}

/// An unlock racing with a queued lock future being dropped: the lock is
/// either handed to it and passed on, or it leaves the queue; either way
/// the next waiter gets the lock and the mutex ends free.
#[test]
fn unlock_vs_dropping_a_queued_lock() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let (_, waker) = counting_waker();
        let Poll::Ready(guard) = poll_once(&mut mutex.clone().lock_owned(), &waker) else {
            panic!("the mutex is free");
        };
        let mut dropped = mutex.clone().lock_owned();
        let mut next = mutex.clone().lock_owned();
        assert!(poll_once(&mut dropped, &waker).is_pending());
        assert!(poll_once(&mut next, &waker).is_pending());
        let unlocker = thread::spawn(move || drop(guard));
        drop(dropped);
        unlocker.join().unwrap();
        *loom::future::block_on(next) += 1;
        assert!(!mutex.is_locked());
        assert_eq!(*mutex.try_lock().unwrap(), 1);
    });
}

/// Three tasks contending: every hand-off reaches a parked waiter.
#[test]
fn three_lockers_hand_off() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let others: Vec<_> = (0..2)
            .map(|_| {
                let mutex = mutex.clone();
                thread::spawn(move || {
                    *loom::future::block_on(mutex.lock()) += 1;
                })
            })
            .collect();
        *loom::future::block_on(mutex.lock()) += 1;
        for t in others {
            t.join().unwrap();
        }
        assert_eq!(*mutex.try_lock().unwrap(), 3);
    });
}

/// A registered wait dropped while `set_done` runs: the other waiter is
/// still woken, and nothing is woken twice or left queued.
#[test]
fn dropping_a_wait_vs_set_done() {
    model(|| {
        let waiter = Arc::new(Waiter::new());
        let (dropped_counter, dropped_waker) = counting_waker();
        let (kept_counter, kept_waker) = counting_waker();
        let mut dropped = waiter.wait();
        let mut kept = waiter.wait();
        assert!(poll_once(&mut dropped, &dropped_waker).is_pending());
        assert!(poll_once(&mut kept, &kept_waker).is_pending());
        let setter = {
            let waiter = waiter.clone();
            thread::spawn(move || waiter.set_done())
        };
        drop(dropped);
        setter.join().unwrap();
        assert!(dropped_counter.0.load(Ordering::SeqCst) <= 1);
        assert_eq!(kept_counter.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(&mut kept, &kept_waker).is_ready());
    });
}

/// A lock held while one thread spins for it and another queues: the
/// unlock reserves it for the spinner or hands it to the queue, and every
/// locker gets it exactly once.
#[test]
fn unlock_vs_spinner_vs_queued_waiter() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let (_, waker) = counting_waker();
        let Poll::Ready(guard) = poll_once(&mut mutex.clone().lock_owned(), &waker) else {
            panic!("the mutex is free");
        };
        let lockers: Vec<_> = (0..2)
            .map(|_| {
                let mutex = mutex.clone();
                thread::spawn(move || *loom::future::block_on(mutex.lock()) += 1)
            })
            .collect();
        drop(guard);
        for locker in lockers {
            locker.join().unwrap();
        }
        assert!(!mutex.is_locked());
        assert_eq!(*mutex.try_lock().unwrap(), 2);
    });
}

// ---------------------------------------------------------------------------
// mpsc and Queue (the channel core, `src/chan.rs`).

/// A value that counts its drops, with a loom atomic.
struct Dropped(Arc<AtomicUsize>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A bounded send (which may park: the channel is full) racing with the
/// receiver's drop: the send completes, `Ok` or handing the value back,
/// and every value is dropped exactly once.
#[test]
fn mpsc_send_vs_receiver_drop() {
    use sync_primitives::mpsc;
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel(1);
        tx.try_send(Dropped(drops.clone())).ok().unwrap();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || {
                match loom::future::block_on(tx.send(Dropped(drops.clone()))) {
                    // Sent: the receiver's drop drops it.
                    Ok(()) => {}
                    Err(mpsc::SendError(value)) => drop(value),
                }
            })
        };
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 2);
    });
}

/// The last sender dropped right after its send, racing with the
/// receiver: `recv` returns the value, then `None`; it never hangs.
#[test]
fn mpsc_last_sender_drop_vs_recv() {
    use sync_primitives::mpsc;
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        let sender = thread::spawn(move || {
            tx.try_send(7).unwrap();
            drop(tx);
        });
        assert_eq!(loom::future::block_on(rx.recv()), Some(7));
        assert_eq!(loom::future::block_on(rx.recv()), None);
        sender.join().unwrap();
    });
}

/// A full channel: one sender waits, another polls once and is cancelled,
/// while the receiver drains. The slot a cancelled send was given passes
/// on, so nothing hangs; the receiver gets the first value, the waiting
/// sender's, and the cancelled one's exactly if its first poll sent it.
#[test]
fn mpsc_full_send_vs_recv_vs_cancelled_send() {
    use sync_primitives::mpsc;
    model(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(0).unwrap();
        let cancelled_tx = tx.clone();
        let waiting = thread::spawn(move || loom::future::block_on(tx.send(1)).unwrap());
        let cancelled = thread::spawn(move || {
            let (_, waker) = counting_waker();
            let mut send = Box::pin(cancelled_tx.send(2));
            poll_once(&mut send, &waker).is_ready()
        });
        let mut got = Vec::new();
        while let Some(value) = loom::future::block_on(rx.recv()) {
            got.push(value);
        }
        waiting.join().unwrap();
        let sent_2 = cancelled.join().unwrap();
        assert_eq!(got[0], 0);
        assert!(got.contains(&1));
        assert_eq!(got.contains(&2), sent_2);
        assert_eq!(got.len(), if sent_2 { 3 } else { 2 });
    });
}

/// `task_done` racing with a `join`: the join completes (it is never left
/// waiting with nothing unfinished).
#[test]
fn queue_task_done_vs_join() {
    use sync_primitives::Queue;
    model(|| {
        let queue = Arc::new(Queue::new(0));
        queue.put_nowait(1).unwrap();
        let worker = {
            let queue = queue.clone();
            thread::spawn(move || {
                assert_eq!(queue.get_nowait(), Ok(1));
                queue.task_done();
            })
        };
        loom::future::block_on(queue.join());
        worker.join().unwrap();
        assert_eq!(queue.unfinished_tasks(), 0);
    });
}

/// A waiting `get` racing with `shutdown(false)` and a `put`: the get ends
/// with the item or with `ShutDown`, never hangs, and an item put before
/// the shutdown is never lost.
#[test]
fn queue_get_vs_put_vs_shutdown() {
    use sync_primitives::Queue;
    model(|| {
        let queue = Arc::new(Queue::new(1));
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || queue.put_nowait(5).is_ok())
        };
        let closer = {
            let queue = queue.clone();
            thread::spawn(move || queue.shutdown(false))
        };
        let got = loom::future::block_on(queue.get());
        let put = putter.join().unwrap();
        closer.join().unwrap();
        match got {
            Ok(item) => assert!(put && item == 5),
            Err(_) => assert_eq!(queue.get_nowait().is_ok(), put),
        }
    });
}

/// Two waiting `get`s; a `put` racing with the first one's drop: whether
/// the first was woken (and passes its wake-up on) or left the line
/// first, the second gets the item.
#[test]
fn queue_put_vs_dropping_a_waiting_get() {
    use sync_primitives::Queue;
    model(|| {
        let queue = Arc::new(Queue::new(0));
        let (_, waker) = counting_waker();
        let mut dropped = Box::pin(queue.get());
        assert!(poll_once(&mut dropped, &waker).is_pending());
        let kept = {
            let queue = queue.clone();
            thread::spawn(move || loom::future::block_on(queue.get()))
        };
        let putter = {
            let queue = queue.clone();
            thread::spawn(move || queue.put_nowait(1).unwrap())
        };
        drop(dropped);
        putter.join().unwrap();
        assert_eq!(kept.join().unwrap(), Ok(1));
    });
}
