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
use sync_primitives::{Event, Mutex, RwLock, Semaphore, Waiter};

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

/// A `lock()` that starts once another waiter is queued, while the owner
/// unlocks (handing the lock to the queued one, which takes it and unlocks
/// in turn): whatever state it finds when it stands back and looks (held
/// with a waiter queued, handed, held by the queued one, or free again),
/// it never takes the lock before the queued waiter.
#[test]
fn a_lock_standing_back_never_passes_a_queued_waiter() {
    model(|| {
        let mutex = Arc::new(Mutex::new(Vec::new()));
        let queued_flag = Arc::new(AtomicUsize::new(0));
        let (_, waker) = counting_waker();
        let Poll::Ready(guard) = poll_once(&mut mutex.clone().lock_owned(), &waker) else {
            panic!("the mutex is free");
        };
        let late = {
            let (mutex, queued_flag) = (mutex.clone(), queued_flag.clone());
            thread::spawn(move || {
                while queued_flag.load(Ordering::SeqCst) == 0 {
                    thread::yield_now();
                }
                loom::future::block_on(mutex.lock()).push("late");
            })
        };
        let mut first = mutex.clone().lock_owned();
        assert!(poll_once(&mut first, &waker).is_pending());
        queued_flag.store(1, Ordering::SeqCst);
        drop(guard);
        loom::future::block_on(first).push("first");
        late.join().unwrap();
        assert!(!mutex.is_locked());
        assert_eq!(*mutex.try_lock().unwrap(), ["first", "late"]);
    });
}

/// A release, an `acquire` arriving, and the drop of a queued
/// `acquire_many` that holds part of its permits, all at once: no permit is
/// lost or duplicated, and the arriving acquire is never left pending.
#[test]
fn semaphore_release_vs_acquire_vs_dropping_a_queued_acquire_many() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(2));
        let held = semaphore.clone().try_acquire_owned().unwrap();
        let (_, waker) = counting_waker();
        // Takes the one free permit and queues for another.
        let mut big = semaphore.acquire_many(2);
        assert!(poll_once(&mut big, &waker).is_pending());
        let releaser = thread::spawn(move || drop(held));
        let acquirer = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let permit = loom::future::block_on(semaphore.acquire()).unwrap();
                assert_eq!(permit.num_permits(), 1);
            })
        };
        drop(big);
        releaser.join().unwrap();
        acquirer.join().unwrap();
        assert_eq!(semaphore.available_permits(), 2);
    });
}

/// `close` racing with a queued acquire and a release: the acquire ends
/// (with a permit if it was served first, with an error otherwise), and
/// every permit comes back.
#[test]
fn semaphore_close_vs_queued_acquire_vs_release() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(1));
        let held = semaphore.clone().try_acquire_owned().unwrap();
        let acquirer = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                let _ = loom::future::block_on(semaphore.acquire_many(2));
            })
        };
        let releaser = thread::spawn(move || drop(held));
        semaphore.close();
        acquirer.join().unwrap();
        releaser.join().unwrap();
        assert_eq!(semaphore.available_permits(), 1);
    });
}

/// A writer that downgrades while a reader and a writer arrive: the reader
/// sees the first write, the second writer is excluded until every reader
/// is gone (loom checks the data cell's accesses), and nobody hangs.
#[test]
fn rwlock_writer_unlock_vs_reader_arrival_vs_downgrade() {
    model(|| {
        let lock = Arc::new(RwLock::new(0));
        let mut first = lock.try_write().unwrap();
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || {
                let value = *loom::future::block_on(lock.read());
                assert!(value == 1 || value == 11, "read {value}");
            })
        };
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || {
                let mut guard = loom::future::block_on(lock.write());
                assert_eq!(*guard, 1, "the downgraded writer's value");
                *guard += 10;
            })
        };
        *first = 1;
        let read = first.downgrade();
        assert_eq!(*read, 1);
        drop(read);
        reader.join().unwrap();
        writer.join().unwrap();
        assert_eq!(*lock.try_read().unwrap(), 11);
    });
}

