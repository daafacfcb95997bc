//! [`yield_now()`]: asyncio's `await asyncio.sleep(0)`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Lets every other ready task run once before the caller resumes, like
/// `await asyncio.sleep(0)`.
///
/// The returned future wakes itself and returns `Pending` once: on our
/// runtimes that puts the task at the back of the run queue (a cheap
/// re-queue, no allocation), and it works the same under any other executor.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// runtime::block_on(async {
///     let log = Arc::new(Mutex::new(Vec::new()));
///     let l = Arc::clone(&log);
///     let task = runtime::spawn(async move { l.lock().unwrap().push("task") });
///     log.lock().unwrap().push("main, before yield");
///     runtime::yield_now().await; // the spawned task runs now
///     log.lock().unwrap().push("main, after yield");
///     task.await.unwrap();
///     assert_eq!(*log.lock().unwrap(), ["main, before yield", "task", "main, after yield"]);
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now()`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // On our current-thread runtime, tasks that became ready meanwhile
        // are queued first, so that they run before this one resumes.
        crate::scheduler::context::before_yield();
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::yield_now;
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};
    use test_util::CountingWaker;

    #[test]
    fn pending_once_and_wakes() {
        let (count, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        let mut fut = pin!(yield_now());
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Pending);
        assert_eq!(count.wakes(), 1);
        assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(()));
    }
}
