//! [`gather!`](crate::gather!): wait for a fixed list of futures of any
//! types, like `futures::join!`, on the same readiness set as
//! [`gather`](crate::gather()).

use std::fmt;
use std::future::Future;
use std::marker::PhantomPinned;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::ready::{InlineSet, ReadySet};

/// Runs the given futures concurrently inside the current task and
/// evaluates to the tuple of their outputs, in argument order.
///
/// Use it inside async code, like [`futures::join!`]: it awaits for you
/// (`let (a, b) = gather!(fa, fb);`). The arguments may be of different
/// types, any number of them, and anything that implements
/// [`IntoFuture`](std::future::IntoFuture). As with [`gather`](crate::gather()),
/// nothing is spawned (the futures may borrow local variables), the first
/// poll polls each future in argument order, and afterwards a wake re-polls
/// only the futures that were woken. `gather!()` evaluates to `()`.
///
/// It allocates nothing: its wake-up state lives in the enclosing async
/// code, beside the futures. (Only if a future keeps a clone of its waker,
/// as a future waiting on a timer or a lock does, is one small block made,
/// shared by every clone of that `gather!`.)
///
/// [`futures::join!`]: https://docs.rs/futures/latest/futures/macro.join.html
///
/// # Examples
///
/// The chapter's `asyncio.gather(wait_job(waiter), count_up_to(waiter, 10))`:
///
/// ```
/// use runtime::gather;
/// use sync_primitives::Waiter;
///
/// async fn wait_job(waiter: &Waiter, log: &std::cell::RefCell<Vec<String>>) {
///     log.borrow_mut().push("start".into());
///     waiter.await;
///     log.borrow_mut().push("finished".into());
/// }
///
/// async fn count_up_to(waiter: &Waiter, n: u32, log: &std::cell::RefCell<Vec<String>>) {
///     for i in 0..n {
///         log.borrow_mut().push(i.to_string());
///         runtime::yield_now().await; // asyncio.sleep(0)
///     }
///     waiter.set_done();
/// }
///
/// # runtime::block_on(async {
/// let waiter = Waiter::new();
/// let log = std::cell::RefCell::new(Vec::new());
/// let ((), ()) = gather!(wait_job(&waiter, &log), count_up_to(&waiter, 3, &log));
/// assert_eq!(log.into_inner(), ["start", "0", "1", "2", "finished"]);
///
/// // Mixed output types, in argument order.
/// let (a, b, c) = gather!(async { 1 }, async { "two" }, std::future::ready(3.0));
/// assert_eq!((a, b, c), (1, "two", 3.0));
/// # });
/// ```
#[macro_export]
macro_rules! gather {
    // All arguments normalised: each has the `_`s that skip the fields
    // before it in the tuple of futures, and its index.
    (@{ ( $($count:tt)* ) $( ( $($skip:tt)* ) ( $($index:tt)* ) $e:expr, )* }) => {{
        let mut futures = ( $( $crate::__private::MaybeDone::new(
            $crate::__private::IntoFuture::into_future($e)
        ), )* );
        // Shadowed by a borrow, so the tuple can no longer be moved: it stays
        // where it is (in the pinned state of the enclosing async code) until
        // it is dropped, as `Pin::new_unchecked` below requires.
        let futures = &mut futures;
        // The readiness set lives here, pinned in the enclosing async code
        // like the futures: no allocation.
        let mut state = $crate::__private::pin!($crate::__private::GatherState::<
            { 0 $( + { let _ = stringify!($e); 1 } )* },
        >::new());
        $crate::__private::poll_fn(move |cx| {
            let done = state.as_mut().poll(cx, #[inline(always)] |index, cx| {
                $(
                    if index == $($index)* {
                        let ( $($skip,)* future, .. ) = &mut *futures;
                        // SAFETY: the tuple is never moved (see above), so
                        // neither are its fields.
                        let future = unsafe { $crate::__private::Pin::new_unchecked(future) };
                        return future.poll_done(cx);
                    }
                )*
                ::core::unreachable!("gather!: no future at index {}", index)
            });
            // Unreachable if an output type is uninhabited (e.g. `Infallible`).
            #[allow(unreachable_code)]
            done.map(|()| ( $( {
                let ( $($skip,)* future, .. ) = &mut *futures;
                // SAFETY: as above.
                let future = unsafe { $crate::__private::Pin::new_unchecked(future) };
                future.take_output()
            }, )* ))
        }).await
    }};

    // Normalise one argument.
    (@{ ( $($s:tt)* ) $($t:tt)* } $e:expr, $($rest:tt)*) => {
        $crate::gather!(@{ ( $($s)* _ ) $($t)* ( $($s)* ) ( 0 $( + { let _ = stringify!($s); 1 } )* ) $e, } $($rest)*)
    };

    () => {
        async {}.await
    };

    ($($e:expr),+ $(,)?) => {
        $crate::gather!(@{ () } $($e,)*)
    };
}

/// A child of [`gather!`](crate::gather!): the future, then its output.
#[derive(Debug)]
pub enum MaybeDone<F: Future> {
    /// Not finished yet.
    Future(F),
    /// Finished; the output is waiting to be taken.
    Done(F::Output),
    /// The output was taken.
    Gone,
}

impl<F: Future> MaybeDone<F> {
    /// A child that has not been polled yet.
    pub fn new(future: F) -> Self {
        MaybeDone::Future(future)
    }

