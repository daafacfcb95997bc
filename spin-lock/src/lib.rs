//! A lock for a few instructions of bookkeeping whose unlock is a plain
//! store, written once for the workspace: the wait queue under every
//! `sync-primitives` primitive, and the runtime's task list.
//!
//! ```
//! use spin_lock::SpinLock;
//!
//! let counter = SpinLock::new(0_u32);
//! std::thread::scope(|s| {
//!     for _ in 0..2 {
//!         s.spawn(|| {
//!             for _ in 0..1000 {
//!                 *counter.lock() += 1;
//!             }
//!         });
//!     }
//! });
//! assert_eq!(*counter.lock(), 2000);
//! ```
//!
//! `parking_lot`'s lock unlocks with a compare-exchange, because a parked
//! thread may be waiting for it. An atomic read-modify-write costs tens of
//! cycles even on a cache line the core already owns (it drains the store
//! buffer): a ping-pong through two `Event`s takes the wait queue's lock
//! four times per round trip, and those four unlocks were a tenth of it
//! (131 -> 115 ns per round trip on a tokio current-thread runtime,
//! measured), and a spawned task's link and unlink in the runtime's task
//! list take its shard lock twice. This lock never parks: locking is one
//! swap, unlocking one release store, and a thread that finds it held spins
//! a little (doubling its spin hints), then yields its time slice, then
//! sleeps briefly between looks.
//!
//! That is only right for critical sections that are a few dozen
//! instructions and never run user code (no waker woken or dropped, no
//! destructor; the wait queue does clone a waiter's waker under it, which
//! a well-behaved waker does in a few instructions). The one slow thing its users do under it is rare: a wait
//! queue's slot vector growing past its high-water mark (an allocation,
//! amortised away once the queue has been that long). A holder is then almost never
//! preempted inside. When it is (on a machine with more runnable threads
//! than cores), the others first yield to it, and past a few yields sleep,
//! so that a holder waiting for a core behind them gets it: there is no
//! priority inversion to fear from threads of one priority, and a waiter
//! never burns a core for longer than a time slice.
//!
//! Under loom (`--cfg loom`) it is loom's blocking lock: loom cannot explore
//! a spin loop usefully (every look is a branch), and the models check what
//! the lock is for, mutual exclusion around the data, not how it is built.
//! Its own two operations (a swap that acquires, a store that releases) are
//! exercised by the tests below, natively and under miri.

#[cfg(loom)]
pub use loom_lock::{SpinGuard, SpinLock};

#[cfg(not(loom))]
pub use spin::{SpinGuard, SpinLock};

#[cfg(loom)]
mod loom_lock {
    /// Under loom: loom's blocking lock (see the crate docs).
    #[derive(Debug)]
    pub struct SpinLock<T>(loom::sync::Mutex<T>);

    /// Under loom: loom's guard.
    pub type SpinGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> SpinLock<T> {
        /// A new, unlocked lock around `value`.
        pub fn new(value: T) -> SpinLock<T> {
            SpinLock(loom::sync::Mutex::new(value))
        }

        /// Locks it.
        pub fn lock(&self) -> SpinGuard<'_, T> {
            self.0.lock().expect("loom's lock is never poisoned here")
        }
    }
}

#[cfg(not(loom))]
mod spin {
    use std::cell::UnsafeCell;
    use std::fmt;
    use std::marker::PhantomData;
    use std::ops::{Deref, DerefMut};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread::yield_now;

    /// How many `spin_loop` hints a thread that found the lock held waits
    /// before it looks again, doubling up to this; past it, it yields its time
    /// slice between looks.
    const MAX_HINTS: u32 = 64;

    /// How many times a waiter yields its time slice, past the spinning,
    /// before it sleeps between looks.
    const MAX_YIELDS: u32 = 16;

    /// How long a waiter sleeps between looks once it has yielded
    /// [`MAX_YIELDS`] times.
    const SLEEP: std::time::Duration = std::time::Duration::from_micros(50);

    /// A lock around a `T`, unlocked by a store. See the crate docs for when it
    /// fits.
    pub struct SpinLock<T> {
        locked: AtomicBool,
        value: UnsafeCell<T>,
    }

    // SAFETY: the lock hands out access to `value` to one holder at a time,
    // possibly on another thread, so sharing it needs `T: Send` only (as for
    // `std::sync::Mutex`).
    unsafe impl<T: Send> Sync for SpinLock<T> {}

