//! Test helpers shared by the workspace's crates (a dev-dependency of each):
//! wakers that count or record their wake-ups or run a hook when dropped,
//! helpers that poll a future once by hand, and [`with_watchdog`], which
//! bounds a test that could hang.
//!
//! It depends on none of our crates, so any of them can use it, in its
//! integration tests and in its in-crate `#[cfg(test)]` modules alike. It
//! uses `std` atomics and locks, also under `--cfg loom`: a loom model that
//! needs its waker's count checked by loom keeps a waker built on its own
//! crate's loom facade.
//!
//! # Examples
//!
//! ```
//! use std::future::Future;
//! use std::pin::pin;
//! use std::task::{Context, Poll};
//! use test_util::CountingWaker;
//!
//! let (counter, waker) = CountingWaker::new();
//! let mut yielded = false;
//! let mut fut = pin!(std::future::poll_fn(|cx| {
//!     if yielded {
//!         return Poll::Ready(());
//!     }
//!     yielded = true;
//!     cx.waker().wake_by_ref();
//!     Poll::Pending
//! }));
//! assert!(fut.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
//! assert_eq!(counter.wakes(), 1);
//! ```

mod poll;
mod wakers;
mod watchdog;

pub use poll::{pending, poll_with, ready, yield_once, CountPolls};
pub use wakers::{drop_hook_waker, recording_wakers, CountingWaker, DropHook, RecordingWaker};
pub use watchdog::with_watchdog;
