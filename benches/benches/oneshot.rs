//! `oneshot`, and beside it the other one-value channels `broadcast` and
//! `watch`: the channels' own cost, polled by hand
//! with a no-op waker (no executor), 1_000 operations per iteration.
//!
//! | group / id | what one element is |
//! |---|---|
//! | `oneshot/create_send_recv` | make a channel, `send`, poll the receiver (ready at once), drop both |
//! | `oneshot/parked_recv` | make a channel, poll the receiver (it parks), `send` (wakes it), poll it again |
//! | `broadcast/fanout_4` | one `send` to 4 receivers (capacity 1024), each `try_recv`s it |
//! | `watch/send_changed` | `send`, then the receiver's `changed()` (ready) and `borrow_and_update` |
//!
//! Ids: `ours/...` is `sync_primitives`; `tokio/...` is `tokio::sync`;
//! `futures/...` is `futures::channel::oneshot`.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{Criterion, Throughput};

/// Operations per iteration.
const N: u64 = 1_000;

/// Polls `fut` once with a no-op waker.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// Polls a future that must be ready at once.
fn ready<F: Future>(fut: F) -> F::Output {
    match poll_once(pin!(fut)) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("expected a ready future"),
    }
}

fn oneshot(c: &mut Criterion) {
    let mut group = c.benchmark_group("oneshot/create_send_recv");
    group.throughput(Throughput::Elements(N));
    group.bench_function("ours", |b| {
        b.iter(|| {
            for i in 0..N {
                let (tx, rx) = sync_primitives::oneshot::channel();
                tx.send(black_box(i)).unwrap();
                black_box(ready(rx).unwrap());
            }
        });
    });
    group.bench_function("tokio", |b| {
        b.iter(|| {
            for i in 0..N {
                let (tx, rx) = tokio::sync::oneshot::channel();
                tx.send(black_box(i)).unwrap();
                black_box(ready(rx).unwrap());
            }
        });
    });
    group.bench_function("futures", |b| {
        b.iter(|| {
            for i in 0..N {
                let (tx, rx) = futures::channel::oneshot::channel();
                tx.send(black_box(i)).unwrap();
                black_box(ready(rx).unwrap());
            }
        });
    });
    group.finish();

    let mut group = c.benchmark_group("oneshot/parked_recv");
    group.throughput(Throughput::Elements(N));
    group.bench_function("ours", |b| {
        b.iter(|| {
            for i in 0..N {
                let (tx, mut rx) = sync_primitives::oneshot::channel();
                assert!(poll_once(std::pin::Pin::new(&mut rx)).is_pending());
                tx.send(black_box(i)).unwrap();
                black_box(ready(rx).unwrap());
            }
        });
    });
    group.bench_function("tokio", |b| {
        b.iter(|| {
            for i in 0..N {
                let (tx, mut rx) = tokio::sync::oneshot::channel();
                assert!(poll_once(std::pin::Pin::new(&mut rx)).is_pending());
                tx.send(black_box(i)).unwrap();
                black_box(ready(rx).unwrap());
            }
        });
    });
    group.bench_function("futures", |b| {
        b.iter(|| {
            for i in 0..N {
                let (tx, mut rx) = futures::channel::oneshot::channel();
                assert!(poll_once(std::pin::Pin::new(&mut rx)).is_pending());
                tx.send(black_box(i)).unwrap();
                black_box(ready(rx).unwrap());
            }
        });
    });
    group.finish();
}

fn broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast/fanout_4");
    group.throughput(Throughput::Elements(N));
    group.bench_function("ours", |b| {
        let (tx, rx) = sync_primitives::broadcast::channel(1024);
        let mut receivers = [rx, tx.subscribe(), tx.subscribe(), tx.subscribe()];
        b.iter(|| {
            for i in 0..N {
                tx.send(black_box(i)).unwrap();
                for rx in &mut receivers {
                    black_box(rx.try_recv().unwrap());
                }
            }
        });
    });
    group.bench_function("tokio", |b| {
        let (tx, rx) = tokio::sync::broadcast::channel(1024);
        let mut receivers = [rx, tx.subscribe(), tx.subscribe(), tx.subscribe()];
        b.iter(|| {
            for i in 0..N {
                tx.send(black_box(i)).unwrap();
                for rx in &mut receivers {
                    black_box(rx.try_recv().unwrap());
                }
            }
        });
    });
    group.finish();
}

fn watch(c: &mut Criterion) {
    let mut group = c.benchmark_group("watch/send_changed");
    group.throughput(Throughput::Elements(N));
    group.bench_function("ours", |b| {
        let (tx, mut rx) = sync_primitives::watch::channel(0);
        b.iter(|| {
            for i in 0..N {
                tx.send(black_box(i)).unwrap();
                ready(rx.changed()).unwrap();
                black_box(*rx.borrow_and_update());
            }
        });
    });
    group.bench_function("tokio", |b| {
        let (tx, mut rx) = tokio::sync::watch::channel(0);
        b.iter(|| {
            for i in 0..N {
                tx.send(black_box(i)).unwrap();
                ready(rx.changed()).unwrap();
                black_box(*rx.borrow_and_update());
            }
        });
    });
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    oneshot(&mut c);
    broadcast(&mut c);
    watch(&mut c);
    c.final_summary();
}
