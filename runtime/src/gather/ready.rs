//! The readiness set every gather combinator shares.
//!
//! One heap block holds a reference count, the parent task's waker, a
//! lock-free stack of woken children and one [`Slot`] per child; a combinator
//! may ask for room for its children in the same block (the payload), so
//! [`gather`](crate::gather()) of `n` futures makes one allocation for the
//! children and their readiness, whatever `n` is.
//!
//! Each child's waker is a pointer to its slot, with a hand-written
//! [`RawWakerVTable`]: cloning one bumps the block's reference count, so a
//! waker can outlive the combinator and be used from any thread. Waking a child
//! pushes its slot on the stack unless it is already there (O(1)), and wakes
//! the parent only if the stack was empty. The next poll takes the whole stack
//! at once and polls only the children on it, in the order they were woken.
//!
//! ```text
//! +--------------------------------------+ <- the block, `Header` first
//! | refs | head | parent waker | layout  |
//! +--------------------------------------+ <- size_of::<Header>()
//! | Slot 0 | Slot 1 | ...     | Slot n-1 |    each waker's data points here
//! +--------------------------------------+
//! | payload (the children), if any       |
//! +--------------------------------------+
//! ```

use std::alloc::{self, Layout};
use std::fmt;
use std::marker::PhantomData;
use std::mem::{self, ManuallyDrop};
use std::ops::{ControlFlow, Deref};
use std::ptr::{self, NonNull};
use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use parking_lot::Mutex;

/// The stack is empty / the end of the list (`next` of the last slot).
const EMPTY: u32 = u32::MAX;

/// Most children one set can hold: indices are `u32`, and `u32::MAX` is
/// [`EMPTY`].
const MAX_CHILDREN: usize = EMPTY as usize;

/// The start of a block.
struct Header {
    /// The owner's reference plus one per live waker clone. The block is
    /// freed when it drops to zero.
    refs: AtomicUsize,
    /// Index of the most recently woken child (a Treiber stack linked through
    /// [`Slot::next`]), or [`EMPTY`]. Wakers only push; the owner only takes
    /// the whole stack with one swap, so there is no ABA problem.
    head: AtomicU32,
    /// The waker of the task polling the combinator; `None` before the first
    /// poll and after the combinator finished or was dropped, so late wakes
    /// wake nobody.
    parent: Mutex<Option<Waker>>,
    /// The layout of the whole block, to free it.
    layout: Layout,
}

/// One child's readiness. A child's waker points here.
struct Slot {
    /// Whether the slot is on the stack, or taken off it and not yet handed
    /// to the owner's poll loop. Only the waker that flips it from `false` to
    /// `true` pushes the slot; only the owner sets it back to `false`, once it
    /// has read [`next`](Slot::next). So a slot is on the stack at most once,
    /// and the stack never holds more than `n` entries.
    queued: AtomicBool,
    /// The slot's own index, to find the header and to push it.
    index: u32,
    /// The next slot down the stack, written by the pusher before its push
    /// and read by the owner after its take (both while `queued` is `true`).
    next: AtomicU32,
}

// The slots start right after the header, with no padding, so a slot's
// address and index are enough to find the header.
// (Alignments are powers of two: the larger is a multiple of the smaller.)
const _: () = assert!(mem::align_of::<Header>() >= mem::align_of::<Slot>());
const SLOTS_OFFSET: usize = mem::size_of::<Header>();

