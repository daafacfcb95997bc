//! Synchronisation primitives for async Rust, built on
//! [`std::task::Waker`]: a waiting task is parked, polled once to register
//! and once more when it is woken, never in a loop.
//!
//! - to wait for something to happen: [`Waiter`], [`Event`],
//!   [`Condition`], [`Barrier`], [`OnceCell`];
//! - to share state: [`Mutex`], [`RwLock`], [`Semaphore`];
//! - to pass values between tasks: [`oneshot`], [`mpsc`], [`broadcast`],
//!   [`watch`], and asyncio's [`Queue`], [`LifoQueue`], [`PriorityQueue`].
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
//! | [`Condition`] | `asyncio.Condition`, with [`Mutex`] | up to `n` of the waiters, oldest first, at each `notify(n)` |
//! | [`Barrier`] | `asyncio.Barrier` (3.11), `tokio::sync::Barrier` | every waiter when the `parties`-th arrives |
//! | [`OnceCell`] | `tokio::sync::OnceCell`, `async_lock::OnceCell` | every waiter once the value is set; the oldest one if the initialiser gives up |
//! | [`Semaphore`] | `asyncio.Semaphore`, `tokio::sync::Semaphore` | the oldest waiters its released permits cover in full |
//! | [`RwLock`] | `tokio::sync::RwLock` (fair) | the readers at the head of the line together, or one writer |
//! | [`oneshot`] | `tokio::sync::oneshot` | the receiver, at the send (or the sender's drop) |
//! | [`mpsc`] | `tokio::sync::mpsc` (bounded, unbounded) | the oldest receiver at each send; the oldest sender at each freed slot |
//! | [`broadcast`] | `tokio::sync::broadcast` | every receiver at each send |
//! | [`watch`] | `tokio::sync::watch` | every receiver at each new version |
//! | [`Queue`], [`LifoQueue`], [`PriorityQueue`] | `asyncio.Queue`, `LifoQueue`, `PriorityQueue` | the oldest getter at each put; the oldest putter at each freed slot |
//!
//! All of them share one FIFO wait queue: wake-ups go out in the order the
//! waits started.
//!
//! # Futures: one module per primitive, named after the verb
//!
//! Each primitive lives in its own module, and each of its waiting
//! methods returns a named future, in that module, called after the verb:
//! [`waiter::Wait`], [`event::Wait`], [`mutex::Lock`] and
//! [`mutex::LockOwned`] (an `_owned` method's future adds `Owned`), and
//! [`semaphore::Acquire`] (for `acquire` and `acquire_many`),
//! [`semaphore::AcquireOwned`], [`rwlock::Read`], [`rwlock::Write`],
//! [`rwlock::ReadOwned`], [`rwlock::WriteOwned`], [`condition::Wait`],
//! [`condition::WaitFor`], [`barrier::Wait`], [`mpsc::Send`],
//! [`mpsc::Recv`], [`mpsc::RecvMany`], [`mpsc::Closed`],
//! [`oneshot::Closed`] (a [`oneshot::Receiver`] is itself the future of the
//! value), [`broadcast::Recv`], [`watch::Changed`], [`watch::Closed`],
//! [`queue::Put`], [`queue::Get`], [`queue::Join`]. Two
//! primitives may thus both have a `Wait`: they are told apart by their
//! module (`event::Wait`, `waiter::Wait`), and only the primitives and
//! their guards and errors are re-exported at the crate root, never a
//! future. Every future is `#[must_use]` and `Debug`, and dropping one is
//! always safe (it leaves the queue and passes on whatever it had been
//! given).
//!
//! The futures are not fused and do not implement `futures`'
//! `FusedFuture` (the crate depends on no futures library): polling one
//! again after it returned `Ready` panics, except the `Wait`s of `Event`
//! and `Waiter`, which return `Ready` again. Wrap one in
//! `futures::FutureExt::fuse` to use it in a `select!` loop.
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

pub mod barrier;
pub mod broadcast;
mod chan;
pub mod condition;
pub mod event;
mod loom;
pub mod mpsc;
pub mod mutex;
pub mod once_cell;
pub mod oneshot;
pub mod queue;
mod raw_lock;
pub mod rwlock;
pub mod semaphore;
mod wait_queue;
pub mod waiter;
pub mod watch;

pub use barrier::{Barrier, BarrierWaitResult, BrokenBarrier};
pub use condition::Condition;
pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard};
pub use once_cell::OnceCell;
pub use queue::{LifoQueue, PriorityQueue, Queue};
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use waiter::Waiter;

/// The README's examples, compiled and run as doc tests so it stays true.
#[cfg(all(doctest, not(loom)))]
#[doc = include_str!("../../README.md")]
mod readme {}
