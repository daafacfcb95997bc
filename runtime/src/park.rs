//! A parker: how an idle scheduler thread sleeps until it is given work or
//! its next timer is due.
//!
//! The protocol is the one of tokio's `park.rs` (and of `std::thread::park`)
//! but the parker is not tied to a thread: a current-thread runtime can be
//! driven by whichever thread calls `block_on`, and every multi-thread worker
//! owns one. `unpark` called before `park` is not lost: it leaves a
//! notification that the next `park` consumes at once.
//!
//! A parker built [`with_driver`](Parker::with_driver) waits in the
//! runtime's I/O reactor instead of its condition variable whenever no other
//! thread does: one `epoll_wait` then covers I/O events, the timer deadline
//! (its time-out) and `unpark` (the reactor's eventfd). See `crate::io`.

use crate::io::Driver;
use crate::loom::{AtomicBool, AtomicUsize, Condvar, Mutex, Ordering};
// The reactor is not modelled under loom (it sits on epoll): a std `Arc`.
use std::sync::Arc;
use std::time::Instant;

/// Nobody is parked and no notification is pending.
const EMPTY: usize = 0;
/// The owner is parked (or about to wait on the condition variable).
const PARKED: usize = 1;
/// A notification is pending; the next `park` returns at once.
const NOTIFIED: usize = 2;
/// The owner waits in the reactor's poller; `unpark` interrupts it there.
const POLLING: usize = 3;

