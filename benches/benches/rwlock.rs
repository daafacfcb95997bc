//! `rwlock`: async reader-writer locks under a read-heavy load.
//!
//! `read_heavy`: 4 tasks × 1_000 operations on one lock, 90% reads and 10%
//! writes (every tenth operation of each task, staggered between tasks), on
//! a tokio multi-thread runtime with 2 workers, the same runtime for every
//! lock so only the lock differs. A reader sums the data, a writer
//! increments it. Throughput: 4_000 elements.
//!
//! Ours and tokio's are fair (FIFO, a queued writer holds back later
//! readers); async-lock's favours writers too but is not FIFO.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput};

/// Tasks sharing the lock.
const TASKS: u64 = 4;
/// Operations per task.
const OPS: u64 = 1_000;

/// `$read`/`$write` turn `&lock` into a read/write guard (awaited inside an
/// async block).
macro_rules! read_heavy {
    ($group:expr, $id:expr, $rt:expr, $new:expr, |$l:ident| $read:expr, $write:expr) => {{
        let shared = Arc::new($new);
        $group.bench_function(BenchmarkId::new($id, "read_heavy"), |b| {
            b.iter(|| {
                $rt.block_on(async {
                    let handles: Vec<_> = (0..TASKS)
                        .map(|task| {
                            let $l = Arc::clone(&shared);
                            tokio::spawn(async move {
                                for op in 0..OPS {
                                    if (op + task * 3) % 10 == 0 {
                                        *$write += 1;
                                    } else {
                                        black_box(*$read);
                                    }
                                }
                            })
                        })
                        .collect();
                    for h in handles {
                        h.await.expect("read_heavy task");
                    }
                })
            })
        });
        let $l = &*shared;
        let writes = futures::executor::block_on(async { *$read });
        assert!(
            writes > 0 && writes % (TASKS * OPS / 10) == 0,
            "{}: lost writes",
            $id
        );
    }};
}

fn read_heavy(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("build a tokio multi-thread runtime");
    let mut group = c.benchmark_group("rwlock");
    group.throughput(Throughput::Elements(TASKS * OPS));
    read_heavy!(
        group,
        "ours/rwlock",
        rt,
        sync_primitives::RwLock::new(0u64),
        |l| l.read().await,
        l.write().await
    );
    read_heavy!(
        group,
        "tokio/rwlock",
        rt,
        tokio::sync::RwLock::new(0u64),
        |l| l.read().await,
        l.write().await
    );
    read_heavy!(
        group,
        "async-lock/rwlock",
        rt,
        async_lock::RwLock::new(0u64),
        |l| l.read().await,
        l.write().await
    );
    group.finish();
}

fn main() {
    // What `criterion_group!` + `criterion_main!` expand to, minus the
    // undocumented `pub fn` the former generates.
    let mut c = Criterion::default().configure_from_args();
    read_heavy(&mut c);
    c.final_summary();
}
