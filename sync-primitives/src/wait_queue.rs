//! The FIFO queue of parked tasks that every primitive of the crate shares.
//!
//! A waiting future owns a [`Key`] to a slot of the queue, which holds its
//! newest [`Waker`]. Slots live in one `Vec` and are linked into a doubly
//! linked FIFO list by index, so pushing, removing any slot and popping the
//! front are all O(1), without `unsafe` and without an allocation per wait
//! once the `Vec` has grown to the peak number of waiters.
//!
//! Waking a slot frees it. Every push gets the next number of a 64-bit
//! sequence, stored in the slot and in the key, so a future whose key no
//! longer matches its slot (freed, or reused by a later push) knows,
//! without any other state, that it was woken: "my key is stale" *means* "I
//! was notified". Futures never free their own slot except by
//! [`List::remove`], which they call only while their key is current.
//!
//! # Memory
//!
//! An idle queue is 128 bytes with its lock (120 without, when a primitive
//! keeps the [`List`] under a lock of its own, as a channel's three lines
//! do): the inline slot (40 bytes: the waker, the push number, the units
//! wanted and two 32-bit links), the `Vec` of further slots, 32-bit head,
//! tail, free-chain and length, the push counter, and the discarded waker
//! (one inline, more behind a `Box` allocated only if one lock hold
//! discards several). Each further waiter at the peak adds one 40-byte slot
//! to the `Vec`, which is kept and reused.
//!
//! Two extensions serve the counting primitives (`Semaphore`, `RwLock`):
//!
//! - A waiter may want `n` *units* ([`List::push_back_wanting`]). Units
//!   handed back by a primitive are given out piecewise, under the lock, to
//!   the oldest waiters first ([`WaitQueue::assign`]): a head that wants
//!   more than there is takes what there is and holds back every later,
//!   smaller request (tokio's `batch_semaphore` design), and a waiter is
//!   woken (its slot freed) only once it has all it asked for. A queued
//!   waiter that leaves learns what it was still owed
//!   ([`List::remove_wanting`]), so it can pass on what it had been given.
//! - [`WaitQueue::close`] marks the queue closed and wakes every waiter
//!   *without* dequeuing it: a woken waiter sees [`List::is_closed`] on its
//!   next poll and leaves (with what it was given, if anything). A waiter
//!   whose key went stale before the close was served in full.
//!
//! Wakers are never dropped or woken while the lock is held: a waker's drop
//! may run arbitrary code (a task's destructor, which may unlock the very
//! primitive that owns this queue). Wakers that the list replaces or frees
//! are parked in the list and dropped by the [`Guard`] after it unlocks. A
//! primitive that holds a lock of its own around the queue's (a barrier's)
//! releases its own first, with [`Guard::unlock_after`], so those wakers
//! are dropped with no lock held. A primitive whose own lock already
//! serialises every use of its queues (a channel's state, with three lines
//! of waiters) keeps bare [`List`]s under that lock instead, and takes the
//! discarded wakers out ([`List::take_discarded`]) to drop once it unlocks.
//!
//! A semaphore's queue only ever pushes at the back and serves through
//! [`WaitQueue::assign`], oldest first, so [`List::front_seq`] tells which
//! waiters have been served: the semaphore publishes it in an atomic, and a
//! served waiter learns it was served without taking this lock.

use std::fmt;
use std::mem::{self, ManuallyDrop};
use std::ops::{Deref, DerefMut};
use std::task::Waker;

use crate::loom::loom_const_fn;
use spin_lock::{SpinGuard, SpinLock};

/// The end of a link. Slot indices are 32-bit: a list holds at most
/// `u32::MAX` waiters at once (a `Vec` of 160 GiB of slots).
const NIL: u32 = u32::MAX;

/// How many wakers are woken per acquisition of the lock when waking many:
/// they are woken after the lock is released, so a woken task that runs at
/// once on another thread does not find the lock held.
const WAKE_BATCH: usize = 32;

/// The queue: a [`List`] behind a [`SpinLock`]. Its critical sections
/// are a few dozen instructions; no waker is woken or dropped under it (a
/// waiter's waker is cloned under it, as tokio's `Notify` does: a clone
/// that locked the same primitive would never get the lock), and a spin lock's unlock is a store, not the
/// read-modify-write of a lock that may have parked threads to wake: a
/// ping-pong through two `Event`s takes it four times per round trip.
pub(crate) struct WaitQueue {
    list: SpinLock<List>,
}