/// The owner's handle on a readiness set of `len` children: the one that
/// polls them. Dropping it forgets the parent's waker and releases the
/// owner's reference; the block lives on while wakers point into it.
pub(crate) struct ReadySet {
    header: NonNull<Header>,
    len: usize,
    payload_offset: usize,
    /// Slots `0..initialized` are written; the others are uninitialised
    /// memory, and no waker points at them yet.
    initialized: usize,
    /// Whether every child has been polled once (so later polls only take
    /// the woken ones).
    polled_all: bool,
    /// The data and vtable of the parent waker now in the header, so that
    /// re-registering the same waker (the usual case) takes no lock.
    registered: Option<(*const (), &'static RawWakerVTable)>,
}

// SAFETY: the block is only touched through atomics and a mutex, except the
// payload, which `ReadySet` never reads: its users say what they store there
// and must be `Send`/`Sync` only if their contents are.
unsafe impl Send for ReadySet {}
// SAFETY: as above; through `&ReadySet` one can only get the payload's
// address. (`registered` only holds pointers to compare, never to follow.)
unsafe impl Sync for ReadySet {}

impl ReadySet {
    /// A set for `len` children, with no payload.
    pub(crate) fn new(len: usize) -> ReadySet {
        ReadySet::with_payload(len, Layout::new::<()>())
    }

    /// A set for `len` children, with room for `payload` after the slots
    /// (uninitialised; see [`payload`](ReadySet::payload)).
    ///
    /// # Panics
    ///
    /// If `len` is `u32::MAX` or more, or the block is larger than `isize::MAX`.
    pub(crate) fn with_payload(len: usize, payload: Layout) -> ReadySet {
        assert!(
            len < MAX_CHILDREN,
            "gather: at most {} futures at once",
            MAX_CHILDREN - 1
        );
        let slots = Layout::array::<Slot>(len).expect("gather: too many futures");
        let (layout, slots_offset) = Layout::new::<Header>()
            .extend(slots)
            .expect("gather: too many futures");
        debug_assert_eq!(slots_offset, SLOTS_OFFSET);
        let (layout, payload_offset) = layout.extend(payload).expect("gather: too many futures");
        let layout = layout.pad_to_align();

        // SAFETY: `layout` has a non-zero size: it holds a `Header`.
        let block = unsafe { alloc::alloc(layout) };
        let Some(header) = NonNull::new(block.cast::<Header>()) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: the block is freshly allocated for `layout`, which starts
        // with a (suitably aligned) `Header`. The slots are written later,
        // each just before its child's first poll (see `poll_children`), so
        // that the pass over them is the same as the pass over the children.
        unsafe {
            header.as_ptr().write(Header {
                refs: AtomicUsize::new(1),
                head: AtomicU32::new(EMPTY),
                parent: Mutex::new(None),
                layout,
            });
        }
        ReadySet {
            header,
            len,
            payload_offset,
            initialized: 0,
            polled_all: false,
            registered: None,
        }
    }

    /// Tracks only the first `len` children (for an iterator that yielded
    /// fewer items than it promised). Only before the first poll.
    pub(crate) fn truncate(&mut self, len: usize) {
        debug_assert!(!self.polled_all && len <= self.len);
        self.len = self.len.min(len);
    }

    /// The start of the payload: uninitialised memory for the layout given
    /// to [`with_payload`](ReadySet::with_payload). It stays allocated (and
    /// never moves) until the set and every waker are gone; the set never
    /// reads, writes or drops it, so its user must drop what it put there
    /// before dropping the set.
    pub(crate) fn payload(&self) -> NonNull<u8> {
        // SAFETY: `payload_offset` is within (or one past the end of) the
        // block, which is live while `self` holds its reference.
        unsafe { self.header.cast::<u8>().add(self.payload_offset) }
    }

    fn header(&self) -> &Header {
        // SAFETY: the owner's reference keeps the block alive while `self`
        // lives; the header is only read through shared references.
        unsafe { self.header.as_ref() }
    }

    fn slot(&self, index: usize) -> NonNull<Slot> {
        debug_assert!(index < self.len);
        // SAFETY: `index < len`, so the slot lies inside the live block.
        unsafe {
            self.header
                .cast::<u8>()
                .add(SLOTS_OFFSET)
                .cast::<Slot>()
                .add(index)
        }
    }

