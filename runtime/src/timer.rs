//! The timer structure: pending deadlines and the wakers to call, in
//! deadline order. Each runtime has one, driven by its threads' parking; a
//! global one, driven by its own thread, serves `sleep`s polled outside our
//! runtimes.
//!
//! The mechanism under `crate::time`'s front end (`Sleep`, `Timeout`,
//! `Interval`): it knows neither the schedulers nor the thread's current
//! runtime; a scheduler implements [`Driver`] for the timer it owns.

use crate::loom::{AtomicUsize, Mutex, Ordering};
use crate::park::Parker;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;
use std::task::Waker;
use std::time::Instant;

/// Identifies a registered timer: its deadline, then a sequence number so
/// that equal deadlines fire in registration order.
pub(crate) type TimerKey = (Instant, u64);

/// What a `Sleep` needs of the runtime whose timer it registers with.
/// Each scheduler's shared state implements it.
pub(crate) trait Driver: Send + Sync + 'static {
    /// The runtime's timer.
    fn timer(&self) -> &Timer;

    /// A timer entry became the earliest one: make sure a thread of the
    /// runtime parks with the new, shorter time-out.
    fn timer_changed(&self);
}

/// Pending timers, ordered by [`TimerKey`].
pub(crate) struct Timer {
    inner: Mutex<Inner>,
    /// Number of registered timers, readable without the lock: lets the
    /// schedulers skip the timer entirely while none is registered. Every
    /// access is `Relaxed`: it is only a hint, always written under the lock,
    /// and a thread that must see a new entry (one about to park) is ordered
    /// after its registration by the lock or by the parker's unpark.
    len: AtomicUsize,
}

struct Inner {
    entries: BTreeMap<TimerKey, Waker>,
    next_seq: u64,
}

impl Timer {
    pub(crate) fn new() -> Timer {
        Timer {
            inner: Mutex::new(Inner {
                entries: BTreeMap::new(),
                next_seq: 0,
            }),
            len: AtomicUsize::new(0),
        }
    }

    /// Registers `waker` to be woken at `deadline`. Returns the entry's key
    /// and whether it is now the earliest entry (then the driver must be
    /// told: it may be parked with a later time-out).
    pub(crate) fn register(&self, deadline: Instant, waker: &Waker) -> (TimerKey, bool) {
        let mut inner = self.inner.lock();
        let key = (deadline, inner.next_seq);
        inner.next_seq += 1;
        inner.entries.insert(key, waker.clone());
        // Relaxed: a hint; the lock orders the entries themselves.
        self.len.store(inner.entries.len(), Ordering::Relaxed);
        let earliest = inner.entries.first_key_value().map(|(k, _)| *k) == Some(key);
        (key, earliest)
    }

    /// Replaces the waker of a registered entry. Returns `false` if the
    /// entry is gone (it fired, or the timer was cleared).
    pub(crate) fn update(&self, key: TimerKey, waker: &Waker) -> bool {
        let old = {
            let mut inner = self.inner.lock();
            match inner.entries.get_mut(&key) {
                Some(stored) if stored.will_wake(waker) => None,
                // The old waker is taken out, to be dropped after the lock
                // is released: dropping a waker may run a destructor (the
                // last reference to a task), which may come back here.
                Some(stored) => Some(std::mem::replace(stored, waker.clone())),
                None => return false,
            }
        };
        drop(old);
        true
    }

    /// Forgets a registered entry (no-op if it already fired).
    pub(crate) fn remove(&self, key: TimerKey) {
        let waker = {
            let mut inner = self.inner.lock();
            let waker = inner.entries.remove(&key);
            self.len.store(inner.entries.len(), Ordering::Relaxed);
            waker
        };
        // Dropped outside the lock: dropping a waker can run a destructor.
        drop(waker);
    }

