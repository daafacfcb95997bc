//! [`Drivers`]: what every runtime has, whatever its scheduler: the timer
//! and the list of the tasks it owns.
//!
//! Both schedulers hold one (`scheduler::Handle::drivers` reaches it with a
//! single `match`), so a mechanism shared by the flavours lives here once
//! instead of being dispatched feature by feature. The I/O reactor, the
//! blocking pool and metrics belong here too when they come.

use crate::metrics::Metrics;
use crate::task::OwnedTasks;
use crate::time::Timer;

/// The mechanisms a runtime owns beside its scheduler (see the module docs).
#[derive(Debug)]
pub(crate) struct Drivers {
    /// Where `sleep`s polled on this runtime register; driven by the
    /// runtime's threads when they park.
    pub(crate) timer: Timer,
    /// Every task spawned on this runtime and not yet finished; shutdown
    /// cancels them all.
    pub(crate) tasks: OwnedTasks,
    /// Per-worker counters and the event recorder (`metrics.rs`).
    pub(crate) metrics: Metrics,
}

impl Drivers {
    pub(crate) fn new() -> Drivers {
        Drivers::with_workers(1)
    }

    /// Drivers for a runtime with `workers` worker threads (one counter
    /// block each).
    pub(crate) fn with_workers(workers: usize) -> Drivers {
        Drivers {
            timer: Timer::new(),
            tasks: OwnedTasks::new(),
            metrics: Metrics::new(workers),
        }
    }
}
