//! The children of [`Gather`](super::Gather) and
//! [`TryGather`](super::TryGather), stored in the payload of their
//! [`ReadySet`]: one allocation for the futures and their readiness.

use std::alloc::Layout;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll};

use super::ready::ReadySet;

/// One child: its future until it completes, then its output.
enum Child<F, O> {
    Pending(F),
    Done(O),
}

/// `len` children in the payload of a [`ReadySet`] of `len` slots; `O` is
/// what a finished child keeps (its output).
pub(super) struct Children<F, O> {
    /// Declared first: dropped after `Children::drop` dropped the children.
    set: ReadySet,
    children: NonNull<Child<F, O>>,
    len: usize,
    /// Children still `Pending`.
    remaining: usize,
    /// Whether the `len` children are initialised. Once the combinator has
    /// finished they are moved out or dropped, and this is `false`.
    live: bool,
    _owns: PhantomData<Child<F, O>>,
}

// SAFETY: `Children` owns its futures and outputs like a `Vec<Child<F, O>>`
// would (they are only touched through `&mut self`), and the `ReadySet` is
// `Send`.
unsafe impl<F: Send, O: Send> Send for Children<F, O> {}
// SAFETY: `&Children` gives access to nothing but the counts.
unsafe impl<F, O> Sync for Children<F, O> {}
// The children are pinned in the block, not in `Children`, which may move.
impl<F, O> Unpin for Children<F, O> {}

impl<F: Future, O> Children<F, O> {
    pub(super) fn new(iter: impl IntoIterator<Item = F>) -> Self {
        let iter = iter.into_iter();
        match iter.size_hint() {
            (lower, Some(upper)) if lower == upper => Self::from_exact(lower, iter),
            _ => {
                let futures: Vec<F> = iter.collect();
                Self::from_exact(futures.len(), futures.into_iter())
            }
        }
    }

    /// Moves the futures of `iter`, which promised `len` of them, into a new
    /// block, without an intermediate `Vec` if it keeps its promise.
    fn from_exact(len: usize, mut iter: impl Iterator<Item = F>) -> Self {
        let layout = Layout::array::<Child<F, O>>(len).expect("gather: too many futures");
        let set = ReadySet::with_payload(len, layout);
        let children = set.payload().cast::<Child<F, O>>();
        // `len` counts the children written so far, so if `iter` panics the
        // drop of `this` drops exactly those.
        let mut this = Children {
            set,
            children,
            len: 0,
            remaining: 0,
            live: true,
            _owns: PhantomData,
        };
        while this.len < len {
            let Some(future) = iter.next() else {
                // The iterator yielded fewer than it promised.
                this.set.truncate(this.len);
                break;
            };
            // SAFETY: `this.len < len`: inside the payload, which was laid
            // out for `len` children, and not yet initialised.
            unsafe {
                children
                    .as_ptr()
                    .add(this.len)
                    .write(Child::Pending(future))
            };
            this.len += 1;
        }
        this.remaining = this.len;
        match iter.next() {
            None => this,
            Some(extra) => {
                // The iterator yielded more than it promised: start over
                // from a `Vec`, whose iterator is exact.
                let mut futures = Vec::with_capacity(len + 1 + iter.size_hint().0);
                this.live = false;
                for i in 0..this.len {
                    // SAFETY: child `i` is initialised, still `Pending`
                    // (never polled), read once and then forgotten by
                    // `live = false`; moving an unpolled future is fine.
                    match unsafe { children.as_ptr().add(i).read() } {
                        Child::Pending(future) => futures.push(future),
                        Child::Done(_) => unreachable!("not polled yet"),
                    }
                }
                futures.push(extra);
                futures.extend(iter);
                Self::from_exact(futures.len(), futures.into_iter())
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn remaining(&self) -> usize {
        self.remaining
    }

    /// Polls the children due (see [`ReadySet::poll_children`]); a child's
    /// output goes through `check`, and the first `Err` it returns stops the
    /// poll, drops every child and is returned. When all are done, returns
    /// their outputs in input order, each passed through `finish`.
    ///
    /// # Panics
    ///
    /// If called again after returning `Ready`.
    pub(super) fn poll<E, T>(
        &mut self,
        cx: &Context<'_>,
        mut check: impl FnMut(F::Output) -> Result<O, E>,
        mut finish: impl FnMut(O) -> T,
    ) -> Poll<Result<Vec<T>, E>> {
        assert!(self.live, "gather: future polled after completion");
        let children = self.children;
        let remaining = &mut self.remaining;
        let flow = self.set.poll_children(cx, |index, cx| {
            // SAFETY: the set hands out indices below its length, which is
            // `self.len`; the children are initialised (`live`) and only
            // reached through `&mut self`, so this is the only reference.
            let child = unsafe { &mut *children.as_ptr().add(index) };
            if let Child::Pending(future) = child {
                // SAFETY: the future lives in the block, which never moves,
                // and is dropped in place (by the assignment below, or by
                // `drop_children`) before the block can be freed.
                let future = unsafe { Pin::new_unchecked(future) };
                if let Poll::Ready(output) = future.poll(cx) {
                    match check(output) {
                        Ok(output) => {
                            *child = Child::Done(output);
                            *remaining -= 1;
                        }
                        Err(err) => return ControlFlow::Break(err),
                    }
                }
            }
            ControlFlow::Continue(())
        });
        if let ControlFlow::Break(err) = flow {
            self.drop_children();
            return Poll::Ready(Err(err));
        }
        if self.remaining != 0 {
            return Poll::Pending;
        }
        // Before moving the outputs out: if anything panics from here on,
        // the rest leak rather than drop twice.
        self.live = false;
        self.set.close();
        let outputs = (0..self.len)
            .map(|i| {
                // SAFETY: every child is `Done` (`remaining == 0`) and is
                // read once; `live = false` keeps them from being dropped.
                match unsafe { children.as_ptr().add(i).read() } {
                    Child::Done(output) => finish(output),
                    Child::Pending(_) => unreachable!("`remaining` is 0"),
                }
            })
            .collect();
        Poll::Ready(Ok(outputs))
    }
}

impl<F, O> Children<F, O> {
    /// Drops every child (futures and outputs), in place.
    fn drop_children(&mut self) {
        if !std::mem::replace(&mut self.live, false) {
            return;
        }
        self.set.close();
        // SAFETY: the `len` children are initialised (`live` was true) and
        // are dropped once: `live` is now false. Dropping a slice in place
        // keeps dropping the rest if one child's drop panics.
        unsafe {
            ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                self.children.as_ptr(),
                self.len,
            ));
        }
    }
}

impl<F, O> Drop for Children<F, O> {
    fn drop(&mut self) {
        self.drop_children();
    }
}

impl<F, O> fmt::Debug for Children<F, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Children")
            .field("len", &self.len)
            .field("remaining", &self.remaining)
            .finish()
    }
}
