//! `select`: 1000 evaluations of a `select!` over two futures that are
//! ready on their first poll, inside one `futures::executor::block_on`, so
//! that only the macro differs.
//!
//! | id | macro |
//! |---|---|
//! | `ours/select!` | `runtime::select!` (random start) |
//! | `ours/select!_biased` | `runtime::select!` with `biased;` |
//! | `tokio/select!` | `tokio::select!` (random start) |
//! | `tokio/select!_biased` | `tokio::select!` with `biased;` |
//! | `futures/select!` | `futures::select!` on `ready(..).fuse()` (random start) |
//! | `futures/select_biased!` | `futures::select_biased!` |

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::future::ready;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::executor::block_on;
use futures::FutureExt;

/// `select!` evaluations per iteration.
const SELECTS: u64 = 1000;

fn select(c: &mut Criterion) {
    let mut group = c.benchmark_group("select");
    group.throughput(Throughput::Elements(SELECTS));

    group.bench_function("ours/select!", |b| {
        b.iter(|| {
            block_on(async {
                let mut sum = 0u64;
                for i in 0..SELECTS {
                    sum += runtime::select! {
                        a = ready(black_box(i)) => a,
                        b = ready(black_box(i + 1)) => b,
                    };
                }
                sum
            })
        })
    });
    group.bench_function("ours/select!_biased", |b| {
        b.iter(|| {
            block_on(async {
                let mut sum = 0u64;
                for i in 0..SELECTS {
                    sum += runtime::select! {
                        biased;
                        a = ready(black_box(i)) => a,
                        b = ready(black_box(i + 1)) => b,
                    };
                }
                sum
            })
        })
    });
    group.bench_function("tokio/select!", |b| {
        b.iter(|| {
            block_on(async {
                let mut sum = 0u64;
                for i in 0..SELECTS {
                    sum += tokio::select! {
                        a = ready(black_box(i)) => a,
                        b = ready(black_box(i + 1)) => b,
                    };
                }
                sum
            })
        })
    });
    group.bench_function("tokio/select!_biased", |b| {
        b.iter(|| {
            block_on(async {
                let mut sum = 0u64;
                for i in 0..SELECTS {
                    sum += tokio::select! {
                        biased;
                        a = ready(black_box(i)) => a,
                        b = ready(black_box(i + 1)) => b,
                    };
                }
                sum
            })
        })
    });
    group.bench_function("futures/select!", |b| {
        b.iter(|| {
            block_on(async {
                let mut sum = 0u64;
                for i in 0..SELECTS {
                    let mut x = ready(black_box(i)).fuse();
                    let mut y = ready(black_box(i + 1)).fuse();
                    sum += futures::select! {
                        a = x => a,
                        b = y => b,
                    };
                }
                sum
            })
        })
    });
    group.bench_function("futures/select_biased!", |b| {
        b.iter(|| {
            block_on(async {
                let mut sum = 0u64;
                for i in 0..SELECTS {
                    let mut x = ready(black_box(i)).fuse();
                    let mut y = ready(black_box(i + 1)).fuse();
                    sum += futures::select_biased! {
                        a = x => a,
                        b = y => b,
                    };
                }
                sum
            })
        })
    });
    group.finish();
}

criterion_group!(benches, select);
criterion_main!(benches);
