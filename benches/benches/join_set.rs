//! `join_set`: spawn 10_000 no-op tasks into a `JoinSet`, then take every
//! result with `join_next` (in completion order).
//!
//! Each runtime is built once, outside the measurement; one iteration is
//! one `block_on` that fills and drains the set.
//!
//! | id | executor and set |
//! |---|---|
//! | `ours/current_thread` | `runtime::JoinSet` on `Builder::new_current_thread()` |
//! | `ours/multi_thread` | `runtime::JoinSet` on `Builder::new_multi_thread().worker_threads(2)` |
//! | `tokio/current_thread` | `tokio::task::JoinSet` on tokio's `new_current_thread()` |
//! | `tokio/multi_thread` | `tokio::task::JoinSet` on tokio's `new_multi_thread().worker_threads(2)` |

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Tasks per iteration.
const TASKS: usize = 10_000;

fn join_set(c: &mut Criterion) {
    let mut group = c.benchmark_group("join_set");
    group.throughput(Throughput::Elements(TASKS as u64));

    let ours_ct = runtime::Builder::new_current_thread().build().unwrap();
    let ours_mt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for (id, rt) in [
        ("ours/current_thread", &ours_ct),
        ("ours/multi_thread", &ours_mt),
    ] {
        group.bench_function(id, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut set = runtime::JoinSet::new();
                    for i in 0..TASKS {
                        set.spawn(async move { black_box(i) });
                    }
                    let mut sum = 0;
                    while let Some(result) = set.join_next().await {
                        sum += result.unwrap();
                    }
                    sum
                })
            })
        });
    }

    let tokio_ct = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let tokio_mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for (id, rt) in [
        ("tokio/current_thread", &tokio_ct),
        ("tokio/multi_thread", &tokio_mt),
    ] {
        group.bench_function(id, |b| {
            b.iter(|| {
                rt.block_on(async {
                    let mut set = tokio::task::JoinSet::new();
                    for i in 0..TASKS {
                        set.spawn(async move { black_box(i) });
                    }
                    let mut sum = 0;
                    while let Some(result) = set.join_next().await {
                        sum += result.unwrap();
                    }
                    sum
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, join_set);
criterion_main!(benches);
