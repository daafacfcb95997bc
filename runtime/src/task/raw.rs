//! The task cell: one allocation per task holding its state word, its
//! metadata, the future (then its output), the join waker and the
//! scheduler's schedule function; the [`Runnable`] that runs it, its raw
//! wakers, and the type-erased operations the `JoinHandle` calls.
//!
//! The shape of tokio's `runtime/task/{core,harness,raw}.rs` and
//! async-task's `raw.rs`, with this runtime's semantics folded in (what a
//! wrapper future and a thread-local did on top of async-task before):
//!
//! * panics are caught here: a panic while polling becomes the output
//!   (`Err(JoinError)`), and the destructors of the future, of an output
//!   nobody takes, and of a panic payload are contained;
//! * cancellation is a *run in cancel mode* ([`Runnable::cancel`]): the
//!   scheduler that pops an aborted task (or shuts down) drops its future
//!   in place and completes it with a cancelled `JoinError`, so the handle
//!   always gets an output, after the future is gone;
//! * a run returns whether the task completed, so the scheduler unlinks it
//!   from its runtime's task list without a thread-local;
//! * the cell says whether it is finished (`COMPLETE`), for `is_finished`.
//!
//! # Layout
//!
//! `Cell<F, S>` is `repr(C)` with the [`Header`] first, so that a pointer
//! to the header is a pointer to the cell; everything that does not know
//! `F` goes through the header's [`Vtable`] (monomorphised per task type)
//! or the one [`WAKER_VTABLE`], which only needs the header.
//!
//! # Who may touch what
//!
//! * The stage (future or output): the holder of the `Runnable` while
//!   `RUNNING`; after `COMPLETE`, the `JoinHandle` if `JOIN_INTEREST` was
//!   set at completion, else the runner; whoever frees the cell.
//! * The join-waker slot: see `JOIN_WAKER` in `state.rs`.
//! * The header's metadata: shared, immutable or atomic.

use super::join_error::JoinError;
use super::state::{Idle, Notify, State};
use super::{Output, TaskMeta};
use crate::loom::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// The part of a cell every task type shares; first in the cell.
#[repr(C)]
pub(crate) struct Header {
    pub(super) state: State,
    vtable: &'static Vtable,
    pub(super) meta: TaskMeta,
}

impl Header {
    /// Whether the task has produced its output (completed, panicked or
    /// been cancelled).
    #[inline]
    pub(super) fn is_complete(&self) -> bool {
        self.state.load().is_complete()
    }
}

/// The operations on a cell that need its future's type. Each takes a
/// pointer to the header of a live cell of that type.
struct Vtable {
    /// Runs the task (polls, or cancels when the flag is set), consuming
    /// the `Runnable`'s reference; returns whether it completed.
    run: unsafe fn(NonNull<Header>, bool) -> bool,
    /// Hands a `Runnable` (one reference, `NOTIFIED` set) to the schedule
    /// function.
    schedule: unsafe fn(NonNull<Header>),
    /// For `JoinHandle::poll`: writes `Poll::Ready(output)` to the
    /// `*mut Poll<Output<T>>` if the task is complete, else registers the
    /// waker.
    try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// For `JoinHandle::drop`: gives up the output, and the handle's
    /// reference.
    drop_join_handle: unsafe fn(NonNull<Header>),
    /// Frees the cell (the reference count reached 0).
    dealloc: unsafe fn(NonNull<Header>),
}

/// What the cell holds in place of the future as the task goes on.
enum Stage<F: Future> {
    Running(F),
    Finished(Output<F::Output>),
    Consumed,
}

/// The whole allocation of a task running future `F` and scheduled by
/// `S`.
#[repr(C)]
struct Cell<F: Future, S> {
    header: Header,
    /// The future, pinned here for the task's whole life (dropped in
    /// place), then the output.
    stage: UnsafeCell<Stage<F>>,
    /// The waker of whoever awaits the `JoinHandle` (see `JOIN_WAKER`).
    join_waker: UnsafeCell<Option<Waker>>,
    /// The scheduler's schedule function (zero-sized in practice).
    schedule: S,
}