    /// Writes slot `index`, the next uninitialised one.
    fn init_slot(&mut self, index: usize) {
        debug_assert_eq!(index, self.initialized);
        // SAFETY: `index < len` (callers) and the slot is not initialised,
        // so no waker reads it; the slot lies inside the live block.
        unsafe {
            self.slot(index).as_ptr().write(Slot {
                queued: AtomicBool::new(false),
                // Cannot truncate: `len < MAX_CHILDREN` (`with_payload`).
                index: index as u32,
                next: AtomicU32::new(EMPTY),
            });
        }
        self.initialized += 1;
    }

    /// A waker for child `index`, borrowing the owner's reference: building
    /// it costs no atomic operation; a child that keeps it clones it, which
    /// takes a reference.
    fn waker(&self, index: usize) -> WakerRef<'_> {
        debug_assert!(index < self.initialized);
        let data = self.slot(index).as_ptr().cast_const().cast::<()>();
        // SAFETY: `data` points at an initialised slot (`index <
        // initialized`: callers) of a live block, and `VTABLE`'s
        // functions uphold `RawWaker`'s contract for such pointers (see
        // them); the waker is never dropped, only borrowed while `self` is,
        // so it uses the owner's reference without releasing it.
        let waker = unsafe { Waker::from_raw(RawWaker::new(data, &VTABLE)) };
        WakerRef {
            waker: ManuallyDrop::new(waker),
            _set: PhantomData,
        }
    }

    /// Polls the children through `poll_child(index, cx)`, each with a
    /// context carrying its own waker: every child, in index order, until
    /// that has been done once; afterwards only the children woken since the
    /// last call, in the order they were woken. Stops early if `poll_child`
    /// breaks.
    ///
    /// Registers `cx`'s waker first, to be woken when a child is.
    pub(crate) fn poll_children<B>(
        &mut self,
        cx: &Context<'_>,
        mut poll_child: impl FnMut(usize, &mut Context<'_>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        self.register(cx.waker());
        if !self.polled_all {
            if self.initialized != 0 {
                // A child panicked during the last full pass. Every child is
                // polled again, so take every pending wake off the stack
                // first: left there, it would keep its slot `queued` (so
                // later wakes of that child would push nothing) and the stack
                // non-empty (so no later push would wake the parent).
                for _ in self.take_woken() {}
            }
            for index in 0..self.len {
                // In index order, so `initialized <= index` here.
                if index == self.initialized {
                    self.init_slot(index);
                }
                let waker = self.waker(index);
                poll_child(index, &mut Context::from_waker(&waker))?;
            }
            // Only now: if a child panicked, the next poll starts over, so
            // none of them is left without a waker.
            self.polled_all = true;
        } else {
            for index in self.take_woken() {
                let waker = self.waker(index);
                poll_child(index, &mut Context::from_waker(&waker))?;
            }
        }
        ControlFlow::Continue(())
    }

    /// Makes `waker` the one woken when a child is.
    fn register(&mut self, waker: &Waker) {
        // Only the owner writes the header's waker, so `registered` is the
        // data and vtable of the clone it holds; that clone is alive there,
        // so its address cannot have been reused, and equal pointers mean
        // `waker.will_wake(&stored)`. (The caller's waker of last time may
        // be gone, and its address taken by another waker: comparing with
        // it would keep waking a stale waker.)
        if self.registered.is_some_and(|(data, vtable)| {
            ptr::eq(data, waker.data()) && ptr::eq(vtable, waker.vtable())
        }) {
            return;
        }
        let new = waker.clone();
        self.registered = Some((new.data(), new.vtable()));
        let old = self.header().parent.lock().replace(new);
        // Dropped outside the lock: it runs the executor's code.
        drop(old);
    }

    /// Forgets the parent's waker: later wakes wake nobody. For a combinator
    /// that has finished.
    pub(crate) fn close(&mut self) {
        let old = self.header().parent.lock().take();
        self.registered = None;
        drop(old);
    }

    /// Takes every woken child off the stack, oldest wake first.
    fn take_woken(&self) -> Woken<'_> {
        // AcqRel: Acquire pairs with each push's Release, so the `next` links
        // written by the pushers are visible; Release makes the parent waker
        // just registered (and this poll's reads of `next`) happen before
        // any push that finds the stack empty and so wakes the parent.
        let mut top = self.header().head.swap(EMPTY, Ordering::AcqRel);
        // The stack is newest first: reverse it in place so children are
        // polled in the order they were woken, like asyncio's ready queue.
        // The taken slots are ours: they stay `queued`, so no waker writes
        // their `next` until we clear it.
        let mut reversed = EMPTY;
        while top != EMPTY {
            // SAFETY: only initialised slots have wakers, so only they are pushed.
            let slot = unsafe { self.slot(top as usize).as_ref() };
            // Relaxed: ordered by the swap's Acquire above; the slot is ours.
            let below = slot.next.load(Ordering::Relaxed);
            slot.next.store(reversed, Ordering::Relaxed);
            reversed = top;
            top = below;
        }
        Woken {
            set: self,
            next: reversed,
        }
    }
}

