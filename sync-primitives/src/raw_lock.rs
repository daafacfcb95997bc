//! The lock protocol of [`Mutex`](crate::Mutex), apart from the data it
//! guards: a FIFO-fair lock with direct hand-off and a short spin, written
//! once for every `T` (`Mutex<T>` is this plus an `UnsafeCell<T>`, so the
//! protocol is compiled once, not once per data type), as async-lock's
//! `rwlock/raw.rs` does.

use std::hint::spin_loop;
use std::task::{Context, Poll};

use crate::loom::{loom_const_fn, AtomicUsize, Ordering};
use crate::wait_queue::{Key, List, WaitQueue};

/// The state word's bits.
///
/// Who is next in line: first the *spinner* (a `lock()` poll that found the
/// lock held with nobody in line, and is spinning on another thread until
/// it is released), then the queued waiters, oldest first. An unlock hands
/// the lock to the first in line, so nobody can barge in. (A `lock()` poll
/// that is still *standing back*, see [`spin_acquire`](RawLock::spin_acquire),
/// is not in line: it sets no bit.)
///
/// Invariants:
/// - `QUEUED` is set exactly while the wait queue is not empty; it is only
///   changed with the queue's lock held.
/// - `HANDED` is set exactly while the lock has been handed to a woken
///   waiter that has not yet claimed it (by being polled) or passed it on
///   (by being dropped); it is only changed with the queue's lock held.
/// - `SPINNING` is set while a spinner is first in line. Only a `lock()`
///   that finds the state exactly `LOCKED` sets it, and only that spinner
///   clears it. An unlock that sees it clears `LOCKED` alone: the lock is
///   then free but *reserved* for the spinner, which takes it.
/// - `QUEUED`, `HANDED` and `SPINNING` each mean someone is in line, so the
///   lock-free fast paths (`0 -> LOCKED`, `LOCKED -> 0`) only succeed when
///   nobody is.
mod state {
    /// Someone owns the lock.
    pub(super) const LOCKED: usize = 0b0001;
    /// The wait queue is not empty.
    pub(super) const QUEUED: usize = 0b0010;
    /// The owner is a woken waiter that has not run yet.
    pub(super) const HANDED: usize = 0b0100;
    /// A spinner is first in line.
    pub(super) const SPINNING: usize = 0b1000;
}
use state::{HANDED, LOCKED, QUEUED, SPINNING};

/// How many times a `lock()` poll that found the lock held looks at it
/// while *standing back*, before it claims the first place in line (see
/// [`RawLock::spin_acquire`]), and how many `spin_loop` hints it waits
/// before each look: 4 × 32 hints, about 1.1 µs at the 8.5 ns per hint
/// measured on the development machine. Under loom, one look of one hint:
/// every look is interleavings to explore.
///
/// Why stand back at all: claiming the first place at once makes two
/// threads that lock in a loop take strict turns, each turn a hand-off
/// between cores (the lock word and the data moving back and forth, about
/// 340 ns per turn measured), which is slower than tokio's convoy of
/// parked tasks on one thread. Standing back lets the owner's thread run
/// the lock/unlock pairs it has in hand at uncontended speed; the lock
/// changes cores once per look that finds it free instead of once per
/// lock. Looking every 32 hints, not every hint: each look takes the lock's
/// cache line away from the owner, whose next lock or unlock then waits
/// for it. Measured on the contended bench (4 tasks × 1000 locks, tokio 2
/// workers, run under SCHED_FIFO so that both workers run throughout; see
/// `benches/RESULTS.md`, branch `mutex2`): 584 µs without standing back,
/// 145 µs with 4 looks 32 hints apart; looking every 2 or 4 hints got
/// 280-430 µs; 8 looks (2.2 µs) 147 µs and 16 looks 130 µs, not worth the
/// longer spin when the owner is not running.
const STAND_BACK_LOOKS: u32 = if cfg!(loom) { 1 } else { 4 };
/// See [`STAND_BACK_LOOKS`].
const STAND_BACK_HINTS: u32 = if cfg!(loom) { 1 } else { 32 };