impl<F, S> Cell<F, S>
where
    F: Future,
    S: Fn(Runnable),
{
    const VTABLE: Vtable = Vtable {
        run: run::<F, S>,
        schedule: schedule::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
        dealloc: dealloc::<F, S>,
    };

    /// # Safety
    ///
    /// `ptr` must point to the header of a live `Cell<F, S>`.
    unsafe fn from_header<'a>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
        // SAFETY: the header is the cell's first field (`repr(C)`), and the
        // caller guarantees the cell's type and that it is alive.
        unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
    }

    /// Drops what the stage holds, in place, containing a panic of its
    /// destructor, and leaves it `next`.
    ///
    /// # Safety
    ///
    /// The caller must own the stage (see the module docs).
    unsafe fn replace_stage(&self, next: Stage<F>) {
        self.stage.with_mut(|stage| {
            // SAFETY: we own the stage; the future is dropped in place (it
            // is pinned), and the slot is written afresh whether or not the
            // destructor panicked (its drop glue still drops every field on
            // the way out, so nothing is dropped twice).
            unsafe {
                let _ = catch_unwind(AssertUnwindSafe(|| ptr::drop_in_place(stage)));
                ptr::write(stage, next);
            }
        });
    }
}

/// Allocates a task cell for `future` with metadata `meta`, scheduled by
/// `schedule`, holding `refs` references (the first `Runnable`, the
/// `JoinHandle`, and any wakers the caller makes with [`waker_of`]).
/// Returns its header.
pub(super) fn allocate<F, S>(future: F, meta: TaskMeta, schedule: S, refs: usize) -> NonNull<Header>
where
    F: Future,
    S: Fn(Runnable),
{
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(refs),
            vtable: &Cell::<F, S>::VTABLE,
            meta,
        },
        stage: UnsafeCell::new(Stage::Running(future)),
        join_waker: UnsafeCell::new(None),
        schedule,
    });
    NonNull::from(Box::leak(cell)).cast::<Header>()
}

/// A waker of the task at `ptr` that owns one of its references (counted
/// by the caller, as in [`allocate`]'s `refs`).
///
/// # Safety
///
/// `ptr` must point to a live cell, and the caller must hand over one of
/// its references.
pub(super) unsafe fn waker_of(ptr: NonNull<Header>) -> Waker {
    // SAFETY: `WAKER_VTABLE`'s functions take a pointer to a live header
    // holding one reference, which the caller hands over.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr() as *const (), &WAKER_VTABLE)) }
}

/// The wakers of every task: they only need the header.
static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_by_val, wake_by_ref, drop_waker);

/// # Safety (for the four waker functions)
///
/// `ptr` is the data pointer of a waker made by [`waker_of`] (or the
/// borrowed one of a poll): a live header on which the waker holds a
/// reference.
unsafe fn header<'a>(ptr: *const ()) -> &'a Header {
    // SAFETY: see above; the waker's reference keeps the cell alive.
    unsafe { &*(ptr as *const Header) }
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: the caller's waker holds a reference (see `header`).
    unsafe { header(ptr) }.state.ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: see `header`; its reference is ours to use until the
    // transition hands it over or releases it.
    let header = unsafe { header(ptr) };
    let vtable = header.vtable;
    let ptr = NonNull::from(header);
    match header.state.transition_to_notified_by_val() {
        // SAFETY: the waker's reference now belongs to the new `Runnable`.
        Notify::Submit => unsafe { (vtable.schedule)(ptr) },
        Notify::Nothing => {}
        // SAFETY: we released the last reference: nobody else can reach
        // the cell.
        Notify::Dealloc => unsafe { (vtable.dealloc)(ptr) },
    }
}

unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: see `header`.
    let header = unsafe { header(ptr) };
    if header.state.transition_to_notified_by_ref() == Notify::Submit {
        // SAFETY: the transition took a new reference for the `Runnable`.
        unsafe { (header.vtable.schedule)(NonNull::from(header)) }
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: see `header`.
    let header = unsafe { header(ptr) };
    if header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (header.vtable.dealloc)(NonNull::from(header)) }
    }
}

