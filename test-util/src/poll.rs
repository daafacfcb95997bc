//! Polling a future once by hand, with a chosen waker.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Waker};

/// Polls `fut` once with `waker`.
///
/// # Examples
///
/// ```
/// let (_, waker) = test_util::CountingWaker::new();
/// let mut fut = std::future::ready(7);
/// assert_eq!(test_util::poll_with(&mut fut, &waker), std::task::Poll::Ready(7));
/// ```
pub fn poll_with<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> Poll<F::Output> {
    Pin::new(fut).poll(&mut Context::from_waker(waker))
}

/// Polls `fut` once with `waker` and expects it to be pending.
///
/// # Panics
///
/// Panics if `fut` is ready.
pub fn pending<F: Future + Unpin>(fut: &mut F, waker: &Waker) {
    assert!(poll_with(fut, waker).is_pending(), "expected pending");
}

/// Polls `fut` once with `waker` and expects it to be ready.
///
/// # Panics
///
/// Panics if `fut` is pending.
pub fn ready<F: Future + Unpin>(fut: &mut F, waker: &Waker) -> F::Output {
    match poll_with(fut, waker) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("expected ready"),
    }
}

/// Wraps a future and counts how many times it is polled into `polls`.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
///
/// let polls = AtomicUsize::new(0);
/// let mut fut = test_util::CountPolls { inner: std::future::ready(()), polls: &polls };
/// let (_, waker) = test_util::CountingWaker::new();
/// test_util::ready(&mut fut, &waker);
/// assert_eq!(polls.load(Ordering::SeqCst), 1);
/// ```
pub struct CountPolls<'a, F> {
    /// The future polled.
    pub inner: F,
    /// Incremented on each poll.
    pub polls: &'a AtomicUsize,
}

impl<F> fmt::Debug for CountPolls<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountPolls")
            .field("polls", &self.polls)
            .finish_non_exhaustive()
    }
}

impl<F: Future + Unpin> Future for CountPolls<'_, F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.polls.fetch_add(1, Ordering::SeqCst);
        Pin::new(&mut self.inner).poll(cx)
    }
}

/// Yields once to the executor, whichever it is: wakes itself and returns
/// `Pending` once, then completes.
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