    /// Polls the future if it is not finished; `true` if it just finished.
    pub fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        // SAFETY: nothing is moved out: the future is only pinned in place,
        // and replaced (dropped in place) by its output when it finishes.
        let this = unsafe { self.get_unchecked_mut() };
        if let MaybeDone::Future(future) = this {
            // SAFETY: structural pinning: `self` is pinned, so is the future.
            let future = unsafe { Pin::new_unchecked(future) };
            if let Poll::Ready(output) = future.poll(cx) {
                *this = MaybeDone::Done(output);
                return true;
            }
        }
        false
    }

    /// Takes the output.
    ///
    /// # Panics
    ///
    /// If the future has not finished, or the output was taken.
    pub fn take_output(self: Pin<&mut Self>) -> F::Output {
        // SAFETY: only an output is moved out, never the (pinned) future.
        let this = unsafe { self.get_unchecked_mut() };
        match this {
            MaybeDone::Done(_) => match std::mem::replace(this, MaybeDone::Gone) {
                MaybeDone::Done(output) => output,
                _ => unreachable!(),
            },
            _ => panic!("gather!: output taken before the future finished"),
        }
    }
}

/// The state of one [`gather!`](crate::gather!) of `N` futures: its
/// readiness set, held in place (the macro pins it in the enclosing async
/// code, so it allocates nothing), and how many futures are still running.
pub struct GatherState<const N: usize> {
    /// Made at the first poll, once the state is pinned. Declared first, so
    /// it is dropped (cutting the clones of the children's wakers off the
    /// set) before the memory it points into.
    set: Option<ReadySet>,
    storage: InlineSet<N>,
    remaining: usize,
    /// The set points into `storage`.
    _pinned: PhantomPinned,
}

impl<const N: usize> GatherState<N> {
    /// The state of a `gather!` of `N` futures.
    pub fn new() -> Self {
        GatherState {
            set: None,
            storage: InlineSet::new(),
            remaining: N,
            _pinned: PhantomPinned,
        }
    }

    /// Polls the futures due through `poll_child(index, cx)`, which returns
    /// whether that future just finished; `Ready` once all have.
    #[inline(always)]
    pub fn poll(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut poll_child: impl FnMut(usize, &mut Context<'_>) -> bool,
    ) -> Poll<()> {
        // SAFETY: nothing is moved out of `this`; `storage` stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        if this.set.is_none() {
            // Only here, once, is `storage` borrowed: a new `&mut` to it at
            // every poll would invalidate the set's pointer into it.
            // SAFETY: `storage` is pinned, as `self` is; the set is made once
            // (here) and dropped before `storage` (declaration order).
            let set = unsafe { Pin::new_unchecked(&mut this.storage).set() };
            this.set = Some(set);
        }
        let Some(set) = this.set.as_mut() else {
            unreachable!("made above")
        };
        let remaining = &mut this.remaining;
        let ControlFlow::<std::convert::Infallible>::Continue(()) = set.poll_children(
            cx,
            #[inline(always)]
            |index, cx| {
                if poll_child(index, cx) {
                    *remaining -= 1;
                }
                ControlFlow::Continue(())
            },
        );
        if this.remaining == 0 {
            set.close();
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl<const N: usize> Default for GatherState<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for GatherState<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatherState")
            .field("len", &N)
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

// Not under loom: these use loom's types outside a model (see
// `loom_models.rs` for the models).
#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::future::{poll_fn, Future};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    /// Pending once (waking itself), then ready: like `yield_now`.
    fn yield_once() -> impl Future<Output = ()> {
        let mut yielded = false;
        poll_fn(move |cx| {
            if std::mem::replace(&mut yielded, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        })
    }

    #[test]
    fn outputs_in_argument_order() {
        let log = RefCell::new(Vec::new());
        let out = futures::executor::block_on(async {
            crate::gather!(
                async {
                    yield_once().await;
                    yield_once().await;
                    log.borrow_mut().push(0);
                    "zero"
                },
                async {
                    log.borrow_mut().push(1);
                    1u8
                },
                std::future::ready(2.5),
            )
        });
        assert_eq!(out, ("zero", 1u8, 2.5));
        assert_eq!(log.into_inner(), [1, 0]);
    }

    #[test]
    fn empty_and_single() {
        futures::executor::block_on(async {
            let () = crate::gather!();
            let (one,) = crate::gather!(async { 1 });
            assert_eq!(one, 1);
        });
    }

    #[test]
    fn only_the_woken_future_is_polled() {
        let polls = [Cell::new(0), Cell::new(0), Cell::new(0)];
        let kept = Arc::new(Mutex::new(None::<Waker>));
        let counted = |i: usize, keep: bool| {
            let polls = &polls;
            let kept = kept.clone();
            poll_fn(move |cx| {
                polls[i].set(polls[i].get() + 1);
                if keep {
                    *kept.lock().unwrap() = Some(cx.waker().clone());
                }
                Poll::<()>::Pending
            })
        };
        let mut fut = Box::pin(async {
            crate::gather!(counted(0, false), counted(1, true), counted(2, false))
        });
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let kept = kept.lock().unwrap().take().unwrap();
        for _ in 0..3 {
            kept.wake_by_ref();
            assert!(fut.as_mut().poll(&mut cx).is_pending());
        }
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let counts: Vec<_> = polls.iter().map(Cell::get).collect();
        assert_eq!(counts, [1, 4, 1]);
        drop(fut);
        kept.wake(); // after the `gather!` is gone: harmless
    }
}