    /// Access to the locked value; unlocks when dropped.
    ///
    /// It is `Send` when `T` is (the unlock is a store, which any thread
    /// may make), and `Sync` only when `T` is `Sync` too, as
    /// `std::sync::MutexGuard`: a shared guard derefs to `&T` on every
    /// thread that shares it.
    ///
    /// ```
    /// fn is_send_and_sync<T: Send + Sync>() {}
    /// is_send_and_sync::<spin_lock::SpinGuard<'static, u8>>();
    /// ```
    ///
    /// ```compile_fail
    /// fn is_sync<T: Sync>() {}
    /// // Two threads sharing this guard could both `set` the `Cell`.
    /// is_sync::<spin_lock::SpinGuard<'static, std::cell::Cell<u8>>>();
    /// ```
    pub struct SpinGuard<'a, T> {
        lock: &'a SpinLock<T>,
        /// Makes the guard `Sync` only if `T` is: the `&SpinLock<T>` alone
        /// is `Sync` whenever `T: Send`, which would let threads sharing
        /// the guard reach a `!Sync` value at once.
        _data: PhantomData<&'a mut T>,
    }

    impl<T> SpinLock<T> {
        /// A new, unlocked lock around `value`.
        pub const fn new(value: T) -> SpinLock<T> {
            SpinLock {
                locked: AtomicBool::new(false),
                value: UnsafeCell::new(value),
            }
        }

        /// Locks it, waiting (spinning, then yielding, then sleeping) while
        /// another thread holds it.
        #[inline]
        pub fn lock(&self) -> SpinGuard<'_, T> {
            // Acquire: pairs with the Release store of the last unlock, so the
            // last holder's writes to `value` happen-before ours.
            if self.locked.swap(true, Ordering::Acquire) {
                self.lock_contended();
            }
            SpinGuard {
                lock: self,
                _data: PhantomData,
            }
        }

        /// [`SpinLock::lock`] when the lock was held.
        #[cold]
        fn lock_contended(&self) {
            let mut hints = 1;
            let mut yields = 0;
            loop {
                // Relaxed: only looks; the swap below acquires. Looking first
                // keeps the cache line shared while the holder works.
                while self.locked.load(Ordering::Relaxed) {
                    if hints <= MAX_HINTS {
                        for _ in 0..hints {
                            std::hint::spin_loop();
                        }
                        hints *= 2;
                    } else if yields < MAX_YIELDS {
                        yields += 1;
                        yield_now();
                    } else {
                        // The holder was preempted and is waiting for a
                        // core: step off ours for a while.
                        std::thread::sleep(SLEEP);
                    }
                }
                // Acquire: as in `lock`.
                if !self.locked.swap(true, Ordering::Acquire) {
                    return;
                }
            }
        }
    }

    impl<T> fmt::Debug for SpinLock<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SpinLock")
                .field("locked", &self.locked.load(Ordering::Relaxed))
                .finish_non_exhaustive()
        }
    }

    impl<T> fmt::Debug for SpinGuard<'_, T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SpinGuard").finish_non_exhaustive()
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

    #[test]
    fn a_waiter_past_its_spins_and_yields_takes_the_lock_once_released() {
        test_util::with_watchdog(30, || {
            let lock = Arc::new(SpinLock::new(0u32));
            let mut guard = lock.lock();
            let (started, start) = std::sync::mpsc::channel();
            let waiter = {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    started.send(()).unwrap();
                    // Held for 20 ms: this goes through the spins, the
                    // 16 yields and then sleeps between looks.
                    let mut guard = lock.lock();
                    assert_eq!(*guard, 1, "the holder's write, released to us");
                    *guard += 1;
                })
            };
            start.recv().unwrap();
            std::thread::sleep(std::time::Duration::from_millis(20));
            *guard += 1;
            drop(guard);
            waiter.join().unwrap();
            assert_eq!(*lock.lock(), 2);
        });
    }

    #[test]
    fn a_panic_while_holding_it_unlocks_it_without_poisoning() {
        test_util::with_watchdog(10, || {
            let lock = Arc::new(SpinLock::new(vec![1]));
            let panicked = {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    let mut guard = lock.lock();
                    guard.push(2);
                    panic!("a panic while holding the lock");
                })
                .join()
            };
            assert!(panicked.is_err());
            // The guard's drop unlocked it while unwinding (a stuck lock
            // would trip the watchdog), and the value keeps what the
            // panicking holder wrote: no poisoning.
            let mut guard = lock.lock();
            assert_eq!(*guard, [1, 2]);
            guard.push(3);
            drop(guard);
            assert_eq!(*lock.lock(), [1, 2, 3]);
        });
    }
}
