//! [`try_gather`]: like [`gather`](crate::gather()), stopping at the first error.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::children::Children;

/// Runs the fallible futures of `iter` concurrently, inside the current
/// task, and completes with their `Ok` values in input order, or with the
/// first `Err` as soon as one is produced.
///
/// Scheduling is that of [`gather`](crate::gather()): no spawning, every
/// future polled once in input order by the first poll, then only the woken
/// ones. When a future fails, the futures not yet polled in that poll are
/// not polled, and every future and every `Ok` value collected so far is
/// dropped before the `Err` is returned.
///
/// # Examples
///
/// ```
/// use runtime::try_gather;
///
/// async fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
///     s.parse()
/// }
///
/// # runtime::block_on(async {
/// assert_eq!(try_gather(["1", "2"].map(parse)).await, Ok(vec![1, 2]));
/// assert!(try_gather(["1", "x", "3"].map(parse)).await.is_err());
/// # });
/// ```
///
/// # Panics
///
/// If `iter` yields `u32::MAX` futures or more.
pub fn try_gather<I, T, E>(iter: I) -> TryGather<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryGather {
        children: Children::new(iter),
    }
}

/// The future returned by [`try_gather`]: the `Ok` values of its futures in
/// input order, or the first `Err`.
///
/// It can also be collected from an iterator of futures. Polling it again
/// after it completed panics.
///
/// # Examples
///
/// ```
/// use runtime::TryGather;
///
/// # runtime::block_on(async {
/// let all: TryGather<_> = (0..3).map(|i| async move { Ok::<_, ()>(i) }).collect();
/// assert_eq!(all.await, Ok(vec![0, 1, 2]));
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct TryGather<F: Future> {
    children: Children<F, F::Output>,
}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `TryGather` is `Unpin`: its futures are pinned in their own block.
        self.get_mut().children.poll(
            cx,
            // An `Ok` is kept whole until the end, an `Err` stops everything.
            |output| match output {
                Ok(value) => Ok(Ok(value)),
                Err(err) => Err(err),
            },
            |output| match output {
                Ok(value) => value,
                Err(_) => unreachable!("an `Err` is never kept"),
            },
        )
    }
}

impl<F, T, E> FromIterator<F> for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        try_gather(iter)
    }
}

impl<F: Future> fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryGather")
            .field("len", &self.children.len())
            .field("remaining", &self.children.remaining())
            .finish()
    }
}

// Not under loom: these use loom's types outside a model (see
// `loom_models.rs` for the models).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::task::Waker;

    fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
    }

    struct Guard<'a>(&'a Cell<usize>);
    impl Drop for Guard<'_> {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }

    #[test]
    fn first_error_stops_and_drops_everything() {
        let polls = Cell::new(0);
        let dropped = Cell::new(0);
        let n = 20;
        let futs = (0..n).map(|i| {
            let (polls, dropped) = (&polls, &dropped);
            // Made outside the async block: dropped even if never polled.
            let guard = Guard(dropped);
            async move {
                let _g = guard;
                polls.set(polls.get() + 1);
                match i {
                    3 => Ok(Guard(dropped)), // an Ok output, dropped on error
                    7 => Err(i),
                    _ => std::future::pending().await,
                }
            }
        });
        let mut g = try_gather(futs);
        assert!(matches!(poll_once(&mut g), Poll::Ready(Err(7))));
        assert_eq!(polls.get(), 8, "children after the failing one not polled");
        // Every child and the Ok output are dropped before `Err` is returned.
        assert_eq!(dropped.get(), n + 1);
        drop(g);
        assert_eq!(dropped.get(), n + 1);
    }

    #[test]
    fn error_after_a_wake() {
        let woken = Cell::new(None::<Waker>);
        let woken = &woken;
        let futs = (0..4).map(|i| {
            Box::pin(async move {
                if i == 2 {
                    let mut first = true;
                    std::future::poll_fn(|cx| {
                        if std::mem::take(&mut first) {
                            woken.set(Some(cx.waker().clone()));
                            Poll::Pending
                        } else {
                            Poll::Ready(())
                        }
                    })
                    .await;
                    return Err("two");
                }
                std::future::pending::<Result<u8, &str>>().await
            })
        });
        let mut g = try_gather(futs);
        assert!(poll_once(&mut g).is_pending());
        woken.take().unwrap().wake();
        assert_eq!(poll_once(&mut g), Poll::Ready(Err("two")));
    }

    #[test]
    fn all_ok() {
        let mut g = try_gather((0..5).map(|i| std::future::ready(Ok::<_, ()>(i))));
        assert_eq!(poll_once(&mut g), Poll::Ready(Ok(vec![0, 1, 2, 3, 4])));
        let mut empty = try_gather(std::iter::empty::<std::future::Ready<Result<u8, ()>>>());
        assert_eq!(poll_once(&mut empty), Poll::Ready(Ok(vec![])));
    }
}
