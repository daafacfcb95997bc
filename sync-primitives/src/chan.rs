//! The buffer and the parking logic that [`mpsc`](crate::mpsc) and the
//! [`queue`](crate::queue) family share: one [`Chan`], with a thin typed
//! front-end per API.
//!
//! A `Chan` is a buffer of values (FIFO, LIFO or smallest-first: the
//! [`Buffer`]) plus three FIFO lines of parked tasks, each a wait-queue
//! [`List`] (the crate's one wait queue, without a lock of its own): senders
//! waiting for room, receivers waiting for a value, and *watchers* (mpsc's
//! `closed()`, or the queue's `join()`). All of it sits behind one lock.
//!
//! # Locking
//!
//! One lock guards the buffer and the three lines, so "what the state says"
//! and "who is parked" change together: a task that finds no room and parks
//! does so in the same critical section as its check, so it cannot miss the
//! wake-up of a concurrent receive. (Each line once had a lock of its own,
//! always taken inside this one: they serialised nothing more, and cost
//! two lock operations per hand-off and 8 bytes each.) Wakers are taken out
//! of the lines under the lock and woken after it is released, and wakers a
//! line replaced or freed ([`List::take_discarded`]) are dropped after it;
//! values leave the buffer under the lock and are dropped after it (a
//! user's destructor never runs under it). The one piece of user code that
//! does run under the lock is `Ord::cmp`, when a [`Priority`] buffer places
//! an item.
//!
//! # Memory
//!
//! A `Chan<u64, Fifo<u64>>` (a `Queue<u64>`, or the heart of an mpsc
//! channel's one allocation) is 448 bytes idle: three lines of 120 bytes
//! (each with one inline slot, so the first parked task of a line costs no
//! allocation), the empty `VecDeque` (32), the counters and the lock. A
//! value buffered costs its size in the ring buffer, which grows by
//! doubling to the peak number buffered and is kept; each task parked
//! beyond the first of its line costs one 40-byte slot, kept likewise.
//!
//! # Hand-off to parked senders
//!
//! Room is *reserved*, as a semaphore hands out permits: when a receive
//! frees a slot and a sender is parked, the slot is counted in
//! `State::reserved` and the oldest parked sender is woken (its wait-queue
//! key goes stale: "my key is stale" means "a slot is mine"). Nobody else
//! can take that slot meanwhile, so senders get room strictly in the order
//! they parked, and a `try_send` fails while anyone is parked (no barging).
//! A woken sender that is dropped before it used its slot passes it on to
//! the next parked sender. Invariant: while a sender is parked (and the
//! channel is open), `buf.len() + reserved == capacity`.
//!
//! Receivers are not reserved a value: a woken receiver takes the front
//! value if there is one and otherwise parks again at the front (a
//! `try_recv`/`get_nowait` may have taken it, as in asyncio). A woken
//! receiver that is dropped passes its wake-up on if values remain.
//!
//! # Parks and wake-ups, and what is deliberately not done
//!
//! A task is woken only if it is parked in a line, and a wake-up takes it
//! out of the line: a receiver that is running (or was already woken) is
//! never woken again by later pushes, and a sender that finds room never
//! touches the lines. Counted on the `mpsc` criterion workloads (tokio's
//! 2-worker runtime, 10_000 values, capacity 128), a run parks the
//! receiver 77-130 times and the senders 80-400 times on a quiet machine,
//! as flume's and fewer than tokio's (180-630 and 90-880); with a CPU hog
//! on one of the 2 cores every contender's receiver parks more, per few
//! values (ours 100-1_700, tokio 530-630, flume 76-660), and the time of
//! each row swings between modes for every contender: it is set by how
//! the OS schedules the threads, not by the channel. The state lock was
//! found contended 0 times in 20_000 acquisitions on a quiet machine and
//! at most 13 times with the hog, so it is `parking_lot`'s as is, with no
//! extra spinning.
//!
//! Two ways to park less are ruled out by what a user may rely on:
//!
//! - Handing room to parked senders in batches (waking them only once
//!   several slots are free), or letting the receiver take several values
//!   into a buffer of its own under one lock: either way, one receive no
//!   longer admits a parked sender at once, and a receiver that then waits
//!   for that sender (a `join` on it) waits forever. One freed slot admits
//!   one parked sender, now (test
//!   `one_receive_admits_a_parked_sender_at_once`).
//! - Spinning in a receive before parking: it pays off only when a value
//!   comes within the spin, and costs a whole spin per round trip of a
//!   ping-pong, where the answer never comes that fast.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::mem;
use std::task::{Context, Poll, Waker};

