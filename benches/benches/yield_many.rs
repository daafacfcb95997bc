//! `yield_many`: one spawned task yields 1_000 times; the bench thread
//! awaits its join handle.
//!
//! Each runtime is built once, outside the measurement. The yield is the
//! runtime's own where it has one (`runtime::yield_now`,
//! `tokio::task::yield_now`), else [`benches::yield_once`] (pending once
//! after waking itself), for async-executor and `futures::executor`.
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
//! | `floor` | [`benches::floor::busy_poll`] of the same loop: re-polled at once, a no-op waker |

use criterion::{Criterion, Throughput};
use futures::task::LocalSpawnExt;

/// Yields per iteration.
const YIELDS: usize = 1_000;

async fn yield_loop_ours() {
    for _ in 0..YIELDS {
        runtime::yield_now().await;
    }
}

async fn yield_loop_tokio() {
    for _ in 0..YIELDS {
        tokio::task::yield_now().await;
    }
}

async fn yield_loop_neutral() {
    for _ in 0..YIELDS {
        benches::yield_once().await;
    }
}

fn yield_many(c: &mut Criterion) {
    let mut group = c.benchmark_group("yield_many");
    group.throughput(Throughput::Elements(YIELDS as u64));

    let rt = runtime::Builder::new_current_thread()
        .build()
        .expect("build our current-thread runtime");
    group.bench_function("ours/current_thread", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(yield_loop_ours()))
                .expect("yielding task")
        })
    });
    drop(rt);
    let rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build our multi-thread runtime");
    group.bench_function("ours/multi_thread", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(yield_loop_ours()))
                .expect("yielding task")
        })
    });
    drop(rt);

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a tokio current-thread runtime");
    group.bench_function("tokio/current_thread", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(yield_loop_tokio()))
                .expect("yielding task")
        })
    });
    drop(rt);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    group.bench_function("tokio/multi_thread", |b| {
        b.iter(|| {
            rt.block_on(rt.spawn(yield_loop_tokio()))
                .expect("yielding task")
        })
    });
    drop(rt);

    let ex = async_executor::LocalExecutor::new();
    group.bench_function("async-executor/local", |b| {
        b.iter(|| futures::executor::block_on(ex.run(ex.spawn(yield_loop_neutral()))))
    });
    drop(ex);
    let pool = benches::AsyncExecutorPool::new(2);
    group.bench_function("async-executor/multi_thread", |b| {
        b.iter(|| pool.block_on(pool.spawn(yield_loop_neutral())))
    });
    drop(pool);

    let mut pool = futures::executor::LocalPool::new();
    let spawner = pool.spawner();
    group.bench_function("futures/local_pool", |b| {
        b.iter(|| {
            let handle = spawner
                .spawn_local_with_handle(yield_loop_neutral())
                .expect("spawn on a live LocalPool");
            pool.run_until(handle)
        })
    });
    drop(pool);

    group.bench_function("floor", |b| {
        b.iter(|| benches::floor::busy_poll(yield_loop_neutral()))
    });
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    yield_many(&mut c);
    c.final_summary();
}
