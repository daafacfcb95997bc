//! `spawn_many`: spawn 10_000 no-op tasks, then await every join handle in
//! spawn order.
//!
//! Each runtime is built once, outside the measurement; one iteration is
//! one `block_on` that spawns and joins the 10_000 tasks.
//!
//! | id | executor |
//! |---|---|
//! | `ours/current_thread` | `runtime::Builder::new_current_thread()` |
//! | `ours/multi_thread` | `runtime::Builder::new_multi_thread().worker_threads(2)` |
//! | `tokio/current_thread` | tokio `new_current_thread()` |
//! | `tokio/multi_thread` | tokio `new_multi_thread().worker_threads(2)` |
//! | `async-executor/local` | `LocalExecutor`, run by `futures::executor::block_on(ex.run(..))` |
//! | `async-executor/multi_thread` | `Executor` on 2 worker threads ([`benches::AsyncExecutorPool`]) |
//! | `futures/local_pool` | `futures::executor::LocalPool`, `spawn_local_with_handle` |
//! | `floor` | [`benches::floor::spawn_floor`]: boxed futures through a `VecDeque`, a no-op waker |
//!
//! In every `multi_thread` entry the bench thread spawns the tasks and waits
//! for the handles, while 2 worker threads run them.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput};
use futures::task::LocalSpawnExt;

/// Tasks per iteration.
const TASKS: usize = 10_000;

fn ours(group: &mut BenchmarkGroup<'_, WallTime>, id: &str, rt: &runtime::Runtime) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|_| runtime::spawn(async {})).collect();
                for h in handles {
                    h.await.expect("no-op task");
                }
            })
        })
    });
}

fn tokio(group: &mut BenchmarkGroup<'_, WallTime>, id: &str, rt: &tokio::runtime::Runtime) {
    group.bench_function(id, |b| {
        b.iter(|| {
            rt.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|_| tokio::spawn(async {})).collect();
                for h in handles {
                    h.await.expect("no-op task");
                }
            })
        })
    });
}

fn spawn_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("spawn_many");
    group.throughput(Throughput::Elements(TASKS as u64));

    let rt = runtime::Builder::new_current_thread()
        .build()
        .expect("build our current-thread runtime");
    ours(&mut group, "ours/current_thread", &rt);
    drop(rt);
    let rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build our multi-thread runtime");
    ours(&mut group, "ours/multi_thread", &rt);
    drop(rt);

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a tokio current-thread runtime");
    tokio(&mut group, "tokio/current_thread", &rt);
    drop(rt);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    tokio(&mut group, "tokio/multi_thread", &rt);
    drop(rt);

    let ex = async_executor::LocalExecutor::new();
    group.bench_function("async-executor/local", |b| {
        b.iter(|| {
            futures::executor::block_on(ex.run(async {
                let handles: Vec<_> = (0..TASKS).map(|_| ex.spawn(async {})).collect();
                for h in handles {
                    h.await;
                }
            }))
        })
    });
    drop(ex);

    let pool = benches::AsyncExecutorPool::new(2);
    group.bench_function("async-executor/multi_thread", |b| {
        b.iter(|| {
            pool.block_on(async {
                let handles: Vec<_> = (0..TASKS).map(|_| pool.spawn(async {})).collect();
                for h in handles {
                    h.await;
                }
            })
        })
    });
    drop(pool);

    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    group.bench_function("futures/local_pool", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..TASKS)
                .map(|_| {
                    spawner
                        .spawn_local_with_handle(async {})
                        .expect("spawn on a live LocalPool")
                })
                .collect();
            pool.run_until(async {
                for h in handles {
                    h.await;
                }
            })
        })
    });
    drop(pool);

    group.bench_function("floor", |b| {
        b.iter(|| benches::floor::spawn_floor(black_box(TASKS)))
    });
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    spawn_many(&mut c);
    c.final_summary();
}
