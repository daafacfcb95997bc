//! [`Drivers`]: what every runtime has, whatever its scheduler: the timer,
//! the list of the tasks it owns, the `spawn_blocking` pool and the I/O
//! reactor.
//!
//! Both schedulers hold one (`scheduler::Handle::drivers` reaches it with a
//! single `match`), so a mechanism shared by the flavours lives here once
//! instead of being dispatched feature by feature.

use crate::blocking::BlockingPool;
use crate::io;
use crate::metrics::Metrics;
use crate::task::OwnedTasks;
use crate::timer::Timer;

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
    /// The epoll reactor the runtime's idle threads wait in and its sockets
    /// register with (`None` for the scheduler a multi-thread `block_on`
    /// runs its local tasks on: the workers wait in the runtime's).
    pub(crate) io: Option<std::sync::Arc<io::Driver>>,
    /// Per-worker counters and the event recorder (`metrics.rs`).
    pub(crate) metrics: Metrics,
}

impl Drivers {
    /// Drivers for a runtime with `workers` worker threads (one counter
    /// block each), waiting in the reactor `io` if any.
    pub(crate) fn new(workers: usize, io: Option<std::sync::Arc<io::Driver>>) -> Drivers {
        Drivers {
            timer: Timer::new(),
            tasks: OwnedTasks::new(),
            blocking: std::sync::OnceLock::new(),
            io,
            metrics: Metrics::new(workers),
        }
    }
}
