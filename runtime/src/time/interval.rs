//! [`Interval`]: ticks every `period`, on a [`Sleep`].

use super::{sleep_until, Sleep};
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// A tick this late (past its scheduled instant) counts as missed, and the
/// next one follows [`MissedTickBehavior`]; a tick less late keeps the
/// schedule. (tokio's threshold too: timers are not exact to the
/// microsecond.)
const MISSED_THRESHOLD: Duration = Duration::from_millis(5);

/// Creates an [`Interval`] whose first tick completes at once and then
/// one every `period`: `interval_at(Instant::now(), period)`.
///
/// # Panics
///
/// Panics if `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// runtime::block_on(async {
///     let start = Instant::now();
///     let mut interval = runtime::interval(Duration::from_millis(10));
///     interval.tick().await; // at once
///     interval.tick().await; // 10 ms later
///     interval.tick().await; // 20 ms after the start
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Creates an [`Interval`] whose first tick completes at `start` and then
/// one every `period`.
///
/// # Panics
///
/// Panics if `period` is zero.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// runtime::block_on(async {
///     let start = Instant::now() + Duration::from_millis(10);
///     let mut interval = runtime::interval_at(start, Duration::from_millis(10));
///     assert_eq!(interval.tick().await, start);
///     assert_eq!(interval.tick().await, start + Duration::from_millis(10));
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "`interval` needs a period above zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does after a tick that came late (the task was busy,
/// or the runtime was): tokio's three choices.
///
/// In the examples, the period is 10 ms, ticks are scheduled at 0, 10, 20,
/// ... and the task that ticks is busy from 5 ms to 35 ms, so the ticks of
/// 10, 20 and 30 ms are late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Ticks as fast as possible until caught up: the ticks of 10, 20 and
    /// 30 ms all complete at 35 ms, then 40, 50, ... as planned. The
    /// default. Keeps the number of ticks over a long run.
    #[default]
    Burst,
    /// Restarts the schedule from the late tick: the tick of 10 ms completes
    /// at 35 ms, then 45, 55, ... Keeps at least `period` between ticks.
    Delay,
    /// Skips the missed ticks and stays on the original grid: the tick of
    /// 10 ms completes at 35 ms, then 40, 50, ...
    Skip,
}

impl MissedTickBehavior {
    /// The next tick's instant after a tick scheduled at `scheduled` was
    /// taken late, at `now`.
    fn next(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => scheduled + period,
            MissedTickBehavior::Delay => now + period,
            MissedTickBehavior::Skip => {
                let late = now.saturating_duration_since(scheduled).as_nanos();
                let into_period = late % period.as_nanos();
                // `into_period < period`, so this fits in a `Duration`.
                let to_next = period - Duration::from_nanos(into_period as u64);
                now + to_next
            }
        }
    }
}

/// Ticks at a fixed period: returned by [`interval`] and [`interval_at`].
///
/// Each [`tick`](Self::tick) waits for the next scheduled instant and
/// returns it; late ticks follow the [`MissedTickBehavior`]. It uses the
/// same timer as [`sleep`](crate::sleep), so it also works under other
/// executors.
pub struct Interval {
    /// Completes at the next tick's scheduled instant.
    sleep: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits until the next tick and returns the instant it was scheduled
    /// for (not the instant it completed, which may be later).
    ///
    /// Cancel-safe: dropping the future before it completes loses no tick.
    pub fn tick(&mut self) -> impl Future<Output = Instant> + '_ {
        poll_fn(|cx| self.poll_tick(cx))
    }

    /// Polls for the next tick: the poll-based form of [`tick`](Self::tick),
    /// for hand-written futures.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(Pin::new(&mut self.sleep).poll(cx));
        let scheduled = self.sleep.deadline();
        let now = Instant::now();
        let next = if now > scheduled + MISSED_THRESHOLD {
            self.missed_tick_behavior.next(scheduled, now, self.period)
        } else {
            scheduled + self.period
        };
        self.sleep = sleep_until(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick comes one `period` from now.
    pub fn reset(&mut self) {
        self.sleep = sleep_until(Instant::now() + self.period);
    }

    /// The period between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What happens after late ticks.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Chooses what happens after late ticks ([`MissedTickBehavior::Burst`]
    /// by default).
    ///
    /// # Examples
    ///
    /// ```
    /// use runtime::time::MissedTickBehavior;
    /// use std::time::Duration;
    ///
    /// runtime::block_on(async {
    ///     let mut interval = runtime::interval(Duration::from_millis(10));
    ///     interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    ///     assert_eq!(interval.missed_tick_behavior(), MissedTickBehavior::Delay);
    ///     interval.tick().await;
    /// });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interval")
            .field("next", &self.sleep.deadline())
            .field("period", &self.period)
            .field("missed_tick_behavior", &self.missed_tick_behavior)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_instants_follow_tokio() {
        let t0 = Instant::now();
        let p = Duration::from_millis(10);
        let ms = Duration::from_millis;
        // Scheduled at 10 ms, taken at 35 ms.
        let (scheduled, now) = (t0 + ms(10), t0 + ms(35));
        assert_eq!(
            MissedTickBehavior::Burst.next(scheduled, now, p),
            t0 + ms(20)
        );
        assert_eq!(
            MissedTickBehavior::Delay.next(scheduled, now, p),
            t0 + ms(45)
        );
        assert_eq!(
            MissedTickBehavior::Skip.next(scheduled, now, p),
            t0 + ms(40)
        );
        // Exactly on the grid: Skip goes to the next grid point.
        let now = t0 + ms(40);
        assert_eq!(
            MissedTickBehavior::Skip.next(scheduled, now, p),
            t0 + ms(50)
        );
    }
}
