//! asyncio's queues: [`Queue`] (FIFO), [`LifoQueue`] and
//! [`PriorityQueue`], with `task_done`/`join` and Python 3.13's `shutdown`.
//!
//! They follow CPython's `Lib/asyncio/queues.py`:
//!
//! - [`put`](Queue::put) waits while the queue is full, [`get`](Queue::get)
//!   while it is empty, each in the order the waits started. The `_nowait`
//!   forms fail instead of waiting. One difference: a `put_nowait` also
//!   fails with `Full` while a `put` is waiting for room (room freed by a
//!   `get` is handed to the oldest waiting `put`, so nobody can barge in),
//!   and so for a moment after a `get` that freed room for a waiting `put`
//!   that has not run yet, even though [`full`](Queue::full) is `false`.
//! - Every item put counts as unfinished until a
//!   [`task_done`](Queue::task_done) marks it done; [`join`](Queue::join)
//!   waits until none is unfinished. `task_done` called more times than
//!   items were put panics with asyncio's message, `task_done() called too
//!   many times`, and changes nothing: the queue keeps working.
//! - [`shutdown(false)`](Queue::shutdown): every `put` fails from then on
//!   (waiting ones too); `get` keeps returning the items left and fails once
//!   the queue is empty. `shutdown(true)` also drops the queued items,
//!   counting them as done, so every `get` fails at once and `join`
//!   completes once the items already taken are marked done. Every waiting
//!   `put` and `get` is woken.
//!
//! The queues share their buffer and parking logic with
//! [`mpsc`](crate::mpsc): one lock over the buffer, and the crate's wait
//! queue for the tasks that wait.
//!
//! # Examples
//!
//! A producer, three workers and `join`, as in asyncio's documentation:
//!
//! ```
//! use std::sync::Arc;
//! use sync_primitives::Queue;
//!
//! runtime::block_on(async {
//!     let queue = Arc::new(Queue::new(4));
//!     let workers: Vec<_> = (0..3)
//!         .map(|_| {
//!             let queue = queue.clone();
//!             runtime::spawn(async move {
//!                 let mut sum = 0;
//!                 while let Ok(job) = queue.get().await {
//!                     sum += job;
//!                     queue.task_done();
//!                 }
//!                 sum
//!             })
//!         })
//!         .collect();
//!     for job in 1..=100 {
//!         queue.put(job).await.unwrap();
//!     }
//!     queue.join().await; // every job is done
//!     queue.shutdown(false); // the workers' next `get` fails: they return
//!     let mut total = 0;
//!     for worker in workers {
//!         total += worker.await.unwrap();
//!     }
//!     assert_eq!(total, 5050);
//! });
//! ```

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use crate::chan::{Buffer, Fifo, Lifo, Priority};
use crate::chan::{Chan, TryPopError, TryPushError, Watch, WatchWait, Watched};
use crate::wait_queue::Key;