/// Permits added while two acquires arrive: the one that queues while the
/// release is waking the first (with the queue's lock released) still gets
/// the permits left over, never left queued beside free permits (loom found
/// that hang in a first version of `WaitQueue::assign`).
#[test]
fn semaphore_add_permits_vs_two_acquires_arriving() {
    model(|| {
        let semaphore = Arc::new(Semaphore::new(0));
        let reader = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                drop(loom::future::block_on(semaphore.acquire_many(1)).unwrap());
            })
        };
        let writer = {
            let semaphore = semaphore.clone();
            thread::spawn(move || {
                drop(loom::future::block_on(semaphore.acquire_many(3)).unwrap());
            })
        };
        semaphore.add_permits(3);
        reader.join().unwrap();
        writer.join().unwrap();
    });
}

/// A notified `Condition` wait dropped while `notify_one` runs: the
/// notification reaches the other waiter exactly once, whichever comes
/// first (the drop leaves the queue, or passes the notification on).
#[test]
fn condition_notify_vs_dropping_a_wait() {
    model(|| {
        let mutex = Mutex::new(());
        let cond = Arc::new(sync_primitives::Condition::new());
        let (_, dropped_waker) = counting_waker();
        let (kept_counter, kept_waker) = counting_waker();
        let mut dropped = cond.wait(mutex.try_lock().unwrap());
        assert!(poll_once(&mut dropped, &dropped_waker).is_pending());
        let mut kept = cond.wait(mutex.try_lock().unwrap());
        assert!(poll_once(&mut kept, &kept_waker).is_pending());
        let notifier = {
            let cond = cond.clone();
            thread::spawn(move || cond.notify_one())
        };
        drop(dropped);
        notifier.join().unwrap();
        assert_eq!(kept_counter.0.load(Ordering::SeqCst), 1);
        assert!(poll_once(&mut kept, &kept_waker).is_ready());
    });
}

/// asyncio's pattern: one task waits for a flag under the mutex, another
/// sets it and notifies. The wait registers before it releases the mutex,
/// so the notification is never lost and the waiter always finishes.
#[test]
fn condition_release_then_wait_vs_notify() {
    model(|| {
        let state = Arc::new((Mutex::new(false), sync_primitives::Condition::new()));
        let setter = {
            let state = state.clone();
            thread::spawn(move || {
                loom::future::block_on(async {
                    let (flag, cond) = &*state;
                    *flag.lock().await = true;
                    cond.notify_one();
                })
            })
        };
        loom::future::block_on(async {
            let (flag, cond) = &*state;
            let guard = cond.wait_for(flag.lock().await, |flag| *flag).await;
            assert!(*guard);
        });
        setter.join().unwrap();
    });
}

/// A barrier of two: one task arrives and withdraws while another arrives.
/// Whatever the order, nobody is woken twice, a withdrawn task never
/// counts, and the barrier ends either tripped or holding the one waiter,
/// which the next arrival releases with the right indices.
#[test]
fn barrier_trip_vs_withdrawal() {
    model(|| {
        let barrier = Arc::new(sync_primitives::Barrier::new(2));
        let withdrawer = {
            let barrier = barrier.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                let mut wait = barrier.wait();
                let first = poll_once(&mut wait, &waker);
                drop(wait);
                first.is_ready()
            })
        };
        let (counter, waker) = counting_waker();
        let mut wait = barrier.wait();
        let first = poll_once(&mut wait, &waker);
        let withdrawer_tripped = withdrawer.join().unwrap();
        let result = match first {
            Poll::Ready(result) => result.unwrap(),
            Poll::Pending if counter.0.load(Ordering::SeqCst) == 1 => {
                // The withdrawer arrived after us and tripped it.
                assert!(withdrawer_tripped);
                match poll_once(&mut wait, &waker) {
                    Poll::Ready(result) => result.unwrap(),
                    Poll::Pending => panic!("woken by a trip, yet not done"),
                }
            }
            Poll::Pending => {
                // The withdrawer left without tripping: we wait alone.
                assert!(!withdrawer_tripped);
                assert_eq!(barrier.n_waiting(), 1);
                let mut last = barrier.wait();
                let Poll::Ready(Ok(leader)) = poll_once(&mut last, &waker) else {
                    panic!("the second arrival trips the barrier");
                };
                assert_eq!((leader.index(), leader.is_leader()), (1, true));
                assert_eq!(counter.0.load(Ordering::SeqCst), 1);
                let Poll::Ready(Ok(result)) = poll_once(&mut wait, &waker) else {
                    panic!("woken by the trip");
                };
                assert_eq!(result.index(), 0);
                result
            }
        };
        assert!(counter.0.load(Ordering::SeqCst) <= 1);
        assert_eq!(barrier.n_waiting(), 0);
        assert!(result.index() < 2);
    });
}

