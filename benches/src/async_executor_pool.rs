//! A multi-threaded [`async_executor::Executor`] with a fixed number of
//! worker threads, shaped like a tokio multi-thread runtime.

use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;

use async_executor::{Executor, Task};
use futures::channel::oneshot;

/// An [`Executor`] run by `workers` threads, each in
/// `futures::executor::block_on(ex.run(shutdown))`.
///
/// The thread that calls [`AsyncExecutorPool::block_on`] only waits (it does
/// not run tasks), so "2 workers" means the same thing as for
/// `tokio::runtime::Builder::new_multi_thread().worker_threads(2)`, whose
/// `block_on` thread is not a worker either. Dropping the pool stops and
/// joins the workers.
///
/// ```
/// let pool = benches::AsyncExecutorPool::new(2);
/// let task = pool.spawn(async { 1 + 1 });
/// assert_eq!(pool.block_on(task), 2);
/// ```
#[derive(Debug)]
pub struct AsyncExecutorPool {
    executor: Arc<Executor<'static>>,
    shutdown: Vec<oneshot::Sender<()>>,
    workers: Vec<JoinHandle<()>>,
}

impl AsyncExecutorPool {
    /// Starts an executor with `workers` threads.
    pub fn new(workers: usize) -> AsyncExecutorPool {
        let executor = Arc::new(Executor::new());
        let mut shutdown = Vec::with_capacity(workers);
        let mut handles = Vec::with_capacity(workers);
        for i in 0..workers {
            let (tx, rx) = oneshot::channel::<()>();
            let ex = Arc::clone(&executor);
            let handle = std::thread::Builder::new()
                .name(format!("async-executor-{i}"))
                .spawn(move || {
                    futures::executor::block_on(ex.run(async {
                        let _ = rx.await;
                    }))
                })
                .expect("spawn an async-executor worker thread");
            shutdown.push(tx);
            handles.push(handle);
        }
        AsyncExecutorPool {
            executor,
            shutdown,
            workers: handles,
        }
    }

    /// The executor, to spawn tasks from inside tasks.
    pub fn executor(&self) -> &Arc<Executor<'static>> {
        &self.executor
    }

    /// Spawns `fut` onto the workers.
    pub fn spawn<F>(&self, fut: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(fut)
    }

    /// Blocks the calling thread (not a worker) until `fut` completes.
    pub fn block_on<F: Future>(&self, fut: F) -> F::Output {
        futures::executor::block_on(fut)
    }
}

impl Drop for AsyncExecutorPool {
    fn drop(&mut self) {
        for tx in self.shutdown.drain(..) {
            let _ = tx.send(());
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}
