//! `mutex`: async mutexes, uncontended and contended.
//!
//! Two workloads, told apart by the benchmark parameter:
//!
//! - `uncontended`: 1_000 lock/unlock pairs (each adds one to the data) in a
//!   single `futures::executor::block_on`, so no runtime's cooperative budget
//!   gets in the way (tokio's mutex would yield every 128 locks under a tokio
//!   runtime). Throughput: 1_000 elements.
//! - `contended`: 4 tasks × 1_000 increments on a tokio multi-thread runtime
//!   with 2 workers, the same runtime for every mutex so only the mutex
//!   differs; `ours/mutex_on_ours` is the extra entry of our mutex on our
//!   own 2-worker runtime. Throughput: 4_000 elements.
//!
//! `floor/parking_lot` is a blocking `parking_lot::Mutex` held for the same
//! increments: what a lock costs when it never has to park a task.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput};

/// Lock/unlock pairs in the uncontended workload.
const UNCONTENDED: u64 = 1_000;
/// Tasks in the contended workload.
const TASKS: u64 = 4;
/// Increments per task in the contended workload.
const INCREMENTS: u64 = 1_000;

/// `$lock` is an expression turning `&mutex` into a guard (awaited inside
/// an async block).
macro_rules! uncontended {
    ($group:expr, $id:expr, $new:expr, |$m:ident| $lock:expr) => {{
        let $m = $new;
        $group.bench_function(BenchmarkId::new($id, "uncontended"), |b| {
            b.iter(|| {
                futures::executor::block_on(async {
                    for _ in 0..UNCONTENDED {
                        *$lock += 1;
                    }
                });
                black_box(&$m);
            })
        });
        let total = futures::executor::block_on(async { *$lock });
        assert!(
            total > 0 && total % UNCONTENDED == 0,
            "{}: lost updates",
            $id
        );
    }};
}

/// Runs `TASKS` copies of `task(mutex)` on `spawn` and awaits them all.
macro_rules! contended {
    ($group:expr, $id:expr, $rt:expr, $spawn:path, $new:expr, |$m:ident| $lock:expr) => {{
        let shared = Arc::new($new);
        $group.bench_function(BenchmarkId::new($id, "contended"), |b| {
            b.iter(|| {
                $rt.block_on(async {
                    let handles: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let $m = Arc::clone(&shared);
                            $spawn(async move {
                                for _ in 0..INCREMENTS {
                                    *$lock += 1;
                                }
                            })
                        })
                        .collect();
                    for h in handles {
                        h.await.expect("contended task");
                    }
                })
            })
        });
        let $m = &*shared;
        let total = futures::executor::block_on(async { *$lock });
        let per_iteration = TASKS * INCREMENTS;
        assert!(
            total > 0 && total % per_iteration == 0,
            "{}: lost updates",
            $id
        );
    }};
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("mutex");
    group.throughput(Throughput::Elements(UNCONTENDED));
    uncontended!(
        group,
        "ours/mutex",
        sync_primitives::Mutex::new(0u64),
        |m| m.lock().await
    );
    uncontended!(group, "tokio/mutex", tokio::sync::Mutex::new(0u64), |m| m
        .lock()
        .await);
    uncontended!(
        group,
        "async-lock/mutex",
        async_lock::Mutex::new(0u64),
        |m| m.lock().await
    );
    uncontended!(
        group,
        "futures/mutex",
        futures::lock::Mutex::new(0u64),
        |m| m.lock().await
    );
    uncontended!(
        group,
        "floor/parking_lot",
        parking_lot::Mutex::new(0u64),
        |m| m.lock()
    );
    group.finish();
}

fn tokio_spawn<F>(fut: F) -> tokio::task::JoinHandle<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::spawn(fut)
}

fn contended(c: &mut Criterion) {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    let ours_rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build our multi-thread runtime");

    let mut group = c.benchmark_group("mutex");
    group.throughput(Throughput::Elements(TASKS * INCREMENTS));
    contended!(
        group,
        "ours/mutex",
        tokio_rt,
        tokio_spawn,
        sync_primitives::Mutex::new(0u64),
        |m| m.lock().await
    );
    contended!(
        group,
        "ours/mutex_on_ours",
        ours_rt,
        runtime::spawn,
        sync_primitives::Mutex::new(0u64),
        |m| m.lock().await
    );
    contended!(
        group,
        "tokio/mutex",
        tokio_rt,
        tokio_spawn,
        tokio::sync::Mutex::new(0u64),
        |m| m.lock().await
    );
    contended!(
        group,
        "async-lock/mutex",
        tokio_rt,
        tokio_spawn,
        async_lock::Mutex::new(0u64),
        |m| m.lock().await
    );
    contended!(
        group,
        "futures/mutex",
        tokio_rt,
        tokio_spawn,
        futures::lock::Mutex::new(0u64),
        |m| m.lock().await
    );
    contended!(
        group,
        "floor/parking_lot",
        tokio_rt,
        tokio_spawn,
        parking_lot::Mutex::new(0u64),
        |m| m.lock()
    );
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    uncontended(&mut c);
    contended(&mut c);
    c.final_summary();
}
