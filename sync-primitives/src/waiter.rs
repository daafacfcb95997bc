//! [`Waiter`]: the chapter's `Waiter`, on wakers.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::event::{self, Event};
use crate::loom::loom_const_fn;

/// Lets tasks wait until another task says it is done.
///
/// This is the `Waiter` of the chapter "Attendez-moi !": one task awaits it
/// while another works, then calls [`set_done`](Waiter::set_done). The
/// chapter's version yields on every turn of a loop until its flag flips, so
/// the waiting task is polled again and again; this one parks the waiting
/// task and wakes it once, when `set_done` is called. Done is final: a
/// `Waiter` is an [`Event`] that is never cleared.
///
/// # Examples
///
/// ```
/// use sync_primitives::Waiter;
///
/// async fn wait_job(waiter: &Waiter) -> &'static str {
///     waiter.await; // `&Waiter` is awaitable: the chapter's `await waiter`
///     "finished"
/// }
///
/// async fn count_up_to(waiter: &Waiter, n: u32) -> u32 {
///     let sum = (0..n).sum();
///     waiter.set_done();
///     sum
/// }
///
/// let waiter = Waiter::new();
/// let (msg, sum) = futures::executor::block_on(async {
///     futures::join!(wait_job(&waiter), count_up_to(&waiter, 10))
/// });
/// assert_eq!((msg, sum), ("finished", 45));
/// ```
pub struct Waiter {
    event: Event,
}

impl Waiter {
    loom_const_fn! {
        /// A new waiter, not done.
        #[must_use]
        pub fn new() -> Waiter {
            Waiter { event: Event::new() }
        }
    }

    /// Marks the waiter done and wakes every task waiting on it, oldest
    /// first. Calling it again does nothing.
    pub fn set_done(&self) {
        self.event.set();
    }

    /// Whether [`set_done`](Waiter::set_done) has been called.
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.event.is_set()
    }

    /// Waits until the waiter is done; completes at once if it already is.
    pub fn wait(&self) -> Wait<'_> {
        Wait {
            inner: self.event.wait(),
        }
    }
}

impl Default for Waiter {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Waiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Waiter")
            .field("is_done", &self.is_done())
            .finish()
    }
}

impl<'a> IntoFuture for &'a Waiter {
    type Output = ();
    type IntoFuture = Wait<'a>;

    /// `(&waiter).await` is `waiter.wait().await`.
    fn into_future(self) -> Wait<'a> {
        self.wait()
    }
}

/// The future returned by [`Waiter::wait`].
///
/// Dropping it before it completes takes it out of the queue.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait<'a> {
    inner: event::Wait<'a>,
}

impl Future for Wait<'_> {
    type Output = ();

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl fmt::Debug for Wait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}