/// A handle to one waiter's slot; stale once that waiter has been woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: u32,
    /// The push that queued it: unique within its list.
    seq: u64,
}

/// The waiters, oldest first.
pub(crate) struct List {
    /// Slot 0, stored inline so that a primitive with one waiter at a time
    /// (the common case) never allocates.
    first: Slot,
    /// Slots 1 and up.
    more: Vec<Slot>,
    head: u32,
    tail: u32,
    /// First free slot; free slots are chained through `next`.
    free: u32,
    len: u32,
    /// Sequence number of the next push, so a wake-all can stop at the
    /// waiters that were queued before it started.
    next_seq: u64,
    /// Set by [`WaitQueue::close`], never cleared.
    closed: bool,
    /// A waker the list replaced or freed under the lock, to be dropped by
    /// the [`Guard`] once the lock is released (one inline: the common
    /// case, without allocating).
    discarded: Option<Waker>,
    /// More of them, if one lock hold discarded several (rare: boxed, so
    /// that it costs an idle queue one pointer).
    discarded_more: MoreWakers,
}

/// Wakers a [`List`] discarded beyond the first, if one lock hold discarded
/// several (rare).
/// (Boxed: one pointer in every idle queue instead of a `Vec`'s three words.)
#[allow(clippy::box_collection)]
type MoreWakers = Option<Box<Vec<Waker>>>;

/// Wakers taken out of the queue under its lock, to be woken after it is
/// released: up to [`WAKE_BATCH`], on the stack.
pub(crate) struct Wakers {
    batch: [Option<Waker>; WAKE_BATCH],
    len: usize,
}

impl Wakers {
    /// No wakers yet.
    #[inline]
    pub(crate) const fn new() -> Wakers {
        Wakers {
            batch: [const { None }; WAKE_BATCH],
            len: 0,
        }
    }

    #[inline]
    fn is_full(&self) -> bool {
        self.len == WAKE_BATCH
    }

    #[inline]
    fn push(&mut self, waker: Waker) {
        self.batch[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes them, in the order they were taken, and empties the batch.
    /// Call it with no internal lock held.
    pub(crate) fn wake(&mut self) {
        for waker in self.batch.iter_mut().take(self.len) {
            if let Some(waker) = waker.take() {
                waker.wake();
            }
        }
        self.len = 0;
    }
}

/// The locked list; derefs to [`List`]. Dropping it releases the lock and
/// then drops the wakers the list discarded meanwhile, so that no waker's
/// destructor runs under the lock.
pub(crate) struct Guard<'a> {
    list: ManuallyDrop<SpinGuard<'a, List>>,
}

struct Slot {
    /// `Some` exactly while the slot is queued.
    waker: Option<Waker>,
    /// The number of the push that queued it (kept once freed: a key
    /// matches only while `waker` is `Some` too).
    seq: u64,
    /// The units the waiter is still owed (0 for a plain waiter, or once
    /// served in full).
    wanted: usize,
    prev: u32,
    next: u32,
}

impl WaitQueue {
    loom_const_fn! {
        pub(crate) fn new() -> WaitQueue {
            WaitQueue {
                list: SpinLock::new(List::new()),
            }
        }
    }

    /// Locks the list.
    #[inline]
    pub(crate) fn lock(&self) -> Guard<'_> {
        Guard {
            list: ManuallyDrop::new(self.list.lock()),
        }
    }

