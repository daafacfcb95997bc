//! [`Drivers`]: what every runtime has, whatever its scheduler: the timer
//! and the list of the tasks it owns.
//!
//! Both schedulers hold one (`scheduler::Handle::drivers` reaches it with a
//! single `match`), so a mechanism shared by the flavours lives here once
//! instead of being dispatched feature by feature. The I/O reactor, the
//! blocking pool and metrics belong here too when they come.

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
}

impl Drivers {
    pub(crate) fn new() -> Drivers {
        Drivers {
            timer: Timer::new(),
            tasks: OwnedTasks::new(),
        }
    }
}