/// Two initialisers racing: exactly one runs, both callers get its value.
#[test]
fn once_cell_two_initialisers() {
    model(|| {
        let cell = Arc::new(sync_primitives::OnceCell::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let other = {
            let (cell, runs) = (cell.clone(), runs.clone());
            thread::spawn(move || {
                *loom::future::block_on(cell.get_or_init(|| async {
                    runs.fetch_add(1, Ordering::SeqCst);
                    1
                }))
            })
        };
        let ours = *loom::future::block_on(cell.get_or_init(|| async {
            runs.fetch_add(1, Ordering::SeqCst);
            2
        }));
        assert_eq!(other.join().unwrap(), ours);
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(cell.get(), Some(&ours));
    });
}

/// An initialiser that never finishes, polled once and dropped (cancelled)
/// while another caller initialises or waits: the other caller always
/// finishes, with its own value (the cancelled one never produced one).
#[test]
fn once_cell_cancelled_initialiser_vs_waiter() {
    model(|| {
        let cell = Arc::new(sync_primitives::OnceCell::new());
        let canceller = {
            let cell = cell.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                let mut stuck = Box::pin(cell.get_or_init(std::future::pending::<u32>));
                let _ = poll_once(&mut stuck, &waker);
            })
        };
        let value = *loom::future::block_on(cell.get_or_init(|| async { 2 }));
        assert_eq!(value, 2);
        canceller.join().unwrap();
        assert_eq!(cell.get(), Some(&2));
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

// ---- channels: oneshot, broadcast, watch (`Dropped` is defined above) ----

/// oneshot: `send` racing with the receiver's drop. Either the send fails
/// and hands the value back, or it succeeds and the channel drops the
/// value; exactly once either way, and never both.
#[test]
fn oneshot_send_vs_receiver_drop() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = sync_primitives::oneshot::channel();
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || match tx.send(Dropped(drops.clone())) {
                Ok(()) => true,
                Err(back) => {
                    assert_eq!(drops.load(Ordering::SeqCst), 0, "handed back whole");
                    drop(back);
                    false
                }
            })
        };
        drop(rx);
        sender.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// oneshot: a parked receiver racing with `send`, and with an unsent
/// sender's drop: it gets the value, or the error, and is never left
/// parked.
#[test]
fn oneshot_send_or_sender_drop_vs_waiting_receiver() {
    model(|| {
        let (tx, rx) = sync_primitives::oneshot::channel();
        let sender = thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(loom::future::block_on(rx), Ok(7));
        sender.join().unwrap();

        let (tx, rx) = sync_primitives::oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(tx));
        assert!(loom::future::block_on(rx).is_err());
        dropper.join().unwrap();
    });
}

/// oneshot: `closed()` racing with the receiver's drop completes.
#[test]
fn oneshot_closed_vs_receiver_drop() {
    model(|| {
        let (mut tx, rx) = sync_primitives::oneshot::channel::<u8>();
        let dropper = thread::spawn(move || drop(rx));
        loom::future::block_on(tx.closed());
        assert!(tx.is_closed());
        dropper.join().unwrap();
    });
}

