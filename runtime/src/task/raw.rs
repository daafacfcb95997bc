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
use super::{Output, OwnedTasks, TaskMeta};
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
    /// The task's metadata, its state word first.
    pub(super) meta: TaskMeta,
    vtable: &'static Vtable,
}

impl Header {
    /// The cell's state word.
    #[inline]
    fn state(&self) -> &State {
        &self.meta.state
    }

    /// Whether the task has produced its output (completed, panicked or
    /// been cancelled).
    #[inline]
    pub(super) fn is_complete(&self) -> bool {
        self.state().load().is_complete()
    }
}

/// The operations on a cell that need its future's type. Each takes a
/// pointer to the header of a live cell of that type.
struct Vtable {
    /// Runs the task (polls, or cancels when the flag is set), consuming
    /// the `Runnable`'s reference; returns whether it completed. A task
    /// that completes is unlinked from the list given, if it is linked
    /// there (see `Runnable::run`).
    run: unsafe fn(NonNull<Header>, bool, Option<&OwnedTasks>) -> bool,
    /// Hands a `Runnable` (one reference, `NOTIFIED` set) to the schedule
    /// function.
    schedule: unsafe fn(NonNull<Header>),
    /// For `JoinHandle::poll`: writes `Poll::Ready(output)` to the
    /// `*mut Poll<Output<T>>` if the task is complete, and then releases
    /// the handle's interest and reference (the handle must forget its
    /// `RawTask`) and returns the join waker it had registered, for the
    /// handle to drop once it has forgotten its `RawTask` (a destructor
    /// that panics must not leave the released reference in the handle);
    /// else registers the waker and returns `None`.
    try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker) -> Option<Waker>,
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
///
/// `schedule` must be zero-sized (a plain function, or a closure that
/// captures nothing; every scheduler passes its `schedule_task` function
/// item), checked at compile time: a wake-up by value hands its reference
/// to the new `Runnable` and then calls `schedule` through a `&S` inside
/// the cell, and the `Runnable` may run, complete and free the cell
/// before that call returns (inline, or on the thread that takes it). A
/// zero-sized `S` reads no byte of the cell, so the dangling `&S` is
/// harmless; one with state would be read after the free.
pub(super) fn allocate<F, S>(
    future: F,
    mut meta: TaskMeta,
    schedule: S,
    refs: usize,
) -> NonNull<Header>
where
    F: Future,
    S: Fn(Runnable),
{
    const {
        assert!(
            std::mem::size_of::<S>() == 0,
            "a task's schedule function must be zero-sized (see `allocate`)"
        )
    };
    meta.state = State::new(refs);
    let cell = Box::new(Cell {
        header: Header {
            meta,
            vtable: &Cell::<F, S>::VTABLE,
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

/// The waker's pointer as the vtables take it. Made from `ptr`, not from
/// a `&Header`: it keeps the provenance of the whole cell (which
/// `dealloc` and the stage accesses need), not only of the header.
fn cell_ptr(ptr: *const ()) -> NonNull<Header> {
    // A waker's data pointer is never null (`waker_of`).
    NonNull::new(ptr as *mut Header).expect("a task waker's pointer is not null")
}

unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: the caller's waker holds a reference (see `header`).
    unsafe { header(ptr) }.state().ref_inc();
    RawWaker::new(ptr, &WAKER_VTABLE)
}

unsafe fn wake_by_val(ptr: *const ()) {
    // SAFETY: see `header`; its reference is ours to use until the
    // transition hands it over or releases it.
    let header = unsafe { header(ptr) };
    let vtable = header.vtable;
    let ptr = cell_ptr(ptr);
    match header.state().transition_to_notified_by_val() {
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
    if header.state().transition_to_notified_by_ref() == Notify::Submit {
        // SAFETY: the transition took a new reference for the `Runnable`.
        unsafe { (header.vtable.schedule)(cell_ptr(ptr)) }
    }
}

unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: see `header`.
    let header = unsafe { header(ptr) };
    if header.state().ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { (header.vtable.dealloc)(cell_ptr(ptr)) }
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

    /// The task's header, with the provenance of the whole cell.
    #[inline]
    pub(super) fn header_ptr(&self) -> NonNull<Header> {
        self.ptr
    }

    /// The task's metadata.
    #[inline]
    pub(crate) fn metadata(&self) -> &TaskMeta {
        &self.header().meta
    }

    /// Polls the task once (or cancels it, if it was aborted). Returns
    /// whether it completed (its output is stored, its future dropped).
    ///
    /// A task that completes is unlinked from `list` (its runtime's task
    /// list) on the way, if it is linked there: the list's reference to it
    /// is then released in the same atomic step as the runner's, in the
    /// transition to complete.
    ///
    /// # Panics
    ///
    /// Panics if this is not the task's thread (a local task).
    #[inline]
    pub(crate) fn run(self, list: Option<&OwnedTasks>) -> bool {
        self.run_inner(false, list)
    }

    /// Cancels the task instead of polling it: its future is dropped in
    /// place and its output is a cancelled [`JoinError`]; it is unlinked
    /// from `list` as in [`run`](Runnable::run). Returns `true` (it
    /// completed).
    pub(crate) fn cancel(self, list: Option<&OwnedTasks>) -> bool {
        self.run_inner(true, list)
    }

    #[inline]
    fn run_inner(self, cancel: bool, list: Option<&OwnedTasks>) -> bool {
        assert!(
            self.metadata().is_on_its_thread(),
            "a local task was run on another thread than its own"
        );
        let this = ManuallyDrop::new(self);
        // SAFETY: the `Runnable` (its reference and token) goes to `run`.
        unsafe { (this.header().vtable.run)(this.ptr, cancel, list) }
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
            // Our own count of the scheduler: the cancel may free the
            // cell, and with it the cell's `Arc`, while the list is
            // borrowed from it.
            let scheduler = std::sync::Arc::clone(self.metadata().scheduler());
            runnable.cancel(Some(scheduler.tasks()));
        }
        // Else leaked, with its reference: the future cannot be dropped on
        // this thread.
    }
}

impl std::fmt::Debug for Runnable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runnable")
            .field("id", &self.metadata().id())
            .field("state", &self.header().state())
            .finish()
    }
}

