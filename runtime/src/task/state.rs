//! The state word of a task cell: five flags and a reference count in one
//! atomic `usize`, so that every step of a task's life (scheduled, polled,
//! completed, awaited, released) is one atomic read-modify-write.
//!
//! The shape of tokio's `runtime/task/state.rs` and async-task's
//! `state.rs`, with our semantics: a task is never cancelled from outside
//! its cell, it is *run in cancel mode* by its scheduler (see `raw.rs`), so
//! there is no `CLOSED` flag and a `JoinHandle` never drops the future.
//!
//! # The flags and their invariants
//!
//! * [`NOTIFIED`]: a `Runnable` of the task exists (queued, or about to be
//!   run). At most one exists at a time: a wake-up sets the flag and makes
//!   the `Runnable` only if it was clear. Set from creation (the first
//!   `Runnable`), never while [`COMPLETE`] is set.
//! * [`RUNNING`]: the holder of the `Runnable` is polling (or cancelling)
//!   the future; it owns the stage. A wake-up during the poll only sets
//!   [`NOTIFIED`]: the runner then schedules the task again itself, reusing
//!   its reference, when the poll returns `Pending`.
//! * [`COMPLETE`]: the future is gone and the output is stored (set once,
//!   by the runner, clearing [`RUNNING`] and [`NOTIFIED`]). Wake-ups are
//!   no-ops from then on.
//! * [`JOIN_INTEREST`]: the `JoinHandle` exists. While it is set when the
//!   task completes, the output belongs to the handle (it takes it, or
//!   drops it in its own drop); otherwise the runner drops it.
//! * [`JOIN_WAKER`]: the join-waker slot holds the waker of whoever awaits
//!   the handle, and the *runner side* may read it (wake it). While it is
//!   clear and the task is not complete, only the handle touches the slot.
//!   The handle sets it (after writing the slot) only while the task is not
//!   complete; the runner clears it after waking the waker at completion.
//! * [`ABORTED`]: the task was aborted; the next run cancels it instead of
//!   polling it. Set in the same read-modify-write as the wake-up that
//!   gets it run, and read by the runner in the one that starts the run
//!   (`transition_to_running`): an abort racing a run either is seen by
//!   that run or makes the runner schedule the task again. (A flag read
//!   apart from the state word, before the run, could miss it: the run
//!   would read "not aborted", the abort would find the task still
//!   queued and make no new `Runnable`, and the task would sleep on.)
//!
//! The reference count, above the flags, counts the `Runnable` (if any),
//! the `JoinHandle`, every `Waker`, the `TaskRef` of every `AbortHandle`,
//! and the entry in the runtime's task list (which holds a `Waker`). The
//! cell is freed by whoever takes it to 0.

use crate::loom::{AtomicUsize, Ordering};

/// A `Runnable` exists (see the module docs).
const NOTIFIED: usize = 1 << 0;
/// The task is being run by the holder of its `Runnable`.
const RUNNING: usize = 1 << 1;
/// The output is stored; the future is gone.
const COMPLETE: usize = 1 << 2;
/// The `JoinHandle` exists.
const JOIN_INTEREST: usize = 1 << 3;
/// The join waker is set and belongs to the runner side.
const JOIN_WAKER: usize = 1 << 4;
/// The task was aborted: its next run cancels it.
const ABORTED: usize = 1 << 5;
/// One reference: the count lives in the bits above the flags.
const REF_ONE: usize = 1 << 6;
/// The bits of the reference count.
const REF_MASK: usize = !(REF_ONE - 1);

/// A task's state word.
pub(super) struct State(AtomicUsize);

/// A value of the state word, read at one moment.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Snapshot(usize);

impl Snapshot {
    pub(super) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }

    pub(super) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }

    pub(super) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }

    pub(super) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }

    pub(super) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }

    pub(super) fn is_aborted(self) -> bool {
        self.0 & ABORTED != 0
    }

    pub(super) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) / REF_ONE
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("notified", &self.is_notified())
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("aborted", &self.is_aborted())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What the caller of a wake-up transition must do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Notify {
    /// Hand a new `Runnable` (holding the reference the transition took,
    /// or the waker's own for a wake by value) to the scheduler.
    Submit,
    /// Nothing: the task is queued, running, or complete.
    Nothing,
    /// Nothing to schedule, and the caller released the last reference:
    /// free the cell.
    Dealloc,
}

