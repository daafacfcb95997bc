//! [`OwnedTasks`]: the list of the tasks a runtime owns, so that shutting it
//! down can reach every one of them, wherever it waits.
//!
//! The shape of tokio's `OwnedTasks`: a task is linked when it is spawned and
//! unlinked when its future is dropped (it completed, panicked or was
//! cancelled); the list is split into shards by task id, each behind its own
//! lock (a [`SpinLock`]: one read-modify-write per section, its sections
//! being a few pointer writes), so that spawns on different threads rarely
//! contend; and it can be
//! *closed*, after which linking fails and the spawner cancels the new task
//! at once.
//!
//! A shard is an intrusive doubly-linked list threaded through the task
//! cells' headers ([`Links`], in `TaskMeta`), as tokio's: linking and
//! unlinking write a few pointers in cells that are being touched anyway,
//! with no side table to grow or to miss in the cache. The list holds one
//! reference to each linked task (given as a [`Waker`] to `link`, released
//! by `unlink`): shutdown wakes every linked task through it, which puts
//! the task in its scheduler's queue, where the shutting-down thread finds
//! it and cancels it (see `scheduler::Handle::shutdown`). A task is
//! therefore never cancelled inline inside somebody's `wake()`, and the
//! list keeps the task's cell alive until the task is unlinked.

use super::raw::{self, Header};
use crate::loom::{AtomicBool, Ordering, UnsafeCell};
use spin_lock::SpinLock;
use std::fmt;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

/// Number of shards: a power of two, so that a shard is `id & (SHARDS - 1)`.
/// Sixteen locks cost 16 words per runtime and make contention between two
/// spawning threads unlikely on the machines we target.
const SHARDS: usize = 16;

/// The tasks a runtime (or a `block_on`'s local scheduler) owns.
pub(crate) struct OwnedTasks {
    shards: Box<[SpinLock<Shard>]>,
    /// Set once by `close`; also recorded in each shard, under its lock,
    /// which is what `link` checks.
    closed: AtomicBool,
    /// Under loom, ids come from the list (a plain counter outside what
    /// loom explores), not from a thread-local that lives across the
    /// executions of a model: every execution then picks the same shards.
    #[cfg(loom)]
    next: std::sync::atomic::AtomicU64,
}

struct Shard {
    closed: bool,
    /// The most recently linked task; the others follow through their
    /// `Links::next`.
    head: Option<NonNull<Header>>,
    /// How many tasks are linked here.
    len: usize,
    /// Number of `link` calls, for metrics (counted under the lock `link`
    /// takes anyway: no shared atomic on the spawn path).
    spawned: u64,
}

// SAFETY: the pointers are to task cells on which the list holds a
// reference (alive until unlinked); they are only followed, and the links
// they reach only touched, under the shard's lock. Task headers are
// `Sync`.
unsafe impl Send for Shard {}

/// A task's place in its shard's list, in its header. Only read or written
/// under the lock of the shard its task id picks.
pub(crate) struct Links(UnsafeCell<LinkState>);

/// A task is linked if it has a `prev`, or if it is its shard's `head`
/// (no flag of its own: the cell stays within a smaller allocation size).
struct LinkState {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
}

// SAFETY: the links are only touched under a shard lock (see `Links`),
// which orders every access; the pointers are not dereferenced otherwise.
unsafe impl Send for Links {}
// SAFETY: as for `Send`.
unsafe impl Sync for Links {}

impl Links {
    pub(crate) fn new() -> Links {
        Links(UnsafeCell::new(LinkState {
            prev: None,
            next: None,
        }))
    }
}

impl fmt::Debug for Links {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not read: only the shard's lock may.
        f.write_str("Links")
    }
}