/// # Safety
///
/// `ptr` is a live `Cell<F, S>`, and the caller hands over a `Runnable`.
unsafe fn run<F: Future, S: Fn(Runnable)>(
    ptr: NonNull<Header>,
    cancel: bool,
    list: Option<&OwnedTasks>,
) -> bool {
    // SAFETY: the `Runnable`'s reference keeps the cell alive.
    let cell = unsafe { Cell::<F, S>::from_header(ptr) };
    // A task is only ever linked into its own scheduler's list: unlinking
    // it from another would corrupt both.
    debug_assert!(
        list.is_none_or(|list| ptr::eq(list, cell.header.meta.scheduler().tasks())),
        "a task run with the list of another scheduler"
    );
    let aborted = cell.header.state().transition_to_running().is_aborted();
    let output = if cancel || aborted {
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
                match cell.header.state().transition_to_idle() {
                    // SAFETY: the runner's reference and the token go to
                    // the new `Runnable` (which may free the cell during
                    // the call: `S` is zero-sized, see `allocate`).
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
    // Out of the task list before the task is seen complete: the list's
    // reference, if it held one, is ours now, released below with the
    // transition.
    // SAFETY: our reference keeps the task alive.
    let list_ref =
        list.is_some_and(|list| unsafe { list.unlink_keep_ref(ptr, cell.header.meta.id()) });
    let (prev, released) = cell
        .header
        .state()
        .transition_to_complete(usize::from(list_ref));
    if released {
        // The handle will take the output; our reference went with the
        // transition. The cell may be gone already: not touched again.
        return true;
    }
    if !prev.is_join_interested() {
        // Nobody will take the output: it is ours to drop.
        // SAFETY: the handle is gone; the stage is the runner's.
        unsafe { cell.replace_stage(Stage::Consumed) };
    } else if prev.is_join_waker_set() {
        // A join waker is user code: a panic of its `wake_by_ref` is
        // contained here, so the flag below is still cleared and the
        // runner's reference still released (the runner never panics
        // because of the task).
        cell.join_waker.with(|slot| {
            // SAFETY: JOIN_WAKER is set: the slot is ours to read until we
            // clear the flag, and the handle wrote it before setting it.
            if let Some(waker) = unsafe { &*slot } {
                let _ = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref()));
            }
        });
        if !cell
            .header
            .state()
            .unset_waker_after_complete()
            .is_join_interested()
        {
            // The handle was dropped meanwhile and left the waker to us.
            // SAFETY: JOIN_INTEREST is clear and so is JOIN_WAKER now:
            // nobody else touches the slot.
            let waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
            // Its destructor is user code too: contained likewise.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(waker)));
        }
    }
    if cell.header.state().ref_dec() {
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
    // SAFETY: the caller hands the `Runnable` over. It may free the cell
    // before `schedule` returns: `S` is zero-sized (see `allocate`), so the
    // `&S` the call borrows covers no byte of the cell.
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
) -> Option<Waker> {
    // SAFETY: the handle's reference keeps the cell alive.
    let cell = unsafe { Cell::<F, S>::from_header(ptr) };
    if !can_read_output(cell.header.state(), &cell.join_waker, waker) {
        return None;
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
    // Written without dropping what `dst` held (a `Pending`: nothing).
    unsafe { ptr::write(dst.cast::<Poll<Output<F::Output>>>(), Poll::Ready(output)) };
    // The handle is done with the task: one step releases it.
    let mut waker = None;
    let prev = cell.header.state().release_join_handle(|| {
        // SAFETY: JOIN_WAKER is clear on a complete task: the slot is
        // the handle's (see `release_join_handle`).
        waker = cell.join_waker.with_mut(|slot| unsafe { (*slot).take() });
    });
    if prev.ref_count() == 1 {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
    // Dropped by the caller once the handle has forgotten its `RawTask`:
    // a panicking drop must not leave the released reference in place.
    waker
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
    let prev = cell.header.state().transition_to_join_handle_dropped();
    if prev.is_complete() {
        // The output (if the handle did not take it) was ours: dropped
        // here, containing a panic of its destructor.
        // SAFETY: COMPLETE with JOIN_INTEREST until our transition: the
        // stage is the handle's.
        unsafe { cell.replace_stage(Stage::Consumed) };
    }
    let waker = if !prev.is_complete() || !prev.is_join_waker_set() {
        // SAFETY: JOIN_WAKER is clear (we cleared it, or the runner had):
        // the slot is ours. If it is set on a complete task, the runner is
        // waking it and drops it when it sees JOIN_INTEREST gone.
        cell.join_waker.with_mut(|slot| unsafe { (*slot).take() })
    } else {
        None
    };
    if cell.header.state().ref_dec() {
        // SAFETY: that was the last reference.
        unsafe { dealloc::<F, S>(ptr) };
    }
    // Dropped last, once the reference is released: a panicking
    // destructor cannot leave the release half done.
    drop(waker);
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

/// Aborts the task at `ptr`: sets its abort flags and gets it scheduled if
/// it is idle (see `State::transition_to_aborted`), then tells its
/// scheduler (`Schedule::note_abort`), which moves it to the front of its
/// run queue. A no-op on a complete task. Never cancels inline: the
/// scheduler's next run of the task does.
///
/// # Safety
///
/// The caller holds a reference to the live task at `ptr`.
unsafe fn abort(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the cell alive.
    let header = unsafe { ptr.as_ref() };
    match header.state().transition_to_aborted() {
        None => return,
        // SAFETY: the transition took a reference for the `Runnable`.
        Some(Notify::Submit) => unsafe { (header.vtable.schedule)(ptr) },
        Some(_) => {}
    }
    header.meta.scheduler().note_abort(&header.meta);
}

/// A counted reference to a task's cell that neither wakes it nor owns its
/// output: what an `AbortHandle` holds.
pub(super) struct TaskRef {
    ptr: NonNull<Header>,
}

// SAFETY: a `TaskRef` only reads the header, which is `Sync`; releasing the
// last reference frees the cell, which `dealloc` makes safe on any thread
// (a local task's live future is leaked there, not dropped; by then the
// output is consumed).
unsafe impl Send for TaskRef {}
// SAFETY: as for `Send`: `&TaskRef` only reads the header.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    pub(super) fn header(&self) -> &Header {
        // SAFETY: our reference keeps the cell alive.
        unsafe { self.ptr.as_ref() }
    }

    /// See [`abort`].
    pub(super) fn abort(&self) {
        // SAFETY: we hold a reference.
        unsafe { abort(self.ptr) }
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> Self {
        self.header().state().ref_inc();
        TaskRef { ptr: self.ptr }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.header().state().ref_dec() {
            // SAFETY: that was the last reference.
            unsafe { (self.header().vtable.dealloc)(self.ptr) }
        }
    }
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

    /// See [`abort`].
    pub(super) fn abort(&self) {
        // SAFETY: the handle holds a reference.
        unsafe { abort(self.ptr) }
    }

    /// A new counted reference to the task, for an `AbortHandle`.
    pub(super) fn task_ref(&self) -> TaskRef {
        self.header().state().ref_inc();
        TaskRef { ptr: self.ptr }
    }

    /// See `Vtable::try_read_output`: if it writes `Ready`, this handle's
    /// reference is gone and the caller must forget `self`, and only then
    /// drop the returned waker.
    ///
    /// # Safety
    ///
    /// `dst` must point to a `Poll<Output<T>>` where `T` is the task's
    /// output type.
    pub(super) unsafe fn try_read_output(&self, dst: *mut (), waker: &Waker) -> Option<Waker> {
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

/// Loom models of the cell's races (`LOOM_MAX_PREEMPTIONS=2
/// RUSTFLAGS="--cfg loom" cargo test -p runtime --lib --release
/// loom_models`). Each task is made with `spawn_unlisted` on a test
/// scheduler whose queue the model drains by hand, and its schedule
/// function counts, when the cell is freed, that it is freed exactly once.
#[cfg(all(test, loom))]
mod loom_models {
    use super::Runnable;
    use crate::loom::{thread, AtomicBool, AtomicUsize, Mutex, Ordering};
    use crate::metrics::Metrics;
    use crate::task::{self, JoinHandle, OwnedTasks, Schedule, TaskMeta};
    use std::collections::VecDeque;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    /// A scheduler that only queues.
    struct TestScheduler {
        tasks: OwnedTasks,
        metrics: Metrics,
        queue: Mutex<VecDeque<Runnable>>,
    }

    impl std::fmt::Debug for TestScheduler {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("TestScheduler")
        }
    }

    impl Schedule for TestScheduler {
        fn tasks(&self) -> &OwnedTasks {
            &self.tasks
        }
        fn metrics(&self) -> &Metrics {
            &self.metrics
        }
        fn schedule_remote_task(&self, runnable: Runnable) {
            self.queue.lock().push_back(runnable);
        }
        fn note_abort(&self, _meta: &TaskMeta) {}
    }

    impl TestScheduler {
        fn new() -> Arc<TestScheduler> {
            Arc::new(TestScheduler {
                tasks: OwnedTasks::new(),
                metrics: Metrics::new(1),
                queue: Mutex::new(VecDeque::new()),
            })
        }

        /// Runs (or, if aborted, cancels) every queued task; returns how
        /// many runs completed a task.
        fn drain(&self) -> usize {
            let mut completed = 0;
            loop {
                let Some(runnable) = self.queue.lock().pop_front() else {
                    return completed;
                };
                let done = if runnable.metadata().is_aborted() {
                    runnable.cancel(None)
                } else {
                    runnable.run(None)
                };
                completed += usize::from(done);
            }
        }
    }

    impl TestScheduler {
        /// Runs every queued task of the runtime's list as the schedulers
        /// do (`task::run`: unlinked once complete).
        fn drain_listed(&self) {
            loop {
                let Some(runnable) = self.queue.lock().pop_front() else {
                    return;
                };
                task::run(runnable, &self.tasks, &self.metrics, 0);
            }
        }
    }

    /// Counts drops of what holds it.
    struct DropCount(Arc<AtomicUsize>);

    impl Drop for DropCount {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> Arc<AtomicUsize> {
        Arc::new(AtomicUsize::new(0))
    }

    /// One task's view of a `TestScheduler`: only the task's cell holds
    /// it, so its drop counts the frees of the cell (the schedule function
    /// must be zero-sized, see `allocate`, so it cannot hold the counter).
    #[derive(Debug)]
    struct TaskScheduler {
        inner: Arc<TestScheduler>,
        _freed: DropCount,
    }

    impl std::fmt::Debug for DropCount {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("DropCount")
        }
    }

    impl Schedule for TaskScheduler {
        fn tasks(&self) -> &OwnedTasks {
            &self.inner.tasks
        }
        fn metrics(&self) -> &Metrics {
            &self.inner.metrics
        }
        fn schedule_remote_task(&self, runnable: Runnable) {
            self.inner.schedule_remote_task(runnable);
        }
        fn note_abort(&self, meta: &TaskMeta) {
            self.inner.note_abort(meta);
        }
    }

    /// The tasks' schedule function: queues on the task's scheduler.
    fn schedule(runnable: Runnable) {
        let scheduler = std::sync::Arc::clone(runnable.metadata().scheduler());
        scheduler.schedule_remote_task(runnable);
    }

    /// A task's own view of `scheduler`, and the counter of its frees.
    fn task_scheduler(scheduler: &Arc<TestScheduler>) -> (task::Scheduler, Arc<AtomicUsize>) {
        let freed = counter();
        let dyn_scheduler: task::Scheduler = std::sync::Arc::new(TaskScheduler {
            inner: Arc::clone(scheduler),
            _freed: DropCount(Arc::clone(&freed)),
        });
        (dyn_scheduler, freed)
    }

    /// Spawns `future` on `scheduler`; its first runnable is queued. The
    /// returned counter counts the frees of the cell.
    fn spawn<F>(
        scheduler: &Arc<TestScheduler>,
        future: F,
    ) -> (JoinHandle<F::Output>, Arc<AtomicUsize>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (dyn_scheduler, freed) = task_scheduler(scheduler);
        let (runnable, handle) = task::spawn_unlisted(future, dyn_scheduler, schedule);
        scheduler.queue.lock().push_back(runnable);
        (handle, freed)
    }

    /// Like `spawn`, for a task linked into the scheduler's task list.
    fn spawn_listed<F>(
        scheduler: &Arc<TestScheduler>,
        future: F,
    ) -> (JoinHandle<F::Output>, Arc<AtomicUsize>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (dyn_scheduler, freed) = task_scheduler(scheduler);
        let (runnable, handle) = task::spawn(future, dyn_scheduler, schedule);
        scheduler
            .queue
            .lock()
            .push_back(runnable.expect("the list is open"));
        (handle, freed)
    }

    /// Pending until `ready` is set; registers its waker in `slot`.
    struct WaitFlag {
        ready: Arc<AtomicBool>,
        slot: Arc<Mutex<Option<Waker>>>,
        _drops: DropCount,
    }

    /// The flag handles the model keeps beside a `WaitFlag` future.
    type FlagHandles = (Arc<AtomicBool>, Arc<Mutex<Option<Waker>>>, Arc<AtomicUsize>);

    impl WaitFlag {
        /// A future over a fresh flag (set to `ready`), with the flag, the
        /// slot its waker is left in and its drop counter.
        fn new(ready: bool) -> (Self, FlagHandles) {
            let ready = Arc::new(AtomicBool::new(ready));
            let slot = Arc::new(Mutex::new(None::<Waker>));
            let drops = counter();
            let future = WaitFlag {
                ready: Arc::clone(&ready),
                slot: Arc::clone(&slot),
                _drops: DropCount(Arc::clone(&drops)),
            };
            (future, (ready, slot, drops))
        }
    }

    impl Future for WaitFlag {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            *self.slot.lock() = Some(cx.waker().clone());
            if self.ready.load(Ordering::SeqCst) {
                Poll::Ready(7)
            } else {
                Poll::Pending
            }
        }
    }

    /// A waker that counts its wake-ups.
    struct CountWake(AtomicUsize);

    impl Wake for CountWake {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll_once<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, task::JoinError>> {
        Pin::new(handle).poll(&mut Context::from_waker(waker))
    }

    /// A wake-up from another thread races the task's poll (before it,
    /// during it, after it) and its completion: the task is never lost
    /// (it completes once the flag is set and the queue drained), its
    /// future is dropped once, and the cell is freed once.
    #[test]
    fn wake_from_another_thread_vs_poll_vs_complete() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (future, (ready, slot, drops)) = WaitFlag::new(false);
            let (mut handle, freed) = spawn(&scheduler, future);
            let waker_thread = {
                let (ready, slot) = (Arc::clone(&ready), Arc::clone(&slot));
                thread::spawn(move || {
                    ready.store(true, Ordering::SeqCst);
                    let waker = slot.lock().take();
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                })
            };
            let mut completed = scheduler.drain();
            waker_thread.join().unwrap();
            completed += scheduler.drain();
            assert_eq!(completed, 1, "the task completed exactly once");
            assert!(handle.is_finished());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            let output = poll_once(&mut handle, Waker::noop());
            assert!(matches!(output, Poll::Ready(Ok(7))));
            drop(slot.lock().take());
            drop(handle);
            assert_eq!(freed.load(Ordering::SeqCst), 1, "the cell is freed once");
        });
    }

    /// The handle, polled once here (registering its waker: the task has
    /// not run, the poll is pending) and then dropped on another thread,
    /// races the task's completion, which wakes the registered waker: the
    /// waker is woken at most once and dropped by whichever side is last
    /// (no leak), the output is dropped exactly once, by whoever owns it;
    /// the cell is freed once. The poll comes before the thread's spawn so
    /// that the window (the drop between the completion's wake and its
    /// clearing of `JOIN_WAKER`) is reached within two preemptions.
    #[test]
    fn join_handle_drop_vs_completion() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let output_drops = counter();
            let output = DropCount(Arc::clone(&output_drops));
            let (mut handle, freed) = spawn(&scheduler, async move { output });
            let count = std::sync::Arc::new(CountWake(AtomicUsize::new(0)));
            let waker = Waker::from(std::sync::Arc::clone(&count));
            assert!(poll_once(&mut handle, &waker).is_pending());
            drop(waker);
            let joiner = thread::spawn(move || drop(handle));
            assert_eq!(scheduler.drain(), 1);
            joiner.join().unwrap();
            assert_eq!(output_drops.load(Ordering::SeqCst), 1);
            assert!(count.0.load(Ordering::SeqCst) <= 1);
            assert_eq!(
                std::sync::Arc::strong_count(&count),
                1,
                "the registered join waker is dropped"
            );
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// The handle awaits the task from another thread while it completes:
    /// a pending poll is always followed by exactly one wake-up of its
    /// waker (no lost join wake-up), after which the output is there.
    #[test]
    fn join_waker_vs_completion() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (mut handle, freed) = spawn(&scheduler, async { 5_u8 });
            let count = std::sync::Arc::new(CountWake(AtomicUsize::new(0)));
            let joiner = {
                let count = std::sync::Arc::clone(&count);
                thread::spawn(move || {
                    let waker = Waker::from(count);
                    let first = poll_once(&mut handle, &waker);
                    (first.is_ready(), handle)
                })
            };
            assert_eq!(scheduler.drain(), 1);
            let (ready, mut handle) = joiner.join().unwrap();
            if !ready {
                assert_eq!(count.0.load(Ordering::SeqCst), 1, "the joiner was woken");
                let output = poll_once(&mut handle, Waker::noop());
                assert!(matches!(output, Poll::Ready(Ok(5))));
            }
            drop(handle);
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// An abort from another thread races the task's poll: the task is
    /// cancelled (its future never completes on its own), its future is
    /// dropped once, its handle resolves to a cancelled error, and the
    /// cell is freed once.
    #[test]
    fn abort_vs_poll() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let drops = counter();
            let guard = DropCount(Arc::clone(&drops));
            let (mut handle, freed) = spawn(&scheduler, async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            let abort = handle.abort_handle();
            let aborter = thread::spawn(move || abort.abort());
            scheduler.drain();
            aborter.join().unwrap();
            scheduler.drain();
            assert!(handle.is_finished());
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            let output = poll_once(&mut handle, Waker::noop());
            assert!(matches!(output, Poll::Ready(Err(e)) if e.is_cancelled()));
            drop(handle);
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// Shutdown's walk of the task list (taking a waker of every linked
    /// task, then waking them) races the task's completion and unlink on
    /// another thread: the walk never reaches a freed cell, a wake-up of
    /// the completed task is a no-op, the list ends empty, and every
    /// reference is released (the cell freed once).
    #[test]
    fn list_walk_vs_completion_unlink() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (handle, freed) = spawn_listed(&scheduler, async { 3_u8 });
            let runner = {
                let scheduler = Arc::clone(&scheduler);
                thread::spawn(move || scheduler.drain_listed())
            };
            for waker in scheduler.tasks.wakers() {
                waker.wake();
            }
            runner.join().unwrap();
            scheduler.drain_listed();
            assert!(scheduler.tasks.is_empty());
            assert!(handle.is_finished());
            drop(handle);
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// an abort and the drop of the last `AbortHandle` on another
    /// thread race the run, a wake-up by value and the handle taking the
    /// output (its load-only fast path when it holds the last reference):
    /// the future is dropped once, the cell freed once.
    #[test]
    fn abort_handle_abort_and_drop_vs_run_wake_and_take() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (future, (ready, slot, drops)) = WaitFlag::new(false);
            let (mut handle, freed) = spawn(&scheduler, future);
            let abort = handle.abort_handle();
            let aborter = thread::spawn(move || {
                abort.abort();
                drop(abort);
            });
            scheduler.drain();
            ready.store(true, Ordering::SeqCst);
            if let Some(waker) = slot.lock().take() {
                waker.wake();
            }
            scheduler.drain();
            let output = poll_once(&mut handle, Waker::noop());
            aborter.join().unwrap();
            scheduler.drain();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            if output.is_pending() {
                assert!(matches!(
                    poll_once(&mut handle, Waker::noop()),
                    Poll::Ready(_)
                ));
            }
            drop(slot.lock().take());
            drop(handle);
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// the handle re-registers a different waker (the
    /// `unset_join_waker` + `set_join_waker` path, with the shared read of
    /// the slot) while the task completes: only the latest waker is woken,
    /// once; no race on the slot; the cell is freed once.
    #[test]
    fn join_waker_swap_vs_completion() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (mut handle, freed) = spawn(&scheduler, async { 5_u8 });
            let a = std::sync::Arc::new(CountWake(AtomicUsize::new(0)));
            let b = std::sync::Arc::new(CountWake(AtomicUsize::new(0)));
            let joiner = {
                let (a, b) = (std::sync::Arc::clone(&a), std::sync::Arc::clone(&b));
                thread::spawn(move || {
                    let (wa, wb) = (Waker::from(a), Waker::from(b));
                    if poll_once(&mut handle, &wa).is_ready() {
                        return (0, handle);
                    }
                    if poll_once(&mut handle, &wb).is_ready() {
                        return (1, handle);
                    }
                    (2, handle)
                })
            };
            assert_eq!(scheduler.drain(), 1);
            let (pending_polls, mut handle) = joiner.join().unwrap();
            let (ca, cb) = (a.0.load(Ordering::SeqCst), b.0.load(Ordering::SeqCst));
            match pending_polls {
                0 => assert_eq!((ca, cb), (0, 0)),
                1 => assert!(ca <= 1 && cb == 0),
                _ => {
                    assert_eq!((ca, cb), (0, 1));
                    assert!(poll_once(&mut handle, Waker::noop()).is_ready());
                }
            }
            drop(handle);
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// abort, a wake-up by value and the run, three ways; the
    /// JoinHandle is dropped (detached) up front, so the runner owns the
    /// output: the future is dropped once, the cell freed once.
    #[test]
    fn abort_vs_wake_vs_run_detached() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (future, (ready, slot, drops)) = WaitFlag::new(false);
            let (handle, freed) = spawn(&scheduler, future);
            let abort = handle.abort_handle();
            drop(handle);
            let aborter = thread::spawn(move || abort.abort());
            let waker_thread = {
                let (ready, slot) = (Arc::clone(&ready), Arc::clone(&slot));
                thread::spawn(move || {
                    ready.store(true, Ordering::SeqCst);
                    let waker = slot.lock().take();
                    if let Some(waker) = waker {
                        waker.wake();
                    }
                })
            };
            scheduler.drain();
            aborter.join().unwrap();
            waker_thread.join().unwrap();
            scheduler.drain();
            assert_eq!(drops.load(Ordering::SeqCst), 1);
            drop(slot.lock().take());
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }

    /// A waker the task gave away is the last reference: it is dropped
    /// (or woken by value) on another thread while the task completes and
    /// its handle is dropped here; whoever releases the last reference
    /// frees the cell, exactly once, and a wake-up after completion is a
    /// no-op.
    #[test]
    fn waker_dropped_last() {
        loom::model(|| {
            let scheduler = TestScheduler::new();
            let (future, (_ready, slot, _drops)) = WaitFlag::new(true);
            let (handle, freed) = spawn(&scheduler, future);
            assert_eq!(scheduler.drain(), 1);
            let waker = slot.lock().take().expect("the task left its waker");
            let other = thread::spawn(move || waker.wake());
            drop(handle);
            other.join().unwrap();
            assert_eq!(scheduler.drain(), 0, "a completed task is not scheduled");
            assert_eq!(freed.load(Ordering::SeqCst), 1);
        });
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The cell's paths driven by hand (no scheduler loop): small enough
    //! for miri, which checks the memory of each.
    use crate::scheduler::{current_thread, Handle};
    use crate::task::{self, JoinHandle};
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Wake, Waker};

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn count() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    fn spawn<F>(shared: &Arc<current_thread::Shared>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let schedule = current_thread::schedule_task;
        let (runnable, handle) = task::spawn(future, shared.clone(), schedule);
        runnable.expect("the runtime is open").schedule();
        handle
    }

    fn poll<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, task::JoinError>> {
        Pin::new(handle).poll(&mut Context::from_waker(waker))
    }

    /// Drops that panic: counted, and the panic goes nowhere.
    struct PanicOnDrop(Arc<AtomicUsize>);

    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("a destructor panics");
        }
    }

    /// An output nobody takes is dropped once, by the runner if the handle
    /// was dropped first (detached), by the handle's drop otherwise; a
    /// destructor that panics is contained either way.
    #[test]
    fn untaken_outputs_are_dropped_once_and_contained() {
        let shared = Arc::new(current_thread::Shared::new());
        let drops = Arc::new(AtomicUsize::new(0));
        let (d1, d2) = (Arc::clone(&drops), Arc::clone(&drops));
        let detached = spawn(&shared, async move { PanicOnDrop(d1) });
        drop(detached);
        let kept = spawn(&shared, async move { PanicOnDrop(d2) });
        shared.run_queued_for_test();
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the detached one, by the runner"
        );
        assert!(kept.is_finished());
        drop(kept);
        assert_eq!(drops.load(Ordering::SeqCst), 2, "the other, by its handle");
        Handle::CurrentThread(shared).shutdown();
    }

    /// The handle's waker: registered once per distinct waker (a second
    /// poll with the same one changes nothing, another one replaces it),
    /// woken once at completion, and only the latest one.
    #[test]
    fn the_latest_join_waker_is_woken_once() {
        let shared = Arc::new(current_thread::Shared::new());
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let task_slot = Arc::clone(&slot);
        let mut first_poll = true;
        let mut handle = spawn(
            &shared,
            std::future::poll_fn(move |cx| {
                if std::mem::take(&mut first_poll) {
                    *task_slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(9)
                }
            }),
        );
        shared.run_queued_for_test();
        let (old, old_waker) = count();
        let (new, new_waker) = count();
        assert!(poll(&mut handle, &old_waker).is_pending());
        assert!(poll(&mut handle, &old_waker).is_pending());
        assert!(poll(&mut handle, &new_waker).is_pending());
        // Woken by value from the task's own waker: runs and completes.
        slot.lock().unwrap().take().unwrap().wake();
        shared.run_queued_for_test();
        assert_eq!(old.0.load(Ordering::SeqCst), 0);
        assert_eq!(new.0.load(Ordering::SeqCst), 1);
        assert!(matches!(poll(&mut handle, &new_waker), Poll::Ready(Ok(9))));
        assert!(handle.is_finished());
        drop(handle);
        // The cell let go of every waker it held.
        assert_eq!(Arc::strong_count(&old), 2);
        assert_eq!(Arc::strong_count(&new), 2);
        Handle::CurrentThread(shared).shutdown();
    }

    /// A join waker whose last drop panics (safe code: `impl Wake` +
    /// `impl Drop`) is dropped only after the handle forgot its `RawTask`:
    /// the panic reaches the poller, and the handle's drop does not
    /// release the reference a second time (miri: no use after free of the
    /// cell the `AbortHandle` still holds).
    #[test]
    fn panicking_join_waker_drop_does_not_double_release() {
        struct Bomb;
        impl Wake for Bomb {
            fn wake(self: Arc<Self>) {}
        }
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("join waker drop");
            }
        }
        let shared = Arc::new(current_thread::Shared::new());
        let mut handle = spawn(&shared, async { 1_u8 });
        let abort = handle.abort_handle(); // a second reference: the slow path
        {
            let bomb = Waker::from(Arc::new(Bomb));
            assert!(poll(&mut handle, &bomb).is_pending());
            drop(bomb); // the slot's clone is now the last `Arc<Bomb>`
        }
        shared.run_queued_for_test();
        assert!(handle.is_finished());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            poll(&mut handle, Waker::noop())
        }));
        assert!(r.is_err(), "the join waker's panic reaches its poller");
        drop(handle); // released already: must not release again
        assert!(abort.is_finished()); // use after free if the cell was freed
        drop(abort);
        Handle::CurrentThread(shared).shutdown();
    }

    /// A join waker whose wake panics is contained by the runner
    /// (`task::run` never panics because of the task), which still clears
    /// the flag and releases its reference (miri: no leak).
    #[test]
    fn panicking_join_waker_wake_is_contained_by_the_runner() {
        struct Bomb;
        impl Wake for Bomb {
            fn wake(self: Arc<Self>) {
                panic!("join waker wake");
            }
        }
        let shared = Arc::new(current_thread::Shared::new());
        let mut handle = spawn(&shared, async { 1_u8 });
        let bomb = Waker::from(Arc::new(Bomb));
        assert!(poll(&mut handle, &bomb).is_pending());
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            shared.run_queued_for_test()
        }));
        assert!(ran.is_ok(), "the join waker's panic escaped the runner");
        drop(handle);
        Handle::CurrentThread(shared).shutdown();
    }

    /// A schedule function that runs the task inline, woken by value
    /// through the task's last waker: the task completes and its cell is
    /// freed during the call to the schedule function, which lives in that
    /// cell; zero-sized (enforced by `allocate`), it reads nothing of it
    /// (miri: no use after free, no leak).
    #[test]
    fn schedule_fn_is_not_freed_during_its_call() {
        let shared = Arc::new(current_thread::Shared::new());
        let slot = Arc::new(Mutex::new(None::<Waker>));
        let task_slot = Arc::clone(&slot);
        let polls = Arc::new(AtomicUsize::new(0));
        let task_polls = Arc::clone(&polls);
        let schedule = |runnable: super::Runnable| {
            assert!(runnable.run(None), "the second run completes the task");
        };
        let (runnable, handle) = task::spawn_unlisted(
            std::future::poll_fn(move |cx| {
                if task_polls.fetch_add(1, Ordering::SeqCst) == 0 {
                    *task_slot.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }),
            shared.clone(),
            schedule,
        );
        drop(handle);
        assert!(!runnable.run(None));
        let waker = slot.lock().unwrap().take().unwrap();
        waker.wake(); // the last reference: run and freed inside `schedule`
        assert_eq!(polls.load(Ordering::SeqCst), 2);
        Handle::CurrentThread(shared).shutdown();
    }

    /// Wakers kept past completion: waking them (by reference, by value)
    /// does nothing, and the last one to go frees the cell (miri: no leak,
    /// no use after free).
    #[test]
    fn wakers_outlive_the_task() {
        let shared = Arc::new(current_thread::Shared::new());
        let slot = Arc::new(Mutex::new(Vec::<Waker>::new()));
        let task_slot = Arc::clone(&slot);
        let handle = spawn(
            &shared,
            std::future::poll_fn(move |cx| {
                let mut kept = task_slot.lock().unwrap();
                kept.push(cx.waker().clone());
                kept.push(cx.waker().clone());
                Poll::Ready(())
            }),
        );
        shared.run_queued_for_test();
        assert!(handle.is_finished());
        drop(handle);
        let mut kept = std::mem::take(&mut *slot.lock().unwrap());
        kept[0].wake_by_ref();
        kept.pop().unwrap().wake();
        shared.run_queued_for_test();
        assert!(shared.drivers().tasks.is_empty());
        drop(kept);
        Handle::CurrentThread(shared).shutdown();
    }
}