    /// Wakes every waiter queued before this call, oldest first, and none
    /// queued after it. `list` is the guard the caller already holds
    /// (taken so that its own state change and the choice of whom to wake
    /// are one atomic step).
    pub(crate) fn wake_all<'a>(&'a self, list: Guard<'a>) {
        self.wake_n(list, usize::MAX);
    }

    /// Wakes up to `n` of the waiters queued before this call, oldest
    /// first, and none queued after it; `list` as for
    /// [`WaitQueue::wake_all`]. The wakers are taken out under the lock and
    /// woken after it is released, [`WAKE_BATCH`] at a time.
    pub(crate) fn wake_n<'a>(&'a self, mut list: Guard<'a>, mut n: usize) {
        let limit = list.next_seq;
        // The common cases without the batch: nobody, or one waiter.
        if n == 0 {
            return;
        }
        let Some(first) = list.pop_front_before(limit) else {
            return;
        };
        n -= 1;
        if n == 0 || !list.has_front_before(limit) {
            drop(list);
            first.wake();
            return;
        }
        let mut wakers = Wakers::new();
        wakers.push(first);
        loop {
            while n > 0 && !wakers.is_full() {
                match list.pop_front_before(limit) {
                    Some(waker) => {
                        wakers.push(waker);
                        n -= 1;
                    }
                    None => break,
                }
            }
            let more = n > 0 && wakers.is_full() && list.has_front_before(limit);
            drop(list);
            wakers.wake();
            if !more {
                return;
            }
            list = self.lock();
        }
    }

    /// Removes the waiter `key` if it is still queued; `true` if it was.
    pub(crate) fn remove(&self, key: Key) -> bool {
        self.lock().remove(key)
    }

    /// Gives `units` to the waiters, oldest first: each takes what it is
    /// still owed, or all that is left (and then holds back everyone behind
    /// it). Waiters served in full are unlinked, and their wakers put in
    /// `wakers`, for the caller to wake once it has released the lock.
    /// Returns the lock, still held, and the units nobody took: all of them
    /// if the queue is closed, otherwise only what is left once the queue
    /// is empty. The caller stores those before it releases the lock, so
    /// that "units are free" and "someone is queued" never hold at once.
    ///
    /// Only when `wakers` fills up ([`WAKE_BATCH`]) with units left to give
    /// does it release the lock to wake that batch and take it again; new
    /// waiters may have queued meanwhile (they saw no free units: the
    /// caller still holds them), so the units left go on to whoever is
    /// queued then.
    pub(crate) fn assign<'a>(
        &'a self,
        mut list: Guard<'a>,
        mut units: usize,
        wakers: &mut Wakers,
    ) -> (Guard<'a>, usize) {
        loop {
            if list.closed {
                return (list, units);
            }
            while !wakers.is_full() && units > 0 && list.head != NIL {
                let head = list.head;
                let slot = list.slot_mut(head);
                if slot.wanted > units {
                    slot.wanted -= units;
                    units = 0;
                    break;
                }
                units -= slot.wanted;
                slot.wanted = 0;
                if let Some(waker) = list.release(head) {
                    wakers.push(waker);
                }
            }
            if !(wakers.is_full() && units > 0 && list.head != NIL) {
                return (list, units);
            }
            drop(list);
            wakers.wake();
            list = self.lock();
        }
    }

    /// Closes the queue and wakes every waiter queued now, oldest first,
    /// leaving them queued: each sees [`List::is_closed`] when it is next
    /// polled (or dropped) and leaves the queue itself, collecting what it
    /// was given. Later waits must check `is_closed` under the lock before
    /// they queue. Closing again wakes nobody.
    pub(crate) fn close(&self) {
        let mut list = self.lock();
        if list.closed {
            return;
        }
        list.closed = true;
        // Rare: a clone of each waker, woken after the lock is released.
        let mut wakers = Vec::with_capacity(list.len as usize);
        let mut index = list.head;
        while index != NIL {
            let slot = list.slot(index);
            if let Some(waker) = &slot.waker {
                wakers.push(waker.clone());
            }
            index = slot.next;
        }
        drop(list);
        for waker in wakers {
            waker.wake();
        }
    }
}

impl Guard<'_> {
    /// Releases `outer` (the guard of the caller's own lock, taken before
    /// this one), then this guard. Dropping them in declaration order would
    /// release this one first and drop the wakers it discarded (replaced by
    /// [`List::update_waker`], freed by [`List::remove`]) while `outer` is
    /// still held: a waker's destructor may run a task's destructor, which
    /// may take `outer`'s lock (dropping a channel's sender, say).
    #[inline]
    pub(crate) fn unlock_after<G>(self, outer: G) {
        drop(outer);
        drop(self);
    }
}

impl Deref for Guard<'_> {
    type Target = List;

    #[inline]
    fn deref(&self) -> &List {
        &self.list
    }
}

impl DerefMut for Guard<'_> {
    #[inline]
    fn deref_mut(&mut self) -> &mut List {
        &mut self.list
    }
}