/// How many times a spinner looks for the release before it queues (about
/// 0.5 µs at 8.5 ns per `spin_loop` on the development machine). A queued
/// waiter costs a wake-up and a trip through its scheduler for every
/// hand-off, which is what makes fair locks convoy; an owner that holds the
/// lock for a few instructions on another core releases it well within
/// this, and the hand-off to a running spinner costs one cache-line
/// transfer. Under loom, twice: every look is interleavings to explore, and
/// two cover both endings.
const SPIN_LIMIT: u32 = if cfg!(loom) { 2 } else { 64 };

/// A fair lock with no data: who holds it, who is next, who waits.
pub(crate) struct RawLock {
    state: AtomicUsize,
    /// The [`thread_token`] of the thread that owns the lock (or
    /// [`NO_THREAD`]): a `lock()` on that same thread does not spin, since
    /// an owner that is not running there cannot release the lock
    /// meanwhile.
    owner_thread: AtomicUsize,
    queue: WaitQueue,
}

impl RawLock {
    loom_const_fn! {
        /// A new, unlocked lock.
        pub(crate) fn new() -> RawLock {
            RawLock {
                state: AtomicUsize::new(0),
                owner_thread: AtomicUsize::new(NO_THREAD),
                queue: WaitQueue::new(),
            }
        }
    }

    /// Whether the lock is held, or handed (or reserved) for a waiter that
    /// has not taken it yet.
    #[inline]
    pub(crate) fn is_locked(&self) -> bool {
        // Relaxed: a snapshot; it orders nothing. Any bit means locked: see
        // the invariants of `state`.
        self.state.load(Ordering::Relaxed) != 0
    }

    /// The lock-free fast path: `0 -> LOCKED`.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        // Acquire: pairs with the Release in `unlock`, so the previous
        // owner's writes to the data happen-before ours.
        let acquired = self
            .state
            .compare_exchange(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if acquired {
            self.record_owner_thread();
        }
        acquired
    }

    /// Notes that the calling thread now owns the lock.
    #[inline]
    fn record_owner_thread(&self) {
        // Relaxed: a hint for `spin_acquire`, never relied on for safety.
        self.owner_thread.store(thread_token(), Ordering::Relaxed);
    }

    /// If nobody is in line and the lock is held, first stands back for a
    /// moment ([`STAND_BACK_LOOKS`]): it looks at the lock now and then
    /// without joining the line, and takes it if it finds it free (`true`).
    /// Then it becomes the spinner and spins until the owner releases it
    /// (then takes it: `true`) or for [`SPIN_LIMIT`] looks (then stays the
    /// spinner: `false`, and the caller must queue it at the front). `None`
    /// if it did not become the spinner.
    ///
    /// Standing back is fair: a poll that stands back is not in line yet
    /// (it sets no bit), as if its task had called `lock()` a moment later,
    /// and it only takes a lock that is free with nobody in line (state 0),
    /// so it never passes a queued waiter or the spinner.
    fn spin_acquire(&self) -> Option<bool> {
        // Relaxed: a hint (see `record_owner_thread`). Not under loom, whose
        // threads all share one token: the models must cover spinning.
        if !cfg!(loom) && self.owner_thread.load(Ordering::Relaxed) == thread_token() {
            return None;
        }
        for _ in 0..STAND_BACK_LOOKS {
            for _ in 0..STAND_BACK_HINTS {
                spin_loop();
            }
            // Relaxed: a hint; `try_acquire` synchronises. Loaded before the
            // compare-exchange, which would take the cache line from the
            // owner even when it fails.
            match self.state.load(Ordering::Relaxed) {
                0 if self.try_acquire() => return Some(true),
                // Someone queued: join the queue behind them.
                current if current & (QUEUED | HANDED) != 0 => return None,
                // Held (or reserved for a spinner on a third thread), or
                // taken again while we looked: keep standing back.
                _ => {}
            }
        }
        let mut looks = 0;
        // Take the lock if it is free, or the spinner's place if it is held
        // by a running owner with nobody in line (the state flickers between
        // these while owners on other threads come and go).
        let mut current = LOCKED;
        loop {
            looks += 1;
            if looks > SPIN_LIMIT {
                return None;
            }
            match current {
                0 if self.try_acquire() => return Some(true),
                0 => current = self.state.load(Ordering::Relaxed),
                // Relaxed: taking a place in line publishes nothing; the lock
                // is acquired below with Acquire.
                LOCKED => match self.state.compare_exchange_weak(
                    LOCKED,
                    LOCKED | SPINNING,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => break,
                    Err(actual) => current = actual,
                },
                // Another spinner is first in line: wait for it to take the
                // lock, then take its place (we join the line only then, so
                // nobody is overtaken).
                spinner if spinner & (QUEUED | HANDED) == 0 => {
                    spin_loop();
                    current = self.state.load(Ordering::Relaxed);
                }
                // Someone is queued: join the queue behind them.
                _ => return None,
            }
        }
        while looks < SPIN_LIMIT {
            looks += 1;
            spin_loop();
            // Relaxed: a hint; `take_reserved` synchronises.
            if self.state.load(Ordering::Relaxed) & LOCKED == 0 {
                self.take_reserved();
                return Some(true);
            }
        }
        Some(false)
    }

