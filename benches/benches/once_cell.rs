//! `once_cell`: reading an initialised once-cell, the path every user takes
//! after the first call.
//!
//! Each iteration reads the cell 1_000 times (through `black_box`, so the
//! reads are not hoisted). The cells are initialised once, outside the
//! measurement.
//!
//! | id | what one read is |
//! |---|---|
//! | `ours/once_cell/get` | `sync_primitives::OnceCell::get` |
//! | `tokio/once_cell/get` | `tokio::sync::OnceCell::get` |
//! | `async-lock/once_cell/get` | `async_lock::OnceCell::get` |
//! | `.../get_or_init` | the same crates' `get_or_init` on the set cell, polled once with a no-op waker |

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{BenchmarkId, Criterion, Throughput};

/// Reads per iteration.
const READS: u64 = 1_000;

/// Polls `fut` once; it must be ready (the cell is initialised).
fn ready<F: Future>(fut: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    match pin!(fut).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an initialised cell's get_or_init is ready at once"),
    }
}

fn once_cell(c: &mut Criterion) {
    let ours = sync_primitives::OnceCell::new();
    ours.set(7u64).expect("a new cell is empty");
    let tokio = tokio::sync::OnceCell::new();
    tokio.set(7u64).expect("a new cell is empty");
    let async_lock = async_lock::OnceCell::new();
    ready(async_lock.set(7u64)).expect("a new cell is empty");

    let mut group = c.benchmark_group("once_cell");
    group.throughput(Throughput::Elements(READS));

    group.bench_function(BenchmarkId::new("ours/once_cell", "get"), |b| {
        b.iter(|| {
            for _ in 0..READS {
                black_box(black_box(&ours).get());
            }
        });
    });
    group.bench_function(BenchmarkId::new("tokio/once_cell", "get"), |b| {
        b.iter(|| {
            for _ in 0..READS {
                black_box(black_box(&tokio).get());
            }
        });
    });
    group.bench_function(BenchmarkId::new("async-lock/once_cell", "get"), |b| {
        b.iter(|| {
            for _ in 0..READS {
                black_box(black_box(&async_lock).get());
            }
        });
    });

    group.bench_function(BenchmarkId::new("ours/once_cell", "get_or_init"), |b| {
        b.iter(|| {
            for _ in 0..READS {
                black_box(ready(
                    black_box(&ours).get_or_init(|| async { unreachable!() }),
                ));
            }
        });
    });
    group.bench_function(BenchmarkId::new("tokio/once_cell", "get_or_init"), |b| {
        b.iter(|| {
            for _ in 0..READS {
                black_box(ready(
                    black_box(&tokio).get_or_init(|| async { unreachable!() }),
                ));
            }
        });
    });
    group.bench_function(
        BenchmarkId::new("async-lock/once_cell", "get_or_init"),
        |b| {
            b.iter(|| {
                for _ in 0..READS {
                    black_box(ready(
                        black_box(&async_lock).get_or_init(|| async { unreachable!() }),
                    ));
                }
            });
        },
    );

    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    once_cell(&mut c);
    c.final_summary();
}
