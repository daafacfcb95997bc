//! `queue`: asyncio's `Queue` (ours) against the closest multi-producer,
//! multi-consumer async channels, async-channel and flume (flume only in
//! `put_get`: see `mpmc`).
//!
//! Two workloads, told apart by the benchmark parameter:
//!
//! - `put_get`: 1_000 put-then-get pairs on an unbounded queue in one
//!   `futures::executor::block_on`: the cost of the operations themselves,
//!   with nobody waiting. Throughput: 1_000 elements.
//! - `mpmc_4x4`: 4 producer tasks × 2_500 items through a queue of
//!   capacity 128 to 4 consumer tasks, on a tokio multi-thread runtime with
//!   2 workers (the same for every contender); ours also marks each item
//!   done and `join`s, as an asyncio worker pool does.
//!   `ours/queue_on_ours` is ours on our own 2-worker runtime. Throughput:
//!   10_000 elements.

use std::future::Future;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput};
use sync_primitives::Queue;

/// Pairs in the `put_get` workload.
const PAIRS: u64 = 1_000;
/// Producers and consumers in the `mpmc_4x4` workload.
const TASKS: u64 = 4;
/// Items per producer in the `mpmc_4x4` workload.
const PER_PRODUCER: u64 = 2_500;
/// Capacity in the `mpmc_4x4` workload.
const CAPACITY: usize = 128;

fn put_get(c: &mut Criterion) {
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(PAIRS));
    let queue = Queue::new(0);
    group.bench_function(BenchmarkId::new("ours/queue", "put_get"), |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                for i in 0..PAIRS {
                    queue.put(i).await.expect("open");
                    black_box(queue.get().await.expect("an item"));
                }
            })
        })
    });
    let (tx, rx) = async_channel::unbounded();
    group.bench_function(BenchmarkId::new("async-channel", "put_get"), |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                for i in 0..PAIRS {
                    tx.send(i).await.expect("open");
                    black_box(rx.recv().await.expect("an item"));
                }
            })
        })
    });
    let (tx, rx) = flume::unbounded();
    group.bench_function(BenchmarkId::new("flume", "put_get"), |b| {
        b.iter(|| {
            futures::executor::block_on(async {
                for i in 0..PAIRS {
                    tx.send_async(i).await.expect("open");
                    black_box(rx.recv_async().await.expect("an item"));
                }
            })
        })
    });
    group.finish();
}

/// Runs `TASKS` producers and `TASKS` consumers; `$put`/`$get` are
/// expressions over `$q` (`$get` yields `Option<u64>`, `None` at the end);
/// `$finish` closes the channel once the producers are done.
macro_rules! mpmc {
    ($group:expr, $id:expr, $rt:expr, $spawn:path, $new:expr,
     |$q:ident| put |$i:ident| $put:expr, get $get:expr, $(done $done:expr,)? finish $finish:expr) => {{
        $group.bench_function(BenchmarkId::new($id, "mpmc_4x4"), |b| {
            b.iter(|| {
                $rt.block_on(async {
                    let shared = Arc::new($new);
                    let consumers: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let $q = Arc::clone(&shared);
                            $spawn(async move {
                                let mut n = 0u64;
                                while let Some(item) = $get {
                                    black_box(item);
                                    $($done;)?
                                    n += 1;
                                }
                                n
                            })
                        })
                        .collect();
                    let producers: Vec<_> = (0..TASKS)
                        .map(|_| {
                            let $q = Arc::clone(&shared);
                            $spawn(async move {
                                for $i in 0..PER_PRODUCER {
                                    $put;
                                }
                                0
                            })
                        })
                        .collect();
                    for producer in producers {
                        producer.await.expect("producer");
                    }
                    let $q = &*shared;
                    $finish;
                    let mut total = 0;
                    for consumer in consumers {
                        total += consumer.await.expect("consumer");
                    }
                    assert_eq!(total, TASKS * PER_PRODUCER, "every item once");
                })
            })
        });
    }};
}

fn tokio_spawn<F>(fut: F) -> tokio::task::JoinHandle<u64>
where
    F: Future<Output = u64> + Send + 'static,
{
    tokio::spawn(fut)
}

fn mpmc(c: &mut Criterion) {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    let ours_rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build our multi-thread runtime");
    let mut group = c.benchmark_group("queue");
    group.throughput(Throughput::Elements(TASKS * PER_PRODUCER));
    mpmc!(group, "ours/queue", tokio_rt, tokio_spawn, Queue::new(CAPACITY),
        |q| put |i| q.put(i).await.expect("open"),
        get q.get().await.ok(),
        done q.task_done(),
        finish { q.join().await; q.shutdown(false) });
    mpmc!(group, "ours/queue_on_ours", ours_rt, runtime::spawn, Queue::new(CAPACITY),
        |q| put |i| q.put(i).await.expect("open"),
        get q.get().await.ok(),
        done q.task_done(),
        finish { q.join().await; q.shutdown(false) });
    mpmc!(group, "async-channel", tokio_rt, tokio_spawn, async_channel::bounded(CAPACITY),
        |q| put |i| q.0.send(i).await.expect("open"),
        get q.1.recv().await.ok(),
        finish q.0.close());
    // flume is left out of this workload: its bounded `send_async` /
    // `recv_async` pair hung here (every thread parked, no progress for
    // minutes) in a run on 2026-12-03, and a hang in a peer must not stall
    // `cargo bench -- --test` in CI. It stays in `put_get` above.
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    put_get(&mut c);
    mpmc(&mut c);
    c.final_summary();
}