    /// The spinner takes the lock reserved for it: clears `SPINNING`, sets
    /// `LOCKED`, keeps `QUEUED`.
    fn take_reserved(&self) {
        // Only the spinner can clear SPINNING or set LOCKED while the lock
        // is reserved, so flipping both bits is exact. Acquire: pairs with
        // the Release of the unlock that reserved it.
        let before = self.state.fetch_xor(SPINNING | LOCKED, Ordering::Acquire);
        debug_assert_eq!(before & (SPINNING | LOCKED), SPINNING);
        self.record_owner_thread();
    }

    /// Polls for the lock on behalf of a future whose queue position is
    /// `state`. The uncontended case is inlined into the caller's crate;
    /// the rest is one out-of-line function for every `Mutex<T>`.
    #[inline]
    pub(crate) fn poll_acquire(&self, state: &mut LockState, cx: &mut Context<'_>) -> Poll<()> {
        if let LockState::Idle = state {
            if self.try_acquire() {
                return Poll::Ready(());
            }
        }
        self.poll_acquire_slow(state, cx)
    }

    /// [`RawLock::poll_acquire`] past the lock-free fast path.
    fn poll_acquire_slow(&self, state: &mut LockState, cx: &mut Context<'_>) -> Poll<()> {
        if let LockState::Queued(key) = *state {
            let mut list = self.queue.lock();
            if list.update_waker(key, cx.waker()) {
                return Poll::Pending;
            }
            // Our slot was freed by `unlock`: the lock is ours. The queue's
            // lock orders the previous owner's writes before our reads. We
            // own the lock and hold the queue's lock, and HANDED keeps
            // spinners out, so nobody else can change the state: a plain
            // store clears HANDED (Relaxed: the queue's lock orders it).
            self.state.store(queued_bits(&list), Ordering::Relaxed);
            drop(list);
            self.record_owner_thread();
            *state = LockState::Idle;
            return Poll::Ready(());
        }

        let spinning = match self.spin_acquire() {
            Some(true) => return Poll::Ready(()),
            Some(false) => true,
            None => false,
        };
        let mut list = self.queue.lock();
        let mut current = self.state.load(Ordering::Relaxed);
        loop {
            let (new, ordering) = if spinning && current & LOCKED == 0 {
                // Released to us while we came to the queue.
                self.take_reserved();
                return Poll::Ready(());
            } else if spinning {
                // Give up spinning and queue at the front: everyone queued
                // came after us. Relaxed: the queue's lock orders the rest.
                ((current & !SPINNING) | QUEUED, Ordering::Relaxed)
            } else if current == 0 {
                // Free, nobody in line: take it. Acquire: as in
                // `try_acquire`.
                (LOCKED, Ordering::Acquire)
            } else {
                // Held or reserved: announce a waiter before queueing, so
                // that the owner's fast-path unlock fails and it comes to
                // the queue (which it can only lock after us).
                (current | QUEUED, Ordering::Relaxed)
            };
            match self
                .state
                .compare_exchange_weak(current, new, ordering, Ordering::Relaxed)
            {
                Ok(_) if new == LOCKED => {
                    self.record_owner_thread();
                    return Poll::Ready(());
                }
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        let waker = cx.waker().clone();
        *state = LockState::Queued(if spinning {
            list.push_front(waker)
        } else {
            list.push_back(waker)
        });
        Poll::Pending
    }

    /// Called when a future locking it is dropped before it completed: leaves the queue, or passes on a lock it was already
    /// handed.
    pub(crate) fn abandon(&self, state: LockState) {
        let LockState::Queued(key) = state else {
            return;
        };
        let mut list = self.queue.lock();
        if list.remove(key) {
            if list.is_empty() {
                // An RMW, not a store: the owner may be setting or clearing
                // other bits meanwhile. Relaxed: the queue's lock orders
                // this with every other change of QUEUED.
                self.state.fetch_and(!QUEUED, Ordering::Relaxed);
            }
        } else {
            // The lock was handed to us and we never took it: pass it on.
            drop(list);
            self.unlock();
        }
    }

    /// Releases the lock to the first in line: the spinner, else the oldest
    /// queued waiter; frees it if nobody is in line.
    #[inline]
    pub(crate) fn unlock(&self) {
        // Forget our thread before anyone can take the lock (Relaxed: a
        // hint; the Release below orders it before the next owner's own
        // record). A token left behind would make a `lock()` on our thread
        // take a new owner elsewhere for a suspended one and not spin.
        self.owner_thread.store(NO_THREAD, Ordering::Relaxed);
        // Nobody in line: free it. Release: as in `unlock_slow`.
        if let Err(current) =
            self.state
                .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
        {
            self.unlock_slow(current);
        }
    }

    /// [`RawLock::unlock`] when someone is in line (or was, as `current`
    /// was read).
    fn unlock_slow(&self, mut current: usize) {
        loop {
            // The lock-free paths. Release (both): our writes to the data
            // happen-before the next owner's Acquire (`try_acquire` or
            // `take_reserved`).
            if current & SPINNING != 0 {
                // Reserve it for the spinner.
                match self.state.compare_exchange_weak(
                    current,
                    current & !LOCKED,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(actual) => current = actual,
                }
                continue;
            }
            if current & (QUEUED | HANDED) == 0 {
                match self.state.compare_exchange_weak(
                    current,
                    0,
                    Ordering::Release,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(actual) => current = actual,
                }
                continue;
            }

            // Someone is queued, or we are passing on a lock handed to a
            // dropped waiter. Under the queue's lock, with QUEUED or HANDED
            // set and no spinner, nobody else can change the state (the
            // fast paths fail and spinners need it exactly LOCKED), so it is
            // stable; re-check it now that we hold the lock.
            let mut list = self.queue.lock();
            current = self.state.load(Ordering::Relaxed);
            if current & SPINNING != 0 || current & (QUEUED | HANDED) == 0 {
                continue; // changed before we got the queue's lock
            }
            match list.pop_front() {
                Some(waker) => {
                    // It stays LOCKED, now owned by the woken waiter, which
                    // learns it from its freed slot under the queue's lock
                    // (which carries our writes to it). Relaxed: as above.
                    self.state
                        .store(queued_bits(&list) | HANDED, Ordering::Relaxed);
                    drop(list);
                    waker.wake();
                }
                None => {
                    // Passing on a dropped hand-off with nobody left.
                    // Release: as in the fast path.
                    self.state.store(0, Ordering::Release);
                }
            }
            return;
        }
    }
}

/// The `owner_thread` of a free lock: never a [`thread_token`], since
/// those are addresses.
const NO_THREAD: usize = usize::MAX;

/// A number that tells the calling thread from every other live thread:
/// the address of a thread-local. Under loom, whose threads share one OS
/// thread, always 0 (and `spin_acquire` ignores it).
#[inline]
fn thread_token() -> usize {
    #[cfg(not(loom))]
    {
        thread_local! {
            static TOKEN: u8 = const { 0 };
        }
        TOKEN.with(|token| std::ptr::from_ref(token) as usize)
    }
    #[cfg(loom)]
    {
        0
    }
}

/// `LOCKED`, plus `QUEUED` if anyone is queued: the state of a lock whose
/// owner holds the queue's lock.
fn queued_bits(list: &List) -> usize {
    if list.is_empty() {
        LOCKED
    } else {
        LOCKED | QUEUED
    }
}

/// Where a future locking a [`RawLock`] (`mutex::Lock`, `mutex::LockOwned`) is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LockState {
    /// Not queued: never polled, or completed. Dropping needs nothing.
    Idle,
    /// Queued under this key, or handed the lock if the key has gone stale.
    /// Dropping must unlink it, or pass the lock on.
    Queued(Key),
}