/// broadcast: a sender overwriting a ring of 2 with 3 values while a slow
/// receiver reads: it sees values in order, with at most one `Lagged(n)`
/// accounting for exactly the ones it missed, then `Closed`.
#[test]
fn broadcast_overwrite_vs_slow_receiver() {
    use sync_primitives::broadcast::{self, RecvError};
    model(|| {
        let (tx, mut rx) = broadcast::channel(2);
        let sender = thread::spawn(move || {
            for i in 0..3u64 {
                tx.send(i).unwrap();
            }
        });
        let mut expected = 0;
        let mut lagged = 0;
        loop {
            match loom::future::block_on(rx.recv()) {
                Ok(value) => {
                    assert_eq!(value, expected, "in order, no gap but a reported one");
                    expected += 1;
                }
                Err(RecvError::Lagged(n)) => {
                    lagged += 1;
                    expected += n;
                }
                Err(RecvError::Closed) => break,
            }
        }
        assert_eq!(expected, 3, "every value seen or reported missed");
        assert!(lagged <= 1);
        sender.join().unwrap();
    });
}

/// watch: `send` then the sender's drop racing with a receiver in
/// `changed`: the receiver sees version 1 (once), then the error.
#[test]
fn watch_send_vs_changed() {
    model(|| {
        let (tx, mut rx) = sync_primitives::watch::channel(0);
        let sender = thread::spawn(move || {
            tx.send(1).unwrap();
        });
        let mut changes = 0;
        while loom::future::block_on(rx.changed()).is_ok() {
            changes += 1;
            assert_eq!(*rx.borrow_and_update(), 1);
        }
        assert_eq!(changes, 1, "one version, one change");
        assert_eq!(*rx.borrow(), 1);
        sender.join().unwrap();
    });
}

/// oneshot: the receiver re-polled with a new waker while `send` runs:
/// whichever waker is current when the value lands is woken (the old one
/// may be too), and the receiver is never left parked.
#[test]
fn oneshot_send_vs_repoll_with_a_new_waker() {
    model(|| {
        let (tx, mut rx) = sync_primitives::oneshot::channel();
        let (_, old_waker) = counting_waker();
        let (new_counter, new_waker) = counting_waker();
        assert!(poll_once(&mut rx, &old_waker).is_pending());
        let sender = thread::spawn(move || tx.send(1).unwrap());
        let second = poll_once(&mut rx, &new_waker);
        sender.join().unwrap();
        match second {
            Poll::Ready(value) => assert_eq!(value, Ok(1)),
            Poll::Pending => {
                assert_eq!(new_counter.0.load(Ordering::SeqCst), 1, "lost wake-up");
                assert_eq!(poll_once(&mut rx, &new_waker), Poll::Ready(Ok(1)));
            }
        }
    });
}

/// oneshot: a `Closed` future re-polled with a new waker, then dropped,
/// while the receiver closes: no waker is read while it is written.
#[test]
fn oneshot_closed_repoll_and_drop_vs_receiver_close() {
    model(|| {
        let (mut tx, mut rx) = sync_primitives::oneshot::channel::<u8>();
        let (_, a) = counting_waker();
        let (b_counter, b) = counting_waker();
        let closer = thread::spawn(move || {
            rx.close();
            rx
        });
        {
            let mut closed = tx.closed();
            if poll_once(&mut closed, &a).is_pending() && poll_once(&mut closed, &b).is_pending() {
                drop(closed);
                let rx = closer.join().unwrap();
                // Either woken b before the drop withdrew it, or not at all.
                assert!(b_counter.0.load(Ordering::SeqCst) <= 1);
                drop(rx);
                assert!(tx.is_closed());
                return;
            }
        }
        closer.join().unwrap();
        assert!(tx.is_closed());
    });
}

/// broadcast: a receiver dropped while a send lands and another receiver
/// reads: the value is delivered to the one left and dropped exactly once.
#[test]
fn broadcast_send_vs_receiver_drop() {
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut kept) = sync_primitives::broadcast::channel(1);
        let gone = tx.subscribe();
        let dropper = thread::spawn(move || drop(gone));
        let sender = {
            let drops = drops.clone();
            thread::spawn(move || {
                tx.send(Arc::new(Dropped(drops))).unwrap();
            })
        };
        let value = loom::future::block_on(kept.recv()).unwrap();
        dropper.join().unwrap();
        sender.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(value);
        drop(kept);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