use crate::loom::{Mutex, MutexGuard};
use crate::wait_queue::{Key, List};

mod sealed {
    /// Only this crate's buffers implement [`Buffer`](super::Buffer).
    pub trait Sealed {}
}

/// The order in which a queue hands out its items: [`Fifo`] (`Queue`),
/// [`Lifo`] (`LifoQueue`) or [`Priority`] (`PriorityQueue`). Sealed: only
/// these three implement it.
pub trait Buffer<T>: sealed::Sealed + Default {
    /// Stores `value`.
    fn push(&mut self, value: T);
    /// Takes the next value in this buffer's order.
    fn pop(&mut self) -> Option<T>;
    /// How many values are stored.
    fn len(&self) -> usize;
    /// Whether no value is stored.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out: the buffer of `Queue` and of the mpsc channels (a
/// ring buffer, a `VecDeque`).
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);

/// Last in, first out: the buffer of `LifoQueue` (a `Vec` used as a stack).
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);

/// Smallest first: the buffer of `PriorityQueue` (a binary min-heap, as
/// Python's `heapq`). Equal items come out in no particular order.
#[derive(Debug)]
pub struct Priority<T>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}

impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}

impl<T: Ord> Default for Priority<T> {
    fn default() -> Self {
        Priority(BinaryHeap::new())
    }
}

impl<T> sealed::Sealed for Fifo<T> {}
impl<T> sealed::Sealed for Lifo<T> {}
impl<T> sealed::Sealed for Priority<T> {}

impl<T> Buffer<T> for Fifo<T> {
    #[inline]
    fn push(&mut self, value: T) {
        self.0.push_back(value);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Buffer<T> for Lifo<T> {
    #[inline]
    fn push(&mut self, value: T) {
        self.0.push(value);
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Buffer<T> for Priority<T> {
    #[inline]
    fn push(&mut self, value: T) {
        self.0.push(Reverse(value));
    }
    #[inline]
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(value)| value)
    }
    #[inline]
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// What the watchers of a [`Chan`] wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Watch {
    /// The channel closing (mpsc's `Sender::closed`).
    Close,
    /// Every item put being marked done (the queue's `join`); items are
    /// counted.
    Join,
}

/// Why a value could not be pushed at once.
#[derive(Debug)]
pub(crate) enum TryPushError<T> {
    /// No room (or a parked sender is first in line).
    Full(T),
    /// The channel is closed.
    Closed(T),
}

/// Why no value could be taken at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TryPopError {
    /// Nothing buffered.
    Empty,
    /// Nothing buffered, and the channel is closed: nothing will come.
    Closed,
}

/// The buffer and its parked tasks.
///
/// `repr(C)`, as is [`State`]: the fields every push and pop reads (the
/// capacity, the lock, the buffer's header, the counters) come first and
/// span two cache lines, as they did before the lines of waiters moved in;
/// left to the compiler, they were spread over four, and under a
/// cross-thread ping-pong each line is a cache miss.
#[repr(C)]
pub(crate) struct Chan<T, B> {
    /// Values the buffer holds at most (`usize::MAX`: unbounded).
    capacity: usize,
    watch: Watch,
    state: Mutex<State<B>>,
    _values: std::marker::PhantomData<fn(T) -> T>,
}

/// Everything the state lock guards (`repr(C)`: see [`Chan`]).
#[repr(C)]
struct State<B> {
    buf: B,
    /// Slots handed to woken senders that have not filled them yet (or
    /// were woken by `close` and will fail).
    reserved: usize,
    /// Items put and not yet marked done (only with [`Watch::Join`]).
    unfinished: usize,
    /// How many tasks `senders` and `receivers` hold: their lengths, kept
    /// here beside the other hot fields, so that a push or a pop with
    /// nobody parked reads no line of waiters (each is 120 bytes).
    parked_senders: u32,
    parked_receivers: u32,
    /// No value will be pushed any more.
    closed: bool,
    /// Senders waiting for room, oldest first.
    senders: List,
    /// Receivers waiting for a value, oldest first.
    receivers: List,
    /// Tasks waiting for [`Watch`]'s condition.
    watchers: List,
}

impl<B> State<B> {
    /// Releases the lock, then drops the wakers the lines replaced or freed
    /// under it (a waker's destructor may run a task's, which may use this
    /// channel). Call it wherever a line's `update_waker` or `remove` ran.
    fn unlock(mut state: MutexGuard<'_, State<B>>) {
        let discarded = [
            state.senders.take_discarded(),
            state.receivers.take_discarded(),
            state.watchers.take_discarded(),
        ];
        drop(state);
        drop(discarded);
    }
}

impl<T, B: Buffer<T>> Chan<T, B> {
    /// An empty, open channel holding at most `capacity` values.
    pub(crate) fn new(capacity: usize, watch: Watch) -> Self {
        Chan {
            capacity,
            watch,
            state: Mutex::new(State {
                buf: B::default(),
                reserved: 0,
                unfinished: 0,
                parked_senders: 0,
                parked_receivers: 0,
                closed: false,
                senders: List::new(),
                receivers: List::new(),
                watchers: List::new(),
            }),
            _values: std::marker::PhantomData,
        }
    }

