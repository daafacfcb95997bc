//! Instruction counts of the hot paths, ours beside the peers: the program
//! that `benches/icount.sh` runs under valgrind.
//!
//! `icount --op NAME --iters N` runs the operation `NAME` (for example
//! `gather2/ours`) `N` times after the same setup whatever `N` is; the script
//! runs it for two values of `N` under valgrind and divides the difference of
//! the instruction counts by the difference of the `N`s, so setup, process
//! start and exit cancel out. Every operation runs on one thread
//! (current-thread executors, or a future polled by hand with a no-op
//! waker), so the counts are the same from run to run.
//!
//! With any other arguments (as under `cargo bench`, or
//! `cargo bench -- --test` in CI) it runs every operation a few times, checks
//! that each completes, and prints how to get the counts: it needs neither
//! valgrind nor anything else installed.

// A bench target: no public API to document.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use benches::yield_once;

/// One operation of one contender, repeated `iters` times.
struct Op {
    /// `path/contender`, as the script prints it.
    name: &'static str,
    run: fn(usize),
}

const OPS: &[Op] = &[
    // spawn + run + join of one empty task, on a current-thread executor.
    Op {
        name: "spawn_join/ours",
        run: spawn_join_ours,
    },
    Op {
        name: "spawn_join/tokio",
        run: spawn_join_tokio,
    },
    Op {
        name: "spawn_join/async-executor",
        run: spawn_join_async_executor,
    },
    // One yield of a spawned task (it goes to the back of the run queue).
    Op {
        name: "yield/ours",
        run: yield_ours,
    },
    Op {
        name: "yield/tokio",
        run: yield_tokio,
    },
    Op {
        name: "yield/async-executor",
        run: yield_async_executor,
    },
    // lock + unlock of a free async mutex (polled by hand).
    Op {
        name: "mutex_uncontended/ours",
        run: mutex_ours,
    },
    Op {
        name: "mutex_uncontended/tokio",
        run: mutex_tokio,
    },
    Op {
        name: "mutex_uncontended/async-lock",
        run: mutex_async_lock,
    },
    Op {
        name: "mutex_uncontended/futures",
        run: mutex_futures,
    },
    // The wait queue: a lock() that waits (push), then the unlock that
    // hands over and wakes it (pop), then the waiter's lock and unlock.
    Op {
        name: "mutex_handoff/ours",
        run: handoff_ours,
    },
    Op {
        name: "mutex_handoff/tokio",
        run: handoff_tokio,
    },
    Op {
        name: "mutex_handoff/async-lock",
        run: handoff_async_lock,
    },
    Op {
        name: "mutex_handoff/futures",
        run: handoff_futures,
    },
    // One waiter registers, the event is set (waking it), the waiter
    // completes; then the event is reset.
    Op {
        name: "event_set_wake/ours",
        run: event_ours,
    },
    Op {
        name: "event_set_wake/tokio",
        run: event_tokio,
    },
    Op {
        name: "event_set_wake/event-listener",
        run: event_listener,
    },
    // gather! of two futures that yield once each, to completion (polled
    // by hand).
    Op {
        name: "gather2/ours",
        run: gather2_ours,
    },
    Op {
        name: "gather2/futures",
        run: gather2_futures,
    },
    Op {
        name: "gather2/tokio",
        run: gather2_tokio,
    },
    // One `send` to 4 receivers of a broadcast channel (capacity 1024),
    // each `try_recv`ing it, as criterion's `broadcast/fanout_4`; the ring
    // goes round once before counting.
    Op {
        name: "broadcast_fanout4/ours",
        run: broadcast_fanout4_ours,
    },
    Op {
        name: "broadcast_fanout4/tokio",
        run: broadcast_fanout4_tokio,
    },
    // A value through a queue with nobody waiting: put/send, then get/recv
    // (both the `_nowait`/`try_` forms).
    Op {
        name: "queue_put_get/ours",
        run: queue_put_get_ours,
    },
    Op {
        name: "queue_put_get/tokio",
        run: queue_put_get_tokio,
    },
    Op {
        name: "queue_put_get/async-channel",
        run: queue_put_get_async_channel,
    },
    // A receiver parks on an empty bounded(16) channel, a send wakes it,
    // and its next poll takes the value.
    Op {
        name: "chan_recv_wake/ours",
        run: recv_wake_ours,
    },
    Op {
        name: "chan_recv_wake/tokio",
        run: recv_wake_tokio,
    },
    Op {
        name: "chan_recv_wake/async-channel",
        run: recv_wake_async_channel,
    },
    // A sender parks on a full bounded(1) channel, a receive frees the
    // slot and wakes it, its next poll sends; then that value is taken.
    Op {
        name: "chan_send_handoff/ours",
        run: send_handoff_ours,
    },
    Op {
        name: "chan_send_handoff/tokio",
        run: send_handoff_tokio,
    },
    Op {
        name: "chan_send_handoff/async-channel",
        run: send_handoff_async_channel,
    },
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(name) = value("--op") {
        let iters = value("--iters")
            .and_then(|n| n.parse().ok())
            .expect("icount: --iters N");
        let op = OPS
            .iter()
            .find(|op| op.name == name)
            .unwrap_or_else(|| panic!("icount: no operation {name:?}"));
        (op.run)(iters);
        return;
    }
    if args.iter().any(|a| a == "--list") {
        for op in OPS {
            println!("{}", op.name);
        }
        return;
    }
    for op in OPS {
        (op.run)(3);
    }
    println!(
        "icount: {} operations ran; for instruction counts run benches/icount.sh (needs valgrind)",
        OPS.len()
    );
}