/// A one-owner sleep/wake-up primitive (see the module docs).
#[derive(Debug)]
pub(crate) struct Parker {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
    /// The reactor this parker waits in when no other thread does.
    driver: Option<Arc<Driver>>,
    /// The last `park` waited in the reactor (see [`take_polled`](Self::take_polled)).
    polled: AtomicBool,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: AtomicUsize::new(EMPTY),
            lock: Mutex::new(()),
            condvar: Condvar::new(),
            driver: None,
            polled: AtomicBool::new(false),
        }
    }

    /// A parker that waits in `driver`'s poller whenever it is free.
    pub(crate) fn with_driver(driver: Arc<Driver>) -> Parker {
        Parker {
            driver: Some(driver),
            ..Parker::new()
        }
    }

    /// Whether a `park` waited in the reactor since the last call: the
    /// owner then has every I/O event up to that wait and can skip polling
    /// for more without waiting.
    pub(crate) fn take_polled(&self) -> bool {
        // Relaxed: set and read by the owner thread only.
        self.polled.swap(false, Ordering::Relaxed)
    }

    /// The reactor this parker waits in, if any.
    pub(crate) fn driver(&self) -> Option<&Arc<Driver>> {
        self.driver.as_ref()
    }

    /// Blocks until [`unpark`](Self::unpark) is called or `deadline` passes
    /// (`None`: no deadline). May return spuriously; callers re-check their
    /// queues and timers in a loop anyway.
    pub(crate) fn park(&self, deadline: Option<Instant>) {
        // SeqCst on every state change: the waker's "push work, then
        // unpark" and our "announce PARKED, then re-check" must not both miss
        // each other. Acquire on NOTIFIED -> EMPTY also makes the work pushed
        // before `unpark` visible to us.
        if self
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if let Some(driver) = &self.driver {
            if let Some(poller) = driver.try_lock() {
                // SeqCst: as for PARKED below; `unpark` then either sees
                // POLLING (and interrupts the poller) or we see NOTIFIED.
                match self.state.compare_exchange(
                    EMPTY,
                    POLLING,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ) {
                    Ok(_) => {}
                    Err(NOTIFIED) => {
                        self.state.store(EMPTY, Ordering::SeqCst);
                        return;
                    }
                    Err(actual) => unreachable!("parker in state {actual} while its owner parks"),
                }
                // An eventfd write made before the wait starts still ends
                // it: a notification cannot fall between the CAS and
                // `epoll_wait`.
                poller.turn(deadline.map(|d| d.saturating_duration_since(Instant::now())));
                // Relaxed: only the owner reads it, in `take_polled`.
                self.polled.store(true, Ordering::Relaxed);
                // Consumes a notification that came meanwhile (its eventfd
                // write may end a later wait spuriously, which callers
                // tolerate). SeqCst: Acquire side of `unpark`'s swap.
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
        }
        let mut guard = self.lock.lock();
        match self
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(NOTIFIED) => {
                // Notified between the first check and taking the lock. A
                // swap, for the same reason as after a time-out below.
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            Err(actual) => unreachable!("parker in state {actual} while its owner parks"),
        }
        loop {
            let timed_out = match deadline {
                Some(deadline) => self.condvar.wait_until(&mut guard, deadline).timed_out(),
                None => {
                    self.condvar.wait(&mut guard);
                    false
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
            if timed_out {
                // Either still PARKED (plain time-out) or NOTIFIED just now:
                // both end the park, and both leave the parker EMPTY. A
                // swap, not a store: if an `unpark` raced in, reading its
                // NOTIFIED makes what it published before (the work it
                // queued, the timer entry it added) visible to us; a store
                // would erase it without synchronising with it (the loom
                // model `parker_timeout_synchronises_with_unpark`).
                self.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
            // Spurious wake-up of the condition variable: wait again.
        }
    }

    /// Wakes the owner if it is parked, or makes its next `park` return at
    /// once. Cheap (one atomic swap) when the owner is not parked.
    pub(crate) fn unpark(&self) {
        // SeqCst: pairs with the SeqCst CAS to PARKED in `park` (see there).
        match self.state.swap(NOTIFIED, Ordering::SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED => {
                // Taking the lock orders this notification after the parker's
                // switch to PARKED, which it made while holding the lock: the
                // owner is then really waiting on the condvar, so it cannot
                // miss the `notify_one`.
                drop(self.lock.lock());
                self.condvar.notify_one();
            }
            POLLING => {
                if let Some(driver) = &self.driver {
                    driver.unpark();
                }
            }
            actual => unreachable!("parker in unknown state {actual}"),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Parker;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    #[test]
    fn unpark_before_park_is_not_lost() {
        let parker = Parker::new();
        parker.unpark();
        // Would block forever if the notification were lost.
        parker.park(None);
    }

    #[test]
    fn park_times_out() {
        let parker = Parker::new();
        let deadline = Instant::now() + Duration::from_millis(5);
        parker.park(Some(deadline));
        assert!(Instant::now() >= deadline);
    }

    #[test]
    fn unpark_from_another_thread() {
        let parker = Arc::new(Parker::new());
        let other = Arc::clone(&parker);
        let thread = std::thread::spawn(move || other.unpark());
        parker.park(None);
        thread.join().unwrap();
    }
}

/// Loom models of the parker (`LOOM_MAX_PREEMPTIONS=2 RUSTFLAGS="--cfg loom"
/// cargo test -p runtime --lib --release loom_models`). Under loom a timed
/// wait times out at once (see `loom.rs`), so the time-out path races the
/// unpark in every interleaving.
#[cfg(all(test, loom))]
mod loom_models {
    use super::Parker;
    use crate::loom::{thread, Arc, AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    /// Issue 10, bug 9. The unparker publishes work with a relaxed store
    /// (as the timer's `len` hint is) and unparks; the parker times out and
    /// then checks for the work, parking without a deadline if it sees none.
    /// With `store(EMPTY)` on the time-out path the parker can erase the
    /// notification without synchronising with it, miss the work and park
    /// for ever: loom reports "deadlock" (checked); with `swap` it cannot.
    #[test]
    fn parker_timeout_synchronises_with_unpark() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let work = Arc::new(AtomicUsize::new(0));
            let unparker = {
                let (parker, work) = (Arc::clone(&parker), Arc::clone(&work));
                thread::spawn(move || {
                    work.store(1, Ordering::Relaxed);
                    parker.unpark();
                })
            };
            parker.park(Some(Instant::now() + Duration::from_millis(1)));
            if work.load(Ordering::Relaxed) == 0 {
                parker.park(None);
            }
            unparker.join().unwrap();
        });
    }

    /// An unpark before, during or after a park is never lost.
    #[test]
    fn unpark_is_never_lost() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let other = Arc::clone(&parker);
            let unparker = thread::spawn(move || other.unpark());
            parker.park(None);
            unparker.join().unwrap();
        });
    }
}
