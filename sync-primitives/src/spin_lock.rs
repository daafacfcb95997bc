//! A lock for a few instructions of bookkeeping whose unlock is a plain
//! store: the wait queue's (`wait_queue`), under every primitive's waiters.
//!
//! `parking_lot`'s lock (the crate's usual internal lock, from the `loom`
//! facade) unlocks with a compare-exchange, because a parked thread may be
//! waiting for it. An atomic read-modify-write costs tens of cycles even on
//! a cache line the core already owns (it drains the store buffer); a
//! ping-pong through two `Event`s takes the lock four times per round trip,
//! and those four unlocks were a tenth of it (131 -> 115 ns per round trip
//! on a tokio current-thread runtime, measured). This lock never parks:
//! locking is one swap, unlocking one release store, and a thread that finds
//! it held spins a little, then yields its time slice until it is free.
//!
//! That is only right for critical sections that are a few dozen
//! instructions and never run user code: the wait queue's, which never wakes
//! or drops a waker under its lock. A holder is then almost never preempted
//! inside, and when it is, the others yield to it rather than burn the core.
//!
//! Under loom it is loom's blocking lock (the `loom` facade's `Mutex`), as
//! `parking_lot`'s is: loom cannot explore a spin loop (every look is a
//! branch), and the models check what the lock is for, mutual exclusion
//! around the list, not how it is built. Its own two operations (a swap
//! that acquires, a store that releases) are exercised by the test below,
//! natively and under miri.

#[cfg(loom)]
pub(crate) use crate::loom::{Mutex as SpinLock, MutexGuard as SpinGuard};

#[cfg(not(loom))]
pub(crate) use spin::{SpinGuard, SpinLock};

#[cfg(not(loom))]
mod spin {
    use std::cell::UnsafeCell;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::yield_now;

    /// How many `spin_loop` hints a thread that found the lock held waits
    /// before it looks again, doubling up to this; past it, it yields its time
    /// slice between looks.
    const MAX_HINTS: u32 = 64;

    /// A lock around a `T`, unlocked by a store. See the module docs for when it
    /// fits.
    pub(crate) struct SpinLock<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the lock hands out access to `value` to one holder at a time,
    // possibly on another thread, so sharing it needs `T: Send` only (as for
    // `std::sync::Mutex`).
    unsafe impl<T: Send> Sync for SpinLock<T> {}

    /// Access to the locked value; unlocks when dropped.
    pub(crate) struct SpinGuard<'a, T> {
        lock: &'a SpinLock<T>,
    }

    impl<T> SpinLock<T> {
        /// A new, unlocked lock around `value`.
        pub(crate) const fn new(value: T) -> SpinLock<T> {
            SpinLock {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        /// Locks it, waiting (spinning, then yielding) while another thread
        /// holds it.
        #[inline]
        pub(crate) fn lock(&self) -> SpinGuard<'_, T> {
            // Acquire: pairs with the Release store of the last unlock, so the
            // last holder's writes to `value` happen-before ours.
            if self.locked.swap(true, Ordering::Acquire) {
                self.lock_contended();
            }
            SpinGuard { lock: self }
        }

        /// [`SpinLock::lock`] when the lock was held.
        #[cold]
        fn lock_contended(&self) {
            let mut hints = 1;
            loop {
                // Relaxed: only looks; the swap below acquires. Looking first
                // keeps the cache line shared while the holder works.
                while self.locked.load(Ordering::Relaxed) {
                    if hints <= MAX_HINTS {
                        for _ in 0..hints {
                            std::hint::spin_loop();
                        }
                        hints *= 2;
                    } else {
                        yield_now();
                    }
                }
                // Acquire: as in `lock`.
                if !self.locked.swap(true, Ordering::Acquire) {
                    return;
                }
            }
        }
    }

    impl<T> Deref for SpinGuard<'_, T> {
        type Target = T;

        #[inline]
        fn deref(&self) -> &T {
            // SAFETY: the guard holds the lock, so nobody else accesses the
            // value while it lives, and the borrow cannot outlive the guard.
            unsafe { &*self.lock.value.get() }
        }
    }

    impl<T> DerefMut for SpinGuard<'_, T> {
        #[inline]
        fn deref_mut(&mut self) -> &mut T {
            // SAFETY: as in `deref`, and `&mut self` makes this borrow unique.
            unsafe { &mut *self.lock.value.get() }
        }
    }

    impl<T> Drop for SpinGuard<'_, T> {
        #[inline]
        fn drop(&mut self) {
            // Release: our writes to the value happen-before the next holder's
            // Acquire swap.
            self.lock.locked.store(false, Ordering::Release);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::SpinLock;
    use std::sync::Arc;

    #[test]
    fn four_threads_incrementing_under_it_lose_no_update() {
        test_util::with_watchdog(30, || {
            // Small under miri, which runs it a thousand times slower.
            let per_thread = if cfg!(miri) { 200 } else { 20_000 };
            let lock = Arc::new(SpinLock::new(0u64));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let lock = lock.clone();
                    std::thread::spawn(move || {
                        for _ in 0..per_thread {
                            *lock.lock() += 1;
                        }
                    })
                })
                .collect();
            for thread in threads {
                thread.join().unwrap();
            }
            assert_eq!(*lock.lock(), 4 * per_thread);
        });
    }
}