impl Drop for Guard<'_> {
    #[inline]
    fn drop(&mut self) {
        // The common case, nothing discarded: just unlock. (Checked first:
        // taking the options apart costs more than the unlock itself on
        // the hot paths, a ping-pong's set and wait.)
        if !self.list.has_discarded() {
            // SAFETY: `list` is never used again: this is the guard's drop.
            unsafe { ManuallyDrop::drop(&mut self.list) };
            return;
        }
        let discarded = self.list.take_discarded();
        // SAFETY: `list` is never used again: this is the guard's drop.
        unsafe { ManuallyDrop::drop(&mut self.list) };
        // Now unlocked: a waker's destructor may lock this queue again.
        drop(discarded);
    }
}

/// Wakers a [`List`] replaced or freed, taken out of it
/// ([`List::take_discarded`]) to be dropped once its lock is released.
#[must_use = "drop it after releasing the lock"]
pub(crate) struct Discarded {
    _one: Option<Waker>,
    _more: MoreWakers,
}

impl List {
    /// An empty list.
    pub(crate) const fn new() -> List {
        List {
            first: Slot {
                waker: None,
                seq: 0,
                wanted: 0,
                prev: NIL,
                next: NIL,
            },
            more: Vec::new(),
            head: NIL,
            tail: NIL,
            // Slot 0 is free, and the end of the free chain.
            free: 0,
            len: 0,
            next_seq: 0,
            closed: false,
            discarded: None,
            discarded_more: None,
        }
    }

    /// Whether [`List::update_waker`] or [`List::remove`] discarded a waker
    /// since the last [`List::take_discarded`].
    #[inline]
    pub(crate) fn has_discarded(&self) -> bool {
        // `discarded_more` is filled only once `discarded` is.
        self.discarded.is_some()
    }

    /// Takes out the wakers this list replaced or freed, for the caller to
    /// drop once it has released the lock that guards the list.
    #[inline]
    pub(crate) fn take_discarded(&mut self) -> Discarded {
        Discarded {
            _one: self.discarded.take(),
            _more: self.discarded_more.take(),
        }
    }

    /// Queues a waiter at the back.
    pub(crate) fn push_back(&mut self, waker: Waker) -> Key {
        self.insert(waker, false, 0)
    }

    /// Queues at the back a waiter that wants `wanted` units (more than 0)
    /// from [`WaitQueue::assign`]; it is woken once it has them all.
    pub(crate) fn push_back_wanting(&mut self, waker: Waker, wanted: usize) -> Key {
        debug_assert!(wanted > 0, "a waiter wanting nothing is served already");
        self.insert(waker, false, wanted)
    }

    /// Queues a waiter at the front, ahead of everyone (for a waiter that
    /// was first in line before it queued). It counts as queued after every
    /// earlier push for [`WaitQueue::wake_all`].
    pub(crate) fn push_front(&mut self, waker: Waker) -> Key {
        self.insert(waker, true, 0)
    }

    fn insert(&mut self, waker: Waker, at_front: bool, wanted: usize) -> Key {
        let seq = self.next_seq;
        self.next_seq += 1;
        let (prev, next) = if at_front {
            (NIL, self.head)
        } else {
            (self.tail, NIL)
        };
        let index = if self.free != NIL {
            // Reuse a free slot in place, field by field: its waker is
            // `None` (freed slots hold none).
            let index = self.free;
            let slot = self.slot_mut(index);
            let next_free = slot.next;
            debug_assert!(slot.waker.is_none(), "a free slot holds no waker");
            slot.waker = Some(waker);
            slot.seq = seq;
            slot.wanted = wanted;
            slot.prev = prev;
            slot.next = next;
            self.free = next_free;
            index
        } else {
            // Slot `n` is `more[n - 1]`; `NIL` is never an index.
            let index = u32::try_from(self.more.len() + 1)
                .ok()
                .filter(|&index| index != NIL)
                .expect("a wait queue holds at most u32::MAX - 1 waiters");
            self.more.push(Slot {
                waker: Some(waker),
                seq,
                wanted,
                prev,
                next,
            });
            index
        };
        if prev == NIL {
            self.head = index;
        } else {
            self.slot_mut(prev).next = index;
        }
        if next == NIL {
            self.tail = index;
        } else {
            self.slot_mut(next).prev = index;
        }
        self.len += 1;
        Key { index, seq }
    }

    /// Whether `key`'s waiter is still queued (not yet woken or removed).
    #[inline]
    fn is_queued(&self, key: Key) -> bool {
        let slot = self.slot(key.index);
        slot.seq == key.seq && slot.waker.is_some()
    }

