//! A tour of the task-group, blocking, select and interval API, as an
//! `async fn main`: `cargo run -p runtime --example tour`.

use runtime::time::MissedTickBehavior;
use runtime::JoinSet;
use std::time::{Duration, Instant};

#[runtime::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();

    // Tasks in a group, joined as they finish.
    let mut set = JoinSet::new();
    for ms in [30u64, 10, 20] {
        set.spawn(async move {
            runtime::sleep(Duration::from_millis(ms)).await;
            ms
        });
    }
    while let Some(done) = set.join_next().await {
        println!("task of {} ms finished", done.unwrap());
    }

    // Blocking work off the workers, raced against a deadline.
    let work = runtime::spawn_blocking(|| {
        std::thread::sleep(Duration::from_millis(20));
        (1..=20u64).product::<u64>()
    });
    runtime::select! {
        Ok(value) = work => println!("20! = {value}"),
        _ = runtime::sleep(Duration::from_secs(5)) => println!("too slow"),
    }

    // Three ticks of an interval.
    let mut interval = runtime::interval(Duration::from_millis(10));
    interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
    for _ in 0..3 {
        let tick = interval.tick().await;
        println!("tick at +{} ms", (tick - start).as_millis());
    }
}
