//! `mpsc`: multi-producer single-consumer channels against their peers.
//!
//! Four workloads, told apart by the benchmark parameter:
//!
//! - `bounded_1p`: one producer task sends 10_000 values into a channel of
//!   capacity 128; the receiver is the `block_on` future. Throughput:
//!   10_000 elements.
//! - `bounded_4p`: the same with 4 producers × 2_500 values.
//! - `pingpong`: two tasks bounce a value 1_000 times over two channels of
//!   capacity 1 (every send parks or wakes the other side). Throughput:
//!   1_000 round trips.
//! - `unbounded_1p`: one producer, 10_000 values, unbounded channels.
//! - `pingpong_current_thread`: `pingpong` with both tasks on one
//!   current-thread runtime. On the multi-thread runtime a round trip is
//!   two cross-thread wake-ups, and on this machine (a VM whose idle vCPUs
//!   halt) their latency, 5 to 20 µs each, sets the time of every
//!   contender alike; on one thread nothing sleeps, so this row is the
//!   channels' own cost of a park and a wake-up.
//!
//! Every async contender runs on the same tokio multi-thread runtime with
//! 2 workers, so only the channel differs; `ours/mpsc_on_ours` is ours on
//! our own 2-worker runtime. `floor/crossbeam-channel` runs the workloads
//! on OS threads with blocking calls: what passing a value costs when no
//! task ever parks.

use std::future::Future;
use std::pin::Pin;

use criterion::{BenchmarkId, Criterion, Throughput};

/// Values sent in the throughput workloads.
const VALUES: u64 = 10_000;
/// Capacity of the bounded channels in the throughput workloads.
const CAPACITY: usize = 128;
/// Round trips in the ping-pong workload.
const ROUND_TRIPS: u64 = 1_000;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// One channel implementation, bounded (`Some(capacity)`) or unbounded.
trait Channel {
    type Tx: Clone + Send + 'static;
    type Rx: Send + 'static;
    fn new(capacity: Option<usize>) -> (Self::Tx, Self::Rx);
    fn send(tx: &Self::Tx, value: u64) -> impl Future<Output = ()> + Send;
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send;
}

struct Ours;
struct OursUnbounded;
struct Tokio;
struct TokioUnbounded;
struct AsyncChannel;
struct Flume;

