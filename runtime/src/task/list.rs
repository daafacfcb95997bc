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
//! Each entry is the task's own [`Waker`]: shutdown wakes every linked task,
//! which puts it in its scheduler's queue, where the shutting-down thread
//! finds it and cancels it (see `scheduler::Handle::shutdown`). A task is
//! therefore never cancelled inline inside somebody's `wake()`, and the
//! entry keeps the task's cell alive until the task is unlinked.

use crate::loom::{AtomicBool, AtomicU64, AtomicUsize, Mutex, Ordering};
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::task::Waker;

/// Number of shards: a power of two, so that a shard is `id & (SHARDS - 1)`.
/// Sixteen locks cost 16 words per runtime and make contention between two
/// spawning threads unlikely on the machines we target.
const SHARDS: usize = 16;

/// The tasks a runtime (or a `block_on`'s local scheduler) owns.
pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
    /// Ids handed to new tasks; never reused within a list.
    next_id: AtomicU64,
    /// Number of linked tasks, readable without a lock.
    len: AtomicUsize,
    /// Set once by `close`; also recorded in each shard, under its lock,
    /// which is what `link` checks.
    closed: AtomicBool,
}

struct Shard {
    closed: bool,
    tasks: HashMap<u64, Waker, BuildHasherDefault<IdHasher>>,
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        closed: false,
                        tasks: HashMap::default(),
                    })
                })
                .collect(),
            next_id: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    /// A fresh id for a task about to be spawned into this list.
    pub(crate) fn next_id(&self) -> u64 {
        // Relaxed: only uniqueness matters, which the RMW guarantees.
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn shard(&self, id: u64) -> &Mutex<Shard> {
        // `SHARDS` is a power of two: the low bits of consecutive ids spread
        // consecutive spawns over every shard.
        &self.shards[(id as usize) & (SHARDS - 1)]
    }

    /// Links task `id`, whose waker is `waker`. Returns `false` (and links
    /// nothing) if the list is closed: the caller must cancel the task.
    pub(crate) fn link(&self, id: u64, waker: &Waker) -> bool {
        let mut shard = self.shard(id).lock();
        if shard.closed {
            return false;
        }
        shard.tasks.insert(id, waker.clone());
        // Relaxed: a count for `is_empty`; the shutdown loop that relies on
        // it reads it after taking every shard's lock (see `wakers`), and
        // each change is made under one of them.
        self.len.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Unlinks task `id` (a no-op if it is not linked). The task's waker is
    /// dropped after the lock is released: dropping a waker may run a
    /// destructor.
    pub(crate) fn unlink(&self, id: u64) {
        let waker = {
            let mut shard = self.shard(id).lock();
            let waker = shard.tasks.remove(&id);
            if waker.is_some() {
                // Relaxed: see `link`.
                self.len.fetch_sub(1, Ordering::Relaxed);
            }
            waker
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

    /// Whether no task is linked.
    pub(crate) fn is_empty(&self) -> bool {
        // Relaxed: see `link`.
        self.len.load(Ordering::Relaxed) == 0
    }

    /// Clones of the wakers of every linked task (to wake them outside the
    /// locks).
    pub(crate) fn wakers(&self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            wakers.extend(shard.lock().tasks.values().cloned());
        }
        wakers
    }
}

impl fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedTasks")
            .field("len", &self.len.load(Ordering::Relaxed))
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Hashes a task id: ids are consecutive integers, so a multiply by an odd
/// constant (Fibonacci hashing) spreads them well, far cheaper than SipHash.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::OwnedTasks;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::{Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn link_unlink_close() {
        let list = OwnedTasks::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let ids: Vec<u64> = (0..40).map(|_| list.next_id()).collect();
        for &id in &ids {
            assert!(list.link(id, &waker));
        }
        assert_eq!(list.wakers().len(), 40);
        for &id in &ids[..39] {
            list.unlink(id);
        }
        list.unlink(ids[0]); // twice: a no-op
        assert!(!list.is_empty());
        list.close();
        assert!(list.is_closed());
        assert!(
            !list.link(list.next_id(), &waker),
            "a closed list links nothing"
        );
        for waker in list.wakers() {
            waker.wake();
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        list.unlink(ids[39]);
        assert!(list.is_empty());
        // Only our own clone is left: every entry's waker was dropped.
        assert_eq!(Arc::strong_count(&count), 2);
    }
}
