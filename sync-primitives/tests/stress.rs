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