impl Channel for Ours {
    type Tx = sync_primitives::mpsc::Sender<u64>;
    type Rx = sync_primitives::mpsc::Receiver<u64>;
    fn new(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        sync_primitives::mpsc::channel(capacity.expect("bounded"))
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver alive");
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

impl Channel for OursUnbounded {
    type Tx = sync_primitives::mpsc::UnboundedSender<u64>;
    type Rx = sync_primitives::mpsc::UnboundedReceiver<u64>;
    fn new(_: Option<usize>) -> (Self::Tx, Self::Rx) {
        sync_primitives::mpsc::unbounded_channel()
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).expect("receiver alive");
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

impl Channel for Tokio {
    type Tx = tokio::sync::mpsc::Sender<u64>;
    type Rx = tokio::sync::mpsc::Receiver<u64>;
    fn new(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::channel(capacity.expect("bounded"))
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver alive");
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

impl Channel for TokioUnbounded {
    type Tx = tokio::sync::mpsc::UnboundedSender<u64>;
    type Rx = tokio::sync::mpsc::UnboundedReceiver<u64>;
    fn new(_: Option<usize>) -> (Self::Tx, Self::Rx) {
        tokio::sync::mpsc::unbounded_channel()
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).expect("receiver alive");
    }
    fn recv(rx: &mut Self::Rx) -> impl Future<Output = Option<u64>> + Send {
        rx.recv()
    }
}

impl Channel for AsyncChannel {
    type Tx = async_channel::Sender<u64>;
    type Rx = async_channel::Receiver<u64>;
    fn new(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(capacity) => async_channel::bounded(capacity),
            None => async_channel::unbounded(),
        }
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send(value).await.expect("receiver alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv().await.ok()
    }
}

impl Channel for Flume {
    type Tx = flume::Sender<u64>;
    type Rx = flume::Receiver<u64>;
    fn new(capacity: Option<usize>) -> (Self::Tx, Self::Rx) {
        match capacity {
            Some(capacity) => flume::bounded(capacity),
            None => flume::unbounded(),
        }
    }
    async fn send(tx: &Self::Tx, value: u64) {
        tx.send_async(value).await.expect("receiver alive");
    }
    async fn recv(rx: &mut Self::Rx) -> Option<u64> {
        rx.recv_async().await.ok()
    }
}

/// A runtime to run a workload on: `block_on`, and `spawn` from inside it
/// (returning the task's completion).
trait Rt {
    fn block_on(&self, fut: impl Future<Output = ()>);
    fn spawn(fut: Task) -> Task;
}

impl Rt for tokio::runtime::Runtime {
    fn block_on(&self, fut: impl Future<Output = ()>) {
        tokio::runtime::Runtime::block_on(self, fut)
    }
    fn spawn(fut: Task) -> Task {
        let handle = tokio::spawn(fut);
        Box::pin(async move { handle.await.expect("task") })
    }
}

impl Rt for runtime::Runtime {
    fn block_on(&self, fut: impl Future<Output = ()>) {
        runtime::Runtime::block_on(self, fut)
    }
    fn spawn(fut: Task) -> Task {
        let handle = runtime::spawn(fut);
        Box::pin(async move { handle.await.expect("task") })
    }
}

/// `producers` tasks each send `per_producer` values; the `block_on`
/// future receives them all.
fn throughput<C: Channel, R: Rt>(rt: &R, capacity: Option<usize>, producers: u64, per: u64) {
    rt.block_on(async {
        let (tx, mut rx) = C::new(capacity);
        let tasks: Vec<Task> = (0..producers)
            .map(|_| {
                let tx = tx.clone();
                R::spawn(Box::pin(async move {
                    for i in 0..per {
                        C::send(&tx, i).await;
                    }
                }))
            })
            .collect();
        drop(tx);
        let mut received = 0;
        while C::recv(&mut rx).await.is_some() {
            received += 1;
        }
        assert_eq!(received, producers * per, "every value once");
        for task in tasks {
            task.await;
        }
    });
}

/// A value bounced `ROUND_TRIPS` times over two channels of capacity 1.
fn pingpong<C: Channel, R: Rt>(rt: &R) {
    rt.block_on(async {
        let (ping_tx, mut ping_rx) = C::new(Some(1));
        let (pong_tx, mut pong_rx) = C::new(Some(1));
        let echo = R::spawn(Box::pin(async move {
            while let Some(value) = C::recv(&mut ping_rx).await {
                C::send(&pong_tx, value).await;
            }
        }));
        for i in 0..ROUND_TRIPS {
            C::send(&ping_tx, i).await;
            assert_eq!(C::recv(&mut pong_rx).await, Some(i));
        }
        drop(ping_tx);
        echo.await;
    });
}

/// Benchmarks the four workloads of one async contender.
fn contender<B: Channel, U: Channel, R: Rt>(c: &mut Criterion, id: &str, rt: &R) {
    let mut group = c.benchmark_group("mpsc");
    group.throughput(Throughput::Elements(VALUES));
    group.bench_function(BenchmarkId::new(id, "bounded_1p"), |b| {
        b.iter(|| throughput::<B, R>(rt, Some(CAPACITY), 1, VALUES))
    });
    group.bench_function(BenchmarkId::new(id, "bounded_4p"), |b| {
        b.iter(|| throughput::<B, R>(rt, Some(CAPACITY), 4, VALUES / 4))
    });
    group.bench_function(BenchmarkId::new(id, "unbounded_1p"), |b| {
        b.iter(|| throughput::<U, R>(rt, None, 1, VALUES))
    });
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    group.bench_function(BenchmarkId::new(id, "pingpong"), |b| {
        b.iter(|| pingpong::<B, R>(rt))
    });
    group.finish();
}

/// `pingpong` of one async contender on a current-thread runtime.
fn contender_current_thread<C: Channel, R: Rt>(c: &mut Criterion, id: &str, rt: &R) {
    let mut group = c.benchmark_group("mpsc");
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    group.bench_function(BenchmarkId::new(id, "pingpong_current_thread"), |b| {
        b.iter(|| pingpong::<C, R>(rt))
    });
    group.finish();
}

/// The blocking floor: the same workloads with crossbeam-channel on OS
/// threads.
fn floor(c: &mut Criterion) {
    use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
    fn run(tx: Sender<u64>, rx: Receiver<u64>, producers: u64, per: u64) {
        std::thread::scope(|s| {
            for _ in 0..producers {
                let tx = tx.clone();
                s.spawn(move || {
                    for i in 0..per {
                        tx.send(i).expect("receiver alive");
                    }
                });
            }
            drop(tx);
            assert_eq!(rx.iter().count() as u64, producers * per);
        });
    }
    let id = "floor/crossbeam-channel";
    let mut group = c.benchmark_group("mpsc");
    group.throughput(Throughput::Elements(VALUES));
    group.bench_function(BenchmarkId::new(id, "bounded_1p"), |b| {
        b.iter(|| {
            let (tx, rx) = bounded(CAPACITY);
            run(tx, rx, 1, VALUES)
        })
    });
    group.bench_function(BenchmarkId::new(id, "bounded_4p"), |b| {
        b.iter(|| {
            let (tx, rx) = bounded(CAPACITY);
            run(tx, rx, 4, VALUES / 4)
        })
    });
    group.bench_function(BenchmarkId::new(id, "unbounded_1p"), |b| {
        b.iter(|| {
            let (tx, rx) = unbounded();
            run(tx, rx, 1, VALUES)
        })
    });
    group.throughput(Throughput::Elements(ROUND_TRIPS));
    group.bench_function(BenchmarkId::new(id, "pingpong"), |b| {
        b.iter(|| {
            let (ping_tx, ping_rx) = bounded::<u64>(1);
            let (pong_tx, pong_rx) = bounded::<u64>(1);
            std::thread::scope(|s| {
                s.spawn(move || {
                    for value in ping_rx {
                        pong_tx.send(value).expect("receiver alive");
                    }
                });
                for i in 0..ROUND_TRIPS {
                    ping_tx.send(i).expect("receiver alive");
                    assert_eq!(pong_rx.recv(), Ok(i));
                }
                drop(ping_tx);
            });
        })
    });
    group.finish();
}

fn main() {
    let tokio_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    let ours_rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build our multi-thread runtime");
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    contender::<Ours, OursUnbounded, _>(&mut c, "ours/mpsc", &tokio_rt);
    contender::<Ours, OursUnbounded, _>(&mut c, "ours/mpsc_on_ours", &ours_rt);
    contender::<Tokio, TokioUnbounded, _>(&mut c, "tokio/mpsc", &tokio_rt);
    contender::<AsyncChannel, AsyncChannel, _>(&mut c, "async-channel", &tokio_rt);
    contender::<Flume, Flume, _>(&mut c, "flume", &tokio_rt);
    let tokio_local = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a tokio current-thread runtime");
    let ours_local = runtime::Builder::new_current_thread()
        .build()
        .expect("build our current-thread runtime");
    contender_current_thread::<Ours, _>(&mut c, "ours/mpsc", &tokio_local);
    contender_current_thread::<Ours, _>(&mut c, "ours/mpsc_on_ours", &ours_local);
    contender_current_thread::<Tokio, _>(&mut c, "tokio/mpsc", &tokio_local);
    contender_current_thread::<AsyncChannel, _>(&mut c, "async-channel", &tokio_local);
    contender_current_thread::<Flume, _>(&mut c, "flume", &tokio_local);
    floor(&mut c);
    c.final_summary();
}
