//! [`OwnedTasks`]: the list of the tasks a runtime owns, so that shutting it
//! down can reach every one of them, wherever it waits.
//!
//! The shape of tokio's `OwnedTasks`: a task is linked when it is spawned and
//! unlinked when its future is dropped (it completed, panicked or was
//! cancelled); the list is split into shards by task id, each behind its own
//! lock, so that spawns on different threads rarely contend; and it can be
//! *closed*, after which linking fails and the spawner cancels the new task
//! at once.
//!
//! A shard is a slab: a task's slot index is kept in its header, so that
//! unlinking is an index, not a search or a hash. Each entry is the task's
//! id (slots are reused) and its own [`Waker`]: shutdown wakes every linked task,
//! which puts it in its scheduler's queue, where the shutting-down thread
//! finds it and cancels it (see `scheduler::Handle::shutdown`). A task is
//! therefore never cancelled inline inside somebody's `wake()`, and the
//! entry keeps the task's cell alive until the task is unlinked.

use crate::loom::{AtomicBool, Mutex, Ordering};
use slab::Slab;
use std::cell::Cell;
use std::fmt;
use std::task::Waker;

/// Number of shards: a power of two, so that a shard is `id & (SHARDS - 1)`.
/// Sixteen locks cost 16 words per runtime and make contention between two
/// spawning threads unlikely on the machines we target.
const SHARDS: usize = 16;

/// The tasks a runtime (or a `block_on`'s local scheduler) owns.
pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    /// Set once by `close`; also recorded in each shard, under its lock,
    /// which is what `link` checks.
    closed: AtomicBool,
}

struct Shard {
    closed: bool,
    /// The linked tasks: `(id, waker)`. A slab keeps its free slots in a
    /// list threaded through the vacant entries themselves, reused first:
    /// linking and unlinking touch one entry, with no second vector.
    slots: Slab<(u64, Waker)>,
    /// Number of `link` calls, for metrics (counted under the lock `link`
    /// takes anyway: no shared atomic on the spawn path).
    spawned: u64,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        closed: false,
                        slots: Slab::new(),
                        spawned: 0,
                    })
                })
                .collect(),
            closed: AtomicBool::new(false),
        }
    }

    /// An id for a task about to be spawned: it picks the task's shard
    /// (consecutive spawns on a thread go to consecutive shards) and tells
    /// a reused slot's new task from its old one. A per-thread counter with
    /// the thread's id in the high bits: unique, and no shared atomic
    /// on the spawn path.
    #[inline]
    pub(crate) fn next_id(&self) -> u64 {
        thread_local! {
            static NEXT: Cell<u64> = const { Cell::new(0) };
        }
        let count = NEXT
            .try_with(|next| {
                let count = next.get();
                next.set(count.wrapping_add(1));
                count
            })
            .unwrap_or(0);
        (super::thread_id() << 40) ^ count
    }

    fn shard(&self, id: u64) -> &Mutex<Shard> {
        // `SHARDS` is a power of two: the low bits of consecutive ids spread
        // consecutive spawns over every shard.
        &self.shards[(id as usize) & (SHARDS - 1)]
    }

    /// Links task `id`, whose waker is `waker`, and returns its slot (to
    /// give back to `unlink`). Gives the waker back (and links nothing) if
    /// the list is closed: the caller must cancel the task, and drops the
    /// waker outside the lock.
    pub(crate) fn link(&self, id: u64, waker: Waker) -> Result<usize, Waker> {
        let mut shard = self.shard(id).lock();
        shard.spawned += 1;
        if shard.closed {
            return Err(waker);
        }
        Ok(shard.slots.insert((id, waker)))
    }

    /// Unlinks task `id` from `slot` (a no-op if it is not linked there).
    /// The task's waker is dropped after the lock is released: dropping a
    /// waker may run a destructor.
    pub(crate) fn unlink(&self, id: u64, slot: usize) {
        let waker = {
            let mut shard = self.shard(id).lock();
            match shard.slots.get(slot) {
                Some((linked, _)) if *linked == id => Some(shard.slots.remove(slot)),
                _ => None,
            }
        };
        drop(waker);
    }

    /// Closes the list: from now on `link` fails. Idempotent.
    pub(crate) fn close(&self) {
        // Relaxed: `link` reads the per-shard flag under the shard's lock;
        // this one is only for `is_closed`.
        self.closed.store(true, Ordering::Relaxed);
        for shard in self.shards.iter() {
            shard.lock().closed = true;
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub(crate) fn is_closed(&self) -> bool {
        // Relaxed: see `close`.
        self.closed.load(Ordering::Relaxed)
    }

    /// How many tasks are linked (spawned and not finished). Takes every
    /// shard's lock: for metrics, not for hot paths.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().slots.len())
            .sum()
    }

    /// How many tasks were ever spawned into the list (those cancelled at
    /// once by a closed list included). Takes every shard's lock.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards.iter().map(|shard| shard.lock().spawned).sum()
    }

    /// Whether no task is linked. Takes every shard's lock: for shutdown
    /// and for a thread about to park, not for hot paths.
    pub(crate) fn is_empty(&self) -> bool {
        self.shards
            .iter()
            .all(|shard| shard.lock().slots.is_empty())
    }

    /// Clones of the wakers of every linked task (to wake them outside the
    /// locks).
    pub(crate) fn wakers(&self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock();
            wakers.extend(shard.slots.iter().map(|(_, (_, waker))| waker.clone()));
        }
        wakers
    }
}

impl fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("closed", &self.is_closed())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::OwnedTasks;
    use std::sync::Arc;
    use test_util::CountingWaker;

    #[test]
    fn link_unlink_close() {
        let list = OwnedTasks::new();
        let (count, waker) = CountingWaker::new();
        let ids: Vec<(u64, usize)> = (0..40)
            .map(|_| {
                let id = list.next_id();
                (id, list.link(id, waker.clone()).unwrap())
            })
            .collect();
        assert_eq!(list.wakers().len(), 40);
        for &(id, slot) in &ids[..39] {
            list.unlink(id, slot);
        }
        list.unlink(ids[0].0, ids[0].1); // twice: a no-op
                                         // A reused slot: the old id does not unlink the new task.
        let id = list.next_id();
        let slot = list.link(id, waker.clone()).unwrap();
        list.unlink(id.wrapping_sub(16), slot);
        assert_eq!(list.wakers().len(), 2);
        list.unlink(id, slot);
        assert!(!list.is_empty());
        list.close();
        assert!(list.is_closed());
        assert!(
            list.link(list.next_id(), waker.clone()).is_err(),
            "a closed list links nothing"
        );
        for waker in list.wakers() {
            waker.wake();
        }
        assert_eq!(count.wakes(), 1);
        list.unlink(ids[39].0, ids[39].1);
        assert!(list.is_empty());
        drop(waker);
        // Every entry's waker was dropped: only `count` is left.
        assert_eq!(Arc::strong_count(&count), 1);
    }
}
