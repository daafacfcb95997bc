//! Many threads hammering one `Mutex`: no lost update, no lost hand-off
//! (a lost one would hang the test).

#![cfg(not(loom))]

use std::sync::Arc;

use sync_primitives::Mutex;

const THREADS: u64 = 8;
const ROUNDS: u64 = 100_000;

#[test]
fn eight_tasks_on_a_multi_thread_runtime_each_increment_100_000_times() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(THREADS as usize)
        .build()
        .unwrap();
    let counter = Arc::new(Mutex::new(0u64));
    rt.block_on(async {
        let tasks: Vec<_> = (0..THREADS)
            .map(|_| {
                let counter = counter.clone();
                tokio::spawn(async move {
                    for _ in 0..ROUNDS {
                        *counter.lock().await += 1;
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    assert_eq!(*counter.try_lock().unwrap(), THREADS * ROUNDS);
}

#[test]
fn eight_os_threads_blocking_on_the_lock_each_increment_100_000_times() {
    let counter = Arc::new(Mutex::new(0u64));
    let threads: Vec<_> = (0..THREADS)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    *futures::executor::block_on(counter.lock()) += 1;
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(*counter.try_lock().unwrap(), THREADS * ROUNDS);
}

/// Lock futures raced against a yield and dropped when the yield wins:
/// queued ones leave the queue, handed ones pass the lock on, spinners and
/// queued waiters mix. Every increment made under the lock is counted, and
/// the run must not hang on a lost hand-off.
#[test]
fn lock_futures_dropped_at_random_points_lose_no_hand_off() {
    use futures::future::{select, Either};
    use std::sync::atomic::{AtomicU64, Ordering};

    const TASKS: u64 = 8;
    const ATTEMPTS: u64 = 20_000;

    async fn yield_once() {
        let mut yielded = false;
        std::future::poll_fn(|cx| {
            if yielded {
                std::task::Poll::Ready(())
            } else {
                yielded = true;
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let counter = Arc::new(Mutex::new(0u64));
    let acquired = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|_| {
                let (counter, acquired) = (counter.clone(), acquired.clone());
                tokio::spawn(async move {
                    for _ in 0..ATTEMPTS {
                        let lock = counter.lock();
                        let give_up = Box::pin(yield_once());
                        if let Either::Left((mut guard, _)) = select(lock, give_up).await {
                            *guard += 1;
                            acquired.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
    });
    let acquired = acquired.load(Ordering::Relaxed);
    assert!(acquired > 0);
    assert!(!counter.is_locked());
    assert_eq!(*counter.try_lock().unwrap(), acquired);
}