/// What the runner must do after a poll that returned `Pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Idle {
    /// The task was woken during the poll: schedule it again with the
    /// runner's reference.
    Notified,
    /// The runner's reference is released; others remain.
    Released,
    /// The runner released the last reference: free the cell.
    Dealloc,
}

impl State {
    /// A new task: notified (its first `Runnable` exists), with a
    /// `JoinHandle`, and `refs` references.
    pub(super) fn new(refs: usize) -> State {
        State(AtomicUsize::new(
            NOTIFIED | JOIN_INTEREST | (refs * REF_ONE),
        ))
    }

    /// The current value. Acquire: a reader that sees [`COMPLETE`] also
    /// sees the output the runner stored before its Release (see
    /// `transition_to_complete`).
    pub(super) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// One CAS loop: `f` maps the current value to the new one, or to
    /// `None` to leave it. Returns the value `f` saw last, and whether it
    /// stored. AcqRel on success: every transition both publishes the
    /// caller's writes (Release) and takes those of the previous writer
    /// (Acquire); each method documents the edge it relies on.
    #[inline]
    fn update(&self, mut f: impl FnMut(usize) -> Option<usize>) -> (Snapshot, bool) {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let Some(next) = f(current) else {
                return (Snapshot(current), false);
            };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (Snapshot(current), true),
                Err(actual) => current = actual,
            }
        }
    }

    /// The holder of the `Runnable` starts running it: `NOTIFIED` ->
    /// `RUNNING`. Returns the previous value: if it `is_aborted`, the run
    /// cancels the task. Acquire: the previous poll's writes to the future
    /// (published by its Release in `transition_to_idle`) are visible.
    pub(super) fn transition_to_running(&self) -> Snapshot {
        // The caller holds the only `Runnable`: NOTIFIED is set and RUNNING
        // and COMPLETE are clear, so one XOR flips both flags.
        let prev = Snapshot(self.0.fetch_xor(NOTIFIED | RUNNING, Ordering::AcqRel));
        debug_assert!(prev.is_notified() && !prev.is_running() && !prev.is_complete());
        prev
    }

    /// The poll returned `Pending`: clears `RUNNING`; if the task was woken
    /// meanwhile, keeps `NOTIFIED` and the runner's reference (it schedules
    /// the task again), else releases that reference. Release: this poll's
    /// writes to the future happen before the next poll's Acquire in
    /// `transition_to_running`. Acquire: a waker's writes before it set
    /// `NOTIFIED` are visible to the next poll.
    pub(super) fn transition_to_idle(&self) -> Idle {
        let (prev, _) = self.update(|s| {
            debug_assert!(s & RUNNING != 0);
            let next = s & !RUNNING;
            Some(if s & NOTIFIED != 0 {
                next
            } else {
                next - REF_ONE
            })
        });
        if prev.is_notified() {
            Idle::Notified
        } else if prev.ref_count() == 1 {
            Idle::Dealloc
        } else {
            Idle::Released
        }
    }

    /// The future is done and the output stored: `RUNNING` -> `COMPLETE`
    /// (and `NOTIFIED` cleared: a wake-up during the last poll made no
    /// `Runnable`). Returns the previous value, whose `JOIN_INTEREST` and
    /// `JOIN_WAKER` say who owns the output and the join waker now.
    /// Release: the stored output happens before the handle's Acquire read
    /// of `COMPLETE`. Acquire: the join waker the handle wrote before its
    /// Release in `set_join_waker` is visible.
    ///
    /// The same step releases `extra` references the runner holds besides
    /// its own (the task list's, taken over when it unlinked the task:
    /// never the last, its own remains). When the handle exists and has no
    /// waker registered, nothing is left for the runner to do: the step
    /// releases its own reference too (the second value is then `true`,
    /// and the runner must not touch the cell again; the handle's
    /// reference keeps it alive).
    pub(super) fn transition_to_complete(&self, extra: usize) -> (Snapshot, bool) {
        let (prev, _) = self.update(|s| {
            debug_assert!(s & RUNNING != 0 && s & COMPLETE == 0);
            debug_assert!((s & REF_MASK) / REF_ONE > extra);
            let next = ((s & !(RUNNING | NOTIFIED)) | COMPLETE) - extra * REF_ONE;
            Some(if s & (JOIN_INTEREST | JOIN_WAKER) == JOIN_INTEREST {
                next - REF_ONE
            } else {
                next
            })
        });
        let released = prev.is_join_interested() && !prev.is_join_waker_set();
        (prev, released)
    }

    /// After waking the join waker at completion: clears `JOIN_WAKER`,
    /// handing the slot back to the handle. If the handle is gone already
    /// (`JOIN_INTEREST` clear in the returned value), the runner drops the
    /// waker. Release: the runner's use of the waker happens before the
    /// handle's next write of the slot. Acquire: the handle's clearing of
    /// `JOIN_INTEREST` (and whatever it did before) is visible.
    pub(super) fn unset_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.0.fetch_and(!JOIN_WAKER, Ordering::AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        prev
    }

    /// The handle stored a waker in the slot: sets `JOIN_WAKER`, unless the
    /// task completed meanwhile (`Err`, with the value that says so: the
    /// handle then reads the output). Release: the slot's write happens
    /// before the runner's Acquire in `transition_to_complete`.
    pub(super) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        let (prev, stored) = self.update(|s| {
            debug_assert!(s & JOIN_INTEREST != 0 && s & JOIN_WAKER == 0);
            (s & COMPLETE == 0).then_some(s | JOIN_WAKER)
        });
        if stored {
            Ok(prev)
        } else {
            Err(prev)
        }
    }

    /// The handle takes the slot back to store another waker: clears
    /// `JOIN_WAKER`, unless the task completed (`Err`: the runner may be
    /// using the waker; the handle reads the output instead).
    pub(super) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        let (prev, stored) = self.update(|s| {
            debug_assert!(s & JOIN_INTEREST != 0 && s & JOIN_WAKER != 0);
            (s & COMPLETE == 0).then_some(s & !JOIN_WAKER)
        });
        if stored {
            Ok(prev)
        } else {
            Err(prev)
        }
    }

    /// The handle is dropped: clears `JOIN_INTEREST`, and `JOIN_WAKER` too
    /// if the task is not complete (the slot is then the handle's to
    /// clear). Returns the previous value: if `COMPLETE`, the handle drops
    /// the output; if not complete, or complete with `JOIN_WAKER` clear, it
    /// drops the join waker. Acquire: with `COMPLETE`, the output is
    /// visible. Release: the handle's last use of the slot happens before
    /// the runner's drop of it in `unset_waker_after_complete`.
    pub(super) fn transition_to_join_handle_dropped(&self) -> Snapshot {
        let (prev, _) = self.update(|s| {
            debug_assert!(s & JOIN_INTEREST != 0);
            Some(if s & COMPLETE != 0 {
                s & !JOIN_INTEREST
            } else {
                s & !(JOIN_INTEREST | JOIN_WAKER)
            })
        });
        prev
    }

    /// The handle took the output and goes away: clears `JOIN_INTEREST`
    /// and releases its reference in one step. Before that step, while
    /// `JOIN_WAKER` is seen clear (the slot is the handle's: the runner
    /// woke the waker and let go of it, or none was set), `take_waker` is
    /// called, once, to empty the slot; if the flag is still set, the
    /// runner is waking the waker and drops it when it sees the handle
    /// gone. Returns the previous value (`ref_count() == 1`: the caller
    /// frees the cell). AcqRel, as `ref_dec`.
    pub(super) fn release_join_handle(&self, mut take_waker: impl FnMut()) -> Snapshot {
        // The handle's reference is the last one: nobody else can reach
        // the word or the cell any more (a new reference is only made from
        // an existing one), so no read-modify-write is needed: the caller
        // frees the cell. The runner released its reference after its use
        // of the join waker, so the slot is the handle's. Acquire: pairs
        // with the Release of every other reference's release (all RMWs on
        // this word), so their uses of the cell happen before the free.
        let now = self.load();
        if now.ref_count() == 1 {
            debug_assert!(now.is_complete() && !now.is_join_waker_set());
            take_waker();
            return now;
        }
        let mut taken = false;
        let (prev, _) = self.update(|s| {
            debug_assert!(s & COMPLETE != 0 && s & JOIN_INTEREST != 0);
            if s & JOIN_WAKER == 0 && !taken {
                take_waker();
                taken = true;
            }
            Some((s & !JOIN_INTEREST) - REF_ONE)
        });
        prev
    }

    /// A wake-up by reference: schedules the task (`Submit`, with a new
    /// reference for the `Runnable`) unless it is queued, running (then
    /// only `NOTIFIED` is set, for the runner to see) or complete. Release
    /// when it stores: the waker's writes happen before the next poll
    /// (through the run queue, or the runner's Acquire in
    /// `transition_to_idle`). On a task already notified or complete
    /// nothing is stored and no edge is made: the waker's data must be
    /// published by its own means (as the primitives do, with their own
    /// atomics or locks), the next poll being already due.
    pub(super) fn transition_to_notified_by_ref(&self) -> Notify {
        let (prev, stored) = self.update(|s| {
            if s & (COMPLETE | NOTIFIED) != 0 {
                None
            } else if s & RUNNING != 0 {
                Some(s | NOTIFIED)
            } else {
                Some((s | NOTIFIED) + REF_ONE)
            }
        });
        if stored && !prev.is_running() {
            Notify::Submit
        } else {
            Notify::Nothing
        }
    }

    /// A wake-up by value: as [`transition_to_notified_by_ref`], but the
    /// waker's own reference goes to the `Runnable` (`Submit`) or is
    /// released (`Nothing`, or `Dealloc` if it was the last). It always
    /// stores (AcqRel), but on a task already notified or complete that
    /// store is only the release of a reference: its Release orders the
    /// waker's uses of the cell before a free, not its data before a poll
    /// (as for a wake-up by reference, see there).
    ///
    /// [`transition_to_notified_by_ref`]: State::transition_to_notified_by_ref
    pub(super) fn transition_to_notified_by_val(&self) -> Notify {
        let (prev, _) = self.update(|s| {
            Some(if s & (COMPLETE | NOTIFIED) != 0 {
                s - REF_ONE
            } else if s & RUNNING != 0 {
                // The runner holds a reference: this is not the last.
                (s | NOTIFIED) - REF_ONE
            } else {
                s | NOTIFIED
            })
        });
        if prev.0 & (COMPLETE | NOTIFIED | RUNNING) == 0 {
            Notify::Submit
        } else if prev.ref_count() == 1 {
            Notify::Dealloc
        } else {
            Notify::Nothing
        }
    }

    /// An abort: sets `ABORTED` and, as a wake-up by reference, schedules
    /// the task (`Submit`, with a new reference) unless it is queued or
    /// running (then the run that comes, or the end of the current one,
    /// sees the flag). `None` if the task is complete: nothing to abort.
    /// Release: pairs with the runner's Acquire in `transition_to_running`
    /// or `transition_to_idle`.
    pub(super) fn transition_to_aborted(&self) -> Option<Notify> {
        let (prev, stored) = self.update(|s| {
            if s & COMPLETE != 0 {
                None
            } else if s & (NOTIFIED | RUNNING) != 0 {
                Some(s | ABORTED | NOTIFIED)
            } else {
                Some((s | ABORTED | NOTIFIED) + REF_ONE)
            }
        });
        if !stored {
            None
        } else if prev.0 & (NOTIFIED | RUNNING) == 0 {
            Some(Notify::Submit)
        } else {
            Some(Notify::Nothing)
        }
    }

    /// A new reference (a waker clone). Relaxed, as `Arc::clone`: the
    /// caller already holds a reference, which keeps the cell alive.
    pub(super) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // Far more wakers than memory can hold would wrap the count into
        // the flags: stop, as `Arc` does.
        if prev > usize::MAX / 2 {
            std::process::abort();
        }
    }

    /// Releases a reference; `true` if it was the last (the caller frees
    /// the cell). AcqRel, as `Arc`'s drop: every other holder's use of the
    /// cell happens before the free.
    pub(super) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, Ordering::AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn run_pending_then_complete() {
        let state = State::new(2);
        state.transition_to_running();
        assert_eq!(state.load().ref_count(), 2);
        assert!(state.load().is_running() && !state.load().is_notified());
        // Not woken during the poll: the runner's reference goes.
        assert_eq!(state.transition_to_idle(), Idle::Released);
        assert_eq!(state.load().ref_count(), 1);
        // A wake-up by reference makes a new `Runnable` (one reference)...
        assert_eq!(state.transition_to_notified_by_ref(), Notify::Submit);
        assert_eq!(state.load().ref_count(), 2);
        // ...and another one is a no-op while it is queued.
        assert_eq!(state.transition_to_notified_by_ref(), Notify::Nothing);
        state.transition_to_running();
        // Woken while running: only the flag; the runner reschedules.
        assert_eq!(state.transition_to_notified_by_ref(), Notify::Nothing);
        assert_eq!(state.load().ref_count(), 2);
        assert_eq!(state.transition_to_idle(), Idle::Notified);
        assert!(state.load().is_notified() && !state.load().is_running());
        state.transition_to_running();
        let (prev, released) = state.transition_to_complete(0);
        assert!(prev.is_join_interested() && !prev.is_join_waker_set());
        assert!(released, "nothing left to do: the runner's reference goes");
        let now = state.load();
        assert!(now.is_complete() && !now.is_running() && !now.is_notified());
        assert_eq!(now.ref_count(), 1);
        // Waking a complete task does nothing.
        assert_eq!(state.transition_to_notified_by_ref(), Notify::Nothing);
        // Another reference (a waker) is alive: the handle's release is an
        // RMW that clears its interest.
        state.ref_inc();
        let mut took = 0;
        let prev = state.release_join_handle(|| took += 1);
        assert_eq!((prev.ref_count(), took), (2, 1));
        assert!(!state.load().is_join_interested());
        // The last reference, the handle's: no RMW, the caller frees.
        let state = State::new(2);
        state.transition_to_running();
        assert!(state.transition_to_complete(0).1);
        let prev = state.release_join_handle(|| took += 1);
        assert_eq!((prev.ref_count(), took), (1, 2), "the last reference");
    }

    #[test]
    fn wake_by_value_hands_over_or_releases_its_reference() {
        let state = State::new(2);
        state.transition_to_running();
        assert_eq!(state.transition_to_idle(), Idle::Released);
        state.ref_inc(); // a waker
        assert_eq!(state.transition_to_notified_by_val(), Notify::Submit);
        assert_eq!(
            state.load().ref_count(),
            2,
            "the waker's became the runnable's"
        );
        state.ref_inc();
        assert_eq!(state.transition_to_notified_by_val(), Notify::Nothing);
        assert_eq!(state.load().ref_count(), 2);
        state.transition_to_running();
        state.ref_inc();
        assert_eq!(state.transition_to_notified_by_val(), Notify::Nothing);
        assert!(state.load().is_notified());
        assert!(state.transition_to_complete(0).1);
        state.ref_inc();
        assert_eq!(state.transition_to_notified_by_val(), Notify::Nothing);
        assert_eq!(state.transition_to_notified_by_val(), Notify::Dealloc);
    }

    #[test]
    fn abort_marks_and_schedules_once() {
        let state = State::new(2);
        // Queued: only marked; the run that comes sees it.
        assert_eq!(state.transition_to_aborted(), Some(Notify::Nothing));
        assert!(state.transition_to_running().is_aborted());
        // Running: marked and notified, so the runner schedules it again.
        assert_eq!(state.transition_to_aborted(), Some(Notify::Nothing));
        assert_eq!(state.transition_to_idle(), Idle::Notified);
        state.transition_to_running();
        assert_eq!(state.transition_to_idle(), Idle::Released);
        // Idle: scheduled, with a reference for its `Runnable`.
        assert_eq!(state.transition_to_aborted(), Some(Notify::Submit));
        assert_eq!(state.load().ref_count(), 2);
        assert!(state.transition_to_running().is_aborted());
        let _ = state.transition_to_complete(0);
        // Complete: nothing to abort.
        assert_eq!(state.transition_to_aborted(), None);
    }

    #[test]
    fn join_waker_and_handle_drop() {
        let state = State::new(2);
        assert!(state.set_join_waker().is_ok());
        assert!(state.load().is_join_waker_set());
        assert!(state.unset_join_waker().is_ok());
        assert!(state.set_join_waker().is_ok());
        state.transition_to_running();
        let (prev, released) = state.transition_to_complete(0);
        assert!(prev.is_join_interested() && prev.is_join_waker_set() && !released);
        // Complete: the handle can neither take the slot back nor set it.
        assert!(state.unset_join_waker().unwrap_err().is_complete());
        let prev = state.unset_waker_after_complete();
        assert!(prev.is_join_interested(), "the handle keeps the waker");
        assert!(state.set_join_waker().unwrap_err().is_complete());
        let prev = state.transition_to_join_handle_dropped();
        assert!(prev.is_complete() && !prev.is_join_waker_set());
        assert!(!state.load().is_join_interested());

        // Dropped before completion: the runner then owns the output.
        let state = State::new(2);
        assert!(state.set_join_waker().is_ok());
        let prev = state.transition_to_join_handle_dropped();
        assert!(!prev.is_complete());
        assert!(!state.load().is_join_waker_set(), "the slot went with it");
        state.transition_to_running();
        assert!(!state.transition_to_complete(0).0.is_join_interested());
    }
}