    /// The capacity given to [`Chan::new`].
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many values are buffered.
    pub(crate) fn len(&self) -> usize {
        self.state.lock().buf.len()
    }

    /// Whether the channel is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// Pushes `value` if there is room and no parked sender is ahead.
    pub(crate) fn try_push(&self, value: T) -> Result<(), TryPushError<T>> {
        let state = self.state.lock();
        if state.closed {
            return Err(TryPushError::Closed(value));
        }
        if state.parked_senders > 0 || state.buf.len() + state.reserved >= self.capacity {
            return Err(TryPushError::Full(value));
        }
        self.push_locked(state, value);
        Ok(())
    }

    /// Polls a push on behalf of a future that holds `value` (taken when
    /// the push completes) and its place in line, `key`.
    pub(crate) fn poll_push(
        &self,
        key: &mut Option<Key>,
        value: &mut Option<T>,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), T>> {
        let mut state = self.state.lock();
        match *key {
            Some(queued) => {
                if state.senders.update_waker(queued, cx.waker()) {
                    // The replaced waker is dropped with no lock held.
                    State::unlock(state);
                    return Poll::Pending;
                }
                // Woken: a slot was reserved for us (by a receive, an
                // abandoned turn, or `close`, which makes us fail).
                *key = None;
                state.reserved -= 1;
            }
            None => {
                if !state.closed
                    && (state.parked_senders > 0
                        || state.buf.len() + state.reserved >= self.capacity)
                {
                    *key = Some(state.senders.push_back(cx.waker().clone()));
                    state.parked_senders += 1;
                    return Poll::Pending;
                }
            }
        }
        let value = value.take().expect("a push polled after it completed");
        if state.closed {
            return Poll::Ready(Err(value));
        }
        self.push_locked(state, value);
        Poll::Ready(Ok(()))
    }

    /// Called when a push future that is in line (`key`) is dropped: leaves
    /// the line, or passes on the slot it was already given.
    pub(crate) fn cancel_push(&self, key: Key) {
        let mut state = self.state.lock();
        if state.senders.remove(key) {
            state.parked_senders -= 1;
            // The freed waker is dropped with no lock held.
            State::unlock(state);
            return;
        }
        state.reserved -= 1;
        let next = Self::grant(&mut state);
        drop(state);
        if let Some(waker) = next {
            waker.wake();
        }
    }

    /// Stores `value` and wakes the oldest parked receiver.
    fn push_locked(&self, mut state: MutexGuard<'_, State<B>>, value: T) {
        state.buf.push(value);
        if self.watch == Watch::Join {
            state.unfinished += 1;
        }
        let receiver = if state.parked_receivers > 0 {
            state.parked_receivers -= 1;
            state.receivers.pop_front()
        } else {
            None
        };
        drop(state);
        if let Some(waker) = receiver {
            waker.wake();
        }
    }

    /// Reserves a freed slot for the oldest parked sender, if any, and
    /// returns its waker.
    fn grant(state: &mut State<B>) -> Option<Waker> {
        if state.closed || state.parked_senders == 0 {
            return None;
        }
        state.parked_senders -= 1;
        state.reserved += 1;
        state.senders.pop_front()
    }