/// watch: the sender's `closed()` racing with the last receiver's drop.
#[test]
fn watch_closed_vs_last_receiver_drop() {
    model(|| {
        let (tx, rx) = sync_primitives::watch::channel(0);
        let dropper = thread::spawn(move || drop(rx));
        loom::future::block_on(tx.closed());
        assert!(tx.send(1).is_err());
        dropper.join().unwrap();
    });
}

/// A queued reader re-polled while the writer's release serves it: the
/// reader learns it was served either from the semaphore's `served_below`
/// watermark (without the queue's lock) or from its stale key, and in both
/// cases the writer's write happens-before its read (loom checks the
/// lock's `UnsafeCell`); if it is still pending, it is woken.
#[test]
fn rwlock_release_serving_a_queued_reader_vs_its_repoll() {
    model(|| {
        let lock = Arc::new(RwLock::new(0u32));
        let mut write = loom::future::block_on(lock.clone().write_owned());
        let (counter, waker) = counting_waker();
        let mut read = lock.read();
        assert!(poll_once(&mut read, &waker).is_pending());
        let writer = thread::spawn(move || {
            *write += 1;
            drop(write);
        });
        let guard = match poll_once(&mut read, &waker) {
            Poll::Ready(guard) => guard,
            Poll::Pending => {
                writer.join().unwrap();
                assert_eq!(counter.0.load(Ordering::SeqCst), 1, "served: woken");
                let Poll::Ready(guard) = poll_once(&mut read, &waker) else {
                    panic!("served and woken, yet pending");
                };
                assert_eq!(*guard, 1);
                return;
            }
        };
        assert_eq!(*guard, 1);
        drop(guard);
        writer.join().unwrap();
    });
}

/// broadcast: two receivers on two threads reading the same value, one of
/// them its last reader (which moves the value out at once if the other
/// is done, or else on a ticket after the other's clone) and the other
/// cloning it: both get the value, it is cloned exactly once, and every
/// copy is dropped exactly once, the original included.
#[test]
fn broadcast_last_reader_vs_concurrent_clone() {
    #[derive(Debug)]
    struct Counted {
        clones: Arc<AtomicUsize>,
        drops: Arc<AtomicUsize>,
    }
    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.clones.fetch_add(1, Ordering::SeqCst);
            Counted {
                clones: self.clones.clone(),
                drops: self.drops.clone(),
            }
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }
    model(|| {
        let clones = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut first) = sync_primitives::broadcast::channel(1);
        let mut second = tx.subscribe();
        tx.send(Counted {
            clones: clones.clone(),
            drops: drops.clone(),
        })
        .unwrap();
        let other = thread::spawn(move || {
            let value = second.try_recv().unwrap();
            drop(value);
        });
        let value = first.try_recv().unwrap();
        drop(value);
        other.join().unwrap();
        let cloned = clones.load(Ordering::SeqCst);
        assert_eq!(cloned, 1, "the last reader moves the value");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            cloned + 1,
            "every copy dropped once"
        );
        drop(tx);
        drop(first);
        assert_eq!(drops.load(Ordering::SeqCst), cloned + 1);
    });
}

