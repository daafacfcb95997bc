//! Helpers shared by the integration tests: wakers that count and record
//! their wake-ups, and a future wrapper that counts its polls.

#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that counts its wake-ups.
#[derive(Default)]
pub struct CountingWaker {
    wakes: AtomicUsize,
}

impl CountingWaker {
    pub fn new() -> (Arc<Self>, Waker) {
        let counter = Arc::new(Self::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    pub fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that appends its id to a shared log when woken.
pub struct RecordingWaker {
    id: usize,
    log: Arc<parking_lot::Mutex<Vec<usize>>>,
}

/// `n` wakers with ids `0..n`, logging into one shared log.
pub fn recording_wakers(n: usize) -> (Vec<Waker>, Arc<parking_lot::Mutex<Vec<usize>>>) {
    let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let wakers = (0..n)
        .map(|id| {
            Waker::from(Arc::new(RecordingWaker {
                id,
                log: log.clone(),
            }))
        })
        .collect();
    (wakers, log)
}

impl Wake for RecordingWaker {
    fn wake(self: Arc<Self>) {
        self.log.lock().push(self.id);
    }
}

/// Polls `fut` once with `waker`.
pub fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Polls `fut` once with `waker` and expects it to be pending.
pub fn pending<F: Future + Unpin>(fut: &mut F, waker: &Waker) {
    assert!(poll_with(fut, waker).is_pending(), "expected pending");
}

/// Polls `fut` once with `waker` and expects it to be ready.
pub fn ready<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> F::Output {
    match poll_with(fut, waker) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("expected ready"),
    }
}

/// Wraps a future and counts how many times it is polled.
pub struct CountPolls<'a, F> {
    pub inner: F,
    pub polls: &'a AtomicUsize,
}

impl<F: Future + Unpin> Future for CountPolls<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// Yields once to the executor (wakes itself, returns `Pending` once).
pub async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Runs `f` on its own thread and returns its result, or panics if it has
/// not returned within `secs` seconds (thirty times that under miri, which
/// runs code far slower), so a deadlock or a lost wake-up fails the test
/// instead of hanging the suite. A panic inside `f` is re-raised.
pub fn with_watchdog<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let secs = if cfg!(miri) { secs * 30 } else { secs };
    let (done, finished) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = done.send(f());
    });
    match finished.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(value) => {
            let _ = thread.join();
            value
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the thread sends its result before it ends"),
        },
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: still running after {secs} s (a deadlock or a lost wake-up)")
        }
    }
}

/// A waker that does nothing when woken and runs `hook` when its last
/// clone is dropped, as a task's destructor may (taking the lock of the
/// primitive the task waited on, say).
pub struct DropHook<F: Fn() + Send + Sync + 'static>(F);

impl<F: Fn() + Send + Sync + 'static> Wake for DropHook<F> {
    fn wake(self: Arc<Self>) {}
}

impl<F: Fn() + Send + Sync + 'static> Drop for DropHook<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

/// A [`DropHook`] waker running `hook` on its last drop.
pub fn drop_hook_waker(hook: impl Fn() + Send + Sync + 'static) -> Waker {
    Waker::from(Arc::new(DropHook(hook)))
}
