//! Shared by the `net*` test files: a watchdog that turns a hang into a
//! failure, and the two runtime flavours.

#![allow(dead_code)]

use std::sync::mpsc;
use std::time::Duration;

/// Aborts the test process if not dropped within `secs` seconds: a test
/// that hangs on a lost wake-up fails (with a message) instead of stalling CI.
#[must_use = "the watchdog is disarmed when dropped"]
pub struct Watchdog {
    done: Option<mpsc::Sender<()>>,
}

pub fn watchdog(name: &'static str, secs: u64) -> Watchdog {
    let (done, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(Duration::from_secs(secs)) {
            eprintln!("watchdog: test `{name}` still running after {secs} s; aborting");
            std::process::abort();
        }
    });
    Watchdog { done: Some(done) }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.send(());
        }
    }
}

/// A current-thread runtime and a multi-thread one with two workers.
pub fn flavours() -> [(&'static str, runtime::Runtime); 2] {
    [
        ("current-thread", runtime::Runtime::new()),
        (
            "multi-thread",
            runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()
                .unwrap(),
        ),
    ]
}
