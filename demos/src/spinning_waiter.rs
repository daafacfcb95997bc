//! The chapter's `Waiter`, faithfully: it spins.
//!
//! ```python
//! class Waiter:
//!     def __init__(self):
//!         self.done = False
//!
//!     def __await__(self):
//!         while not self.done:
//!             yield
//! ```
//!
//! See [`SpinningWaiter`] for what spinning costs, and
//! [`sync_primitives::Waiter`] for the waiter built on wakers instead.

use std::cell::Cell;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The chapter's `Waiter`: a `done` flag, and an awaitable that yields until
/// the flag is set.
///
/// # Why it spins
///
/// Python's `while not self.done: yield` hands control back to the event
/// loop and asks to run again at its next turn: the generator has no way to
/// say "wake me when `done` changes", so it checks again and again. The Rust
/// version does the same in [`poll`](Future::poll): if `done` is still
/// false, it wakes its own task and returns [`Poll::Pending`], so the
/// executor puts the task straight back in its ready queue.
///
/// # What it costs
///
/// The waiting task is polled once per turn of the executor for as long as
/// it waits: about once per step of the task it waits for when that task
/// yields (`count_up_to` with `asyncio.sleep(0)`), and as fast as the
/// executor can go if that task sleeps (hundreds of thousands of polls in
/// the 200 ms of `demos waiter --spinning --sleep-ms 20 --stats`): the
/// executor is never idle, never parks its thread, and burns a core doing
/// nothing. Setting `done` wakes no one
/// either; the waiter only notices it at its next spin.
/// [`sync_primitives::Waiter`] parks the waiting task instead and is polled
/// exactly twice: once to register its waker, once after `set_done` wakes
/// it. `demos waiter --stats` and `demos waiter --spinning --stats` print
/// both counts.
///
/// `done` is a [`Cell`], like Python's attribute: the waiter is shared by
/// tasks polled on one thread (gathered in one task), so it is not `Sync`.
///
/// # Examples
///
/// ```
/// use demos::spinning_waiter::SpinningWaiter;
///
/// let waiter = SpinningWaiter::new();
/// runtime::block_on(async {
///     runtime::gather!(
///         async { (&waiter).await }, // await waiter
///         async {
///             runtime::yield_now().await;
///             waiter.done.set(true); // waiter.done = True
///         }
///     );
/// });
/// assert!(waiter.done.get());
/// ```
#[derive(Debug, Default)]
pub struct SpinningWaiter {
    /// `self.done`: set it to `true` to let the waiting tasks go on.
    pub done: Cell<bool>,
}

impl SpinningWaiter {
    /// `Waiter()`: a waiter that is not done.
    #[must_use]
    pub const fn new() -> SpinningWaiter {
        SpinningWaiter {
            done: Cell::new(false),
        }
    }

    /// `__await__`: waits, spinning, until [`done`](SpinningWaiter::done) is
    /// true.
    pub fn wait(&self) -> Spin<'_> {
        Spin { waiter: self }
    }
}

impl<'a> IntoFuture for &'a SpinningWaiter {
    type Output = ();
    type IntoFuture = Spin<'a>;

    /// `(&waiter).await` reads like the chapter's `await waiter`.
    fn into_future(self) -> Spin<'a> {
        self.wait()
    }
}

/// The future returned by [`SpinningWaiter::wait`]: the generator of
/// `__await__`.
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Spin<'a> {
    waiter: &'a SpinningWaiter,
}

impl Future for Spin<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // while not self.done:
        if self.waiter.done.get() {
            return Poll::Ready(());
        }
        //     yield: ask to be polled again at the loop's next turn.
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