/// A scheduled task, ready to be run: one pointer, holding a reference
/// and the task's `NOTIFIED` token (at most one exists per task).
///
/// Running it ([`run`](Runnable::run) or [`cancel`](Runnable::cancel))
/// consumes it. Dropping it unrun cancels the task if this is the task's
/// thread (a local task found elsewhere is leaked rather than dropped on
/// the wrong thread); the schedulers never do either, they run, cancel or
/// (for a stranded local task) forget it explicitly.
pub(crate) struct Runnable {
    ptr: NonNull<Header>,
}

// SAFETY: a `Runnable` moves between threads through the run queues, also
// for a local task (a `!Send` future): the schedulers run or drop a local
// task only on its own thread (`TaskMeta::is_on_its_thread`, checked in
// `run` and in `Drop`); the header it exposes is `Sync`.
unsafe impl Send for Runnable {}
// SAFETY: `&Runnable` only gives access to the header's metadata, which is
// `Sync`.
unsafe impl Sync for Runnable {}

impl Runnable {
    /// # Safety
    ///
    /// The caller hands over a reference and the `NOTIFIED` token of the
    /// live task at `ptr`.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> Runnable {
        Runnable { ptr }
    }

    fn header(&self) -> &Header {
        // SAFETY: a `Runnable` holds a reference: the cell is alive.
        unsafe { self.ptr.as_ref() }
    }

    /// The task's metadata.
    #[inline]
    pub(crate) fn metadata(&self) -> &TaskMeta {
        &self.header().meta
    }

    /// Polls the task once. Returns whether it completed (its output is
    /// stored, its future dropped).
    ///
    /// # Panics
    ///
    /// Panics if this is not the task's thread (a local task).
    #[inline]
    pub(crate) fn run(self) -> bool {
        self.run_inner(false)
    }

    /// Cancels the task instead of polling it: its future is dropped in
    /// place and its output is a cancelled [`JoinError`]. Returns `true`
    /// (it completed).
    pub(crate) fn cancel(self) -> bool {
        self.run_inner(true)
    }

    #[inline]
    fn run_inner(self, cancel: bool) -> bool {
        assert!(
            self.metadata().is_on_its_thread(),
            "a local task was run on another thread than its own"
        );
        let this = ManuallyDrop::new(self);
        // SAFETY: the `Runnable` (its reference and token) goes to `run`.
        unsafe { (this.header().vtable.run)(this.ptr, cancel) }
    }

    /// Hands this `Runnable` to its scheduler's schedule function.
    #[cfg(test)]
    pub(crate) fn schedule(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: the `Runnable` (its reference and token) goes to
        // `schedule`.
        unsafe { (this.header().vtable.schedule)(this.ptr) }
    }
}

impl Drop for Runnable {
    fn drop(&mut self) {
        if self.metadata().is_on_its_thread() {
            let runnable = Runnable { ptr: self.ptr };
            runnable.cancel();
        }
        // Else leaked, with its reference: the future cannot be dropped on
        // this thread.
    }
}

