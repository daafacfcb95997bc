//! The bound on a test that could hang.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

/// Runs `f` on its own thread and returns its result, or panics if it has
/// not returned within `secs` seconds (thirty times that under miri, which
/// runs code far slower), so a deadlock or a lost wake-up fails the test
/// instead of stalling CI. A panic inside `f` is resumed here, so the test
/// fails with `f`'s own message.
///
/// The hung thread is left behind (a thread cannot be killed); the test
/// binary ends it when it exits.
///
/// # Panics
///
/// Panics on the time-out, or with `f`'s panic.
///
/// # Examples
///
/// ```
/// let sum = test_util::with_watchdog(10, || (1..=10).sum::<u32>());
/// assert_eq!(sum, 55);
/// ```
///
/// ```should_panic
/// // A lost wake-up: the test fails after a second instead of hanging.
/// test_util::with_watchdog(1, || std::thread::park());
/// ```
#[track_caller]
pub fn with_watchdog<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let secs = if cfg!(miri) { secs * 30 } else { secs };
    let (done, finished) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let value = f();
        let _ = done.send(());
        value
    });
    match finished.recv_timeout(Duration::from_secs(secs)) {
        // Sent just before the thread returns: the join waits no longer.
        Ok(()) => match thread.join() {
            Ok(value) => value,
            Err(panic) => std::panic::resume_unwind(panic),
        },
        // `f` panicked (the sender was dropped unsent): resume its panic.
        Err(RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(value) => value,
        },
        Err(RecvTimeoutError::Timeout) => {
            panic!("watchdog: still running after {secs} s (a deadlock or a lost wake-up)")
        }
    }
}
