//! `event`: two tasks ping-pong 1_000 times through a wake-up primitive.
//!
//! Every contender runs on the same host executor, a tokio current-thread
//! runtime built once, so only the primitive differs. Each iteration spawns
//! the two tasks and awaits both; the shared state is built by
//! `iter_batched`'s setup, outside the measurement.
//!
//! | id | primitive | one round trip |
//! |---|---|---|
//! | `ours/event` | `sync_primitives::Event`, two of them | `set`, then the other side waits and `clear`s |
//! | `ours/waiter` | `sync_primitives::Waiter`, a fresh pair per round trip | `set_done` on round `i`'s waiter, wait on the other |
//! | `tokio/notify` | `tokio::sync::Notify`, two of them | `notify_one` (stores a permit), `notified().await` |
//! | `event-listener/event` | `event_listener::Event` + an `AtomicBool` flag each | flag, `notify(1)`; waiter: check, `listen`, re-check, await |

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput};

/// Round trips per iteration.
const ROUNDS: usize = 1_000;

fn tokio_current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("build a tokio current-thread runtime")
}

/// Runs `ping` and `pong` as two spawned tasks and waits for both.
fn run_pair<A, B>(rt: &tokio::runtime::Runtime, ping: A, pong: B)
where
    A: std::future::Future<Output = ()> + Send + 'static,
    B: std::future::Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        let a = tokio::spawn(ping);
        let b = tokio::spawn(pong);
        a.await.expect("ping task");
        b.await.expect("pong task");
    });
}

/// A one-shot flag on top of `event_listener::Event`, which keeps no state
/// of its own: the usual check / listen / re-check dance.
#[derive(Default)]
struct ListenerFlag {
    flag: AtomicBool,
    event: event_listener::Event,
}

impl ListenerFlag {
    fn set(&self) {
        self.flag.store(true, Ordering::Release);
        self.event.notify(1);
    }

    /// Waits until set, and consumes the flag.
    async fn take(&self) {
        loop {
            if self.flag.swap(false, Ordering::Acquire) {
                return;
            }
            let listener = self.event.listen();
            if self.flag.swap(false, Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    }
}

fn event(c: &mut Criterion) {
    let rt = tokio_current_thread();
    let mut group = c.benchmark_group("event");
    group.throughput(Throughput::Elements(ROUNDS as u64));

    group.bench_function("ours/event", |b| {
        b.iter_batched(
            || Arc::new((sync_primitives::Event::new(), sync_primitives::Event::new())),
            |events| {
                let pong_side = Arc::clone(&events);
                run_pair(
                    &rt,
                    async move {
                        let (ping, pong) = &*events;
                        for _ in 0..ROUNDS {
                            ping.set();
                            pong.wait().await;
                            pong.clear();
                        }
                    },
                    async move {
                        let (ping, pong) = &*pong_side;
                        for _ in 0..ROUNDS {
                            ping.wait().await;
                            ping.clear();
                            pong.set();
                        }
                    },
                );
            },
            BatchSize::SmallInput,
        );
    });

    group.bench_function("ours/waiter", |b| {
        b.iter_batched(
            || {
                let waiters: Vec<_> = (0..2 * ROUNDS)
                    .map(|_| sync_primitives::Waiter::new())
                    .collect();
                Arc::new(waiters)
            },
            |waiters| {
                let pong_side = Arc::clone(&waiters);
                run_pair(
                    &rt,
                    async move {
                        for pair in waiters.chunks_exact(2) {
                            pair[0].set_done();
                            pair[1].wait().await;
                        }
                    },
                    async move {
                        for pair in pong_side.chunks_exact(2) {
                            pair[0].wait().await;
                            pair[1].set_done();
                        }
                    },
                );
            },
            BatchSize::SmallInput,
        );
    });

    group.bench_function("tokio/notify", |b| {
        b.iter_batched(
            || Arc::new((tokio::sync::Notify::new(), tokio::sync::Notify::new())),
            |notifies| {
                let pong_side = Arc::clone(&notifies);
                run_pair(
                    &rt,
                    async move {
                        let (ping, pong) = &*notifies;
                        for _ in 0..ROUNDS {
                            ping.notify_one();
                            pong.notified().await;
                        }
                    },
                    async move {
                        let (ping, pong) = &*pong_side;
                        for _ in 0..ROUNDS {
                            ping.notified().await;
                            pong.notify_one();
                        }
                    },
                );
            },
            BatchSize::SmallInput,
        );
    });

    group.bench_function("event-listener/event", |b| {
        b.iter_batched(
            || Arc::new((ListenerFlag::default(), ListenerFlag::default())),
            |flags| {
                let pong_side = Arc::clone(&flags);
                run_pair(
                    &rt,
                    async move {
                        let (ping, pong) = &*flags;
                        for _ in 0..ROUNDS {
                            ping.set();
                            pong.take().await;
                        }
                    },
                    async move {
                        let (ping, pong) = &*pong_side;
                        for _ in 0..ROUNDS {
                            ping.take().await;
                            pong.set();
                        }
                    },
                );
            },
            BatchSize::SmallInput,
        );
    });

    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    event(&mut c);
    c.final_summary();
}
