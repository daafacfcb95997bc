//! The one place this crate takes its synchronisation types from.
//!
//! Under `cfg(loom)` these are loom's model-checked types, so the models
//! (`#[cfg(all(test, loom))]` modules beside the code, and `tests/loom*.rs`)
//! explore every interleaving of the code that uses them; otherwise they
//! are `std`'s atomics and `Arc`, and `parking_lot`'s lock and condition
//! variable. The rest of the crate imports atomics, locks and `Arc` only
//! from here. (It re-exports only what the crate uses: the build denies
//! unused imports in both configurations.)
//!
//! (The same shape as `sync-primitives/src/loom.rs`.)

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, AtomicUsize};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::AtomicPtr;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::AtomicPtr;

pub(crate) use std::sync::atomic::Ordering;

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::Arc;

#[cfg(loom)]
pub(crate) use loom::thread;
#[cfg(not(loom))]
pub(crate) use std::thread;

#[cfg(not(loom))]
pub(crate) use parking_lot::{Condvar, Mutex};

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;
#[cfg(not(loom))]
pub(crate) use std_cell::UnsafeCell;

/// `std`'s `UnsafeCell` with loom's access API (`with`, `with_mut`), so
/// that code written for loom's cell (which checks every access for
/// races) compiles unchanged without it.
#[cfg(not(loom))]
mod std_cell {
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        #[inline]
        pub(crate) const fn new(value: T) -> Self {
            Self(std::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a shared pointer to the value.
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with a mutable pointer to the value.
        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}

#[cfg(loom)]
pub(crate) use loom_sync::{Condvar, Mutex};

#[cfg(loom)]
mod loom_sync {
    /// loom's mutex with `parking_lot`'s signature: no poisoning.
    #[derive(Debug)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Self {
            Self(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            // Our code never panics while holding the lock, so it is never
            // poisoned.
            self.0.lock().unwrap()
        }
    }

    /// loom's condition variable with `parking_lot`'s signature (waits take
    /// `&mut MutexGuard`).
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Self {
            Self(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
            // loom's `wait` takes the guard by value; swap it through a
            // temporary without unlocking twice.
            replace_with(guard, |g| self.0.wait(g).unwrap());
        }

        /// A timed wait: under loom there is no clock, so it "times out" at
        /// once, and loom's preemptions put the other threads' operations
        /// before, during and after it: the models explore the time-out
        /// path racing every other operation. (No `yield_now` here: loom
        /// then stops offering values read before the yield, which would
        /// hide stale reads the models must see.)
        pub(crate) fn wait_until<T>(
            &self,
            _guard: &mut MutexGuard<'_, T>,
            _deadline: std::time::Instant,
        ) -> WaitTimeoutResult {
            WaitTimeoutResult(true)
        }

        /// Waits at most `timeout` (loom does not model time: a model
        /// sees either a notification or a time-out).
        pub(crate) fn wait_for<T>(
            &self,
            guard: &mut MutexGuard<'_, T>,
            timeout: std::time::Duration,
        ) -> WaitTimeoutResult {
            let mut timed_out = false;
            replace_with(guard, |g| {
                let (g, result) = self.0.wait_timeout(g, timeout).unwrap();
                timed_out = result.timed_out();
                g
            });
            WaitTimeoutResult(timed_out)
        }

        pub(crate) fn notify_one(&self) -> bool {
            self.0.notify_one();
            true
        }

        pub(crate) fn notify_all(&self) -> usize {
            self.0.notify_all();
            0
        }
    }

    /// The result of a timed wait under loom, as parking_lot's: always
    /// timed out for [`Condvar::wait_until`], loom's answer for
    /// [`Condvar::wait_for`].
    #[derive(Debug)]
    pub(crate) struct WaitTimeoutResult(bool);

    impl WaitTimeoutResult {
        pub(crate) fn timed_out(&self) -> bool {
            self.0
        }
    }

    fn replace_with<T>(slot: &mut T, f: impl FnOnce(T) -> T) {
        // SAFETY: `slot` is read out and written back before anyone can see
        // it; `f` (a condvar wait on a loom mutex) does not unwind in our
        // models, and a panic there aborts the model run anyway.
        unsafe {
            let old = std::ptr::read(slot);
            std::ptr::write(slot, f(old));
        }
    }
}
