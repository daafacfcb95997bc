//! Time: [`sleep`], [`sleep_until`], [`timeout()`] and [`interval()`].
//!
//! A [`Sleep`] registers its deadline and waker with the timer of the runtime
//! it is first polled in (a `BTreeMap` keyed by deadline then registration
//! order, see `Timer`). That runtime's threads park with a time-out at the
//! earliest deadline and wake the expired entries in order, so a runtime
//! whose tasks all sleep uses no CPU until the next deadline. Polled outside
//! our runtimes (under tokio, `futures::executor`, ...), a `Sleep` uses a
//! global timer thread started on first use instead.
//!
//! A busy runtime fires expired timers without waiting to be idle: the
//! current-thread scheduler at every round and before every
//! [`yield_now`](fn@crate::yield_now), a busy multi-thread worker every 61
//! tasks, so a task that keeps yielding does not hold back another's sleep.
//! A sleep can still end late by however long the OS keeps the runtime's
//! threads off the CPU: a thread that never blocks waits its turn in the
//! run queue on a loaded machine. (On a saturated 2-core machine, 5 ms
//! sleeps beside a yielding task ended up to 15 ms late, each by no more
//! than that thread's run-queue wait; tokio's were as late.)
//!
//! This module is the front end; the mechanism is `crate::timer` (the
//! `Timer` and the `Driver` trait the schedulers implement), which knows
//! neither the schedulers nor the thread's current runtime. A `Sleep` keeps
//! the runtime it registered with as a `timer::Driver`.

mod interval;
mod timeout;

pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use timeout::{timeout, timeout_at, Elapsed, Timeout};

use crate::scheduler::context;
use crate::timer::{Driver, GlobalTimer, Timer, TimerKey};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Waits until `duration` has elapsed. Never completes early.
///
/// The equivalent of `asyncio.sleep(delay)`: only the task calling it waits,
/// the runtime runs other tasks meanwhile. `sleep(Duration::ZERO)` completes
/// at once; use [`yield_now`](fn@crate::yield_now) to let other tasks run.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// runtime::block_on(async {
///     let start = Instant::now();
///     runtime::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// Waits until `deadline`. Never completes before it.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// runtime::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     runtime::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        registration: None,
    }
}

/// `now + duration`, or a deadline so far away that it never comes.
pub(crate) fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

/// The future returned by [`sleep`] and [`sleep_until`].
///
/// Dropping it before it completes removes its timer entry.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    /// Set on the first poll that had to wait.
    registration: Option<Registration>,
}

/// A `Sleep`'s entry in a timer.
struct Registration {
    timer: TimerRef,
    key: TimerKey,
}

/// The timer a `Sleep` registered with.
enum TimerRef {
    /// A `std` `Arc`, also under loom (see `task::Scheduler`).
    Runtime(std::sync::Arc<dyn Driver>),
    Global(&'static GlobalTimer),
}

impl TimerRef {
    /// The timer of the runtime running on this thread, else the global one.
    fn current() -> TimerRef {
        match context::handle() {
            Some(handle) if !handle.is_shut_down() => TimerRef::Runtime(handle.time_driver()),
            _ => TimerRef::Global(GlobalTimer::get()),
        }
    }

    fn timer(&self) -> &Timer {
        match self {
            TimerRef::Runtime(driver) => driver.timer(),
            TimerRef::Global(global) => global.timer(),
        }
    }

    fn timer_changed(&self) {
        match self {
            TimerRef::Runtime(driver) => driver.timer_changed(),
            TimerRef::Global(global) => global.timer_changed(),
        }
    }
}

impl Sleep {
    /// The instant at which this future completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Returns `true` if the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        Instant::now() >= self.deadline
    }

    fn register(&mut self, cx: &Context<'_>) {
        let timer = TimerRef::current();
        let (key, earliest) = timer.timer().register(self.deadline, cx.waker());
        if earliest {
            timer.timer_changed();
        }
        self.registration = Some(Registration { timer, key });
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.is_elapsed() {
            if let Some(registration) = self.registration.take() {
                registration.timer.timer().remove(registration.key);
            }
            return Poll::Ready(());
        }
        match &self.registration {
            None => self.register(cx),
            Some(registration) => {
                if !registration
                    .timer
                    .timer()
                    .update(registration.key, cx.waker())
                {
                    // The entry is gone although the deadline has not passed:
                    // its runtime shut down. Register anew (elsewhere).
                    self.registration = None;
                    self.register(cx);
                }
            }
        }
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(registration) = self.registration.take() {
            registration.timer.timer().remove(registration.key);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("registered", &self.registration.is_some())
            .finish()
    }
}