/// broadcast: a send overwriting a slot (ring of 1) while a receiver that
/// is not the value's last reader clones the old value: the send reuses
/// the slot's cell only if nobody holds it, so the cloning receiver gets
/// the old value intact (or, if it came too late, `Lagged(1)` and then the
/// new value), the receiver that never read the old value is told it
/// lagged by 1 and then gets the new one, and each value is dropped once.
#[test]
fn broadcast_overwrite_vs_lagging_clone() {
    use sync_primitives::broadcast::TryRecvError;
    model(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut reader) = sync_primitives::broadcast::channel(1);
        let mut lagging = tx.subscribe();
        tx.send(Arc::new((0u8, Dropped(drops.clone())))).unwrap();
        let cloner = thread::spawn(move || match reader.try_recv().map(|v| v.0) {
            Ok(value) => assert_eq!(value, 0, "the old value, intact"),
            Err(lag) => {
                assert_eq!(lag, TryRecvError::Lagged(1));
                assert_eq!(reader.try_recv().map(|v| v.0), Ok(1));
            }
        });
        tx.send(Arc::new((1u8, Dropped(drops.clone())))).unwrap();
        assert_eq!(
            lagging.try_recv().map(|v| v.0),
            Err(TryRecvError::Lagged(1))
        );
        assert_eq!(lagging.try_recv().map(|v| v.0), Ok(1));
        cloner.join().unwrap();
        assert!(drops.load(Ordering::SeqCst) >= 1, "the old value is gone");
        drop((tx, lagging));
        assert_eq!(drops.load(Ordering::SeqCst), 2, "both values, once each");
    });
}

/// A registered wait re-polled while `set` runs on another thread: the
/// re-poll may complete without the queue's lock (the event's epoch moved
/// on), so what the setter wrote before `set` must be visible once it is
/// ready; if it stays pending, the `set` wakes it and the next poll is
/// ready.
#[test]
fn event_repoll_vs_set() {
    model(|| {
        let event = Arc::new(Event::new());
        let data = Arc::new(AtomicUsize::new(0));
        let (counter, waker) = counting_waker();
        let mut wait = event.wait();
        assert!(poll_once(&mut wait, &waker).is_pending());
        let setter = {
            let (event, data) = (event.clone(), data.clone());
            thread::spawn(move || {
                data.store(1, Ordering::Relaxed);
                event.set();
            })
        };
        let ready = poll_once(&mut wait, &waker).is_ready();
        if ready {
            assert_eq!(data.load(Ordering::Relaxed), 1, "set's writes not visible");
        }
        setter.join().unwrap();
        if !ready {
            assert_eq!(counter.0.load(Ordering::SeqCst), 1);
            assert!(poll_once(&mut wait, &waker).is_ready());
            assert_eq!(data.load(Ordering::Relaxed), 1);
        }
    });
}

/// A locker that spins as the first in line, gives up and queues at the
/// front (or takes the lock), then is dropped, racing the unlock and a
/// second locker: the lock is never lost (a hand-off to the dropped one is
/// passed on), the second locker gets it, and it ends up free.
#[test]
fn dropping_a_lock_that_spun_vs_unlock_vs_next_locker() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0));
        let (_, waker) = counting_waker();
        let Poll::Ready(guard) = poll_once(&mut mutex.clone().lock_owned(), &waker) else {
            panic!("the mutex is free");
        };
        let dropped = {
            let mutex = mutex.clone();
            thread::spawn(move || {
                let (_, waker) = counting_waker();
                let mut lock = mutex.lock();
                if let Poll::Ready(mut guard) = poll_once(&mut lock, &waker) {
                    *guard += 1;
                }
            })
        };
        let locker = {
            let mutex = mutex.clone();
            thread::spawn(move || *loom::future::block_on(mutex.lock()) += 10)
        };
        drop(guard);
        dropped.join().unwrap();
        locker.join().unwrap();
        assert!(!mutex.is_locked());
        let total = *mutex.try_lock().unwrap();
        assert!(total == 10 || total == 11, "lost update: {total}");
    });
}

