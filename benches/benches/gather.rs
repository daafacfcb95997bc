//! `runtime::gather` against `futures::future::join_all`, per future.
//!
//! Two workloads, both run under `futures::executor::block_on` for every
//! contender so that only the combinator differs:
//!
//! * `ready_10000`: 10 000 futures that are ready on their first poll (the
//!   combinator's bookkeeping, allocation and output collection).
//! * `yield_once_1000`: 1 000 futures that each yield once (wake themselves,
//!   return pending), so every child is woken and polled a second time.
//!
//! `floor` polls the same futures from a `Vec` with a no-op waker, in a
//! loop until all are done: what any combinator must at least spend.
//!
//! A second group, `gather_macro`, puts `gather!` beside `futures::join!`
//! on a pair of futures that yield ten times each.

// `criterion_group!` generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::future::{ready, Future};
use std::hint::black_box;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use futures::executor::block_on;

/// Polls every future of `futures` until all are ready, with a no-op waker.
fn floor<F: Future + Unpin>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<F> = futures.collect();
    let mut outputs: Vec<Option<F::Output>> = (0..futures.len()).map(|_| None).collect();
    let mut cx = Context::from_waker(Waker::noop());
    let mut remaining = futures.len();
    while remaining > 0 {
        for (fut, out) in futures.iter_mut().zip(outputs.iter_mut()) {
            if out.is_none() {
                if let Poll::Ready(v) = Pin::new(&mut *fut).poll(&mut cx) {
                    *out = Some(v);
                    remaining -= 1;
                }
            }
        }
    }
    outputs.into_iter().map(Option::unwrap).collect()
}

/// Yields once, then is ready with `value` (`Unpin`, so the floor needs no
/// boxing; the same future for every contender).
struct Yielding {
    yield_once: benches::YieldOnce,
    value: usize,
}

impl Future for Yielding {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        match Pin::new(&mut self.yield_once).poll(cx) {
            Poll::Ready(()) => Poll::Ready(self.value),
            Poll::Pending => Poll::Pending,
        }
    }
}

fn yielding(value: usize) -> Yielding {
    Yielding {
        yield_once: benches::yield_once(),
        value,
    }
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("gather");

    let n = 10_000;
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("ours/gather", "ready_10000"), |b| {
        b.iter(|| block_on(runtime::gather((0..n).map(|i| ready(black_box(i))))));
    });
    group.bench_function(BenchmarkId::new("futures/join_all", "ready_10000"), |b| {
        b.iter(|| {
            block_on(futures::future::join_all(
                (0..n).map(|i| ready(black_box(i))),
            ))
        });
    });
    group.bench_function(BenchmarkId::new("floor", "ready_10000"), |b| {
        b.iter(|| floor((0..n).map(|i| ready(black_box(i)))));
    });

    let n = 1_000;
    group.throughput(Throughput::Elements(n as u64));
    group.bench_function(BenchmarkId::new("ours/gather", "yield_once_1000"), |b| {
        b.iter(|| block_on(runtime::gather((0..n).map(yielding))));
    });
    group.bench_function(
        BenchmarkId::new("futures/join_all", "yield_once_1000"),
        |b| b.iter(|| block_on(futures::future::join_all((0..n).map(yielding)))),
    );
    group.bench_function(BenchmarkId::new("floor", "yield_once_1000"), |b| {
        b.iter(|| floor((0..n).map(yielding)));
    });

    group.finish();

    // `gather!` on a pair of futures that yield 10 times each: the per-call
    // allocation of its readiness set against `futures::join!`, which has
    // none but polls both futures on every wake.
    let mut group = c.benchmark_group("gather_macro");
    group.throughput(Throughput::Elements(2));
    let pair = || {
        let work = |value: usize| async move {
            for _ in 0..10 {
                benches::yield_once().await;
            }
            value
        };
        (work(1), work(2))
    };
    group.bench_function(BenchmarkId::new("ours/gather!", "pair_yield_10"), |b| {
        b.iter(|| {
            block_on(async {
                let (x, y) = pair();
                runtime::gather!(x, y)
            })
        });
    });
    group.bench_function(BenchmarkId::new("futures/join!", "pair_yield_10"), |b| {
        b.iter(|| {
            block_on(async {
                let (x, y) = pair();
                futures::join!(x, y)
            })
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