/// Defines a queue type over one [`Buffer`], with asyncio's methods.
macro_rules! queue {
    (
        $(#[$attr:meta])*
        $Name:ident, $Buf:ident $(, $bound:path)?
    ) => {
        $(#[$attr])*
        pub struct $Name<T> {
            chan: Chan<T, $Buf<T>>,
        }

        impl<T $(: $bound)?> $Name<T> {
            /// A queue holding at most `maxsize` items; 0 means no bound,
            /// as in asyncio.
            pub fn new(maxsize: usize) -> Self {
                let capacity = if maxsize == 0 { usize::MAX } else { maxsize };
                $Name {
                    chan: Chan::new(capacity, Watch::Join),
                }
            }

            /// Puts `item` in the queue, waiting for room while it is full
            /// (in the order the waits started).
            ///
            /// Dropping the future before it completes drops the item and
            /// passes any room it was given to the next waiting `put`.
            ///
            /// # Errors
            ///
            /// [`ShutDown`], holding the item, if the queue is shut down
            /// (also while waiting).
            pub fn put(&self, item: T) -> Put<'_, T, $Buf<T>> {
                Put {
                    chan: &self.chan,
                    key: None,
                    item: Some(item),
                }
            }

            /// Puts `item` in the queue if there is room now and no `put`
            /// is waiting for room (room already handed to a waiting `put`
            /// is not free).
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] or [`PutError::ShutDown`], holding the
            /// item.
            pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
                self.chan.try_push(item).map_err(|e| match e {
                    TryPushError::Full(item) => PutError::Full(item),
                    TryPushError::Closed(item) => PutError::ShutDown(item),
                })
            }

            /// Takes the next item, waiting while the queue is empty (in
            /// the order the waits started). Cancel-safe: dropping the
            /// future loses no item.
            ///
            /// # Errors
            ///
            /// [`ShutDown`] once the queue is shut down and empty.
            pub fn get(&self) -> Get<'_, T, $Buf<T>> {
                Get {
                    chan: &self.chan,
                    key: None,
                }
            }

            /// Takes the next item if there is one.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`], or [`GetError::ShutDown`] if the queue
            /// is also shut down.
            pub fn get_nowait(&self) -> Result<T, GetError> {
                self.chan.try_pop().map_err(|e| match e {
                    TryPopError::Empty => GetError::Empty,
                    TryPopError::Closed => GetError::ShutDown,
                })
            }

            /// Marks one item taken from the queue as done; when every item
            /// put is done, every [`join`](Self::join) completes.
            ///
            /// # Panics
            ///
            /// With `task_done() called too many times` if called more
            /// times than items were put; the queue is left as it was.
            pub fn task_done(&self) {
                self.chan.task_done();
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done); at once if none is
            /// unfinished.
            pub fn join(&self) -> Join<'_>
            where
                T: Send,
            {
                Join {
                    wait: WatchWait::new(&self.chan),
                }
            }

            /// Shuts the queue down (Python 3.13): `put`s fail from now on,
            /// `get`s fail once the queue is empty. With `immediate`, the
            /// queued items are dropped at once and counted as done. Every
            /// waiting `put` and `get` is woken.
            pub fn shutdown(&self, immediate: bool) {
                self.chan.close();
                if immediate {
                    // Dropped here, after the queue's lock is released.
                    drop(self.chan.drain());
                }
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shutdown(&self) -> bool {
                self.chan.is_closed()
            }

            /// How many items are queued.
            pub fn qsize(&self) -> usize {
                self.chan.len()
            }

            /// The bound given to `new` (0: none).
            pub fn maxsize(&self) -> usize {
                match self.chan.capacity() {
                    usize::MAX => 0,
                    capacity => capacity,
                }
            }

            /// Whether no item is queued.
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Whether `maxsize` items are queued (never, for an unbounded
            /// queue).
            pub fn full(&self) -> bool {
                self.maxsize() > 0 && self.qsize() >= self.maxsize()
            }

            /// How many items put are not yet marked done.
            pub fn unfinished_tasks(&self) -> usize {
                self.chan.unfinished()
            }
        }

        impl<T $(: $bound)?> Default for $Name<T> {
            /// An unbounded queue.
            fn default() -> Self {
                Self::new(0)
            }
        }

        impl<T $(: $bound)?> fmt::Debug for $Name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($Name))
                    .field("maxsize", &self.maxsize())
                    .field("chan", &self.chan)
                    .finish()
            }
        }
    };
}

queue! {
    /// asyncio's `Queue`: multi-producer, multi-consumer, first in first
    /// out. Share it between tasks in an `Arc`; it is `Send + Sync` where
    /// `T: Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::{queue, Queue};
    ///
    /// let queue = Queue::new(2);
    /// queue.put_nowait("a").unwrap();
    /// queue.put_nowait("b").unwrap();
    /// assert!(queue.full());
    /// assert!(matches!(queue.put_nowait("c"), Err(queue::PutError::Full("c"))));
    /// assert_eq!(queue.get_nowait(), Ok("a"));
    /// runtime::block_on(async {
    ///     assert_eq!(queue.get().await, Ok("b"));
    ///     queue.task_done();
    ///     queue.task_done();
    ///     queue.join().await; // both items are done
    ///     queue.shutdown(false);
    ///     assert_eq!(queue.get().await, Err(queue::ShutDown(())));
    /// });
    /// ```
    Queue, Fifo
}

queue! {
    /// asyncio's `LifoQueue`: like [`Queue`], but the item put last comes
    /// out first.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::LifoQueue;
    ///
    /// let stack = LifoQueue::new(0);
    /// for i in 1..=3 {
    ///     stack.put_nowait(i).unwrap();
    /// }
    /// let order: Vec<_> = std::iter::from_fn(|| stack.get_nowait().ok()).collect();
    /// assert_eq!(order, [3, 2, 1]);
    /// ```
    LifoQueue, Lifo
}