/// broadcast: two receivers on two threads, neither the value's last
/// reader, cloning the same value (in ticket order: one waits for the
/// other's turn) while a send overwrites the slot (ring of 1): the send
/// reuses the cell only if no ticket is outstanding, otherwise it buries
/// the old one, freed by a later send or drop. Each receiver gets the old value intact, or
/// `Lagged(1)` and then the new one; every copy is dropped exactly once.
#[test]
fn broadcast_two_cloners_vs_overwrite() {
    use sync_primitives::broadcast::{Receiver, TryRecvError};
    #[derive(Debug)]
    struct Counted {
        id: u8,
        clones: Arc<AtomicUsize>,
        drops: Arc<AtomicUsize>,
    }
    impl Clone for Counted {
        fn clone(&self) -> Self {
            self.clones.fetch_add(1, Ordering::SeqCst);
            Counted {
                id: self.id,
                clones: self.clones.clone(),
                drops: self.drops.clone(),
            }
        }
    }
    impl Drop for Counted {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn read_one(mut rx: Receiver<Counted>) {
        match rx.try_recv() {
            Ok(value) => assert!(value.id <= 1),
            Err(lag) => {
                assert_eq!(lag, TryRecvError::Lagged(1));
                assert_eq!(rx.try_recv().map(|v| v.id), Ok(1));
            }
        }
    }
    model(|| {
        let clones = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let counted = |id| Counted {
            id,
            clones: clones.clone(),
            drops: drops.clone(),
        };
        let (tx, a) = sync_primitives::broadcast::channel(1);
        let b = tx.subscribe();
        // Never reads the first value: neither `a` nor `b` is its last
        // reader.
        let mut c = tx.subscribe();
        tx.send(counted(0)).unwrap();
        let ta = thread::spawn(move || read_one(a));
        let tb = thread::spawn(move || read_one(b));
        tx.send(counted(1)).unwrap();
        // `c` reads after the joins: with it reading concurrently, two
        // threads could wait for a third's clone at once, which loom's
        // scheduler cannot explore (tokio-rs/loom#53: it alternates
        // between the two waiters for ever).
        ta.join().unwrap();
        tb.join().unwrap();
        assert_eq!(c.try_recv().map(|v| v.id), Err(TryRecvError::Lagged(1)));
        assert_eq!(c.try_recv().map(|v| v.id), Ok(1));
        drop((tx, c));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            clones.load(Ordering::SeqCst) + 2,
            "both values and every clone, once each"
        );
    });
}

/// broadcast: a receiver parked in `recv` on one thread while the value it
/// waits for is sent and read by a second receiver: the parked one is
/// woken and gets the value whichever of the two reads it last (the
/// other clones it), then `Closed`; nothing is lost or read twice.
#[test]
fn broadcast_parked_recv_vs_send_and_other_reader() {
    use sync_primitives::broadcast::{self, RecvError};
    model(|| {
        let (tx, mut parked) = broadcast::channel(1);
        let mut other = tx.subscribe();
        let waiter = thread::spawn(move || {
            assert_eq!(loom::future::block_on(parked.recv()), Ok(Arc::new(7u8)));
            assert_eq!(
                loom::future::block_on(parked.recv()),
                Err(RecvError::Closed)
            );
        });
        tx.send(Arc::new(7u8)).unwrap();
        drop(tx);
        assert_eq!(other.try_recv().map(|v| *v), Ok(7));
        waiter.join().unwrap();
    });
}

/// A value for the broadcast models below that counts its clones and drops.
#[derive(Debug)]
struct CountedValue {
    id: u8,
    clones: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl CountedValue {
    fn new(id: u8, clones: &Arc<AtomicUsize>, drops: &Arc<AtomicUsize>) -> Self {
        CountedValue {
            id,
            clones: clones.clone(),
            drops: drops.clone(),
        }
    }
}

impl Clone for CountedValue {
    fn clone(&self) -> Self {
        self.clones.fetch_add(1, Ordering::SeqCst);
        CountedValue::new(self.id, &self.clones, &self.drops)
    }
}

impl Drop for CountedValue {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// broadcast: two receivers on two threads reading a value (ring of 1)
/// that a send then overwrites: whichever reads last moves the value out
/// (after the other's clone, on its ticket) while the send may give the
/// slot's cell up and bury it. Both get the value, which is cloned
/// exactly once (or the overwrite came first and the thread's receiver
/// lags by 1, then clones the new value); every copy is dropped once, and
/// the buried cell is freed by the receivers' drops.
#[test]
fn broadcast_last_reader_take_vs_overwrite() {
    use sync_primitives::broadcast::TryRecvError;
    model(|| {
        let clones = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut a) = sync_primitives::broadcast::channel(1);
        let mut b = tx.subscribe();
        tx.send(CountedValue::new(0, &clones, &drops)).unwrap();
        let reader = thread::spawn(move || match a.try_recv().map(|v| v.id) {
            Ok(id) => {
                assert_eq!(id, 0);
                (a, false)
            }
            Err(lag) => {
                // The overwrite came first: 0 was dropped unread by `a`.
                assert_eq!(lag, TryRecvError::Lagged(1));
                assert_eq!(a.try_recv().map(|v| v.id), Ok(1));
                (a, true)
            }
        });
        assert_eq!(b.try_recv().map(|v| v.id), Ok(0));
        tx.send(CountedValue::new(1, &clones, &drops)).unwrap();
        let (a, lagged) = reader.join().unwrap();
        if lagged {
            // `b` cloned 0 (not its last reader), `a` cloned 1 (`b` still
            // has it to read); 0 and both clones are gone.
            assert_eq!(clones.load(Ordering::SeqCst), 2);
            assert_eq!(drops.load(Ordering::SeqCst), 3);
        } else {
            assert_eq!(clones.load(Ordering::SeqCst), 1, "the last reader moves it");
            assert_eq!(
                drops.load(Ordering::SeqCst),
                2,
                "the clone and the original"
            );
        }
        drop((a, b));
        let all = if lagged { 4 } else { 3 };
        assert_eq!(drops.load(Ordering::SeqCst), all, "the unread value too");
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), all);
    });
}

