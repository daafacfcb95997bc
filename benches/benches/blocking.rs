//! `blocking`: 100 sequential round trips through a blocking pool: send a
//! trivial closure to a pool thread and await its result.
//!
//! One iteration is one `block_on` that runs the 100 round trips one after
//! the other, so it measures the hand-off both ways (queue, wake a pool
//! thread, run, wake the awaiting task) more than the pool's growth: after
//! the first iteration one pool thread is warm and idle.
//!
//! | id | pool and executor |
//! |---|---|
//! | `ours/spawn_blocking` | `runtime::spawn_blocking` on `Builder::new_current_thread()` |
//! | `tokio/spawn_blocking` | `tokio::task::spawn_blocking` on tokio's `new_current_thread()` |
//! | `blocking/unblock` | smol's `blocking::unblock`, under `futures::executor::block_on` |

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// Round trips per iteration.
const TRIPS: usize = 100;

fn blocking(c: &mut Criterion) {
    let mut group = c.benchmark_group("blocking");
    group.throughput(Throughput::Elements(TRIPS as u64));

    let ours = runtime::Builder::new_current_thread().build().unwrap();
    group.bench_function("ours/spawn_blocking", |b| {
        b.iter(|| {
            ours.block_on(async {
                let mut sum = 0;
                for i in 0..TRIPS {
                    sum += runtime::spawn_blocking(move || black_box(i)).await.unwrap();
                }
                sum
            })
        })
    });

    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    group.bench_function("tokio/spawn_blocking", |b| {
        b.iter(|| {
            tokio_rt.block_on(async {
                let mut sum = 0;
                for i in 0..TRIPS {
                    sum += tokio::task::spawn_blocking(move || black_box(i))
                        .await
                        .unwrap();
                }
                sum
            })
        })
    });

    group.bench_function("blocking/unblock", |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                let mut sum = 0;
                for i in 0..TRIPS {
                    sum += blocking::unblock(move || black_box(i)).await;
                }
                sum
            })
        })
    });
    group.finish();
}

criterion_group!(benches, blocking);
criterion_main!(benches);