impl Drop for ReadySet {
    fn drop(&mut self) {
        self.close();
        // SAFETY: the owner's reference, released exactly once, here.
        unsafe { release(self.header) };
    }
}

impl fmt::Debug for ReadySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadySet")
            .field("len", &self.len)
            .field("polled_all", &self.polled_all)
            .finish_non_exhaustive()
    }
}

/// A child's waker borrowing the owner's reference (never dropped).
struct WakerRef<'a> {
    waker: ManuallyDrop<Waker>,
    _set: PhantomData<&'a ReadySet>,
}

impl Deref for WakerRef<'_> {
    type Target = Waker;

    fn deref(&self) -> &Waker {
        &self.waker
    }
}

/// The children taken off the stack by one poll, oldest wake first.
struct Woken<'a> {
    set: &'a ReadySet,
    /// The first child not yet handed out, or [`EMPTY`].
    next: u32,
}

impl Iterator for Woken<'_> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.next == EMPTY {
            return None;
        }
        let index = self.next as usize;
        // SAFETY: only initialised slots have wakers, so only they are pushed.
        let slot = unsafe { self.set.slot(index).as_ref() };
        // Relaxed: written by this thread in `take_woken`.
        self.next = slot.next.load(Ordering::Relaxed);
        // Cleared before the child is polled, so a wake during or after the
        // poll pushes it again. AcqRel: Acquire pairs with the Release of
        // the wake that set it, so what the waker did before waking is
        // visible to the poll that follows; Release orders the read of
        // `next` above before a new pusher's write of it.
        slot.queued.swap(false, Ordering::AcqRel);
        Some(index)
    }
}

impl Drop for Woken<'_> {
    /// Puts back the children not handed out (a child panicked, or the
    /// combinator stopped early), so their wakes are not lost.
    fn drop(&mut self) {
        if self.next == EMPTY {
            return;
        }
        // Reversed again, newest first like the stack, so that the next take
        // hands them out in the order they were woken.
        let mut rest = self.next;
        let mut top = EMPTY;
        while rest != EMPTY {
            // SAFETY: only initialised slots have wakers, so only they are pushed.
            let slot = unsafe { self.set.slot(rest as usize).as_ref() };
            // Relaxed: the list is still ours (its slots are `queued`).
            let below = slot.next.load(Ordering::Relaxed);
            slot.next.store(top, Ordering::Relaxed);
            top = rest;
            rest = below;
        }
        // SAFETY: `self.next` was pushed, so initialised; it is now the bottom.
        let bottom = unsafe { self.set.slot(self.next as usize).as_ref() };
        self.set.header().push(top, bottom);
    }
}