/// Polls `fut` with a no-op waker until it is ready.
fn drive<F: Future>(fut: F) -> F::Output {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Polls `fut` once with a no-op waker: it must be ready.
fn ready_now<F: Future>(fut: F) -> F::Output {
    match pin!(fut).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("icount: expected a ready future"),
    }
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a tokio current-thread runtime")
}

// ---- spawn + join ----------------------------------------------------------

fn spawn_join_ours(iters: usize) {
    runtime::block_on(async move {
        for i in 0..iters {
            let v = runtime::spawn(async move { black_box(i) }).await;
            black_box(v.expect("task"));
        }
    });
}

fn spawn_join_tokio(iters: usize) {
    tokio_rt().block_on(async move {
        for i in 0..iters {
            let v = tokio::spawn(async move { black_box(i) }).await;
            black_box(v.expect("task"));
        }
    });
}

fn spawn_join_async_executor(iters: usize) {
    let ex = async_executor::LocalExecutor::new();
    futures::executor::block_on(ex.run(async {
        for i in 0..iters {
            black_box(ex.spawn(async move { black_box(i) }).await);
        }
    }));
}

// ---- yield -------------------------------------------------------------------

fn yield_ours(iters: usize) {
    runtime::block_on(async move {
        runtime::spawn(async move {
            for _ in 0..iters {
                runtime::yield_now().await;
            }
        })
        .await
        .expect("task");
    });
}

