//! A yield-once future for executors that bring no `yield_now` of their own
//! (async-executor without `futures-lite`, `futures::executor::LocalPool`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns a future that is pending on its first poll (after waking its own
/// task) and ready on the second: the task goes to the back of the
/// executor's run queue once.
///
/// ```
/// futures::executor::block_on(benches::yield_once());
/// ```
pub fn yield_once() -> YieldOnce {
    YieldOnce { yielded: false }
}

/// The future returned by [`yield_once`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct YieldOnce {
    yielded: bool,
}

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    #[test]
    fn pending_once_then_ready() {
        let mut cx = Context::from_waker(Waker::noop());
        let mut fut = yield_once();
        assert!(Pin::new(&mut fut).poll(&mut cx).is_pending());
        assert!(Pin::new(&mut fut).poll(&mut cx).is_ready());
    }
}