    /// Stores `waker` as the waiter's newest waker if it is still queued,
    /// replacing the old one (so re-polling never grows memory), and returns
    /// whether it was. `false` means the waiter has been woken.
    pub(crate) fn update_waker(&mut self, key: Key, waker: &Waker) -> bool {
        if !self.is_queued(key) {
            return false;
        }
        let slot = self.slot_mut(key.index);
        if let Some(old) = &mut slot.waker {
            if !old.will_wake(waker) {
                // Not `clone_from`, which would drop the old waker here,
                // under the lock: the guard drops it once unlocked.
                let old = mem::replace(old, waker.clone());
                self.discard(old);
            }
        }
        true
    }

    /// Unlinks the waiter `key` if it is still queued; `true` if it was,
    /// `false` if it had already been woken.
    pub(crate) fn remove(&mut self, key: Key) -> bool {
        self.remove_wanting(key).is_some()
    }

    /// Unlinks the waiter `key` if it is still queued, returning the units
    /// it was still owed (so it was given what it asked for minus that);
    /// `None` if it had already been served (or woken) and unlinked.
    pub(crate) fn remove_wanting(&mut self, key: Key) -> Option<usize> {
        if !self.is_queued(key) {
            return None;
        }
        let wanted = self.slot(key.index).wanted;
        if let Some(waker) = self.release(key.index) {
            self.discard(waker);
        }
        Some(wanted)
    }

    /// Whether [`WaitQueue::close`] has been called.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed
    }

    /// Keeps `waker` to be dropped once the lock is released.
    fn discard(&mut self, waker: Waker) {
        if self.discarded.is_none() {
            self.discarded = Some(waker);
        } else {
            self.discarded_more.get_or_insert_default().push(waker);
        }
    }

    /// Unlinks and frees the oldest waiter, returning its waker.
    pub(crate) fn pop_front(&mut self) -> Option<Waker> {
        self.pop_front_before(u64::MAX)
    }

    /// Like [`List::pop_front`], but only a waiter queued before the push
    /// numbered `limit`.
    fn pop_front_before(&mut self, limit: u64) -> Option<Waker> {
        if !self.has_front_before(limit) {
            return None;
        }
        self.release(self.head)
    }

    /// Whether the oldest waiter was queued before the push numbered
    /// `limit`.
    #[inline]
    fn has_front_before(&self, limit: u64) -> bool {
        self.head != NIL && self.slot(self.head).seq < limit
    }

    #[inline]
    fn slot(&self, index: u32) -> &Slot {
        match index {
            0 => &self.first,
            _ => &self.more[index as usize - 1],
        }
    }

    #[inline]
    fn slot_mut(&mut self, index: u32) -> &mut Slot {
        match index {
            0 => &mut self.first,
            _ => &mut self.more[index as usize - 1],
        }
    }

    /// The sequence number the next push will get: a waiter pushed at the
    /// back now gets this one.
    #[inline]
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The sequence number of the oldest queued waiter, or of the next push
    /// if nobody is queued: every waiter pushed before it has left the
    /// queue. It only grows as long as nobody is pushed at the front.
    #[inline]
    pub(crate) fn front_seq(&self) -> u64 {
        if self.head == NIL {
            self.next_seq
        } else {
            self.slot(self.head).seq
        }
    }

    /// Whether no waiter is queued.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Unlinks slot `index`, frees it (its waker taken, so its key goes
    /// stale) and returns its waker.
    fn release(&mut self, index: u32) -> Option<Waker> {
        let (prev, next) = {
            let slot = self.slot(index);
            (slot.prev, slot.next)
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.slot_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slot_mut(next).prev = prev;
        }
        let free = self.free;
        self.free = index;
        self.len -= 1;
        let slot = self.slot_mut(index);
        slot.next = free;
        slot.prev = NIL;
        slot.wanted = 0;
        slot.waker.take()
    }
}

