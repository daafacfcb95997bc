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
//!
//! A guard hands out `&T`, so it is `Sync` only where `T` is:
//!
//! ```compile_fail
//! fn sync<T: Sync>(_: &T) {}
//! let mutex = sync_primitives::Mutex::new(std::cell::Cell::new(0));
//! sync(&mutex.try_lock().unwrap()); // Cell is not Sync
//! ```
//!
//! and a mutex of a type that cannot move between threads cannot be
//! shared between them:
//!
//! ```compile_fail
//! fn sync<T: Sync>(_: &T) {}
//! sync(&sync_primitives::Mutex::new(std::rc::Rc::new(0)));
//! ```
//!
//! To pass values between tasks: [`mpsc`] (tokio's bounded and unbounded
//! channels) and asyncio's queues, [`Queue`], [`LifoQueue`] and
//! [`PriorityQueue`] (with `task_done`/`join` and `shutdown`); they share
//! one buffer-and-parking core and the same wait queue.

#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod chan;
pub mod event;
mod loom;
pub mod mpsc;
pub mod mutex;
pub mod queue;
mod wait_queue;
pub mod waiter;

pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard};
pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use waiter::Waiter;

/// The README's examples, compiled and run as doc tests so it stays true.
#[cfg(all(doctest, not(loom)))]
#[doc = include_str!("../../README.md")]
mod readme {}
