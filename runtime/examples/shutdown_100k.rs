//! Shutdown of a runtime with 100_000 parked tasks: how long `drop` takes,
//! and the memory the tasks held (issue 12).
//!
//! ```sh
//! cargo run --release -p runtime --example shutdown_100k
//! ```
//!
//! Each task waits for ever on a `sync_primitives::Event` (so it is
//! parked on something outside the runtime) and holds a drop guard;
//! dropping the runtime must drop all of them. Memory comes from
//! `/proc/self/status` (Linux): the resident set before spawning, with the
//! tasks parked, after the drop, and the peak.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TASKS: usize = 100_000;

struct Guard(Arc<AtomicUsize>);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// A field of `/proc/self/status`, in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with(field))
                .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn measure(flavour: &str, rt: runtime::Runtime) {
    let event = Arc::new(sync_primitives::Event::new());
    let started = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let before = status_kib("VmRSS:");
    let spawn_start = Instant::now();
    for _ in 0..TASKS {
        let (event, started) = (Arc::clone(&event), Arc::clone(&started));
        let guard = Guard(Arc::clone(&dropped));
        drop(rt.spawn(async move {
            let _guard = guard;
            started.fetch_add(1, Ordering::Relaxed);
            event.wait().await;
        }));
    }
    rt.block_on(async {
        while started.load(Ordering::Relaxed) < TASKS {
            runtime::sleep(Duration::from_millis(1)).await;
        }
    });
    let spawned_in = spawn_start.elapsed();
    let parked = status_kib("VmRSS:");
    let drop_start = Instant::now();
    drop(rt);
    let dropped_in = drop_start.elapsed();
    assert_eq!(dropped.load(Ordering::Relaxed), TASKS, "every task dropped");
    let after = status_kib("VmRSS:");
    println!(
        "{flavour:>14}: {TASKS} parked tasks; spawn+park {spawned_in:?}, drop {dropped_in:?} \
         ({:.0} ns/task); RSS {before} KiB -> {parked} KiB parked ({:.0} B/task) -> {after} KiB \
         after drop; peak so far {} KiB",
        dropped_in.as_nanos() as f64 / TASKS as f64,
        (parked.saturating_sub(before) * 1024) as f64 / TASKS as f64,
        status_kib("VmHWM:"),
    );
}

fn main() {
    measure("current_thread", runtime::Runtime::new());
    measure(
        "multi_thread",
        runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("two worker threads"),
    );
}
