//! A bound on tests that could hang: a hang fails the test instead of
//! stalling CI.

#![allow(dead_code)]

use std::time::Duration;

/// Runs `f` on a fresh thread and returns its result, or panics if it takes
/// more than `secs` seconds (a lost wake-up, a deadlock). A panic inside `f`
/// is resumed here.
pub fn bounded<R: Send + 'static>(secs: u64, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let result = f();
        let _ = tx.send(());
        result
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => worker.join().unwrap(),
        // The thread panicked: its sender is gone; resume its panic.
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Ok(result) => result,
            Err(payload) => std::panic::resume_unwind(payload),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: the test did not finish within {secs} s")
        }
    }
}
