//! `--timeline FILE.svg`: the demos' tasks drawn with the [`timeline`]
//! crate from the events the runtime recorded
//! ([`runtime::Builder::record_events`]).
//!
//! The transcript runs stay as they are (their jobs are gathered inside
//! `block_on`'s future, which is not a task); for the picture the same jobs
//! run again, silently, as tasks of their own on a recording runtime, so
//! that each gets a lane: `waiter` runs them once with our
//! `sync_primitives::Waiter` (the lane says "wait") and once with
//! the chapter's [`SpinningWaiter`] ("spin"), drawn one above the other on
//! one time scale; `mutex` runs its workers, whose wake-up ticks show the
//! lock handed from each task to the next in FIFO order.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::rc::Rc;

use runtime::recorder::{Event, EventKind};
use sync_primitives::{Mutex, Waiter};
use timeline::{LaneId, Timeline};

use crate::spinning_waiter::SpinningWaiter;
use crate::waiter::{count_up_to, wait_job, Waitable};
use crate::Transcript;

/// Events kept per worker: enough for a spinning waiter polled about once a
/// microsecond for a few tenths of a second.
const CAPACITY: usize = 1 << 21;

/// Adds one run's events to `timeline`: a lane per task, labelled
/// `labels[i]` for the `i`-th task spawned (tasks beyond get "task N"), a
/// bar per poll, a tick per wake-up, and, if the worker parked, a first
/// lane for its parked time. Returns the lanes of the tasks, in spawn order.
pub fn add_run(timeline: &mut Timeline, events: &[Event], labels: &[&str]) -> Vec<LaneId> {
    let mut lanes: HashMap<u64, LaneId> = HashMap::new();
    let mut order = Vec::new();
    let parks = events.iter().any(|e| e.kind == EventKind::Park);
    let worker = parks.then(|| timeline.lane("worker (parked)"));
    let mut poll_start: HashMap<u64, std::time::Duration> = HashMap::new();
    let mut parked_at = None;
    for event in events {
        let lane = match event.task {
            Some(task) => *lanes.entry(task).or_insert_with(|| {
                let label = labels
                    .get(order.len())
                    .map_or_else(|| format!("task {}", order.len()), |l| l.to_string());
                let lane = timeline.lane(label);
                order.push(lane);
                lane
            }),
            None => match worker {
                Some(worker) => worker,
                None => continue,
            },
        };
        match event.kind {
            EventKind::PollStart => {
                if let Some(task) = event.task {
                    poll_start.insert(task, event.time);
                }
            }
            EventKind::PollEnd { ready } => {
                if let Some(start) = event.task.and_then(|t| poll_start.remove(&t)) {
                    timeline.poll(lane, start, event.time, ready);
                }
            }
            EventKind::Wake { .. } => timeline.wake(lane, event.time),
            EventKind::Park => parked_at = Some(event.time),
            EventKind::Unpark => {
                if let Some(start) = parked_at.take() {
                    timeline.idle(lane, start, event.time);
                }
            }
            _ => {}
        }
    }
    order
}

/// A transcript that prints nothing (the picture's runs are silent).
fn silent() -> Transcript<'static> {
    // `io::Sink` is zero-sized: leaking its box allocates nothing.
    Transcript::new(Box::leak(Box::new(io::sink())))
}

/// Runs `wait_job` and `count_up_to` as two local tasks on a recording
/// runtime and returns its events.
fn record_waiter<W: Waitable + 'static>(
    waiter: W,
    count: u32,
    sleep: std::time::Duration,
) -> Vec<Event> {
    let rt = runtime::Builder::new_current_thread()
        .record_events(CAPACITY)
        .build()
        .expect("a current-thread runtime builds");
    let shared = Rc::new((silent(), waiter));
    rt.block_on(async {
        let s = Rc::clone(&shared);
        let wait = runtime::spawn_local(async move { wait_job(&s.0, &s.1).await });
        let s = Rc::clone(&shared);
        let count =
            runtime::spawn_local(async move { count_up_to(&s.0, &s.1, count, sleep).await });
        wait.await.expect("wait_job completes");
        count.await.expect("count_up_to completes");
    });
    rt.take_events()
}

/// The `waiter` picture: our waiter's run above the spinning one's.
pub fn waiter(count: u32, sleep: std::time::Duration) -> Timeline {
    let mut timeline = Timeline::new(format!(
        "wait_job and count_up_to({count}), {}",
        if sleep.is_zero() {
            "yielding after each number".to_owned()
        } else {
            format!("sleeping {} ms after each number", sleep.as_millis())
        }
    ));
    timeline.group("ours: sync_primitives::Waiter, woken once when done");
    add_run(
        &mut timeline,
        &record_waiter(Waiter::new(), count, sleep),
        &["wait", "count_up_to"],
    );
    timeline.group("the chapter's spinning Waiter: polled again on every round");
    add_run(
        &mut timeline,
        &record_waiter(SpinningWaiter::new(), count, sleep),
        &["spin", "count_up_to"],
    );
    timeline
}

/// The `mutex` picture: `tasks` workers taking the FIFO lock `rounds` times.
pub fn mutex(tasks: u32, rounds: u32) -> Timeline {
    let rt = runtime::Builder::new_current_thread()
        .record_events(CAPACITY)
        .build()
        .expect("a current-thread runtime builds");
    let shared = Rc::new((silent(), Mutex::new(crate::mutex::Shared::default())));
    rt.block_on(async {
        let handles: Vec<_> = (0..tasks)
            .map(|name| {
                let s = Rc::clone(&shared);
                runtime::spawn_local(async move {
                    crate::mutex::worker(&s.0, &s.1, name, rounds).await;
                })
            })
            .collect();
        for handle in handles {
            handle.await.expect("a worker completes");
        }
    });
    let labels: Vec<String> = (0..tasks).map(|name| format!("task {name}")).collect();
    let labels: Vec<&str> = labels.iter().map(String::as_str).collect();
    let mut timeline = Timeline::new(format!(
        "{tasks} tasks taking a FIFO Mutex {rounds} times each: each unlock wakes the next in line"
    ));
    timeline.group("sync_primitives::Mutex");
    add_run(&mut timeline, &rt.take_events(), &labels);
    timeline
}

/// Writes `timeline` as SVG to `path`.
///
/// # Errors
///
/// The error creating or writing the file.
pub fn write(timeline: &Timeline, path: &Path) -> io::Result<()> {
    std::fs::write(path, timeline.to_svg())
}
