//! `Runtime::metrics` and the event recorder (`Builder::record_events`),
//! exact on scripted workloads. Every test runs under a watchdog.

use runtime::recorder::{Event, EventKind};
use runtime::{Builder, Runtime};
use std::collections::HashMap;
use std::thread;
use std::time::Duration;

use test_util::with_watchdog;

/// Spawns 100 tasks that yield 3 times each, and waits for them all.
fn spawn_100_yield_3(rt: &Runtime) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                runtime::spawn(async {
                    for _ in 0..3 {
                        runtime::yield_now().await;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
}

#[test]
fn current_thread_counters_are_exact() {
    with_watchdog(30, || {
        let rt = Runtime::new();
        let before = rt.metrics();
        assert_eq!(before.poll_count, 0);
        assert_eq!(before.spawned_tasks_count, 0);
        spawn_100_yield_3(&rt);
        let m = rt.metrics();
        assert_eq!(m.num_workers, 1);
        assert_eq!(m.spawned_tasks_count, 100);
        assert_eq!(m.num_alive_tasks, 0);
        assert_eq!(m.poll_count, 400, "4 polls per task: 3 yields, then done");
        // Every task is scheduled once when spawned and once per yield, all
        // from the runtime's own thread.
        assert_eq!(m.local_schedule_count, 400);
        assert_eq!(m.remote_schedule_count, 0);
        assert_eq!(m.steal_count, 0);
        assert_eq!(m.park_count, 0, "always something to run");
        assert_eq!(m.injection_queue_depth, 0);
        assert_eq!(m.workers.len(), 1);
        assert_eq!(m.workers[0].poll_count, 400);
    });
}

#[test]
fn spawns_from_outside_are_remote_and_alive_until_run() {
    with_watchdog(30, || {
        let rt = Runtime::new();
        let handles: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
        let m = rt.metrics();
        assert_eq!(m.spawned_tasks_count, 5);
        assert_eq!(m.num_alive_tasks, 5);
        assert_eq!(m.remote_schedule_count, 5);
        assert_eq!(m.injection_queue_depth, 5);
        assert_eq!(m.poll_count, 0);
        rt.block_on(async {
            for handle in handles {
                handle.await.unwrap();
            }
        });
        let m = rt.metrics();
        assert_eq!(m.num_alive_tasks, 0);
        assert_eq!(m.injection_queue_depth, 0);
        assert_eq!(m.poll_count, 5);
    });
}

#[test]
fn sleeping_runtime_parks() {
    with_watchdog(30, || {
        let rt = Runtime::new();
        rt.block_on(async {
            runtime::spawn(runtime::sleep(Duration::from_millis(5)))
                .await
                .unwrap();
        });
        let m = rt.metrics();
        assert!(m.park_count >= 1, "parked while the timer ran: {m:?}");
        assert_eq!(m.poll_count, 2, "polled to register, then once woken");
    });
}

#[test]
fn multi_thread_counters_are_exact() {
    with_watchdog(60, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        spawn_100_yield_3(&rt);
        // A worker lets go of a task just after its handle resolved on the
        // `block_on` thread: the last ones leave the list a moment later
        // (the watchdog bounds the wait).
        while rt.metrics().num_alive_tasks != 0 {
            thread::yield_now();
        }
        let m = rt.metrics();
        assert_eq!(m.num_workers, 2);
        assert_eq!(m.workers.len(), 2);
        assert_eq!(m.spawned_tasks_count, 100);
        assert_eq!(m.poll_count, 400);
        assert_eq!(m.workers.iter().map(|w| w.poll_count).sum::<u64>(), 400);
        // Spawned from the `block_on` thread (remote), yields on a worker
        // (local): 100 + 300.
        assert_eq!(m.remote_schedule_count, 100);
        assert_eq!(m.local_schedule_count, 300);
    });
}

/// Events of one task, as kinds.
fn kinds_of(events: &[Event], task: u64) -> Vec<EventKind> {
    events
        .iter()
        .filter(|e| e.task == Some(task))
        .map(|e| e.kind)
        .collect()
}

#[test]
fn recorder_is_off_by_default() {
    with_watchdog(30, || {
        let rt = Runtime::new();
        spawn_100_yield_3(&rt);
        assert!(rt.take_events().is_empty());
    });
}

#[test]
fn recorder_events_in_order() {
    with_watchdog(30, || {
        let rt = Builder::new_current_thread()
            .record_events(10_000)
            .build()
            .unwrap();
        spawn_100_yield_3(&rt);
        let events = rt.take_events();
        assert!(
            events.windows(2).all(|w| w[0].time <= w[1].time),
            "time order"
        );
        let tasks: Vec<u64> = {
            let mut seen = Vec::new();
            for e in &events {
                if e.kind == EventKind::Spawn {
                    seen.push(e.task.unwrap());
                }
            }
            seen
        };
        assert_eq!(tasks.len(), 100);
        for &task in &tasks {
            let me = Some(task);
            assert_eq!(
                kinds_of(&events, task),
                [
                    EventKind::Spawn,
                    EventKind::Wake { by: None },
                    EventKind::PollStart,
                    EventKind::Wake { by: me },
                    EventKind::PollEnd { ready: false },
                    EventKind::PollStart,
                    EventKind::Wake { by: me },
                    EventKind::PollEnd { ready: false },
                    EventKind::PollStart,
                    EventKind::Wake { by: me },
                    EventKind::PollEnd { ready: false },
                    EventKind::PollStart,
                    EventKind::PollEnd { ready: true },
                ],
                "task {task}"
            );
        }
        // Polls follow the FIFO order of spawns in the first round.
        let first_polls: Vec<u64> = events
            .iter()
            .filter(|e| e.kind == EventKind::PollStart)
            .take(100)
            .map(|e| e.task.unwrap())
            .collect();
        assert_eq!(first_polls, tasks);
        let polls = events
            .iter()
            .filter(|e| e.kind == EventKind::PollStart)
            .count();
        assert_eq!(polls as u64, rt.metrics().poll_count);
        assert!(events.iter().all(|e| e.worker == Some(0)));
        assert!(rt.take_events().is_empty(), "taking empties the rings");
    });
}

#[test]
fn recorder_is_bounded_and_keeps_the_newest() {
    with_watchdog(30, || {
        let rt = Builder::new_current_thread()
            .record_events(50)
            .build()
            .unwrap();
        spawn_100_yield_3(&rt);
        let events = rt.take_events();
        assert_eq!(events.len(), 50);
        // The last event is the last task's final poll end.
        assert_eq!(
            events.last().unwrap().kind,
            EventKind::PollEnd { ready: true }
        );
    });
}

#[test]
fn recorder_on_multi_thread_records_every_poll() {
    with_watchdog(60, || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .record_events(10_000)
            .build()
            .unwrap();
        spawn_100_yield_3(&rt);
        let events = rt.take_events();
        assert!(events.windows(2).all(|w| w[0].time <= w[1].time));
        let mut polls: HashMap<u64, usize> = HashMap::new();
        for e in &events {
            if e.kind == EventKind::PollStart {
                *polls.entry(e.task.unwrap()).or_default() += 1;
                assert!(e.worker.is_some_and(|w| w < 2));
            }
        }
        assert_eq!(polls.len(), 100);
        assert!(polls.values().all(|&n| n == 4));
        // Parks and unparks pair up per worker, in order.
        for worker in 0..2 {
            let mut parked = false;
            for e in events.iter().filter(|e| e.worker == Some(worker)) {
                match e.kind {
                    EventKind::Park => {
                        assert!(!parked);
                        parked = true;
                    }
                    EventKind::Unpark => {
                        assert!(parked);
                        parked = false;
                    }
                    _ => assert!(!parked, "no poll while parked"),
                }
            }
        }
    });
}