/// Runs `f` on the links of the task at `task`. The borrow never outlives
/// the call, so under loom every access to the links is one that the
/// model checks.
///
/// # Safety
///
/// The caller holds the lock of the task's shard, and the task is alive.
unsafe fn with_links<R>(task: NonNull<Header>, f: impl FnOnce(&mut LinkState) -> R) -> R {
    // SAFETY: the caller guarantees both: the lock gives exclusive access
    // to the links of the shard's tasks, and no other borrow of these
    // links is alive (each is confined to its own call).
    unsafe { task.as_ref().meta.links.0.with_mut(|l| f(&mut *l)) }
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| {
                    SpinLock::new(Shard {
                        closed: false,
                        head: None,
                        len: 0,
                        spawned: 0,
                    })
                })
                .collect(),
            closed: AtomicBool::new(false),
            #[cfg(loom)]
            next: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// An id for a task about to be spawned (see `next` for loom's).
    #[cfg(loom)]
    pub(crate) fn next_id(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// An id for a task about to be spawned: it picks the task's shard
    /// (consecutive spawns on a thread go to consecutive shards). A
    /// per-thread counter with the thread's id in the high bits: unique,
    /// and no shared atomic on the spawn path.
    #[cfg(not(loom))]
    #[inline]
    pub(crate) fn next_id(&self) -> u64 {
        use std::cell::Cell;
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

    fn shard(&self, id: u64) -> &SpinLock<Shard> {
        // `SHARDS` is a power of two: the low bits of consecutive ids spread
        // consecutive spawns over every shard.
        &self.shards[(id as usize) & (SHARDS - 1)]
    }

    /// Links the task at `task` (whose id is `id`), keeping `waker`'s
    /// reference to it until `unlink`. Gives the waker back (and links
    /// nothing) if the list is closed: the caller must cancel the task,
    /// and drops the waker outside the lock.
    ///
    /// # Safety
    ///
    /// `waker` is a waker of that task, which is not linked anywhere.
    pub(crate) unsafe fn link(
        &self,
        task: NonNull<Header>,
        id: u64,
        waker: Waker,
    ) -> Result<(), Waker> {
        let mut shard = self.shard(id).lock();
        shard.spawned += 1;
        if shard.closed {
            return Err(waker);
        }
        // Its reference is the list's now, until `unlink`.
        let _ = ManuallyDrop::new(waker);
        // SAFETY: we hold the shard's lock; the task is alive (the waker's
        // reference, now ours), and so is the head (the list's reference).
        unsafe {
            let old_head = shard.head;
            debug_assert!(old_head != Some(task));
            with_links(task, |new| {
                debug_assert!(new.prev.is_none());
                new.prev = None;
                new.next = old_head;
            });
            if let Some(head) = old_head {
                with_links(head, |links| links.prev = Some(task));
            }
        }
        shard.head = Some(task);
        shard.len += 1;
        Ok(())
    }

    /// Unlinks the task at `task` (whose id is `id`), and releases the
    /// list's reference to it after the lock (dropping the last reference
    /// frees the cell, which may run a destructor). A no-op if it is not
    /// linked.
    ///
    /// # Safety
    ///
    /// The task is alive: linked here (the list's reference), or the
    /// caller holds a reference.
    pub(crate) unsafe fn unlink(&self, task: NonNull<Header>, id: u64) {
        // SAFETY: the caller's guarantee.
        if unsafe { self.unlink_keep_ref(task, id) } {
            // SAFETY: the list's reference, handed back as the waker it was
            // given as.
            drop(unsafe { raw::waker_of(task) });
        }
    }

    /// Like [`unlink`](Self::unlink), but the list's reference is handed
    /// to the caller (returns whether the task was linked, and so whether
    /// the caller now holds that reference), to release it with a step of
    /// its own.
    ///
    /// # Safety
    ///
    /// As for `unlink`.
    pub(crate) unsafe fn unlink_keep_ref(&self, task: NonNull<Header>, id: u64) -> bool {
        {
            let mut shard = self.shard(id).lock();
            // SAFETY: we hold the shard's lock; the task is alive (the
            // caller's guarantee), and so are its neighbours (linked).
            unsafe {
                let (prev, next) = with_links(task, |this| (this.prev, this.next));
                if prev.is_some() || shard.head == Some(task) {
                    match prev {
                        Some(prev) => with_links(prev, |links| links.next = next),
                        None => shard.head = next,
                    }
                    if let Some(next) = next {
                        with_links(next, |links| links.prev = prev);
                    }
                    with_links(task, |this| {
                        this.prev = None;
                        this.next = None;
                    });
                    shard.len -= 1;
                    true
                } else {
                    false
                }
            }
        }
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
        self.shards.iter().map(|shard| shard.lock().len).sum()
    }

    /// How many tasks were ever spawned into the list (those cancelled at
    /// once by a closed list included). Takes every shard's lock.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards.iter().map(|shard| shard.lock().spawned).sum()
    }

    /// Whether no task is linked. Takes every shard's lock: for shutdown
    /// and for a thread about to park, not for hot paths.
    pub(crate) fn is_empty(&self) -> bool {
        self.shards.iter().all(|shard| shard.lock().len == 0)
    }

    /// Wakers of every linked task, each with a reference of its own (to
    /// wake them outside the locks).
    pub(crate) fn wakers(&self) -> Vec<Waker> {
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock();
            let mut next = shard.head;
            while let Some(task) = next {
                // SAFETY: a linked task: the list's reference keeps it
                // alive. The clone takes a reference of its own; the
                // borrowed waker is not dropped (it is the list's).
                let list_waker = ManuallyDrop::new(unsafe { raw::waker_of(task) });
                wakers.push((*list_waker).clone());
                // SAFETY: we hold the shard's lock.
                next = unsafe { with_links(task, |links| links.next) };
            }
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
    use crate::scheduler::{current_thread, Handle};
    use crate::task;
    use std::sync::Arc;

    /// Tasks linked into every shard and unlinked from the head, the middle
    /// and the tail of their shards' lists; what the list counts and hands
    /// out (a waker per linked task); closing it; the references it holds
    /// (every cell is freed: miri checks for leaks). Fast enough for miri.
    #[test]
    fn link_unlink_close() {
        let shared = Arc::new(current_thread::Shared::new());
        let tasks = &shared.drivers().tasks;
        let spawn = || {
            let schedule = current_thread::schedule_task;
            let (runnable, handle) =
                task::spawn(std::future::pending::<()>(), shared.clone(), schedule);
            runnable.expect("the list is open").schedule();
            handle
        };
        let handles: Vec<_> = (0..40).map(|_| spawn()).collect();
        shared.run_queued_for_test();
        assert_eq!((tasks.len(), tasks.spawned()), (40, 40));
        assert_eq!(tasks.wakers().len(), 40);
        // Every third task: 2 or 3 per shard, at every place in its list.
        for handle in handles.iter().step_by(3) {
            handle.abort();
        }
        shared.run_queued_for_test();
        assert_eq!(tasks.len(), 26);
        for (i, handle) in handles.iter().enumerate() {
            assert_eq!(handle.is_finished(), i % 3 == 0);
        }
        // Woken through the list: queued, still linked.
        for waker in tasks.wakers() {
            waker.wake();
        }
        assert_eq!(tasks.len(), 26);
        tasks.close();
        assert!(tasks.is_closed());
        let late = spawn_after_close(&shared);
        assert!(
            late.is_finished(),
            "a closed list cancels a new task at once"
        );
        assert_eq!(tasks.spawned(), 41);
        Handle::CurrentThread(Arc::clone(&shared)).shutdown();
        assert!(tasks.is_empty());
        assert!(handles.iter().all(|handle| handle.is_finished()));
    }

    fn spawn_after_close(shared: &Arc<current_thread::Shared>) -> crate::JoinHandle<()> {
        let schedule = current_thread::schedule_task;
        let (runnable, handle) = task::spawn(async {}, shared.clone(), schedule);
        assert!(runnable.is_none());
        handle
    }
}
