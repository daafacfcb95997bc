//! Tasks sharing a counter through a FIFO `Mutex`: the chapter's closing
//! hint.
//!
//! The chapter ends on a hint, without code:
//!
//! > D'autres utilisations de `Waiter` sont possibles, à des fins de
//! > synchronisation, par exemple pour gérer des verrous (*mutex*) entre
//! > plusieurs tâches.
//!
//! In Python that lock is `asyncio.Lock`; this demo would read (our
//! sketch, not the chapter's code):
//!
//! ```python
//! async def worker(lock, shared, name, rounds):
//!     for _ in range(rounds):
//!         print(f'task {name} waits for the lock')
//!         async with lock:
//!             print(f'task {name} takes the lock, count = {shared.count}')
//!             shared.count += 1
//!             await asyncio.sleep(0)
//!             print(f'task {name} releases the lock, count = {shared.count}')
//! ```
//!
//! Here it is [`sync_primitives::Mutex`], which holds the data it protects.
//! Each task holds the lock across an `await`, so the others line up
//! behind it; on unlock the lock is handed straight to the task that has
//! waited longest. The transcript shows that first-in, first-out order, the
//! same on every run: the tasks are gathered in one task of the
//! current-thread runtime, so nothing depends on timing.

use std::io::{self, Write};

use sync_primitives::Mutex;

use crate::Transcript;

/// What the tasks share behind the lock.
#[derive(Debug, Default)]
pub struct Shared {
    /// The counter each task increments once per round.
    pub count: u64,
    /// Which task took the lock, in the order they took it.
    pub order: Vec<u32>,
}

/// One task: `rounds` times, waits for the lock, takes it, increments the
/// counter, yields to the other tasks while holding it, and releases it.
pub async fn worker(transcript: &Transcript<'_>, lock: &Mutex<Shared>, name: u32, rounds: u32) {
    for _ in 0..rounds {
        transcript.say(format_args!("task {name} waits for the lock"));
        let mut shared = lock.lock().await;
        transcript.say(format_args!(
            "task {name} takes the lock, count = {}",
            shared.count
        ));
        shared.count += 1;
        shared.order.push(name);
        // Let every other task run while we hold the lock: they queue up.
        runtime::yield_now().await;
        transcript.say(format_args!(
            "task {name} releases the lock, count = {}",
            shared.count
        ));
        drop(shared); // unlock: hands the lock to the oldest waiter
    }
}

/// How to run the [`mutex`](self) demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// How many tasks share the counter.
    pub tasks: u32,
    /// How many times each task takes the lock.
    pub rounds: u32,
}

impl Default for Options {
    /// Four tasks, two rounds each.
    fn default() -> Options {
        Options {
            tasks: 4,
            rounds: 2,
        }
    }
}

/// Gathers [`Options::tasks`] [`worker`]s on [`runtime::block_on`], then
/// prints the order the lock was taken in and the final count, which is
/// exactly `tasks × rounds`.
///
/// # Errors
///
/// The first error writing to `out`.
pub fn run(out: &mut impl Write, options: &Options) -> io::Result<()> {
    let transcript = Transcript::new(out);
    let lock = Mutex::new(Shared::default());
    runtime::block_on(runtime::gather(
        (0..options.tasks).map(|name| worker(&transcript, &lock, name, options.rounds)),
    ));
    let shared = lock.into_inner();
    let order: Vec<String> = shared.order.iter().map(u32::to_string).collect();
    transcript.say(format_args!("lock taken in order: {}", order.join(" ")));
    transcript.say(format_args!(
        "final count: {} ({} tasks x {} rounds)",
        shared.count, options.tasks, options.rounds
    ));
    transcript.finish()
}
