//! The `tracing` feature: one span per task poll, carrying the task's id
//! (`cargo test -p runtime --features tracing --test tracing`).
#![cfg(feature = "tracing")]

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use test_util::with_watchdog;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Seconds before a hang fails a test (`with_watchdog` allows more under
/// miri).
const WATCHDOG_SECS: u64 = 60;

/// Counts entries of `poll` spans per `task.id`.
#[derive(Default)]
struct Polls {
    next: AtomicU64,
    /// Span id -> task id.
    spans: Mutex<HashMap<u64, u64>>,
    /// Task id -> polls entered.
    entered: Mutex<HashMap<u64, u32>>,
}

struct TaskId(Option<u64>);

impl Visit for TaskId {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "task.id" {
            self.0 = Some(value);
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

#[derive(Clone)]
struct Counter(Arc<Polls>);

impl Subscriber for Counter {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, span: &Attributes<'_>) -> Id {
        let id = self.0.next.fetch_add(1, Ordering::Relaxed) + 1;
        if span.metadata().name() == "poll" && span.metadata().target() == "runtime::task" {
            let mut task = TaskId(None);
            span.record(&mut task);
            let task = task.0.expect("a poll span has a task.id");
            self.0.spans.lock().unwrap().insert(id, task);
        }
        Id::from_u64(id)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, _: &Event<'_>) {}

    fn enter(&self, span: &Id) {
        if let Some(&task) = self.0.spans.lock().unwrap().get(&span.into_u64()) {
            *self.0.entered.lock().unwrap().entry(task).or_default() += 1;
        }
    }

    fn exit(&self, _: &Id) {}
}

#[test]
fn a_span_per_task_poll() {
    with_watchdog(WATCHDOG_SECS, || {
        let polls = Arc::new(Polls::default());
        tracing::subscriber::with_default(Counter(Arc::clone(&polls)), || {
            let rt = runtime::Runtime::new();
            rt.block_on(async {
                let tasks: Vec<_> = (0..10)
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
            assert_eq!(rt.metrics().poll_count, 40);
        });
        let entered = polls.entered.lock().unwrap();
        assert_eq!(entered.len(), 10, "one task id per task");
        assert!(entered.values().all(|&n| n == 4), "{entered:?}");
    });
}
