//! `abort`: 10_000 pairs of tasks where each task, once resumed, aborts its
//! partner, against the same run where it only lets go of the partner's
//! handle (issue 10, bug 7: an abort must cost O(1), not O(run queue)).
//!
//! One iteration is one `block_on` on a current-thread runtime built once:
//! it spawns the 20_000 tasks (each yields once, then takes its partner's
//! handle out of a shared slot), then yields three times, by which point,
//! FIFO, every task has run: with aborts, the first task of each pair to
//! resume aborts the other, which is still queued; without, both finish.
//!
//! | id | what |
//! |---|---|
//! | `ours/aborts` | the abort pairs on `runtime::Builder::new_current_thread()` |
//! | `ours/no_aborts` | the same, dropping the partner's handle instead |
//! | `tokio/aborts`, `tokio/no_aborts` | the same on tokio's `new_current_thread()` |
//!
//! The ratio that matters is `ours/aborts` over `ours/no_aborts` (target:
//! under 2).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use criterion::Criterion;

/// Pairs per iteration.
const PAIRS: usize = 10_000;

/// A partner's handle, shared by the two tasks of a pair.
type Slot<H> = Arc<Mutex<Option<H>>>;

/// What one task does: yield once, then take the partner's handle, if the
/// partner has not taken ours first, and abort it or let it go.
macro_rules! pair_task {
    ($handle:ty, $yield:expr, $abort:expr, $mine:expr, $theirs:expr, $finished:expr) => {{
        let (mine, theirs, finished): (Slot<$handle>, Slot<$handle>, Arc<AtomicUsize>) =
            ($mine, $theirs, $finished);
        async move {
            $yield.await;
            // Ours first: the partner can no longer abort us.
            drop(mine.lock().unwrap().take());
            if let Some(partner) = theirs.lock().unwrap().take() {
                if $abort {
                    partner.abort();
                }
            }
            finished.fetch_add(1, Ordering::Relaxed);
        }
    }};
}

fn ours(rt: &runtime::Runtime, abort: bool) -> usize {
    let finished = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        for _ in 0..PAIRS {
            let (a, b): (Slot<runtime::JoinHandle<()>>, Slot<_>) = Default::default();
            let ha = runtime::spawn(pair_task!(
                runtime::JoinHandle<()>,
                runtime::yield_now(),
                abort,
                Arc::clone(&a),
                Arc::clone(&b),
                Arc::clone(&finished)
            ));
            let hb = runtime::spawn(pair_task!(
                runtime::JoinHandle<()>,
                runtime::yield_now(),
                abort,
                Arc::clone(&b),
                Arc::clone(&a),
                Arc::clone(&finished)
            ));
            *a.lock().unwrap() = Some(ha);
            *b.lock().unwrap() = Some(hb);
        }
        for _ in 0..3 {
            runtime::yield_now().await;
        }
    });
    finished.load(Ordering::Relaxed)
}

fn tokio(rt: &tokio::runtime::Runtime, abort: bool) -> usize {
    let finished = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        for _ in 0..PAIRS {
            let (a, b): (Slot<tokio::task::JoinHandle<()>>, Slot<_>) = Default::default();
            let ha = tokio::spawn(pair_task!(
                tokio::task::JoinHandle<()>,
                tokio::task::yield_now(),
                abort,
                Arc::clone(&a),
                Arc::clone(&b),
                Arc::clone(&finished)
            ));
            let hb = tokio::spawn(pair_task!(
                tokio::task::JoinHandle<()>,
                tokio::task::yield_now(),
                abort,
                Arc::clone(&b),
                Arc::clone(&a),
                Arc::clone(&finished)
            ));
            *a.lock().unwrap() = Some(ha);
            *b.lock().unwrap() = Some(hb);
        }
        // tokio's scheduler is not strictly FIFO: wait for every pair.
        while finished.load(Ordering::Relaxed) < if abort { PAIRS } else { 2 * PAIRS } {
            tokio::task::yield_now().await;
        }
    });
    finished.load(Ordering::Relaxed)
}

fn abort(c: &mut Criterion) {
    let mut group = c.benchmark_group("abort");
    let rt = runtime::Builder::new_current_thread().build().unwrap();
    assert_eq!(ours(&rt, true), PAIRS, "one task of each pair finishes");
    assert_eq!(ours(&rt, false), 2 * PAIRS);
    group.bench_function("ours/aborts", |b| b.iter(|| ours(&rt, true)));
    group.bench_function("ours/no_aborts", |b| b.iter(|| ours(&rt, false)));
    let tokio_rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    group.bench_function("tokio/aborts", |b| b.iter(|| tokio(&tokio_rt, true)));
    group.bench_function("tokio/no_aborts", |b| b.iter(|| tokio(&tokio_rt, false)));
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    abort(&mut c);
    c.final_summary();
}
