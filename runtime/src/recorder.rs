//! The event recorder: what each worker did, when, to which task
//! (`Builder::record_events`, read with
//! [`Runtime::take_events`](crate::Runtime::take_events)).
//!
//! Off by default. When on, each worker appends to a ring of its own (a
//! lock only its thread takes, except when the events are taken), bounded
//! to the capacity given to the builder: when full, the oldest event goes.
//! Threads that are not workers of the runtime (a wake-up from outside)
//! share one more ring. Times are measured from the runtime's recorder start
//! with the monotonic clock; `take_events` merges the rings in time order.
//!
//! The hooks are in [`metrics`](crate::metrics): with the recorder off, each
//! costs one predictable branch.

use crate::loom::Mutex;
use std::cell::Cell;
use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

/// What happened, in a recorded [`Event`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// The task was spawned.
    Spawn,
    /// A poll of the task begins.
    PollStart,
    /// The poll ends; `ready`: the task completed (or was cancelled).
    PollEnd {
        /// Whether the task finished in this poll.
        ready: bool,
    },
    /// The task was woken (scheduled to run again, or for the first time
    /// when it was spawned); `by`: the task whose poll woke it, `None` when
    /// the wake-up came from outside any task (the `block_on` future, a
    /// timer, another thread).
    Wake {
        /// The id of the waking task, if a task did it.
        by: Option<u64>,
    },
    /// The worker went to sleep, with nothing to run.
    Park,
    /// The worker woke up.
    Unpark,
}

/// One recorded event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// When, since the recorder started (when the runtime was built).
    pub time: Duration,
    /// The worker it happened on (`None`: another thread).
    pub worker: Option<usize>,
    /// The task concerned (an id unique within the runtime; `None` for
    /// `Park` and `Unpark`).
    pub task: Option<u64>,
    /// What happened.
    pub kind: EventKind,
}

thread_local! {
    /// The task whose poll runs on this thread while the recorder is on
    /// (`u64::MAX`: none), for [`EventKind::Wake`]'s `by`.
    static RUNNING: Cell<u64> = const { Cell::new(u64::MAX) };
}

/// The id of the task being polled on this thread, if recorded.
pub(crate) fn running_task() -> Option<u64> {
    RUNNING
        .try_with(Cell::get)
        .ok()
        .filter(|&id| id != u64::MAX)
}

/// Per-worker rings of events (see the module docs).
pub(crate) struct Recorder {
    start: Instant,
    capacity: usize,
    /// One per worker, then one for every other thread.
    rings: Box<[Mutex<VecDeque<Event>>]>,
}

impl Recorder {
    pub(crate) fn new(workers: usize, capacity: usize) -> Recorder {
        Recorder {
            start: Instant::now(),
            capacity,
            rings: (0..=workers)
                .map(|_| Mutex::new(VecDeque::with_capacity(capacity.min(1 << 16))))
                .collect(),
        }
    }

    pub(crate) fn record(&self, worker: Option<usize>, task: Option<u64>, kind: EventKind) {
        match kind {
            EventKind::PollStart => {
                let _ = RUNNING.try_with(|r| r.set(task.unwrap_or(u64::MAX)));
            }
            EventKind::PollEnd { .. } => {
                let _ = RUNNING.try_with(|r| r.set(u64::MAX));
            }
            _ => {}
        }
        if self.capacity == 0 {
            return;
        }
        let ring = &self.rings[worker.unwrap_or(self.rings.len() - 1)];
        let mut ring = ring.lock();
        // Read under the ring's lock: events of one ring are in time order.
        let time = self.start.elapsed();
        if ring.len() == self.capacity {
            ring.pop_front();
        }
        ring.push_back(Event {
            time,
            worker,
            task,
            kind,
        });
    }

    /// Every recorded event in time order (ties keep each ring's order),
    /// emptying the rings.
    pub(crate) fn take_events(&self) -> Vec<Event> {
        let mut events = Vec::new();
        for ring in self.rings.iter() {
            // Taken out under the lock, then merged outside it.
            let taken = std::mem::take(&mut *ring.lock());
            events.extend(taken);
        }
        // Stable: equal times keep their ring's order.
        events.sort_by_key(|event| event.time);
        events
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorder")
            .field("capacity", &self.capacity)
            .field("rings", &self.rings.len())
            .finish_non_exhaustive()
    }
}