    /// Releases the lock after `freed` values were taken, handing the freed
    /// slots to parked senders, and wakes them.
    fn after_pop(&self, mut state: MutexGuard<'_, State<B>>, freed: usize) {
        if state.parked_senders == 0 || state.closed {
            return;
        }
        if freed == 1 {
            let next = Self::grant(&mut state);
            drop(state);
            if let Some(waker) = next {
                waker.wake();
            }
            return;
        }
        let mut wakers = Vec::new();
        for _ in 0..freed {
            match Self::grant(&mut state) {
                Some(waker) => wakers.push(waker),
                None => break,
            }
        }
        drop(state);
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Takes the next value if there is one.
    pub(crate) fn try_pop(&self) -> Result<T, TryPopError> {
        let mut state = self.state.lock();
        match state.buf.pop() {
            Some(value) => {
                self.after_pop(state, 1);
                Ok(value)
            }
            None if state.closed => Err(TryPopError::Closed),
            None => Err(TryPopError::Empty),
        }
    }

    /// Polls a receive on behalf of a future whose place in line is `key`:
    /// `Ready(None)` once the channel is closed and drained.
    pub(crate) fn poll_pop(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let mut values = None;
        self.poll_pop_with(key, cx, |buf| {
            values = buf.pop();
            usize::from(values.is_some())
        })
        .map(|_| values)
    }

    /// Like [`Chan::poll_pop`], but takes up to `limit` values (at least
    /// one) into `out`; `Ready(0)` once closed and drained, or at once if
    /// `limit` is 0.
    pub(crate) fn poll_pop_many(
        &self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
        out: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        self.poll_pop_with(key, cx, |buf| {
            let n = buf.len().min(limit);
            out.reserve(n);
            out.extend(std::iter::from_fn(|| buf.pop()).take(n));
            n
        })
    }

    /// The receive logic: `take` takes values from a non-empty buffer and
    /// returns how many; `Ready(n)` with `n == 0` means closed and drained.
    fn poll_pop_with(
        &self,
        key: &mut Option<Key>,
        cx: &mut Context<'_>,
        take: impl FnOnce(&mut B) -> usize,
    ) -> Poll<usize> {
        let mut state = self.state.lock();
        let woken = match *key {
            Some(queued) => {
                if state.receivers.update_waker(queued, cx.waker()) {
                    // The replaced waker is dropped with no lock held.
                    State::unlock(state);
                    return Poll::Pending;
                }
                *key = None;
                true
            }
            None => false,
        };
        if !state.buf.is_empty() {
            let n = take(&mut state.buf);
            self.after_pop(state, n);
            return Poll::Ready(n);
        }
        if state.closed {
            return Poll::Ready(0);
        }
        // Empty. A receiver that was woken for a value someone else took
        // keeps its place at the front of the line.
        let waker = cx.waker().clone();
        *key = Some(if woken {
            state.receivers.push_front(waker)
        } else {
            state.receivers.push_back(waker)
        });
        state.parked_receivers += 1;
        Poll::Pending
    }

    /// Called when a receive future that is in line (`key`) is dropped:
    /// leaves the line, or passes on a wake-up it was given.
    pub(crate) fn cancel_pop(&self, key: Key) {
        let mut state = self.state.lock();
        if state.receivers.remove(key) {
            state.parked_receivers -= 1;
            // The freed waker is dropped with no lock held.
            State::unlock(state);
            return;
        }
        if state.buf.is_empty() || state.parked_receivers == 0 {
            return;
        }
        state.parked_receivers -= 1;
        let next = state.receivers.pop_front();
        drop(state);
        if let Some(waker) = next {
            waker.wake();
        }
    }

    /// Closes the channel: later pushes fail, receives drain what is
    /// buffered and then end. Every parked sender and receiver is woken
    /// (and every watcher, for [`Watch::Close`]). `false` if it was already
    /// closed.
    pub(crate) fn close(&self) -> bool {
        let mut guard = self.state.lock();
        if guard.closed {
            return false;
        }
        let state = &mut *guard;
        state.closed = true;
        let senders = take_all(&mut state.senders);
        debug_assert_eq!(senders.len(), state.parked_senders as usize);
        state.parked_senders = 0;
        // Each woken sender gives back one reserved slot when it runs.
        state.reserved += senders.len();
        let receivers = take_all(&mut state.receivers);
        debug_assert_eq!(receivers.len(), state.parked_receivers as usize);
        state.parked_receivers = 0;
        let watchers = if self.watch == Watch::Close {
            take_all(&mut state.watchers)
        } else {
            Vec::new()
        };
        drop(guard);
        for waker in senders.into_iter().chain(receivers).chain(watchers) {
            waker.wake();
        }
        true
    }

    /// Takes every buffered value out (for the caller to drop after the
    /// lock is released), counting them as done for [`Watch::Join`].
    pub(crate) fn drain(&self) -> B {
        let mut guard = self.state.lock();
        let state = &mut *guard;
        let buf = mem::take(&mut state.buf);
        let mut watchers = Vec::new();
        if self.watch == Watch::Join {
            state.unfinished -= state.unfinished.min(buf.len());
            if state.unfinished == 0 {
                watchers = take_all(&mut state.watchers);
            }
        }
        if !guard.closed {
            // Room freed in an open channel goes to the parked senders.
            self.after_pop(guard, buf.len());
        } else {
            drop(guard);
        }
        watchers.into_iter().for_each(Waker::wake);
        buf
    }

    /// Marks one item done ([`Watch::Join`]); wakes the watchers when none
    /// is left.
    ///
    /// # Panics
    ///
    /// If no item is unfinished, with asyncio's message; nothing changes.
    pub(crate) fn task_done(&self) {
        let mut guard = self.state.lock();
        if guard.unfinished == 0 {
            drop(guard);
            panic!("task_done() called too many times");
        }
        guard.unfinished -= 1;
        if guard.unfinished > 0 {
            return;
        }
        let watchers = take_all(&mut guard.watchers);
        drop(guard);
        watchers.into_iter().for_each(Waker::wake);
    }

    /// How many items are unfinished ([`Watch::Join`]).
    pub(crate) fn unfinished(&self) -> usize {
        self.state.lock().unfinished
    }
}

/// Pops every waker of `list`, oldest first.
fn take_all(list: &mut List) -> Vec<Waker> {
    std::iter::from_fn(|| list.pop_front()).collect()
}

/// The watchers' side of a [`Chan`], without its value type, so that the
/// futures that wait on it (`Join`, `Closed`) need not name it.
pub(crate) trait Watched {
    /// Polls a watcher whose place in line is `key`.
    fn poll_watch(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<()>;
    /// Called when a watcher in line (`key`) is dropped.
    fn cancel_watch(&self, key: Key);
}

impl<T, B: Buffer<T>> Watched for Chan<T, B> {
    fn poll_watch(&self, key: &mut Option<Key>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock();
        if let Some(queued) = *key {
            if state.watchers.update_waker(queued, cx.waker()) {
                // The replaced waker is dropped with no lock held.
                State::unlock(state);
                return Poll::Pending;
            }
            // Woken: the condition held when we were woken (asyncio's join
            // completes even if an item was put since).
            *key = None;
            return Poll::Ready(());
        }
        let done = match self.watch {
            Watch::Close => state.closed,
            Watch::Join => state.unfinished == 0,
        };
        if done {
            return Poll::Ready(());
        }
        *key = Some(state.watchers.push_back(cx.waker().clone()));
        Poll::Pending
    }

