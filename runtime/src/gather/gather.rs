//! [`gather`]: wait for every future of an iterator, like `asyncio.gather`.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::children::Children;

/// Runs the futures of `iter` concurrently, inside the current task, and
/// completes with their outputs in input order, like `asyncio.gather`.
///
/// The futures are polled by the task that polls the returned [`Gather`]:
/// nothing is spawned, so they may borrow from the caller. The first poll
/// polls every one of them, in input order. Each gets its own waker, and
/// a wake re-polls only the futures woken since the last poll (in the order
/// they were woken), so a wake costs O(1), not O(n). The futures and their
/// wake-up state share one allocation; the outputs are a second one.
///
/// A future that panics makes the `Gather` panic; the others are dropped
/// with it. Dropping the `Gather` drops every future and every output not
/// yet returned. Wakers that futures kept may outlive it: waking them then
/// does nothing.
///
/// See [`try_gather`](crate::try_gather()) to stop at the first error, and
/// [`gather!`](crate::gather!) for a fixed number of futures of different
/// types.
///
/// # Examples
///
/// ```
/// use runtime::gather;
///
/// async fn double(x: u32) -> u32 {
///     x * 2
/// }
///
/// # runtime::block_on(async {
/// let doubled = gather((1..=3).map(double)).await;
/// assert_eq!(doubled, [2, 4, 6]);
///
/// // The futures may borrow from the caller.
/// let names = vec![String::from("a"), String::from("b")];
/// let lens = gather(names.iter().map(|name| async move { name.len() })).await;
/// assert_eq!(lens, [1, 1]);
/// # });
/// ```
///
/// # Panics
///
/// If `iter` yields `u32::MAX` futures or more.
pub fn gather<I>(iter: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Gather {
        children: Children::new(iter),
    }
}

/// The future returned by [`gather`]: the outputs of its futures, in input
/// order.
///
/// It can also be collected from an iterator of futures. Polling it again
/// after it completed panics.
///
/// # Examples
///
/// ```
/// use runtime::Gather;
///
/// # runtime::block_on(async {
/// let all: Gather<_> = (0..4).map(|i| async move { i * i }).collect();
/// assert_eq!(all.await, [0, 1, 4, 9]);
/// # });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Gather<F: Future> {
    children: Children<F, F::Output>,
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        // `Gather` is `Unpin`: its futures are pinned in their own block.
        let children = &mut self.get_mut().children;
        children
            .poll(cx, Ok::<_, Infallible>, |output| output)
            .map(|outputs| match outputs {
                Ok(outputs) => outputs,
                Err(never) => match never {},
            })
    }
}

impl<F: Future> FromIterator<F> for Gather<F> {
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> Self {
        gather(iter)
    }
}

