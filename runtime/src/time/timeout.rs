//! [`timeout()`]: bound the time a future may take.

use super::{deadline_after, sleep_until, Sleep};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Runs `future`, giving up when `duration` has elapsed.
///
/// Resolves to `Ok(output)` if the future completes first, or to
/// `Err(`[`Elapsed`]`)` (the future is then dropped when the `Timeout` is),
/// like `asyncio.wait_for`. The future is polled before the deadline is
/// checked, so a future that is ready at once always succeeds.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// runtime::block_on(async {
///     let quick = runtime::timeout(Duration::from_secs(5), async { 1 }).await;
///     assert_eq!(quick, Ok(1));
///
///     let slow = runtime::timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
///     assert!(slow.is_err());
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    timeout_at(deadline_after(duration), future)
}

/// Like [`timeout`], with a deadline instead of a duration.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// runtime::block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     let slow = runtime::sleep(Duration::from_secs(60));
///     assert!(runtime::timeout_at(deadline, slow).await.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        future,
        sleep: sleep_until(deadline),
    }
}

/// The future returned by [`timeout`] and [`timeout_at`].
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Timeout<F> {
    /// Structurally pinned (see `poll`).
    future: F,
    /// `Unpin`: never pinned.
    sleep: Sleep,
}

impl<F> Timeout<F> {
    /// The wrapped future.
    pub fn get_ref(&self) -> &F {
        &self.future
    }

    /// Drops the deadline and returns the wrapped future.
    pub fn into_inner(self) -> F {
        self.future
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: pin projection; nothing is moved out of `this`. `future`
        // is structurally pinned: `Timeout` has no `Drop` impl and no manual
        // `Unpin` impl (its auto `Unpin` requires `F: Unpin`), and the only
        // method moving `future` out (`into_inner`) takes `self` by value,
        // which a pinned `!Unpin` `Timeout` cannot give. `sleep` is not
        // structurally pinned: `Sleep` is `Unpin`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `this.future` is pinned because `self` was (see above), and
        // it is never moved while `self` is pinned.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(output) = future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline())
            .finish_non_exhaustive()
    }
}

/// The error of a [`timeout`] whose deadline passed first.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Debug for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Elapsed(())")
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

#[cfg(test)]
mod tests {
    use super::{timeout, Elapsed};
    use std::future::{pending, ready};
    use std::time::Duration;

    #[test]
    #[cfg_attr(miri, ignore = "starts the global timer thread, which never exits")]
    fn both_ways_under_futures_executor() {
        // Not our runtime: the global timer thread serves the sleep.
        let ok = futures::executor::block_on(timeout(Duration::from_secs(60), ready(3)));
        assert_eq!(ok, Ok(3));
        let err = futures::executor::block_on(timeout(Duration::from_millis(2), pending::<()>()));
        assert_eq!(err, Err(Elapsed(())));
        assert_eq!(Elapsed(()).to_string(), "deadline has elapsed");
    }

    #[test]
    fn pinned_future_that_is_not_unpin() {
        let fut = async {
            let local = 5;
            let borrow = &local;
            crate::yield_now().await;
            *borrow
        };
        let out = crate::block_on(timeout(Duration::from_secs(60), fut));
        assert_eq!(out, Ok(5));
        let err = crate::block_on(timeout(Duration::from_millis(1), pending::<()>()));
        assert_eq!(err, Err(Elapsed(())));
    }
}