fn yield_tokio(iters: usize) {
    tokio_rt().block_on(async move {
        tokio::spawn(async move {
            for _ in 0..iters {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("task");
    });
}

fn yield_async_executor(iters: usize) {
    let ex = async_executor::LocalExecutor::new();
    futures::executor::block_on(ex.run(ex.spawn(async move {
        for _ in 0..iters {
            yield_once().await;
        }
    })));
}

// ---- mutex, uncontended ------------------------------------------------------

fn mutex_ours(iters: usize) {
    let m = sync_primitives::Mutex::new(0u64);
    for _ in 0..iters {
        *ready_now(black_box(&m).lock()) += 1;
    }
    black_box(m.into_inner());
}

fn mutex_tokio(iters: usize) {
    let m = tokio::sync::Mutex::new(0u64);
    for _ in 0..iters {
        *ready_now(black_box(&m).lock()) += 1;
    }
    black_box(m.into_inner());
}

fn mutex_async_lock(iters: usize) {
    let m = async_lock::Mutex::new(0u64);
    for _ in 0..iters {
        *ready_now(black_box(&m).lock()) += 1;
    }
    black_box(m.into_inner());
}

fn mutex_futures(iters: usize) {
    let m = futures::lock::Mutex::new(0u64);
    for _ in 0..iters {
        *ready_now(black_box(&m).lock()) += 1;
    }
    black_box(m.into_inner());
}

// ---- mutex hand-off (wait queue push/pop) ----------------------------------

/// One hand-off: hold the lock, start a `lock()` that waits, unlock, and
/// let the waiter take it. Written once for every mutex.
macro_rules! handoff {
    ($m:expr, $iters:expr) => {{
        let m = $m;
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..$iters {
            let held = ready_now(black_box(&m).lock());
            let mut waiting = pin!(m.lock());
            assert!(waiting.as_mut().poll(&mut cx).is_pending());
            drop(held);
            match waiting.as_mut().poll(&mut cx) {
                Poll::Ready(mut guard) => *guard += 1,
                Poll::Pending => panic!("icount: the waiter did not get the lock"),
            }
        }
        black_box(m.into_inner());
    }};
}

fn handoff_ours(iters: usize) {
    handoff!(sync_primitives::Mutex::new(0u64), iters);
}

fn handoff_tokio(iters: usize) {
    handoff!(tokio::sync::Mutex::new(0u64), iters);
}

fn handoff_async_lock(iters: usize) {
    handoff!(async_lock::Mutex::new(0u64), iters);
}

fn handoff_futures(iters: usize) {
    handoff!(futures::lock::Mutex::new(0u64), iters);
}

// ---- event set + wake ----------------------------------------------------------

fn event_ours(iters: usize) {
    let event = sync_primitives::Event::new();
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..iters {
        let mut wait = pin!(black_box(&event).wait());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        event.set();
        assert!(wait.as_mut().poll(&mut cx).is_ready());
        event.clear();
    }
}

fn event_tokio(iters: usize) {
    let notify = tokio::sync::Notify::new();
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..iters {
        let mut wait = pin!(black_box(&notify).notified());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        notify.notify_waiters();
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }
}

fn event_listener(iters: usize) {
    let event = event_listener::Event::new();
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..iters {
        let mut listener = pin!(black_box(&event).listen());
        assert!(listener.as_mut().poll(&mut cx).is_pending());
        event.notify(usize::MAX);
        assert!(listener.as_mut().poll(&mut cx).is_ready());
    }
}

// ---- gather! of two --------------------------------------------------------------

fn gather2_ours(iters: usize) {
    for i in 0..iters {
        let (a, b) = drive(async move {
            runtime::gather!(
                async move {
                    yield_once().await;
                    black_box(i)
                },
                async move {
                    yield_once().await;
                    black_box(i)
                },
            )
        });
        black_box((a, b));
    }
}

fn gather2_futures(iters: usize) {
    for i in 0..iters {
        let (a, b) = drive(async move {
            futures::join!(
                async move {
                    yield_once().await;
                    black_box(i)
                },
                async move {
                    yield_once().await;
                    black_box(i)
                },
            )
        });
        black_box((a, b));
    }
}

fn gather2_tokio(iters: usize) {
    for i in 0..iters {
        let (a, b) = drive(async move {
            tokio::join!(
                async move {
                    yield_once().await;
                    black_box(i)
                },
                async move {
                    yield_once().await;
                    black_box(i)
                },
            )
        });
        black_box((a, b));
    }
}

fn broadcast_fanout4_ours(iters: usize) {
    let (tx, rx) = sync_primitives::broadcast::channel(1024);
    let mut receivers = [rx, tx.subscribe(), tx.subscribe(), tx.subscribe()];
    for i in 0..1024 + iters {
        tx.send(black_box(i)).unwrap();
        for rx in &mut receivers {
            black_box(rx.try_recv().unwrap());
        }
    }
}

fn broadcast_fanout4_tokio(iters: usize) {
    let (tx, rx) = tokio::sync::broadcast::channel(1024);
    let mut receivers = [rx, tx.subscribe(), tx.subscribe(), tx.subscribe()];
    for i in 0..1024 + iters {
        tx.send(black_box(i)).unwrap();
        for rx in &mut receivers {
            black_box(rx.try_recv().unwrap());
        }
    }
}

// ---- channels: an uncontended value, a receiver woken, a sender handed room --

fn queue_put_get_ours(iters: usize) {
    let queue = sync_primitives::Queue::new(0);
    for i in 0..iters {
        black_box(&queue).put_nowait(i).unwrap();
        black_box(queue.get_nowait().unwrap());
    }
}

fn queue_put_get_tokio(iters: usize) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for i in 0..iters {
        black_box(&tx).send(i).unwrap();
        black_box(rx.try_recv().unwrap());
    }
}

fn queue_put_get_async_channel(iters: usize) {
    let (tx, rx) = async_channel::unbounded();
    for i in 0..iters {
        black_box(&tx).try_send(i).unwrap();
        black_box(rx.try_recv().unwrap());
    }
}

/// Parks a receive, sends, and polls the receive to its value. Written once
/// for every channel whose `recv()` borrows the receiver.
macro_rules! recv_wake {
    ($tx:expr, $rx:expr, $iters:expr) => {{
        let (tx, mut rx) = ($tx, $rx);
        let mut cx = Context::from_waker(Waker::noop());
        for i in 0..$iters {
            #[allow(clippy::unnecessary_mut_passed)]
            let mut recv = pin!(black_box(&mut rx).recv());
            assert!(recv.as_mut().poll(&mut cx).is_pending());
            black_box(&tx).try_send(i).unwrap();
            match recv.as_mut().poll(&mut cx) {
                Poll::Ready(value) => drop(black_box(value)),
                Poll::Pending => panic!("icount: the receiver was not woken"),
            }
        }
    }};
}

fn recv_wake_ours(iters: usize) {
    let (tx, rx) = sync_primitives::mpsc::channel(16);
    recv_wake!(tx, rx, iters);
}

fn recv_wake_tokio(iters: usize) {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    recv_wake!(tx, rx, iters);
}

fn recv_wake_async_channel(iters: usize) {
    let (tx, rx) = async_channel::bounded(16);
    recv_wake!(tx, rx, iters);
}

/// Parks a send on a full channel, receives (which hands the slot over),
/// polls the send to completion and receives its value.
macro_rules! send_handoff {
    ($tx:expr, $rx:expr, $iters:expr) => {{
        // (async-channel's receiver needs no `mut`.)
        #[allow(unused_mut)]
        let (tx, mut rx) = ($tx, $rx);
        let mut cx = Context::from_waker(Waker::noop());
        tx.try_send(0).unwrap();
        for i in 0..$iters {
            let mut send = pin!(black_box(&tx).send(i));
            assert!(send.as_mut().poll(&mut cx).is_pending());
            black_box(rx.try_recv().unwrap());
            match send.as_mut().poll(&mut cx) {
                Poll::Ready(result) => result.unwrap(),
                Poll::Pending => panic!("icount: the sender was not handed room"),
            }
        }
        black_box(rx.try_recv().unwrap());
    }};
}

fn send_handoff_ours(iters: usize) {
    let (tx, rx) = sync_primitives::mpsc::channel(1);
    send_handoff!(tx, rx, iters);
}

fn send_handoff_tokio(iters: usize) {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    send_handoff!(tx, rx, iters);
}

fn send_handoff_async_channel(iters: usize) {
    let (tx, rx) = async_channel::bounded(1);
    send_handoff!(tx, rx, iters);
}
