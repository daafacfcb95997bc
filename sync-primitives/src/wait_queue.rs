//! The FIFO queue of parked tasks that `Event`, `Waiter` and `Mutex` share.
//!
//! A waiting future owns a [`Key`] to a slot of the queue, which holds its
//! newest [`Waker`]. Slots live in one `Vec` and are linked into a doubly
//! linked FIFO list by index, so pushing, removing any slot and popping the
//! front are all O(1), without `unsafe` and without an allocation per wait
//! once the `Vec` has grown to the peak number of waiters.
//!
//! Waking a slot frees it. Every slot carries a generation that is bumped
//! when it is freed, so a future whose key no longer matches knows, without
//! any other state, that it was woken: "my key is stale" *means* "I was
//! notified". Futures never free their own slot except by
//! [`List::remove`], which they call only while their key is current.

use std::fmt;
use std::task::Waker;

use crate::loom::{loom_const_fn, Mutex, MutexGuard};

/// The end of a link.
const NIL: usize = usize::MAX;

/// How many wakers are woken per acquisition of the lock when waking many:
/// they are woken after the lock is released, so a woken task that runs at
/// once on another thread does not find the lock held.
const WAKE_BATCH: usize = 32;

/// The queue: a [`List`] behind the crate's internal lock.
pub(crate) struct WaitQueue {
    list: Mutex<List>,
}

/// A handle to one waiter's slot; stale once that waiter has been woken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Key {
    index: usize,
    generation: u64,
}

/// The waiters, oldest first.
pub(crate) struct List {
    /// Slot 0, stored inline so that a primitive with one waiter at a time
    /// (the common case) never allocates.
    first: Slot,
    /// Slots 1 and up.
    more: Vec<Slot>,
    head: usize,
    tail: usize,
    /// First free slot; free slots are chained through `next`.
    free: usize,
    len: usize,
    /// Sequence number of the next push, so a wake-all can stop at the
    /// waiters that were queued before it started.
    next_seq: u64,
}

struct Slot {
    /// `Some` exactly while the slot is queued.
    waker: Option<Waker>,
    generation: u64,
    seq: u64,
    prev: usize,
    next: usize,
}

impl WaitQueue {
    loom_const_fn! {
        pub(crate) fn new() -> WaitQueue {
            WaitQueue {
                list: Mutex::new(List {
                    first: Slot {
                        waker: None,
                        generation: 0,
                        seq: 0,
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
                }),
            }
        }
    }

    /// Locks the list.
    #[inline]
    pub(crate) fn lock(&self) -> MutexGuard<'_, List> {
        self.list.lock()
    }

    /// Wakes every waiter queued before this call, oldest first, and none
    /// queued after it. `list` is the guard the caller already holds
    /// (taken so that its own state change and the choice of whom to wake
    /// are one atomic step).
    pub(crate) fn wake_all<'a>(&'a self, mut list: MutexGuard<'a, List>) {
        let limit = list.next_seq;
        // The common cases without the batch: nobody, or one waiter.
        let Some(first) = list.pop_front_before(limit) else {
            return;
        };
        if !list.has_front_before(limit) {
            drop(list);
            first.wake();
            return;
        }
        let mut batch: [Option<Waker>; WAKE_BATCH] = [const { None }; WAKE_BATCH];
        batch[0] = Some(first);
        let mut n = 1;
        loop {
            while n < WAKE_BATCH {
                match list.pop_front_before(limit) {
                    Some(waker) => {
                        batch[n] = Some(waker);
                        n += 1;
                    }
                    None => break,
                }
            }
            let more = n == WAKE_BATCH;
            drop(list);
            for waker in batch.iter_mut().take(n) {
                if let Some(waker) = waker.take() {
                    waker.wake();
                }
            }
            if !more {
                return;
            }
            n = 0;
            list = self.lock();
        }
    }

    /// Removes the waiter `key` if it is still queued; `true` if it was.
    pub(crate) fn remove(&self, key: Key) -> bool {
        self.lock().remove(key)
    }
}

impl List {
    /// Queues a waiter at the back.
    pub(crate) fn push_back(&mut self, waker: Waker) -> Key {
        self.insert(waker, false)
    }

    /// Queues a waiter at the front, ahead of everyone (for a waiter that
    /// was first in line before it queued). It counts as queued after every
    /// earlier push for [`WaitQueue::wake_all`].
    pub(crate) fn push_front(&mut self, waker: Waker) -> Key {
        self.insert(waker, true)
    }

    fn insert(&mut self, waker: Waker, at_front: bool) -> Key {
        let seq = self.next_seq;
        self.next_seq += 1;
        let (prev, next) = if at_front {
            (NIL, self.head)
        } else {
            (self.tail, NIL)
        };
        let slot = Slot {
            waker: Some(waker),
            generation: 0,
            seq,
            prev,
            next,
        };
        let index = if self.free != NIL {
            let index = self.free;
            self.free = self.slot(index).next;
            let generation = self.slot(index).generation;
            *self.slot_mut(index) = Slot { generation, ..slot };
            index
        } else {
            self.more.push(slot);
            self.more.len()
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
        Key {
            index,
            generation: self.slot(index).generation,
        }
    }

    /// Whether `key`'s waiter is still queued (not yet woken or removed).
    #[inline]
    fn is_queued(&self, key: Key) -> bool {
        let slot = self.slot(key.index);
        slot.generation == key.generation && slot.waker.is_some()
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
                old.clone_from(waker);
            }
        }
        true
    }

    /// Unlinks the waiter `key` if it is still queued; `true` if it was,
    /// `false` if it had already been woken.
    pub(crate) fn remove(&mut self, key: Key) -> bool {
        if !self.is_queued(key) {
            return false;
        }
        self.release(key.index);
        true
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
    fn slot(&self, index: usize) -> &Slot {
        match index {
            0 => &self.first,
            _ => &self.more[index - 1],
        }
    }

    #[inline]
    fn slot_mut(&mut self, index: usize) -> &mut Slot {
        match index {
            0 => &mut self.first,
            _ => &mut self.more[index - 1],
        }
    }

    /// Whether no waiter is queued.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Unlinks slot `index`, frees it (bumping its generation so its key
    /// goes stale) and returns its waker.
    fn release(&mut self, index: usize) -> Option<Waker> {
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
        slot.generation = slot.generation.wrapping_add(1);
        slot.next = free;
        slot.prev = NIL;
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

    struct Recorder {
        id: usize,
        log: Arc<parking_lot::Mutex<Vec<usize>>>,
        wakes: AtomicUsize,
    }

    impl Wake for Recorder {
        fn wake(self: Arc<Self>) {
            self.wakes.fetch_add(1, Ordering::Relaxed);
            self.log.lock().push(self.id);
        }
    }

    fn wakers(n: usize) -> (Vec<Waker>, Arc<parking_lot::Mutex<Vec<usize>>>) {
        let log = Arc::new(parking_lot::Mutex::new(Vec::new()));
        let wakers = (0..n)
            .map(|id| {
                Waker::from(Arc::new(Recorder {
                    id,
                    log: log.clone(),
                    wakes: AtomicUsize::new(0),
                }))
            })
            .collect();
        (wakers, log)
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
}
