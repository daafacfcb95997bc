//! `#[runtime::test]` (and so `#[runtime::main]`, the same expansion): the
//! options really choose the runtime. Bad options are compile errors, checked
//! by the `compile_fail` doctests on `runtime::main` / `runtime::test` and by
//! the unit tests of `runtime-macros` (which check the messages).

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

#[runtime::test]
async fn the_default_is_current_thread() {
    let caller = std::thread::current().id();
    let task = runtime::spawn(async { std::thread::current().id() })
        .await
        .unwrap();
    // A current-thread runtime runs its tasks on the `block_on` thread.
    assert_eq!(task, caller);
    // ... and `spawn_local` works there.
    let rc = std::rc::Rc::new(1);
    assert_eq!(runtime::spawn_local(async move { *rc }).await.unwrap(), 1);
}

#[runtime::test(flavor = "current_thread")]
async fn current_thread_can_be_spelled_out() {
    let caller = std::thread::current().id();
    let task = runtime::spawn(async { std::thread::current().id() });
    assert_eq!(task.await.unwrap(), caller);
}

#[runtime::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_with_two_workers_really_runs_on_two_workers() {
    // Two tasks that each block their thread until both have arrived: they
    // get past this meeting point only if two workers run them at the same
    // time. (Bounded: with one worker it panics after 10 s instead of
    // hanging.)
    let arrived = Arc::new(AtomicUsize::new(0));
    let caller = std::thread::current().id();
    let mut handles = Vec::new();
    for _ in 0..2 {
        let arrived = Arc::clone(&arrived);
        handles.push(runtime::spawn(async move {
            arrived.fetch_add(1, Ordering::SeqCst);
            let start = Instant::now();
            while arrived.load(Ordering::SeqCst) < 2 {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "the two tasks never ran at the same time"
                );
                std::thread::yield_now();
            }
            std::thread::current().id()
        }));
    }
    let mut threads = HashSet::<ThreadId>::new();
    for handle in handles {
        threads.insert(handle.await.unwrap());
    }
    assert_eq!(threads.len(), 2, "the two tasks met on two threads");
    assert!(
        !threads.contains(&caller),
        "tasks run on workers, not the test thread"
    );

    // And there are exactly two: many tasks, each recording its thread,
    // never use a third one.
    let mut handles = Vec::new();
    for _ in 0..200 {
        handles.push(runtime::spawn(async {
            runtime::yield_now().await;
            let id = std::thread::current().id();
            std::thread::sleep(Duration::from_micros(50));
            id
        }));
    }
    for handle in handles {
        threads.insert(handle.await.unwrap());
    }
    assert_eq!(threads.len(), 2, "a third worker thread ran a task");
    let names: HashSet<String> =
        runtime::spawn(async { std::thread::current().name().unwrap_or_default().to_owned() })
            .await
            .into_iter()
            .collect();
    assert!(
        names.iter().all(|n| n.starts_with("runtime-worker")),
        "{names:?}"
    );
}

#[runtime::test]
async fn a_test_may_return_a_result() -> Result<(), std::num::ParseIntError> {
    let n: u32 = "42".parse()?;
    assert_eq!(n, 42);
    Ok(())
}

#[runtime::test]
async fn return_in_the_body_returns_from_the_test() {
    if runtime::spawn(async { true }).await.unwrap() {
        return;
    }
    unreachable!();
}

mod main_attribute {
    // `#[runtime::main]` on a function other than `main`, called by hand.
    #[runtime::main(flavor = "multi_thread", worker_threads = 3)]
    async fn entry() -> usize {
        let id = runtime::spawn(async { std::thread::current().name().map(str::to_owned) });
        assert!(id.await.unwrap().unwrap().starts_with("runtime-worker"));
        7
    }

    #[test]
    fn main_builds_a_runtime_and_returns_the_body_s_output() {
        assert_eq!(entry(), 7);
    }
}
