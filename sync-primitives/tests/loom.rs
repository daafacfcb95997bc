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