impl Header {
    /// Pushes the list `first ..= last` (already linked, `last` at the
    /// bottom) and wakes the parent if the stack was empty.
    fn push(&self, first: u32, last: &Slot) {
        // Relaxed: the CAS below re-reads the value it relies on.
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            // Relaxed: published by the Release of the CAS below.
            last.next.store(head, Ordering::Relaxed);
            // AcqRel on success: Release publishes the `next` links to the
            // owner's take (later pushes continue the release sequence, as
            // they are read-modify-writes); Acquire pairs with the Release
            // of the owner's take, so if we found the stack empty, the
            // parent waker registered before that take is the one we wake.
            match self
                .head
                .compare_exchange_weak(head, first, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }
        // A non-empty stack means whoever made it non-empty woke the parent
        // (or is about to), and the owner has not taken it since.
        if head == EMPTY {
            let parent = self.parent.lock().clone();
            // Woken outside the lock: it runs the executor's code.
            if let Some(parent) = parent {
                parent.wake();
            }
        }
    }
}

/// Marks a child ready: pushes its slot unless it is queued already.
fn wake_slot(header: &Header, slot: &Slot) {
    // AcqRel: Release publishes what the waker did before waking to the
    // owner's clearing swap (see `Woken::next`); Acquire pairs with that
    // swap's Release, so the owner has read `next` before we overwrite it.
    if !slot.queued.swap(true, Ordering::AcqRel) {
        header.push(slot.index, slot);
    }
}

/// The header of the block holding `slot`.
///
/// # Safety
///
/// `slot` must point at a slot of a live block, and carry the provenance of
/// the whole block (as every slot pointer made by [`ReadySet::slot`] does).
unsafe fn header_of(slot: *const Slot) -> *const Header {
    // SAFETY: the slot is live (caller); slot `index` is `index` slots past
    // the first, which is `SLOTS_OFFSET` bytes past the header, all within
    // the one block the pointer may address.
    unsafe {
        let index = (*slot).index as usize;
        slot.sub(index).byte_sub(SLOTS_OFFSET).cast::<Header>()
    }
}

/// Drops one reference to the block, freeing it if that was the last.
///
/// # Safety
///
/// The caller must own one reference, and not use the block afterwards.
unsafe fn release(header: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the block alive until this
    // decrement.
    let refs = unsafe { &header.as_ref().refs };
    // Release: everything this holder did with the block happens before
    // whoever frees it (their Acquire fence below). As in `Arc::drop`.
    if refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Acquire: pairs with every other holder's Release decrement.
    fence(Ordering::Acquire);
    // SAFETY: that was the last reference, so nothing else can reach the
    // block: drop the header (the slots need no drop; the payload was
    // dropped by the owner) and free it with the layout it was made with.
    unsafe {
        let layout = header.as_ref().layout;
        ptr::drop_in_place(header.as_ptr());
        alloc::dealloc(header.as_ptr().cast::<u8>(), layout);
    }
}

/// The vtable of a child's waker, whose data is a pointer to its [`Slot`].
///
/// Every function requires a data pointer made by [`ReadySet::waker`] or
/// `clone_waker`, to which the calling waker holds (or borrows) a reference.
/// They touch only atomics and the mutex, so they are safe from any thread.
static VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake_waker, wake_by_ref_waker, drop_waker);

