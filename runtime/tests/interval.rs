//! `interval`: the schedule, and each `MissedTickBehavior` after a stall.
//!
//! The asserts compare the *scheduled* instants that `tick` returns, which
//! follow from the start and from when the stall ended, not from the load
//! of the machine.

use runtime::time::MissedTickBehavior;
use std::time::{Duration, Instant};
use test_util::with_watchdog;

const PERIOD: Duration = Duration::from_millis(100);

/// Ticks once (at the start), blocks the thread for 3.5 periods, and
/// returns (start, the instant the stall ended, the interval).
async fn stalled(behavior: MissedTickBehavior) -> (Instant, Instant, runtime::time::Interval) {
    let start = Instant::now();
    let mut interval = runtime::interval_at(start, PERIOD);
    interval.set_missed_tick_behavior(behavior);
    assert_eq!(interval.tick().await, start);
    std::thread::sleep(PERIOD * 7 / 2);
    (start, Instant::now(), interval)
}

#[test]
fn ticks_follow_the_period_and_never_come_early() {
    with_watchdog(30, || {
        runtime::block_on(async {
            let start = Instant::now();
            let mut interval = runtime::interval(Duration::from_millis(20));
            let first = interval.tick().await;
            assert!(first >= start && first <= Instant::now());
            for k in 1..=5u32 {
                let scheduled = interval.tick().await;
                assert_eq!(scheduled, first + Duration::from_millis(20) * k);
                assert!(Instant::now() >= scheduled, "a tick came early");
            }
        })
    });
}

#[test]
fn interval_at_starts_at_start() {
    with_watchdog(30, || {
        runtime::block_on(async {
            let start = Instant::now() + Duration::from_millis(30);
            let mut interval = runtime::interval_at(start, Duration::from_millis(10));
            assert_eq!(interval.tick().await, start);
            assert!(Instant::now() >= start);
        })
    });
}

#[test]
fn burst_catches_up_with_every_missed_tick() {
    with_watchdog(30, || {
        runtime::block_on(async {
            let (start, stall_end, mut interval) = stalled(MissedTickBehavior::Burst).await;
            // Every tick scheduled before the stall ended comes, on the
            // original grid, one after the other.
            let missed = ((stall_end - start).as_nanos() / PERIOD.as_nanos()) as u32;
            assert!(missed >= 3);
            for k in 1..=missed {
                assert_eq!(interval.tick().await, start + PERIOD * k);
            }
            // Then the schedule goes on as planned.
            let next = interval.tick().await;
            assert_eq!(next, start + PERIOD * (missed + 1));
            assert!(Instant::now() >= next);
        })
    });
}

#[test]
fn delay_restarts_the_schedule_from_the_late_tick() {
    with_watchdog(30, || {
        runtime::block_on(async {
            let (start, stall_end, mut interval) = stalled(MissedTickBehavior::Delay).await;
            assert_eq!(interval.tick().await, start + PERIOD);
            let taken = Instant::now();
            let second = interval.tick().await;
            // One period after the late tick was taken, off the old grid.
            assert!(second >= stall_end + PERIOD && second <= taken + PERIOD);
            // Then one period later again (later still if this tick, too,
            // came late on a busy machine: Delay restarts from it).
            let taken = Instant::now();
            let third = interval.tick().await;
            assert!(third >= second + PERIOD && third <= taken + PERIOD);
        })
    });
}

#[test]
fn skip_drops_the_missed_ticks_and_stays_on_the_grid() {
    with_watchdog(30, || {
        runtime::block_on(async {
            let (start, stall_end, mut interval) = stalled(MissedTickBehavior::Skip).await;
            assert_eq!(interval.tick().await, start + PERIOD);
            let taken = Instant::now();
            let second = interval.tick().await;
            // The first grid point after the late tick was taken.
            let offset = (second - start).as_nanos();
            assert_eq!(offset % PERIOD.as_nanos(), 0, "off the grid");
            assert!(second > stall_end && second <= taken + PERIOD);
            // The next grid point (or a later one if this tick, too, came
            // late on a busy machine).
            let taken = Instant::now();
            let third = interval.tick().await;
            assert_eq!((third - start).as_nanos() % PERIOD.as_nanos(), 0);
            assert!(third >= second + PERIOD && third <= taken + PERIOD);
        })
    });
}

#[test]
fn works_on_a_multi_thread_runtime_and_under_other_executors() {
    with_watchdog(30, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let ticks = rt.block_on(rt.spawn(async {
            let mut interval = runtime::interval(Duration::from_millis(5));
            let first = interval.tick().await;
            let third = {
                interval.tick().await;
                interval.tick().await
            };
            third - first
        }));
        assert_eq!(ticks.unwrap(), Duration::from_millis(10));
        let elapsed = futures::executor::block_on(async {
            let mut interval = runtime::interval(Duration::from_millis(5));
            let first = interval.tick().await;
            interval.tick().await - first
        });
        assert_eq!(elapsed, Duration::from_millis(5));
    });
}

#[test]
#[should_panic(expected = "period above zero")]
fn a_zero_period_panics() {
    let _ = runtime::interval(Duration::ZERO);
}
