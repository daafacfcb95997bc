//! asyncio's documented `Queue` example: three workers consume random
//! sleeps, the main task `join`s the queue, then cancels the workers.
//!
//! The example, from the `asyncio.Queue` documentation (abridged):
//!
//! ```python
//! async def worker(name, queue):
//!     while True:
//!         sleep_for = await queue.get()
//!         await asyncio.sleep(sleep_for)
//!         queue.task_done()
//!         print(f'{name} has slept for {sleep_for:.2f} seconds')
//!
//! async def main():
//!     queue = asyncio.Queue()
//!     total_sleep_time = 0
//!     for _ in range(20):
//!         sleep_for = random.uniform(0.05, 1.0)
//!         total_sleep_time += sleep_for
//!         queue.put_nowait(sleep_for)
//!     tasks = []
//!     for i in range(3):
//!         task = asyncio.create_task(worker(f'worker-{i}', queue))
//!         tasks.append(task)
//!     started_at = time.monotonic()
//!     await queue.join()
//!     total_slept_for = time.monotonic() - started_at
//!     for task in tasks:
//!         task.cancel()
//!     await asyncio.gather(*tasks, return_exceptions=True)
//!     print('====')
//!     print(f'3 workers slept in parallel for {total_slept_for:.2f} seconds')
//!     print(f'total expected sleep time: {total_sleep_time:.2f} seconds')
//! ```
//!
//! Here the queue is [`sync_primitives::Queue`]; the workers and the main
//! task run in one task of the current-thread runtime, and cancelling the
//! workers is dropping their futures, Rust's `task.cancel()`.
//!
//! # Deterministic output
//!
//! The sleeps come from a generator seeded with `--seed`, in hundredths of
//! a second, as Python prints them. Python's transcript depends on how
//! late its timers fire; ours does not: each sleep ends at a point of a
//! *schedule* (the time the worker took its item plus its sleep, in
//! hundredths), every worker really sleeps until that point, and the
//! workers then take turns in schedule order. So the same seed prints the
//! same lines on a busy machine, at any `--speed`, and "slept in parallel"
//! is the schedule's length (what Python measures, minus its overhead).

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::future::Future;
use std::io::{self, Write};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use sync_primitives::{Event, Queue};

use crate::Transcript;

/// How to run the [`queue`](self) demo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Seeds the sleeps' generator: the same seed, the same transcript.
    pub seed: u64,
    /// How many sleeps are queued (the example's 20).
    pub items: u32,
    /// How many workers consume them (the example's 3).
    pub workers: u32,
    /// How many times faster than real time the sleeps run (1: the
    /// example's seconds).
    pub speed: u32,
}

impl Default for Options {
    /// The example's 20 sleeps and 3 workers, seed 1, in real time.
    fn default() -> Options {
        Options {
            seed: 1,
            items: 20,
            workers: 3,
            speed: 1,
        }
    }
}

/// The schedule the workers sleep on, in hundredths of a second since the
/// start.
#[derive(Debug)]
pub struct Schedule {
    started_at: Instant,
    /// Real duration of one hundredth of a schedule second.
    tick: Duration,
    /// The point of the last sleep that ended: the schedule's "now".
    now: Cell<u64>,
    /// Sleeps under way: (end, order taken), earliest first.
    pending: RefCell<BTreeSet<(u64, u64)>>,
    taken: Cell<u64>,
    /// Whether every worker has started (taken its first item or found the
    /// queue empty): until then a sleep that ends at once must not take
    /// its turn before the others are in line.
    open: Cell<bool>,
    /// Set (then cleared) each time a sleep ends, for the workers waiting
    /// for their turn.
    turn: Event,
}

impl Schedule {
    /// A schedule starting now, `speed` times faster than real time.
    pub fn new(speed: u32) -> Schedule {
        Schedule {
            started_at: Instant::now(),
            tick: Duration::from_millis(10) / speed.max(1),
            now: Cell::new(0),
            pending: RefCell::new(BTreeSet::new()),
            taken: Cell::new(0),
            open: Cell::new(false),
            turn: Event::new(),
        }
    }

    /// The schedule's time, in hundredths of a second.
    pub fn now(&self) -> u64 {
        self.now.get()
    }

    /// Lets the sleeps take their turns: call once every worker has
    /// started.
    pub fn open(&self) {
        if !self.open.replace(true) {
            self.turn.set();
            self.turn.clear();
        }
    }