/// broadcast: a receiver cloning a value on one thread while the value's
/// other receivers are dropped on another, the last of them finding the
/// clone under way (so it buries the cell, which the cloning receiver's
/// drop then frees) or not (so it drops the value at once): every copy is
/// dropped exactly once, by the time the last receiver is gone.
#[test]
fn broadcast_receiver_drop_vs_clone() {
    model(|| {
        let clones = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, mut a) = sync_primitives::broadcast::channel(1);
        let b = tx.subscribe();
        tx.send(CountedValue::new(0, &clones, &drops)).unwrap();
        let reader = thread::spawn(move || {
            assert_eq!(a.try_recv().map(|v| v.id), Ok(0));
            a
        });
        drop(b);
        let a = reader.join().unwrap();
        let cloned = clones.load(Ordering::SeqCst);
        assert!(cloned <= 1);
        drop(a);
        assert_eq!(drops.load(Ordering::SeqCst), cloned + 1, "every copy once");
        drop(tx);
        assert_eq!(drops.load(Ordering::SeqCst), cloned + 1);
    });
}

/// A queued `lock()` re-polled (a spurious poll, not the hand-off's wake)
/// while the owner writes and unlocks on another thread: the re-poll either
/// finds itself still queued (then the unlock hands it the lock and wakes
/// it, and the next poll takes it) or finds its slot freed and takes the
/// lock at once; either way the owner's write happens-before its read
/// (loom checks the mutex's `UnsafeCell`), and it is woken at most once.
#[test]
fn a_queued_lock_repolled_vs_unlock() {
    model(|| {
        let mutex = Arc::new(Mutex::new(0u32));
        let (counter, waker) = counting_waker();
        let Poll::Ready(mut guard) = poll_once(&mut mutex.clone().lock_owned(), &waker) else {
            panic!("the mutex is free");
        };
        let mut next = mutex.lock();
        assert!(poll_once(&mut next, &waker).is_pending());
        let owner = thread::spawn(move || {
            *guard += 1;
            drop(guard);
        });
        let guard = match poll_once(&mut next, &waker) {
            Poll::Ready(guard) => guard,
            Poll::Pending => {
                owner.join().unwrap();
                assert_eq!(counter.0.load(Ordering::SeqCst), 1, "handed: woken");
                let Poll::Ready(guard) = poll_once(&mut next, &waker) else {
                    panic!("handed the lock and woken, yet pending");
                };
                assert_eq!(*guard, 1);
                drop(guard);
                assert!(!mutex.is_locked());
                return;
            }
        };
        assert_eq!(*guard, 1);
        assert!(counter.0.load(Ordering::SeqCst) <= 1);
        drop(guard);
        owner.join().unwrap();
        assert!(!mutex.is_locked());
    });
}
