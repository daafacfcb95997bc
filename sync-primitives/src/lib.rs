//! `Waiter`, `Event` and `Mutex` for async Rust, built on
//! [`std::task::Waker`]: a waiting task is parked, polled once to register
//! and once more when it is woken, never in a loop.
//!
//! They grew out of the chapter "Attendez-moi !", whose `Waiter` yields on
//! every turn of a loop until a flag flips. They work under any executor
//! (this workspace's `runtime`, tokio, smol, `futures::executor`), and their
//! races are checked with [loom](https://docs.rs/loom).
//!
//! ```
//! use sync_primitives::{Event, Mutex, Waiter};
//!
//! let waiter = Waiter::new();
//! let log = Mutex::new(Vec::new());
//!
//! futures::executor::block_on(async {
//!     futures::join!(
//!         async {
//!             log.lock().await.push("start");
//!             (&waiter).await; // parked until set_done
//!             log.lock().await.push("finished");
//!         },
//!         async {
//!             for i in 0..3 {
//!                 log.lock().await.push(["0", "1", "2"][i]);
//!             }
//!             waiter.set_done();
//!         },
//!     )
//! });
//! assert_eq!(log.into_inner(), ["start", "0", "1", "2", "finished"]);
//!
//! let event = Event::new();
//! event.set();
//! futures::executor::block_on(event.wait()); // a set event: ready at once
//! ```
//!
//! | type | like | wakes |
//! |---|---|---|
//! | [`Waiter`] | the chapter's `Waiter` | every waiter, once, when done |
//! | [`Event`] | `asyncio.Event` | every waiter at each `set` |
//! | [`Mutex`] | `asyncio.Lock` + data, `tokio::sync::Mutex` | the oldest waiter at each unlock (FIFO hand-off) |
//!
//! All three share one FIFO wait queue: wake-ups go out in the order the
//! waits started.

#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod event;
mod loom;
pub mod mutex;
mod wait_queue;
pub mod waiter;

pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard};
pub use waiter::Waiter;

/// The auto traits users rely on, checked at compile time.
#[allow(dead_code)]
fn _assert_auto_traits() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Waiter>();
    send_sync::<Event>();
    send_sync::<Mutex<std::cell::Cell<u8>>>();
    send_sync::<waiter::Wait<'_>>();
    send_sync::<event::Wait<'_>>();
    send::<mutex::Lock<'_, std::cell::Cell<u8>>>();
    send::<mutex::LockOwned<std::cell::Cell<u8>>>();
    send::<MutexGuard<'_, std::cell::Cell<u8>>>();
    send::<OwnedMutexGuard<std::cell::Cell<u8>>>();
}