queue! {
    /// asyncio's `PriorityQueue`: like [`Queue`], but the smallest item
    /// comes out first (put `(priority, data)` tuples, as in Python).
    ///
    /// Items are compared with `Ord` while the queue's internal lock is
    /// held, so `T`'s `Ord` must not use the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::PriorityQueue;
    ///
    /// let queue = PriorityQueue::new(0);
    /// queue.put_nowait((2, "write")).unwrap();
    /// queue.put_nowait((0, "urgent")).unwrap();
    /// queue.put_nowait((1, "read")).unwrap();
    /// runtime::block_on(async {
    ///     assert_eq!(queue.get().await, Ok((0, "urgent")));
    ///     assert_eq!(queue.get().await, Ok((1, "read")));
    ///     assert_eq!(queue.get().await, Ok((2, "write")));
    /// });
    /// ```
    PriorityQueue, Priority, Ord
}

/// The future returned by `put` ([`Queue::put`], ...).
///
/// Dropping it before it completes drops the item and passes any room it
/// was given to the next waiting `put`.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Put<'a, T, B: Buffer<T> = Fifo<T>> {
    chan: &'a Chan<T, B>,
    /// `None`: not in line (not yet polled, or done). `Some`: in the line
    /// of `put`s; once the key is stale (see `chan.rs`), room has been
    /// reserved for this put, which dropping it passes on.
    key: Option<Key>,
    /// The item, until it is put or handed back.
    item: Option<T>,
}

// The item is never pinned: it is moved into the queue.
impl<T, B: Buffer<T>> Unpin for Put<'_, T, B> {}

impl<T, B: Buffer<T>> Future for Put<'_, T, B> {
    type Output = Result<(), ShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan
            .poll_push(&mut this.key, &mut this.item, cx)
            .map(|result| result.map_err(ShutDown))
    }
}

impl<T, B: Buffer<T>> Drop for Put<'_, T, B> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_push(key);
        }
    }
}

impl<T, B: Buffer<T>> fmt::Debug for Put<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Put")
            .field("waiting", &self.key.is_some())
            .field("done", &self.item.is_none())
            .finish()
    }
}

/// The future returned by `get` ([`Queue::get`], ...).
///
/// Dropping it before it completes loses no item; a wake-up it was given
/// passes to the next waiting `get`.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Get<'a, T, B: Buffer<T> = Fifo<T>> {
    chan: &'a Chan<T, B>,
    /// `None`: not in line (not yet polled, or done). `Some`: in the line
    /// of `get`s; once the key is stale, this get was woken for an item,
    /// and dropping it wakes the next `get` if items remain.
    key: Option<Key>,
}

impl<T, B: Buffer<T>> Future for Get<'_, T, B> {
    type Output = Result<T, ShutDown<()>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        this.chan
            .poll_pop(&mut this.key, cx)
            .map(|item| item.ok_or(ShutDown(())))
    }
}

impl<T, B: Buffer<T>> Drop for Get<'_, T, B> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_pop(key);
        }
    }
}

impl<T, B: Buffer<T>> fmt::Debug for Get<'_, T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Get")
            .field("waiting", &self.key.is_some())
            .finish()
    }
}

/// The future returned by `join` ([`Queue::join`], ...): completes once
/// every item put has been marked done.
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Join<'a> {
    wait: WatchWait<'a, dyn Watched + Sync + 'a>,
}

impl Future for Join<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.wait.poll(cx)
    }
}

/// The error of a `put` or `get` on a queue that is shut down; a refused
/// `put` hands its item back (`ShutDown<()>` for `get`). asyncio's
/// `QueueShutDown`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ShutDown<T>(pub T);

/// The error of `put_nowait`; both cases hold the item.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutError<T> {
    /// The queue is full, or a `put` is waiting for room (asyncio's
    /// `QueueFull`).
    Full(T),
    /// The queue is shut down (asyncio's `QueueShutDown`).
    ShutDown(T),
}

/// The error of `get_nowait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetError {
    /// No item is queued (asyncio's `QueueEmpty`).
    Empty,
    /// No item is queued and the queue is shut down (asyncio's
    /// `QueueShutDown`).
    ShutDown,
}

impl<T> PutError<T> {
    /// The item that was not put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }
}

// Debug without `T: Debug`, so `.unwrap()` works for any item.
impl<T> fmt::Debug for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShutDown").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for ShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue is shut down")
    }
}

impl<T> Error for ShutDown<T> {}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PutError::Full(_) => "queue is full",
            PutError::ShutDown(_) => "queue is shut down",
        })
    }
}

impl<T> Error for PutError<T> {}

impl fmt::Display for GetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GetError::Empty => "queue is empty",
            GetError::ShutDown => "queue is shut down",
        })
    }
}

impl Error for GetError {}