impl fmt::Debug for WaitQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitQueue").finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;
    use test_util::recording_wakers as wakers;

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn an_idle_queue_is_128_bytes_and_a_slot_40() {
        use std::mem::size_of;
        // Every primitive embeds one (or, a channel, three bare lists):
        // growth here grows them all. 176 bytes with a 56-byte slot before
        // keys checked the push number instead of a generation.
        assert_eq!(size_of::<Slot>(), 40);
        assert_eq!(size_of::<List>(), 120);
        assert_eq!(size_of::<WaitQueue>(), 128);
        assert_eq!(size_of::<Key>(), 16);
    }

    #[test]
    fn pops_in_push_order_and_skips_removed() {
        let queue = WaitQueue::new();
        let (w, log) = wakers(4);
        let keys: Vec<Key> = {
            let mut list = queue.lock();
            w.iter().map(|w| list.push_back(w.clone())).collect()
        };
        assert!(queue.remove(keys[1]));
        assert!(!queue.remove(keys[1]), "a key removes its slot once");
        queue.wake_all(queue.lock());
        assert_eq!(*log.lock(), vec![0, 2, 3]);
        let list = queue.lock();
        assert!(list.is_empty());
        // Every key is now stale: the waiters know they were woken.
        for key in keys {
            assert!(!list.is_queued(key));
        }
    }

    #[test]
    fn reused_slot_does_not_revive_a_stale_key() {
        let queue = WaitQueue::new();
        let (w, _log) = wakers(2);
        let mut list = queue.lock();
        let old = list.push_back(w[0].clone());
        assert!(list.pop_front().is_some());
        let new = list.push_back(w[1].clone());
        assert_eq!(old.index, new.index, "the freed slot is reused");
        assert!(!list.update_waker(old, &w[0]));
        assert!(!list.remove(old));
        assert!(list.update_waker(new, &w[1]));
        assert!(
            list.more.is_empty(),
            "one waiter at a time uses the inline slot"
        );
    }

    #[test]
    fn wake_all_wakes_in_order_across_batches() {
        let queue = WaitQueue::new();
        let n = 2 * WAKE_BATCH + 5;
        let (w, log) = wakers(n);
        {
            let mut list = queue.lock();
            for waker in &w {
                list.push_back(waker.clone());
            }
        }
        queue.wake_all(queue.lock());
        assert_eq!(*log.lock(), (0..n).collect::<Vec<_>>());
        assert!(queue.lock().is_empty());
    }

    #[test]
    fn wake_n_wakes_that_many_in_order_and_none_queued_after_it() {
        let queue = WaitQueue::new();
        let n = 2 * WAKE_BATCH + 5;
        let (w, log) = wakers(n + 1);
        {
            let mut list = queue.lock();
            for waker in &w[..n] {
                list.push_back(waker.clone());
            }
        }
        queue.wake_n(queue.lock(), 0);
        assert!(log.lock().is_empty());
        queue.wake_n(queue.lock(), 1);
        assert_eq!(*log.lock(), vec![0]);
        queue.wake_n(queue.lock(), WAKE_BATCH + 2);
        assert_eq!(*log.lock(), (0..WAKE_BATCH + 3).collect::<Vec<_>>());
        assert_eq!(queue.lock().len as usize, n - WAKE_BATCH - 3);
        // More than are queued: all of them, and not a later one.
        let list = queue.lock();
        queue.wake_n(list, 10 * n);
        queue.lock().push_back(w[n].clone());
        assert_eq!(*log.lock(), (0..n).collect::<Vec<_>>());
        assert_eq!(queue.lock().len, 1);
    }

    #[test]
    fn pop_front_before_leaves_later_waiters_queued() {
        let queue = WaitQueue::new();
        let (w, log) = wakers(10);
        let mut list = queue.lock();
        for waker in &w[..6] {
            list.push_back(waker.clone());
        }
        let limit = list.next_seq;
        for waker in &w[6..] {
            list.push_back(waker.clone());
        }
        let mut popped = 0;
        while list.pop_front_before(limit).is_some() {
            popped += 1;
        }
        assert_eq!(popped, 6);
        assert_eq!(list.len, 4);
        drop(list);
        assert!(log.lock().is_empty(), "popping does not wake");
    }

    #[test]
    fn push_front_goes_first() {
        let queue = WaitQueue::new();
        let (w, log) = wakers(3);
        {
            let mut list = queue.lock();
            list.push_back(w[1].clone());
            list.push_front(w[0].clone());
            list.push_back(w[2].clone());
        }
        queue.wake_all(queue.lock());
        assert_eq!(*log.lock(), vec![0, 1, 2]);
    }

    #[test]
    fn update_waker_keeps_only_the_newest() {
        let queue = WaitQueue::new();
        let (w, log) = wakers(3);
        let mut list = queue.lock();
        let key = list.push_back(w[0].clone());
        assert!(list.update_waker(key, &w[1]));
        assert!(list.update_waker(key, &w[2]));
        assert!(
            list.more.is_empty(),
            "one waiter at a time uses the inline slot"
        );
        drop(list);
        queue.wake_all(queue.lock());
        assert_eq!(*log.lock(), vec![2]);
    }

    #[test]
    fn a_replaced_or_removed_waker_is_dropped_after_unlocking() {
        test_util::with_watchdog(10, || {
            let queue = Arc::new(WaitQueue::new());
            let drops = Arc::new(AtomicUsize::new(0));
            // A waker whose last drop locks the queue, as a task's
            // destructor may (it unlocks the mutex that owns the queue).
            let reentrant = || {
                let (queue, drops) = (queue.clone(), drops.clone());
                test_util::drop_hook_waker(move || {
                    let list = queue.lock();
                    assert!(list.len <= 2);
                    drop(list);
                    drops.fetch_add(1, Ordering::SeqCst);
                })
            };
            let (w, _log) = wakers(1);
            // `update_waker` replaces the re-entrant waker.
            let key = queue.lock().push_back(reentrant());
            assert!(queue.lock().update_waker(key, &w[0]));
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            assert!(queue.remove(key));
            // `remove` frees a slot holding one.
            let key = queue.lock().push_back(reentrant());
            assert!(queue.remove(key));
            assert_eq!(drops.load(Ordering::SeqCst), 2);
            // Several discarded under one lock hold.
            let (a, b) = {
                let mut list = queue.lock();
                (list.push_back(reentrant()), list.push_back(reentrant()))
            };
            {
                let mut list = queue.lock();
                assert!(list.remove(a));
                assert!(list.remove(b));
                assert_eq!(drops.load(Ordering::SeqCst), 2, "not under the lock");
            }
            assert_eq!(drops.load(Ordering::SeqCst), 4);
        });
    }

    #[test]
    fn assign_serves_the_head_first_piecewise() {
        let queue = WaitQueue::new();
        let (w, log) = wakers(3);
        let keys: Vec<Key> = {
            let mut list = queue.lock();
            [5, 1, 2]
                .iter()
                .zip(&w)
                .map(|(&n, w)| list.push_back_wanting(w.clone(), n))
                .collect()
        };
        let mut wakers = Wakers::new();
        // 3 units: all to the head (it wants 5), none to the smaller ones.
        let (list, left) = queue.assign(queue.lock(), 3, &mut wakers);
        assert_eq!(left, 0);
        assert!(list.is_queued(keys[1]) && list.is_queued(keys[2]));
        drop(list);
        wakers.wake();
        assert!(log.lock().is_empty());
        // 2 more complete the head; 1 goes to the next; 2 remain owed.
        let (list, left) = queue.assign(queue.lock(), 3, &mut wakers);
        assert_eq!(left, 0);
        drop(list);
        assert!(log.lock().is_empty(), "woken by the caller, unlocked");
        wakers.wake();
        assert_eq!(*log.lock(), vec![0, 1]);
        // A waiter leaving learns what it was still owed.
        let mut list = queue.lock();
        assert_eq!(list.remove_wanting(keys[0]), None, "served in full");
        let (list, left) = queue.assign(list, 1, &mut wakers);
        assert_eq!(left, 0);
        drop(list);
        wakers.wake();
        assert_eq!(queue.lock().remove_wanting(keys[2]), Some(1));
        // Nobody left: everything is left over.
        let (list, left) = queue.assign(queue.lock(), 7, &mut wakers);
        assert_eq!(left, 7);
        assert!(list.is_empty());
    }

    #[test]
    fn front_seq_passes_exactly_the_waiters_served_or_gone() {
        let queue = WaitQueue::new();
        let (w, _log) = wakers(3);
        assert_eq!(queue.lock().front_seq(), 0, "empty: the next push");
        let (seqs, keys): (Vec<u64>, Vec<Key>) = {
            let mut list = queue.lock();
            w.iter()
                .map(|w| (list.next_seq(), list.push_back_wanting(w.clone(), 2)))
                .unzip()
        };
        assert_eq!(seqs, [0, 1, 2]);
        let mut wakers = Wakers::new();
        // 3 units: the first is served, the second given 1 of 2.
        let (list, _) = queue.assign(queue.lock(), 3, &mut wakers);
        assert_eq!(list.front_seq(), 1);
        drop(list);
        wakers.wake();
        // The second leaves: the third is at the front.
        assert_eq!(queue.lock().remove_wanting(keys[1]), Some(1));
        assert_eq!(queue.lock().front_seq(), 2);
        let (list, _) = queue.assign(queue.lock(), 2, &mut wakers);
        assert_eq!(list.front_seq(), 3, "empty again: the next push");
        drop(list);
        wakers.wake();
    }

    #[test]
    fn assign_wakes_many_in_order_across_batches() {
        let queue = WaitQueue::new();
        let n = 2 * WAKE_BATCH + 3;
        let (w, log) = wakers(n);
        {
            let mut list = queue.lock();
            for waker in &w {
                list.push_back_wanting(waker.clone(), 2);
            }
        }
        let mut wakers = Wakers::new();
        let (list, left) = queue.assign(queue.lock(), 2 * n + 1, &mut wakers);
        assert_eq!(left, 1);
        assert!(list.is_empty());
        drop(list);
        assert_eq!(log.lock().len(), 2 * WAKE_BATCH, "two full batches woken");
        wakers.wake();
        assert_eq!(*log.lock(), (0..n).collect::<Vec<_>>());
    }

    #[test]
    fn close_wakes_everyone_and_leaves_them_queued() {
        let queue = WaitQueue::new();
        let (w, log) = wakers(3);
        let keys: Vec<Key> = {
            let mut list = queue.lock();
            w.iter()
                .map(|w| list.push_back_wanting(w.clone(), 4))
                .collect()
        };
        let mut wakers = Wakers::new();
        let (list, _) = queue.assign(queue.lock(), 3, &mut wakers);
        drop(list);
        queue.close();
        assert_eq!(*log.lock(), vec![0, 1, 2]);
        queue.close();
        assert_eq!(log.lock().len(), 3, "closing again wakes nobody");
        assert!(queue.lock().is_closed());
        // Units handed back to a closed queue all stay with the caller.
        let (mut list, left) = queue.assign(queue.lock(), 9, &mut wakers);
        assert_eq!(left, 9);
        assert_eq!(list.remove_wanting(keys[0]), Some(1), "was given 3 of 4");
        assert_eq!(list.remove_wanting(keys[1]), Some(4));
        assert_eq!(list.remove_wanting(keys[2]), Some(4));
        assert!(list.is_empty());
    }

    /// A waker whose wake queues another waiter wanting 3 units: it runs
    /// while `assign` has released the lock between batches.
    struct QueuesAnother {
        queue: Arc<WaitQueue>,
        waker: Waker,
        key: parking_lot::Mutex<Option<Key>>,
    }

    impl Wake for QueuesAnother {
        fn wake(self: Arc<Self>) {
            let key = self.queue.lock().push_back_wanting(self.waker.clone(), 3);
            *self.key.lock() = Some(key);
        }
    }

    #[test]
    fn assign_gives_what_is_left_to_a_waiter_queued_while_it_woke_a_batch() {
        let queue = Arc::new(WaitQueue::new());
        let (w, log) = wakers(WAKE_BATCH + 1);
        let first = Arc::new(QueuesAnother {
            queue: queue.clone(),
            waker: w[0].clone(),
            key: parking_lot::Mutex::new(None),
        });
        {
            let mut list = queue.lock();
            list.push_back_wanting(Waker::from(first.clone()), 1);
            for waker in &w[1..] {
                list.push_back_wanting(waker.clone(), 1);
            }
        }
        // A full batch, then the lock is released to wake it: the first
        // waker queues a newcomer wanting 3, behind the last waiter.
        let mut wakers = Wakers::new();
        let (mut list, left) = queue.assign(queue.lock(), WAKE_BATCH + 3, &mut wakers);
        assert_eq!(left, 0, "the two left went to the newcomer");
        let key = first.key.lock().expect("queued by the wake");
        assert_eq!(list.remove_wanting(key), Some(1));
        drop(list);
        assert_eq!(log.lock().len(), WAKE_BATCH - 1, "the first batch");
        wakers.wake();
        assert_eq!(*log.lock(), (1..=WAKE_BATCH).collect::<Vec<_>>());
    }
}
