//! Running futures concurrently inside one task, like `asyncio.gather`:
//! [`gather`](crate::gather()), [`try_gather`](crate::try_gather()) and [`gather!`](crate::gather!).
//!
//! All three poll their children in the task that polls them (nothing is
//! spawned), give each child its own waker, and re-poll only the children
//! woken since the last poll. They share one mechanism, the readiness set in
//! `ready.rs`.

mod children;
// The module is named after the function it holds, like its siblings.
#[allow(clippy::module_inception)]
mod gather;
mod macros;
mod ready;
mod try_gather;

pub use self::gather::{gather, Gather};
pub use self::try_gather::{try_gather, TryGather};

/// What the expansion of [`gather!`](crate::gather!) uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use super::macros::{GatherState, MaybeDone};
    pub use std::future::{poll_fn, IntoFuture};
    pub use std::pin::{pin, Pin};
}
