//! The chapter's two coroutines, shared by the gather tests.

#![allow(dead_code)]

use std::sync::Mutex;

use sync_primitives::Waiter;

/// The chapter's `wait_job`.
pub async fn wait_job(waiter: &Waiter, log: &Mutex<Vec<String>>) {
    log.lock().unwrap().push("start".into());
    waiter.await; // wait for count_up_to to be finished
    log.lock().unwrap().push("finished".into());
}

/// The chapter's `count_up_to`; `runtime::yield_now` works under any
/// executor, as `asyncio.sleep(0)` does.
pub async fn count_up_to(waiter: &Waiter, n: u32, log: &Mutex<Vec<String>>) {
    for i in 0..n {
        log.lock().unwrap().push(i.to_string());
        runtime::yield_now().await; // asyncio.sleep(0)
    }
    waiter.set_done();
}

/// The chapter's transcript for `count_up_to(waiter, 10)`.
pub fn chapter_lines() -> Vec<String> {
    let mut lines = vec!["start".to_string()];
    lines.extend((0..10).map(|i| i.to_string()));
    lines.push("finished".into());
    lines
}
