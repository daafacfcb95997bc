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

/// 8 threads × 20_000 acquire/release on `Semaphore::new(3)` (some asking
/// for two permits, some dropping their acquire after a yield): never more
/// than 3 permits held, every acquire counted, all 3 back at the end.
#[test]
fn eight_threads_20_000_acquires_on_semaphore_3_never_more_than_3_holders() {
    use futures::future::{select, Either};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use sync_primitives::Semaphore;

    const THREADS: usize = 8;
    const ROUNDS: usize = 20_000;

    test_util::with_watchdog(120, || {
        let semaphore = Arc::new(Semaphore::new(3));
        let held = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let served = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (semaphore, held, most, served) = (
                    semaphore.clone(),
                    held.clone(),
                    most.clone(),
                    served.clone(),
                );
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        let n = if (t + round) % 5 == 0 { 2 } else { 1 };
                        let acquire = semaphore.acquire_many(n);
                        let permit = if t % 4 == 3 && round % 3 == 0 {
                            // Sometimes give up after a yield.
                            let give_up = Box::pin(test_util::yield_once());
                            match futures::executor::block_on(select(acquire, give_up)) {
                                Either::Left((permit, _)) => permit.unwrap(),
                                Either::Right(_) => continue,
                            }
                        } else {
                            futures::executor::block_on(acquire).unwrap()
                        };
                        let now = held.fetch_add(n as usize, Ordering::SeqCst) + n as usize;
                        most.fetch_max(now, Ordering::SeqCst);
                        assert!(now <= 3, "{now} permits held at once");
                        held.fetch_sub(n as usize, Ordering::SeqCst);
                        served.fetch_add(1, Ordering::Relaxed);
                        drop(permit);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) >= 2);
        assert!(served.load(Ordering::Relaxed) > THREADS * ROUNDS * 3 / 4);
        assert_eq!(semaphore.available_permits(), 3);
        assert!(semaphore.try_acquire_many(3).is_ok());
    });
}

/// 8 threads, each doing 10_000 operations on one `RwLock`, one in ten a
/// write: no reader beside a writer, no two writers, no lost increment.
#[test]
fn rwlock_reader_writer_invariant_holds_under_8_threads() {
    use std::sync::atomic::{AtomicIsize, Ordering};
    use sync_primitives::RwLock;

    const THREADS: usize = 8;
    const ROUNDS: usize = 10_000;

    test_util::with_watchdog(120, || {
        let lock = Arc::new(RwLock::new(0usize));
        // Readers inside, or -1 while a writer is.
        let inside = Arc::new(AtomicIsize::new(0));
        let writes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                let (lock, inside, writes) = (lock.clone(), inside.clone(), writes.clone());
                std::thread::spawn(move || {
                    for round in 0..ROUNDS {
                        if (t * ROUNDS + round) % 10 == 0 {
                            let mut guard = futures::executor::block_on(lock.write());
                            assert_eq!(inside.swap(-1, Ordering::SeqCst), 0, "writer not alone");
                            *guard += 1;
                            writes.fetch_add(1, Ordering::Relaxed);
                            assert_eq!(inside.swap(0, Ordering::SeqCst), -1);
                        } else {
                            let guard = futures::executor::block_on(lock.read());
                            let before = inside.fetch_add(1, Ordering::SeqCst);
                            assert!(before >= 0, "reader beside a writer");
                            let _ = *guard;
                            inside.fetch_sub(1, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(*lock.try_write().unwrap(), writes.load(Ordering::Relaxed));
        assert_eq!(writes.load(Ordering::Relaxed), THREADS * ROUNDS / 10);
    });
}
