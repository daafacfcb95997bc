//! `semaphore`: async semaphores, uncontended and contended.
//!
//! - `uncontended`: 1_000 acquire/release pairs in a single
//!   `futures::executor::block_on` (no runtime budget in the way).
//!   Throughput: 1_000 elements.
//! - `contended`: 4 tasks × 1_000 acquire/release of one permit of a
//!   two-permit semaphore, on a tokio multi-thread runtime with 2 workers
//!   (the same runtime for every semaphore, so only the semaphore differs);
//!   each task yields while it holds its permit every tenth round, so that
//!   waiters queue. Throughput: 4_000 elements.
//!
//! Our semaphore is FIFO like tokio's; async-lock's is not (a released
//! permit may go to a newcomer before a waiter).

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use benches::yield_once;
use criterion::{BenchmarkId, Criterion, Throughput};

/// Acquire/release pairs in the uncontended workload.
const UNCONTENDED: u64 = 1_000;
/// Tasks in the contended workload.
const TASKS: u64 = 4;
/// Acquires per task in the contended workload.
const ROUNDS: u64 = 1_000;
/// Permits of the contended semaphore.
const PERMITS: usize = 2;

/// `$acquire` turns `&semaphore` into a permit (awaited inside an async
/// block).
macro_rules! uncontended {
    ($group:expr, $id:expr, $new:expr, |$s:ident| $acquire:expr) => {{
        let $s = $new;
        $group.bench_function(BenchmarkId::new($id, "uncontended"), |b| {
            b.iter(|| {
                futures::executor::block_on(async {
                    for _ in 0..UNCONTENDED {
                        drop(black_box($acquire));
                    }
                });
            })
        });
    }};
}

/// Runs `TASKS` tasks taking a permit `ROUNDS` times each; counts the
/// holders so a broken semaphore fails the bench instead of timing it.
macro_rules! contended {
    ($group:expr, $id:expr, $rt:expr, $new:expr, |$s:ident| $acquire:expr) => {{
        let shared = Arc::new($new);
        let holders = Arc::new(AtomicU64::new(0));
        $group.bench_function(BenchmarkId::new($id, "contended"), |b| {
            b.iter(|| {
                $rt.block_on(async {
                    let handles: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let $s = Arc::clone(&shared);
                            let holders = Arc::clone(&holders);
                            tokio::spawn(async move {
                                for round in 0..ROUNDS {
                                    let permit = $acquire;
                                    let now = holders.fetch_add(1, Ordering::Relaxed) + 1;
                                    assert!(now <= PERMITS as u64, "{}: too many holders", $id);
                                    if round % 10 == 0 {
                                        yield_once().await;
                                    }
                                    holders.fetch_sub(1, Ordering::Relaxed);
                                    drop(permit);
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
    }};
}

fn uncontended(c: &mut Criterion) {
    let mut group = c.benchmark_group("semaphore");
    group.throughput(Throughput::Elements(UNCONTENDED));
    uncontended!(
        group,
        "ours/semaphore",
        sync_primitives::Semaphore::new(1),
        |s| s.acquire().await.unwrap()
    );
    uncontended!(
        group,
        "tokio/semaphore",
        tokio::sync::Semaphore::new(1),
        |s| s.acquire().await.unwrap()
    );
    uncontended!(
        group,
        "async-lock/semaphore",
        async_lock::Semaphore::new(1),
        |s| s.acquire().await
    );
    group.finish();
}

fn contended(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    let mut group = c.benchmark_group("semaphore");
    group.throughput(Throughput::Elements(TASKS * ROUNDS));
    contended!(
        group,
        "ours/semaphore",
        rt,
        sync_primitives::Semaphore::new(PERMITS),
        |s| s.acquire().await.unwrap()
    );
    contended!(
        group,
        "tokio/semaphore",
        rt,
        tokio::sync::Semaphore::new(PERMITS),
        |s| s.acquire().await.unwrap()
    );
    contended!(
        group,
        "async-lock/semaphore",
        rt,
        async_lock::Semaphore::new(PERMITS),
        |s| s.acquire().await
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
