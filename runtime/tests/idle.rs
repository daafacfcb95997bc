//! A runtime whose tasks all sleep parks its threads: no busy loop.
//!
//! Alone in its test binary, because it reads the process's CPU time.

#![cfg(target_os = "linux")]

use runtime::{Builder, Runtime};
use std::time::Duration;
use test_util::with_watchdog;

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

/// User + system CPU time of this process, in clock ticks (usually 10 ms).
fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The command name may contain spaces: fields start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime are fields 14 and 15 of the file, 12 and 13 here.
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

fn assert_idle_while_sleeping(rt: &Runtime) {
    let before = cpu_ticks();
    rt.block_on(async {
        let sleepers: Vec<_> = (0..4)
            .map(|_| runtime::spawn(runtime::sleep(Duration::from_millis(500))))
            .collect();
        for sleeper in sleepers {
            sleeper.await.unwrap();
        }
    });
    let used = cpu_ticks() - before;
    // 500 ms of sleeping; a busy loop would burn ~50 ticks per thread. Allow
    // 5 ticks (10% of one core) for noise.
    assert!(used <= 5, "{used} ticks of CPU while sleeping");
}

#[test]
fn sleeping_runtimes_park() {
    with_watchdog(WATCHDOG_SECS, || {
        assert_idle_while_sleeping(&Runtime::new());
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        assert_idle_while_sleeping(&rt);
    });
}
