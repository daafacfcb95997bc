//! `gather!` allocates nothing: its wake-up state lives in the pinned
//! enclosing future. Only a child that keeps a clone of its waker makes one
//! block, shared by every clone. Counted with a global allocator that
//! counts the allocations of the current thread.
#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is passed on to `System` unchanged; the count is a
// const-initialised thread-local without a destructor, which never
// allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is `System`'s.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCS.with(Cell::get)
}

/// Pending once (waking itself by reference), then ready: `yield_now`.
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

/// Pending once, keeping `clones` clones of its waker, then ready.
fn keep_wakers(clones: usize) -> impl Future<Output = usize> {
    let mut kept: Vec<Waker> = Vec::with_capacity(clones);
    poll_fn(move |cx| {
        if kept.is_empty() {
            kept.extend((0..clones).map(|_| cx.waker().clone()));
            kept[0].wake_by_ref();
            Poll::Pending
        } else {
            Poll::Ready(kept.len())
        }
    })
}

/// Polls `fut` (pinned on the stack) with a no-op waker until ready;
/// returns its output and the number of allocations made meanwhile.
fn count_allocations<F: Future>(fut: F) -> (F::Output, usize) {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    let before = allocations();
    let output = loop {
        if let Poll::Ready(output) = fut.as_mut().poll(&mut cx) {
            break output;
        }
    };
    (output, allocations() - before)
}

#[test]
fn gather_macro_of_futures_that_wake_by_reference_allocates_nothing() {
    let ((a, b, c), allocs) = count_allocations(async {
        runtime::gather!(
            async {
                for _ in 0..10 {
                    yield_once().await;
                }
                1
            },
            async {
                yield_once().await;
                "two"
            },
            std::future::ready(3.0),
        )
    });
    assert_eq!((a, b, c), (1, "two", 3.0));
    assert_eq!(allocs, 0);
}

#[test]
fn gather_macro_makes_one_block_for_every_clone_of_its_wakers() {
    // The children's own `Vec`s of kept wakers: one allocation each,
    // made when the future is built, before counting starts.
    let (x, y) = (keep_wakers(5), keep_wakers(3));
    let ((x, y), allocs) = count_allocations(async { runtime::gather!(x, y) });
    assert_eq!((x, y), (5, 3));
    assert_eq!(allocs, 1, "one shared block for the 8 clones");
}