impl std::fmt::Debug for Runnable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runnable")
            .field("id", &self.metadata().id())
            .field("state", &self.header().state)
            .finish()
    }
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`, and the caller hands over a `Runnable`.
unsafe fn run<F: Future, S: Fn(Runnable)>(ptr: NonNull<Header>, cancel: bool) -> bool {
    // SAFETY: the `Runnable`'s reference keeps the cell alive.
    let cell = unsafe { Cell::<F, S>::from_header(ptr) };
    cell.header.state.transition_to_running();
    let output = if cancel {
        Err(JoinError::cancelled())
    } else {
        // The `Runnable`'s reference backs this borrowed waker; a clone
        // takes one of its own.
        // SAFETY: as `waker_of`, without handing a reference over: the
        // `ManuallyDrop` never releases it.
        let waker = ManuallyDrop::new(unsafe { waker_of(ptr) });
        let mut cx = Context::from_waker(&waker);
        let poll = cell.stage.with_mut(|stage| {
            // SAFETY: we are RUNNING: the stage is ours.
            let Stage::Running(future) = (unsafe { &mut *stage }) else {
                unreachable!("a task was run after it completed")
            };
            // SAFETY: the future never moves out of the cell: it is
            // dropped in place (`replace_stage`, `dealloc`).
            let future = unsafe { Pin::new_unchecked(future) };
            catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx)))
        });
        match poll {
            Ok(Poll::Pending) => {
                match cell.header.state.transition_to_idle() {
                    // SAFETY: the runner's reference and the token go to
                    // the new `Runnable`.
                    Idle::Notified => (cell.schedule)(unsafe { Runnable::from_raw(ptr) }),
                    Idle::Released => {}
                    // SAFETY: we released the last reference.
                    Idle::Dealloc => unsafe { dealloc::<F, S>(ptr) },
                }
                return false;
            }
            Ok(Poll::Ready(output)) => Ok(output),
            Err(payload) => Err(JoinError::panic(payload)),
        }
    };
    // SAFETY: still RUNNING: the stage is ours. The future is dropped
    // before the handle can see the output.
    unsafe { cell.replace_stage(Stage::Finished(output)) };
    let prev = cell.header.state.transition_to_complete();
    if !prev.is_join_interested() {
        // Nobody will take the output: it is ours to drop.
        // SAFETY: the handle is gone; the stage is the runner's.
        unsafe { cell.replace_stage(Stage::Consumed) };
    } else if prev.is_join_waker_set() {
        cell.join_waker.with(|slot| {
            // SAFETY: JOIN_WAKER is set: the slot is ours to read until we
            // clear the flag, and the handle wrote it before setting it.
            if let Some(waker) = unsafe { &*slot } {
                waker.wake_by_ref();
            }
        });
        if !cell
            .header
            .state
            .unset_waker_after_complete()
            .is_join_interested()
        {
            // The handle was dropped meanwhile and left the waker to us.
            // SAFETY: JOIN_INTEREST is clear and so is JOIN_WAKER now:
            // nobody else touches the slot.
            let waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
            drop(waker);
        }
    }
    if cell.header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
    true
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`, and the caller hands over a `Runnable`.
unsafe fn schedule<F: Future, S: Fn(Runnable)>(ptr: NonNull<Header>) {
    // SAFETY: the `Runnable`'s reference keeps the cell alive; the schedule
    // function is not moved out (it is only called by reference).
    let cell = unsafe { Cell::<F, S>::from_header(ptr) };
    // SAFETY: the caller hands the `Runnable` over.
    (cell.schedule)(unsafe { Runnable::from_raw(ptr) });
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>` whose `JoinHandle` calls this, and `dst`
/// points to a `Poll<Output<F::Output>>`.
unsafe fn try_read_output<F: Future, S: Fn(Runnable)>(
    ptr: NonNull<Header>,
    dst: *mut (),
    waker: &Waker,
) {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { Cell::<F, S>::from_header(ptr) };
    if !can_read_output(&cell.header.state, &cell.join_waker, waker) {
        return;
    }
    // SAFETY: COMPLETE with JOIN_INTEREST (the handle exists): the stage
    // is the handle's, and the Acquire load that saw COMPLETE makes the
    // output visible.
    let stage = cell
        .stage
        .with_mut(|stage| unsafe { ptr::replace(stage, Stage::Consumed) });
    let Stage::Finished(output) = stage else {
        unreachable!("a JoinHandle took its task's output twice")
    };
    // SAFETY: the caller passes a `Poll<Output<F::Output>>`.
    unsafe { *dst.cast::<Poll<Output<F::Output>>>() = Poll::Ready(output) };
}

/// The handle's side of the join-waker protocol: `true` if the task is
/// complete (the output can be read), else the handle's `waker` is
/// registered to be woken at completion.
fn can_read_output(state: &State, slot: &UnsafeCell<Option<Waker>>, waker: &Waker) -> bool {
    let snapshot = state.load();
    if snapshot.is_complete() {
        return true;
    }
    let registered = if snapshot.is_join_waker_set() {
        let same = slot.with(|slot| {
            // SAFETY: JOIN_WAKER is set: the runner may only read the slot
            // (at completion), and only the handle writes it; a shared
            // read here is fine.
            unsafe { &*slot }
                .as_ref()
                .is_some_and(|w| w.will_wake(waker))
        });
        if same {
            return false;
        }
        state
            .unset_join_waker()
            .and_then(|_| set_join_waker(state, slot, waker))
    } else {
        set_join_waker(state, slot, waker)
    };
    match registered {
        Ok(_) => false,
        Err(snapshot) => {
            debug_assert!(snapshot.is_complete());
            true
        }
    }
}

/// Stores `waker` in the slot and publishes it (`JOIN_WAKER`); if the task
/// completed meanwhile, takes it back out and returns `Err`.
fn set_join_waker(
    state: &State,
    slot: &UnsafeCell<Option<Waker>>,
    waker: &Waker,
) -> Result<(), crate::task::state::Snapshot> {
    let old = slot.with_mut(|slot| {
        // SAFETY: JOIN_WAKER is clear: the slot is the handle's.
        unsafe { (*slot).replace(waker.clone()) }
    });
    drop(old);
    match state.set_join_waker() {
        Ok(_) => Ok(()),
        Err(snapshot) => {
            // SAFETY: the flag was not set: the slot is still the handle's.
            let ours = slot.with_mut(|slot| unsafe { (*slot).take() });
            drop(ours);
            Err(snapshot)
        }
    }
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`, and its `JoinHandle` hands over its
/// reference.
unsafe fn drop_join_handle<F: Future, S: Fn(Runnable)>(ptr: NonNull<Header>) {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { Cell::<F, S>::from_header(ptr) };
    let prev = cell.header.state.transition_to_join_handle_dropped();
    if prev.is_complete() {
        // The output (if the handle did not take it) was ours: dropped
        // here, containing a panic of its destructor.
        // SAFETY: COMPLETE with JOIN_INTEREST until our transition: the
        // stage is the handle's.
        unsafe { cell.replace_stage(Stage::Consumed) };
    }
    if !prev.is_complete() || !prev.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is clear (we cleared it, or the runner had):
        // the slot is ours. If it is set on a complete task, the runner is
        // waking it and drops it when it sees JOIN_INTEREST gone.
        let waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
        drop(waker);
    }
    if cell.header.state.ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
}

