//! [`SpinLock`]: the lock of a task-list shard, whose unlock is a plain
//! `Release` store.
//!
//! A shard's critical sections are a few pointer writes in task headers
//! that are in cache anyway (link, unlink), so the lock's own atomics are
//! most of their cost. `parking_lot`'s mutex takes one read-modify-write to
//! lock and a second (a compare-exchange that checks for parked waiters) to
//! unlock; this lock takes the first only: it has no parked waiters to
//! look for, because a waiter never parks on it. It spins a bounded number
//! of times, then yields its time slice, then sleeps briefly (the shape of
//! the spin-then-yield locks of smol's `concurrent-queue` and of tokio's
//! `Backoff`).
//!
//! # Why spinning is safe here (priority inversion, two cores)
//!
//! - A holder never blocks, allocates on a path a waiter needs, or runs
//!   user code (a waker, a future, a destructor) while holding the lock:
//!   the sections are link, unlink, and the walks of `len`, `is_empty` and
//!   `wakers` (the latter only at shutdown). So the holder always makes
//!   progress as soon as it is on a core.
//! - A waiter spins at most [`SPINS`] times (a few hundred nanoseconds,
//!   longer than a link or unlink), then calls `thread::yield_now`, which
//!   lets a preempted holder on the same core run under the normal
//!   (`SCHED_OTHER`) policy. On two cores, holder and waiter on different
//!   cores is the common case and the wait is the length of a section.
//! - If the holder still does not get the core back (a waiter with a
//!   real-time priority above the holder's, where `yield_now` returns at
//!   once), the waiter sleeps after [`YIELDS`] yields: sleeping gives the
//!   core to any thread, whatever its priority, so the holder finishes.
//!   The runtime sets no priorities itself.
//!
//! Under loom the waiter yields to loom's scheduler on every failed attempt
//! (loom needs that to explore a spin loop), and the cell's accesses are
//! tracked through the guard.

use crate::loom::{thread, AtomicBool, Ordering, UnsafeCell};
use std::fmt;
use std::ops::{Deref, DerefMut};

/// Failed attempts spent spinning before yielding the time slice.
#[cfg(not(loom))]
const SPINS: u32 = 64;

/// Yields before each further attempt sleeps (see the module docs).
#[cfg(not(loom))]
const YIELDS: u32 = 16;

/// A lock for sections of a few pointer writes: one compare-exchange to
/// lock, a `Release` store to unlock. See the module docs for when it may
/// be used.
pub(crate) struct SpinLock<T> {
    locked: AtomicBool,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `value` to one thread at a time (a
// guard exists only while `locked` is held), so sending `T` between
// threads is all that sharing the lock requires, as for `Mutex<T>`.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: owning the lock is owning the `T`.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub(crate) fn new(value: T) -> SpinLock<T> {
        SpinLock {
            locked: AtomicBool::new(false),
            value: UnsafeCell::new(value),
        }
    }

    /// Takes the lock, waiting (spin, then yield, then sleep) while another
    /// thread holds it.
    #[inline]
    pub(crate) fn lock(&self) -> SpinLockGuard<'_, T> {
        // Acquire: pairs with the Release store of the previous holder's
        // unlock, so its writes to the value (and to the task links it
        // guards) happen before ours.
        if self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        SpinLockGuard::new(self)
    }

    #[cold]
    fn lock_contended(&self) {
        #[cfg(not(loom))]
        let mut attempts = 0u32;
        loop {
            // Relaxed: only a hint to avoid writing the line while it is
            // held; the compare-exchange below is what acquires.
            if !self.locked.load(Ordering::Relaxed)
                && self
                    .locked
                    .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
            #[cfg(loom)]
            thread::yield_now();
            #[cfg(not(loom))]
            {
                attempts = attempts.saturating_add(1);
                if attempts <= SPINS {
                    std::hint::spin_loop();
                } else if attempts <= SPINS + YIELDS {
                    thread::yield_now();
                } else {
                    thread::sleep(std::time::Duration::from_micros(50));
                }
            }
        }
    }
}

impl<T> fmt::Debug for SpinLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value is not read: only the holder may.
        f.debug_struct("SpinLock")
            .field("locked", &self.locked.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Access to a [`SpinLock`]'s value; unlocks when dropped.
pub(crate) struct SpinLockGuard<'a, T> {
    lock: &'a SpinLock<T>,
    /// Loom's tracked pointer: loom checks that no other access to the
    /// value overlaps this one.
    #[cfg(loom)]
    value: loom::cell::MutPtr<T>,
}

impl<'a, T> SpinLockGuard<'a, T> {
    /// The guard of a lock the caller has just taken.
    fn new(lock: &'a SpinLock<T>) -> SpinLockGuard<'a, T> {
        SpinLockGuard {
            lock,
            #[cfg(loom)]
            value: lock.value.get_mut(),
        }
    }

    fn value_ptr(&self) -> *mut T {
        #[cfg(loom)]
        {
            // SAFETY: the lock is held (see `Deref`); loom tracks the access.
            unsafe { self.value.deref() as *mut T }
        }
        #[cfg(not(loom))]
        {
            self.lock.value.with_mut(|value| value)
        }
    }
}

impl<T> Deref for SpinLockGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: this guard exists only while the lock is held, and the
        // lock is held by one guard at a time: no other access to the value
        // overlaps this borrow, which the guard's lifetime bounds.
        unsafe { &*self.value_ptr() }
    }
}

impl<T> DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`; `&mut self` makes this borrow the only one
        // through this guard.
        unsafe { &mut *self.value_ptr() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // Release: our writes to the value (and to the links it guards)
        // happen before the next holder's Acquire compare-exchange reads
        // `false`. No read-modify-write: nobody parks on this lock, so there
        // is no one to wake.
        self.lock.locked.store(false, Ordering::Release);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::SpinLock;
    use std::sync::Arc;

    /// Two threads incrementing under the lock lose no update; bounded by
    /// a watchdog.
    #[test]
    fn excludes() {
        test_util::with_watchdog(60, || {
            let lock = Arc::new(SpinLock::new(0u64));
            let n = if cfg!(miri) { 50 } else { 100_000 };
            let threads: Vec<_> = (0..2)
                .map(|_| {
                    let lock = Arc::clone(&lock);
                    std::thread::spawn(move || {
                        for _ in 0..n {
                            *lock.lock() += 1;
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(*lock.lock(), 2 * n);
            assert!(format!("{:?}", lock).contains("locked: false"));
        });
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    use super::SpinLock;
    use crate::loom::{thread, Arc};

    /// Two threads each read-modify-write the value under the lock: both
    /// updates land, and loom's cell tracking finds no overlapping access
    /// (the unlock's Release store orders each section before the next).
    #[test]
    fn spin_lock_excludes() {
        loom::model(|| {
            let lock = Arc::new(SpinLock::new(0u32));
            let other = {
                let lock = Arc::clone(&lock);
                thread::spawn(move || *lock.lock() += 1)
            };
            *lock.lock() += 1;
            other.join().unwrap();
            assert_eq!(*lock.lock(), 2);
        });
    }
}