    /// `asyncio.sleep(hundredths / 100)`: sleeps until the schedule's now
    /// plus `hundredths`, then waits for every sleep that ends earlier to
    /// have ended.
    pub async fn sleep(&self, hundredths: u64) {
        let end = (self.now.get() + hundredths, self.taken.get());
        self.taken.set(self.taken.get() + 1);
        self.pending.borrow_mut().insert(end);
        let tick = u32::try_from(end.0).unwrap_or(u32::MAX);
        runtime::sleep_until(self.started_at + self.tick * tick).await;
        // Our turn comes once every earlier sleep has ended. Checking and
        // starting to wait happen in one poll: no turn is missed.
        while !self.open.get() || self.pending.borrow().first() != Some(&end) {
            self.turn.wait().await;
        }
        self.pending.borrow_mut().remove(&end);
        self.now.set(end.0);
        self.turn.set();
        self.turn.clear();
    }
}

/// The generator of the sleeps: SplitMix64, enough for a demo and the same
/// on every platform.
#[derive(Clone, Debug)]
pub struct Sleeps(u64);

impl Sleeps {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Sleeps {
        Sleeps(seed)
    }

    /// `random.uniform(0.05, 1.0)`, in hundredths: 5 to 100.
    pub fn next_hundredths(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        5 + z % 96
    }
}

/// Formats hundredths as Python's `f'{seconds:.2f}'`.
fn seconds(hundredths: u64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// The example's `worker`: forever takes a sleep from the queue, sleeps,
/// marks it done and says so. It ends only when cancelled (dropped).
pub async fn worker(name: String, queue: &Queue<u64>, schedule: &Schedule, out: &Transcript<'_>) {
    // Only a shut-down queue fails a get, and this one never is.
    while let Ok(sleep_for) = queue.get().await {
        schedule.sleep(sleep_for).await;
        queue.task_done();
        out.say(format_args!(
            "{name} has slept for {} seconds",
            seconds(sleep_for)
        ));
    }
}

/// Runs the example: queues [`Options::items`] random sleeps, starts
/// [`Options::workers`] workers, `join`s the queue, cancels the workers and
/// prints the totals.
///
/// # Errors
///
/// The first error writing to `out`.
pub fn run(out: &mut impl Write, options: &Options) -> io::Result<()> {
    let transcript = Transcript::new(out);
    let queue = Queue::new(0);
    let mut sleeps = Sleeps::new(options.seed);
    let mut total_sleep_time = 0;
    for _ in 0..options.items {
        let sleep_for = sleeps.next_hundredths();
        total_sleep_time += sleep_for;
        queue
            .put_nowait(sleep_for)
            .expect("an unbounded queue that is not shut down takes every item");
    }
    let schedule = Schedule::new(options.speed);
    let total_slept_for = runtime::block_on(async {
        let workers = runtime::gather(
            (0..options.workers)
                .map(|i| worker(format!("worker-{i}"), &queue, &schedule, &transcript)),
        );
        let main = async {
            queue.join().await;
            schedule.now()
        };
        // Run both until `join` completes, then drop the workers: they are
        // cancelled where they wait, in `get`.
        let (mut workers, mut main) = (pin!(workers), pin!(main));
        std::future::poll_fn(|cx| {
            if let Poll::Ready(total) = main.as_mut().poll(cx) {
                return Poll::Ready(total);
            }
            let _ = workers.as_mut().poll(cx);
            // Every worker has been polled once: each sleeps or waits in
            // `get`, so the turns can start.
            schedule.open();
            Poll::Pending
        })
        .await
    });
    transcript.say("====");
    transcript.say(format_args!(
        "{} workers slept in parallel for {} seconds",
        options.workers,
        seconds(total_slept_for)
    ));
    transcript.say(format_args!(
        "total expected sleep time: {} seconds",
        seconds(total_sleep_time)
    ));
    transcript.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sleeps_are_in_the_examples_range_and_seeded() {
        let mut a = Sleeps::new(7);
        let mut b = Sleeps::new(7);
        for _ in 0..1000 {
            let x = a.next_hundredths();
            assert!((5..=100).contains(&x));
            assert_eq!(x, b.next_hundredths());
        }
        let draw = |seed| {
            let mut sleeps = Sleeps::new(seed);
            (0..10)
                .map(|_| sleeps.next_hundredths())
                .collect::<Vec<_>>()
        };
        assert_ne!(draw(1), draw(2), "another seed, other sleeps");
    }

    #[test]
    fn seconds_print_as_python_does() {
        assert_eq!(seconds(5), "0.05");
        assert_eq!(seconds(100), "1.00");
        assert_eq!(seconds(1234), "12.34");
    }
}