/// # Safety
///
/// `ptr` is a `Cell<F, S>` whose last reference was just released.
unsafe fn dealloc<F: Future, S: Fn(Runnable)>(ptr: NonNull<Header>) {
    // SAFETY: no reference is left: we own the allocation `allocate` made.
    let cell = unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) };
    // SAFETY: as above, nobody else can touch the stage.
    let live = cell
        .stage
        .with(|stage| matches!(unsafe { &*stage }, Stage::Running(_)));
    if live && !cell.header.meta.is_on_its_thread() {
        // A local task's future, unreachable now, on another thread: it
        // can be neither polled nor dropped here. Leaked.
        std::mem::forget(cell);
        return;
    }
    // A destructor that panics (the future's, if the task never completed)
    // must not unwind into a waker's drop.
    let _ = catch_unwind(AssertUnwindSafe(move || drop(cell)));
}

/// The type-erased `JoinHandle` side of a cell: what `JoinHandle<T>` holds.
pub(super) struct RawTask {
    ptr: NonNull<Header>,
}

impl RawTask {
    /// # Safety
    ///
    /// The caller hands over the `JoinHandle`'s reference of the live task
    /// at `ptr` (its `JOIN_INTEREST`).
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> RawTask {
        RawTask { ptr }
    }

    pub(super) fn header(&self) -> &Header {
        // SAFETY: the handle's reference keeps the cell alive.
        unsafe { self.ptr.as_ref() }
    }

    /// See `Vtable::try_read_output`.
    ///
    /// # Safety
    ///
    /// `dst` must point to a `Poll<Output<T>>` where `T` is the task's
    /// output type.
    pub(super) unsafe fn try_read_output(&self, dst: *mut (), waker: &Waker) {
        // SAFETY: the cell is alive; the caller vouches for `dst`.
        unsafe { (self.header().vtable.try_read_output)(self.ptr, dst, waker) }
    }
}

impl Drop for RawTask {
    fn drop(&mut self) {
        // SAFETY: the handle's reference goes to `drop_join_handle`.
        unsafe { (self.header().vtable.drop_join_handle)(self.ptr) }
    }
}