    fn cancel_watch(&self, key: Key) {
        let mut state = self.state.lock();
        state.watchers.remove(key);
        // The freed waker is dropped with no lock held.
        State::unlock(state);
    }
}

/// A future's place in a [`Watched`] line: the common body of `Join` and
/// `Closed`.
pub(crate) struct WatchWait<'a, W: ?Sized + Watched> {
    chan: &'a W,
    key: Option<Key>,
}

impl<'a, W: ?Sized + Watched> WatchWait<'a, W> {
    pub(crate) fn new(chan: &'a W) -> Self {
        WatchWait { chan, key: None }
    }

    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.chan.poll_watch(&mut self.key, cx)
    }
}

impl<W: ?Sized + Watched> Drop for WatchWait<'_, W> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.chan.cancel_watch(key);
        }
    }
}

impl<W: ?Sized + Watched> fmt::Debug for WatchWait<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WatchWait")
            .field("queued", &self.key.is_some())
            .finish()
    }
}

impl<T, B: Buffer<T>> fmt::Debug for Chan<T, B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock();
        let mut s = f.debug_struct("Chan");
        s.field("len", &state.buf.len());
        if self.capacity != usize::MAX {
            s.field("capacity", &self.capacity);
        }
        s.field("closed", &state.closed);
        if self.watch == Watch::Join {
            s.field("unfinished", &state.unfinished);
        }
        s.finish()
    }
}
