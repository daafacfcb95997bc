//! A runtime waiting in `accept()` sleeps in `epoll_wait`: no busy loop.
//!
//! Alone in its test binary, because it reads the process's CPU time.

#![cfg(target_os = "linux")]

mod net_common;

use net_common::flavours;
use runtime::net::TcpListener;
use std::time::{Duration, Instant};
use test_util::with_watchdog;

/// User + system CPU time of this whole process (`getrusage`).
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` only writes the `rusage` we pass, which is plain
    // data for which all-zero bytes are a valid value.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

#[test]
fn a_runtime_parked_in_accept_for_a_second_uses_under_5_percent_of_a_core() {
    with_watchdog(60, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                // Some idle tasks too: the workers must park, not spin.
                let waiting: Vec<_> = (0..4)
                    .map(|_| runtime::spawn(runtime::sleep(Duration::from_secs(3600))))
                    .collect();
                let start = Instant::now();
                let cpu_before = cpu_time();
                let accepted = runtime::timeout(Duration::from_secs(1), listener.accept()).await;
                let cpu = cpu_time() - cpu_before;
                let wall = start.elapsed();
                eprintln!("{flavour}: {cpu:?} of CPU in {wall:?} parked in accept()");
                assert!(accepted.is_err(), "{flavour}: nobody connects");
                assert!(wall >= Duration::from_secs(1), "{flavour}: {wall:?}");
                // 5% of one core over the second (a spinning worker would use
                // ~100%; the machine may be loaded, which only lowers ours).
                assert!(
                    cpu < wall / 20,
                    "{flavour}: {cpu:?} of CPU in {wall:?} parked in accept()"
                );
                for task in waiting {
                    task.abort();
                }
            });
        }
    });
}