    /// The earliest pending deadline.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.len.load(Ordering::Relaxed) == 0 {
            return None;
        }
        self.inner
            .lock()
            .entries
            .first_key_value()
            .map(|((deadline, _), _)| *deadline)
    }

    /// Wakes every entry whose deadline has passed, in deadline order.
    /// Returns whether any was woken.
    ///
    /// Inlined so that the schedulers' check on every round, with no timer
    /// registered, is one load rather than a call (issue 16's instruction
    /// counts); the firing itself stays out of line.
    #[inline]
    pub(crate) fn fire(&self) -> bool {
        // Relaxed: a stale zero only delays firing to the next check, and
        // the owner of a timer always re-checks before parking.
        if self.len.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.fire_expired()
    }

    /// [`fire`](Self::fire)'s work once an entry is registered.
    #[inline(never)]
    fn fire_expired(&self) -> bool {
        let now = Instant::now();
        let mut expired = Vec::new();
        {
            let mut inner = self.inner.lock();
            while let Some(entry) = inner.entries.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                expired.push(entry.remove());
            }
            self.len.store(inner.entries.len(), Ordering::Relaxed);
        }
        // Woken outside the lock, in deadline order: a waker may schedule a
        // task, and that may register a new timer.
        let fired = !expired.is_empty();
        for waker in expired {
            waker.wake();
        }
        fired
    }

    /// Empties the timer (the runtime shut down), waking every entry: a
    /// `Sleep` still alive (polled elsewhere now) then registers with another
    /// timer. The wakers are woken and dropped outside the lock.
    pub(crate) fn clear(&self) {
        let entries = {
            let mut inner = self.inner.lock();
            self.len.store(0, Ordering::Relaxed);
            std::mem::take(&mut inner.entries)
        };
        for waker in entries.into_values() {
            waker.wake();
        }
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("len", &self.len.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The timer for `sleep`s polled outside any of our runtimes (under tokio,
/// `futures::executor`, ...): a thread started on first use parks until the
/// next deadline and wakes the expired entries.
#[derive(Debug)]
pub(crate) struct GlobalTimer {
    timer: Timer,
    parker: Parker,
}

static GLOBAL: OnceLock<GlobalTimer> = OnceLock::new();

impl GlobalTimer {
    /// The global timer, its thread started if it was not yet.
    pub(crate) fn get() -> &'static GlobalTimer {
        GLOBAL.get_or_init(|| {
            std::thread::Builder::new()
                .name("runtime-global-timer".into())
                .spawn(|| {
                    let global = GlobalTimer::get();
                    loop {
                        global.timer.fire();
                        global.parker.park(global.timer.next_deadline());
                    }
                })
                .expect("failed to start the global timer thread");
            GlobalTimer {
                timer: Timer::new(),
                parker: Parker::new(),
            }
        })
    }

    pub(crate) fn timer(&self) -> &Timer {
        &self.timer
    }

    /// A new earliest entry: wake the timer thread to re-park.
    pub(crate) fn timer_changed(&self) {
        self.parker.unpark();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::Timer;
    use parking_lot::Mutex;
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use test_util::{drop_hook_waker, RecordingWaker};

    #[test]
    fn fires_in_deadline_order_then_registration_order() {
        let timer = Timer::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let now = Instant::now();
        let waker = |i| RecordingWaker::waker(i, &log);
        let (_, first) = timer.register(now + Duration::from_millis(3), &waker(0));
        assert!(first);
        let (_, earlier) = timer.register(now + Duration::from_millis(1), &waker(1));
        assert!(earlier);
        let (_, later) = timer.register(now + Duration::from_millis(3), &waker(2));
        assert!(!later);
        let (key, _) = timer.register(now + Duration::from_millis(2), &waker(3));
        timer.remove(key);
        let (far, _) = timer.register(now + Duration::from_secs(3600), &waker(4));
        assert_eq!(timer.next_deadline(), Some(now + Duration::from_millis(1)));
        while Instant::now() < now + Duration::from_millis(3) {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert!(timer.fire());
        assert_eq!(*log.lock(), [1, 0, 2]);
        assert!(timer.update(far, &waker(5)));
        assert_eq!(timer.next_deadline(), Some(far.0));
        timer.clear();
        assert!(!timer.update(far, &waker(6)));
        assert_eq!(timer.next_deadline(), None);
    }

    /// Issue 10, bug 6 (the timer's half): a replaced waker whose drop comes
    /// back to the timer (as the last waker of a task does when its
    /// destructor removes its `Sleep`) deadlocked when dropped under the
    /// timer's lock.
    #[test]
    fn update_drops_the_replaced_waker_outside_the_lock() {
        test_util::with_watchdog(10, || {
            let timer = Arc::new(Timer::new());
            let deadline = Instant::now() + Duration::from_secs(3600);
            let reentrant = Arc::clone(&timer);
            let reenter = drop_hook_waker(move || {
                let _ = reentrant.next_deadline();
            });
            let (key, _) = timer.register(deadline, &reenter);
            drop(reenter); // the timer holds the last one
            let log = Arc::new(Mutex::new(Vec::new()));
            let other = RecordingWaker::waker(0, &log);
            assert!(timer.update(key, &other));
            timer.clear();
        });
    }
}
