//! [`Drivers`]: what every runtime has, whatever its scheduler: the timer
//! the list of the tasks it owns, and the `spawn_blocking` pool.
//!
//! Both schedulers hold one (`scheduler::Handle::drivers` reaches it with a
//! single `match`), so a mechanism shared by the flavours lives here once
//! instead of being dispatched feature by feature. The I/O reactor and
//! metrics belong here too when they come.

use crate::blocking::BlockingPool;
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
    /// The `spawn_blocking` pool: set by the `Builder`, or started with the
    /// default settings on first use (see `scheduler::Handle::blocking_pool`).
    pub(crate) blocking: std::sync::OnceLock<BlockingPool>,
}

impl Drivers {
    pub(crate) fn new() -> Drivers {
        Drivers {
            timer: Timer::new(),
            tasks: OwnedTasks::new(),
            blocking: std::sync::OnceLock::new(),
        }
    }
}