impl<F: Future> fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gather")
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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::Waker;

    /// Pending until `wakes` wakes have arrived; counts its polls, keeps a
    /// clone of its waker in `waker`.
    struct Manual {
        polls: Arc<AtomicUsize>,
        waker: Arc<Mutex<Option<Waker>>>,
        ready_after: usize,
        value: u32,
    }

    impl Future for Manual {
        type Output = u32;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            let polls = self.polls.fetch_add(1, Ordering::SeqCst) + 1;
            if polls > self.ready_after {
                Poll::Ready(self.value)
            } else {
                *self.waker.lock().unwrap() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn manual(
        ready_after: usize,
        value: u32,
    ) -> (Manual, Arc<AtomicUsize>, Arc<Mutex<Option<Waker>>>) {
        let polls = Arc::new(AtomicUsize::new(0));
        let waker = Arc::new(Mutex::new(None));
        let fut = Manual {
            polls: polls.clone(),
            waker: waker.clone(),
            ready_after,
            value,
        };
        (fut, polls, waker)
    }

    fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        Pin::new(fut).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn zero_futures_ready_at_once() {
        let mut g = gather(std::iter::empty::<std::future::Ready<u8>>());
        assert_eq!(poll_once(&mut g), Poll::Ready(vec![]));
    }

    #[test]
    fn ready_futures_in_order() {
        let mut g = gather((0..10).map(std::future::ready));
        assert_eq!(poll_once(&mut g), Poll::Ready((0..10).collect::<Vec<_>>()));
    }

    #[test]
    fn only_woken_children_are_polled_again() {
        let (a, a_polls, a_waker) = manual(1, 10);
        let (b, b_polls, b_waker) = manual(2, 20);
        let (c, c_polls, _c_waker) = manual(usize::MAX, 30);
        let mut g = gather(vec![
            Box::pin(a) as Pin<Box<Manual>>,
            Box::pin(b),
            Box::pin(c),
        ]);
        assert!(poll_once(&mut g).is_pending());
        assert!(poll_once(&mut g).is_pending()); // nobody woken: nobody polled
        let counts = || [&a_polls, &b_polls, &c_polls].map(|p| p.load(Ordering::SeqCst));
        assert_eq!(counts(), [1, 1, 1]);
        b_waker.lock().unwrap().take().unwrap().wake();
        assert!(poll_once(&mut g).is_pending());
        assert_eq!(counts(), [1, 2, 1]);
        // Woken from another thread, through a clone.
        let w = a_waker.lock().unwrap().clone().unwrap();
        std::thread::spawn(move || w.wake()).join().unwrap();
        b_waker.lock().unwrap().take().unwrap().wake_by_ref();
        assert!(poll_once(&mut g).is_pending());
        assert_eq!(counts(), [2, 3, 1]);
        drop(g);
        // The waker a child kept outlives the `Gather`: harmless.
        a_waker.lock().unwrap().take().unwrap().wake();
    }

    #[test]
    fn wakers_kept_past_completion_are_harmless() {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let futs = (0..3).map(|i| {
            let kept = kept.clone();
            std::future::poll_fn(move |cx| {
                kept.lock().unwrap().push(cx.waker().clone());
                Poll::Ready(i)
            })
        });
        let mut g = gather(futs);
        assert_eq!(poll_once(&mut g), Poll::Ready(vec![0, 1, 2]));
        let kept = std::mem::take(&mut *kept.lock().unwrap());
        // After completion, with the `Gather` still alive, then dropped,
        // from this thread and from another.
        kept[0].wake_by_ref();
        drop(g);
        let clone = kept[1].clone();
        std::thread::spawn(move || {
            clone.wake();
            for w in kept {
                w.wake();
            }
        })
        .join()
        .unwrap();
    }

    #[test]
    fn outputs_in_input_order_when_finishing_in_reverse() {
        let n = 6;
        let order = Cell::new(Vec::new());
        let futs = (0..n).map(|i| {
            let order = &order;
            let (m, _, _) = manual(n - i, i as u32);
            async move {
                // Each wakes itself until it completes: like yield_now.
                let mut m = std::pin::pin!(m);
                std::future::poll_fn(|cx| {
                    let p = m.as_mut().poll(cx);
                    if p.is_pending() {
                        cx.waker().wake_by_ref();
                    }
                    p
                })
                .await;
                let mut o = order.take();
                o.push(i);
                order.set(o);
                i
            }
        });
        let out = futures::executor::block_on(gather(futs));
        assert_eq!(out, (0..n).collect::<Vec<_>>());
        assert_eq!(order.take(), (0..n).rev().collect::<Vec<_>>());
    }

    #[test]
    fn children_and_outputs_dropped_once() {
        struct Guard<'a>(&'a Cell<usize>);
        impl Drop for Guard<'_> {
            fn drop(&mut self) {
                self.0.set(self.0.get() + 1);
            }
        }
        let dropped = Cell::new(0);
        let dropped = &dropped;
        let (p, _, _) = manual(usize::MAX, 0);
        let pending = Box::pin(async move {
            let _g = Guard(dropped);
            p.await;
            Guard(dropped)
        });
        let ready = Box::pin(async move {
            let _g = Guard(dropped); // dropped when it completes
            Guard(dropped) // the output, dropped with the `Gather`
        }) as Pin<Box<dyn Future<Output = Guard<'_>>>>;
        let mut g = gather(vec![ready, pending]);
        assert!(poll_once(&mut g).is_pending());
        assert_eq!(dropped.get(), 1);
        drop(g);
        assert_eq!(dropped.get(), 3);
    }

    #[test]
    fn lying_iterators() {
        /// Claims `claim` items, yields `real`.
        struct Liar {
            claim: usize,
            real: std::ops::Range<u32>,
        }
        impl Iterator for Liar {
            type Item = std::future::Ready<u32>;
            fn next(&mut self) -> Option<Self::Item> {
                self.real.next().map(std::future::ready)
            }
            fn size_hint(&self) -> (usize, Option<usize>) {
                (self.claim, Some(self.claim))
            }
        }
        for (claim, real) in [(5, 3), (3, 5), (0, 2), (2, 0)] {
            let mut g = gather(Liar {
                claim,
                real: 0..real,
            });
            assert_eq!(
                poll_once(&mut g),
                Poll::Ready((0..real).collect::<Vec<_>>())
            );
        }
    }

    #[test]
    fn panicking_child_propagates() {
        let futs: Vec<Pin<Box<dyn Future<Output = u8>>>> =
            vec![Box::pin(async { 1 }), Box::pin(async { panic!("child") })];
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            futures::executor::block_on(gather(futs))
        }));
        assert!(result.is_err());
    }

    #[test]
    #[should_panic = "polled after completion"]
    fn poll_after_completion_panics() {
        let mut g = gather([std::future::ready(1)]);
        assert!(poll_once(&mut g).is_ready());
        let _ = poll_once(&mut g);
    }

    #[test]
    fn gather_is_send_when_futures_are() {
        fn assert_send<T: Send>(_: &T) {}
        fn assert_sync<T: Sync>(_: &T) {}
        let g = gather([std::future::ready(1)]);
        assert_send(&g);
        assert_sync(&g);
    }
}