unsafe fn clone_waker(data: *const ()) -> RawWaker {
    // SAFETY: `data` is a slot pointer of a block kept alive by the waker
    // being cloned (vtable contract).
    let header = unsafe { &*header_of(data.cast::<Slot>()) };
    // Relaxed: as in `Arc::clone`, a reference is made from a live one, so
    // the block cannot be freed meanwhile and nothing needs publishing.
    let old = header.refs.fetch_add(1, Ordering::Relaxed);
    if old > isize::MAX as usize {
        // Wakers leaked in a loop: abort rather than overflow, like `Arc`.
        std::process::abort();
    }
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake_waker(data: *const ()) {
    // SAFETY: the waker owns a reference (vtable contract), which `wake`
    // consumes: use it, then release it.
    unsafe {
        wake_by_ref_waker(data);
        drop_waker(data);
    }
}

unsafe fn wake_by_ref_waker(data: *const ()) {
    let slot = data.cast::<Slot>();
    // SAFETY: `data` is a slot pointer of a block kept alive by the waker
    // (vtable contract); slots and header are only read through shared
    // references.
    let (header, slot) = unsafe { (&*header_of(slot), &*slot) };
    wake_slot(header, slot);
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns a reference to a live block (vtable contract),
    // released here, once; the waker is not used afterwards.
    unsafe {
        let header = header_of(data.cast::<Slot>());
        release(NonNull::new_unchecked(header.cast_mut()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    use std::task::Wake;

    /// A parent waker that counts its wakes.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    /// Polls every child handed out, records their indices, and clones
    /// their wakers into `keep` (if given).
    fn poll_round(set: &mut ReadySet, parent: &Waker, keep: Option<&mut Vec<Waker>>) -> Vec<usize> {
        let mut seen = Vec::new();
        let mut keep = keep;
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(parent), |i, cx| {
            seen.push(i);
            if let Some(keep) = keep.as_deref_mut() {
                keep.push(cx.waker().clone());
            }
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        seen
    }

    #[test]
    fn first_poll_polls_all_then_only_woken_in_wake_order() {
        let (count, parent) = counter();
        let mut set = ReadySet::new(5);
        let mut wakers = Vec::new();
        assert_eq!(
            poll_round(&mut set, &parent, Some(&mut wakers)),
            [0, 1, 2, 3, 4]
        );
        assert_eq!(poll_round(&mut set, &parent, None), [] as [usize; 0]);
        wakers[3].wake_by_ref();
        wakers[1].wake_by_ref();
        wakers[3].wake_by_ref(); // already queued: no second entry
        let by_value = wakers[4].clone();
        by_value.wake();
        // One parent wake for the whole batch.
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(poll_round(&mut set, &parent, None), [3, 1, 4]);
        wakers[1].wake_by_ref();
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(poll_round(&mut set, &parent, None), [1]);
    }

    #[test]
    fn wake_during_poll_requeues_the_child() {
        let (count, parent) = counter();
        let mut set = ReadySet::new(2);
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |i, cx| {
            if i == 1 {
                cx.waker().wake_by_ref(); // like yield_now
            }
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |i, cx| {
            assert_eq!(i, 1);
            cx.waker().wake_by_ref();
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        assert_eq!(poll_round(&mut set, &parent, None), [1]);
    }

    #[test]
    fn newest_parent_waker_is_woken() {
        let (old_count, old) = counter();
        let (new_count, new) = counter();
        let mut set = ReadySet::new(1);
        let mut wakers = Vec::new();
        poll_round(&mut set, &old, Some(&mut wakers));
        poll_round(&mut set, &new, None);
        wakers[0].wake_by_ref();
        assert_eq!(old_count.0.load(Ordering::SeqCst), 0);
        assert_eq!(new_count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn switching_parent_wakers_back_and_forth() {
        let (a_count, a) = counter();
        let (b_count, b) = counter();
        let mut set = ReadySet::new(1);
        let mut wakers = Vec::new();
        poll_round(&mut set, &a, Some(&mut wakers));
        for (parent, count, expected) in [(&b, &b_count, 1), (&a, &a_count, 1), (&a, &a_count, 2)] {
            poll_round(&mut set, parent, None);
            wakers[0].wake_by_ref();
            assert_eq!(count.0.load(Ordering::SeqCst), expected);
        }
        assert_eq!(b_count.0.load(Ordering::SeqCst), 1);
        set.close();
        wakers[0].wake_by_ref(); // still queued: no push, no wake
        poll_round(&mut set, &a, None);
        wakers[0].wake_by_ref();
        assert_eq!(
            a_count.0.load(Ordering::SeqCst),
            3,
            "registered again after close"
        );
    }

    #[test]
    fn break_puts_back_the_rest() {
        let (_count, parent) = counter();
        let mut set = ReadySet::new(4);
        let mut wakers = Vec::new();
        poll_round(&mut set, &parent, Some(&mut wakers));
        for w in &wakers {
            w.wake_by_ref();
        }
        let flow = set.poll_children(&Context::from_waker(&parent), |i, _| {
            if i == 1 {
                ControlFlow::Break(i)
            } else {
                ControlFlow::Continue(())
            }
        });
        assert_eq!(flow, ControlFlow::Break(1));
        // 2 and 3 were not handed out: still queued, not lost.
        assert_eq!(poll_round(&mut set, &parent, None), [2, 3]);
        wakers[2].wake_by_ref();
        assert_eq!(poll_round(&mut set, &parent, None), [2]);
    }

    #[test]
    fn panicking_child_loses_no_wake() {
        let (_count, parent) = counter();
        let mut set = ReadySet::new(3);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |i, _| {
                assert_ne!(i, 1, "child 1 panics");
                ControlFlow::Continue(())
            });
        }));
        assert!(result.is_err());
        // The first pass did not finish, so it runs again in full.
        assert_eq!(poll_round(&mut set, &parent, None), [0, 1, 2]);
    }

    #[test]
    fn wakers_outlive_the_set_and_cross_threads() {
        let (count, parent) = counter();
        let mut set = ReadySet::new(3);
        let mut wakers = Vec::new();
        poll_round(&mut set, &parent, Some(&mut wakers));
        let handles: Vec<_> = wakers
            .iter()
            .cloned()
            .map(|w| {
                std::thread::spawn(move || {
                    w.wake_by_ref();
                    let w2 = w.clone();
                    w.wake();
                    w2
                })
            })
            .collect();
        let mut back: Vec<Waker> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let mut seen = poll_round(&mut set, &parent, None);
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2]);
        drop(set);
        // After the owner is gone: harmless, and wakes nobody.
        for w in &wakers {
            w.wake_by_ref();
        }
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        let last = back.pop().unwrap();
        drop(wakers);
        let t = std::thread::spawn(move || {
            for w in back {
                w.wake();
            }
        });
        t.join().unwrap();
        last.wake(); // the last reference: frees the block
        assert_eq!(Arc::strong_count(&count), 2, "parent waker released");
    }

    #[test]
    fn concurrent_wakes_from_many_threads() {
        let (count, parent) = counter();
        let n = 8;
        let mut set = ReadySet::new(n);
        let mut wakers = Vec::new();
        poll_round(&mut set, &parent, Some(&mut wakers));
        let mut seen = vec![0usize; n];
        let threads: Vec<_> = wakers
            .chunks(2)
            .map(|chunk| {
                let chunk = chunk.to_vec();
                std::thread::spawn(move || {
                    for _ in 0..3 {
                        for w in &chunk {
                            w.wake_by_ref();
                        }
                        std::thread::yield_now();
                    }
                })
            })
            .collect();
        // Poll while the threads wake, like an owner racing its wakers.
        for _ in 0..5 {
            for i in poll_round(&mut set, &parent, None) {
                seen[i] += 1;
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        for i in poll_round(&mut set, &parent, None) {
            seen[i] += 1;
        }
        // Every child's last wake was seen by some poll.
        assert!(seen.iter().all(|&s| s >= 1), "{seen:?}");
        assert!(count.0.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn payload_is_aligned_and_separate() {
        let set = ReadySet::with_payload(3, Layout::array::<u64>(3).unwrap());
        let p = set.payload().cast::<u64>();
        assert_eq!(p.as_ptr() as usize % mem::align_of::<u64>(), 0);
        // SAFETY: room for three u64s, reserved for us.
        unsafe {
            for i in 0..3 {
                p.as_ptr().add(i).write(i as u64);
            }
            assert_eq!(p.as_ptr().add(2).read(), 2);
        }
        let empty = ReadySet::new(0);
        assert_eq!(empty.len, 0);
    }
}
