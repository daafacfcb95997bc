//! The readiness set every gather combinator shares.
//!
//! A set is a [`Header`] followed by one [`Slot`] per child, in memory that
//! does not move while the set lives: inside the pinned combinator for
//! [`gather!`](crate::gather!) ([`InlineSet`], no allocation at all), or at
//! the start of a heap block that also holds the children (a *payload*) for
//! [`gather`](crate::gather()) and [`try_gather`](crate::try_gather()), so
//! that those make one allocation for the children and their readiness,
//! whatever their number.
//!
//! Each child is polled with a waker pointing at its slot (the *borrowed*
//! waker, [`BORROWED`]). Waking a child pushes its slot on a lock-free stack
//! unless it is already there (O(1)). The next poll takes the whole stack at
//! once and polls only the children on it, in the order they were woken.
//!
//! A borrowed waker lives only while its child is being polled, so the owner
//! itself wakes the parent at the end of its pass if the stack is not empty:
//! a wake by reference (what `yield_now` does) takes no lock and clones
//! nothing. But a child may keep a clone for longer than the set lives. So
//! cloning one makes (once per set, on the first clone) a small
//! reference-counted [`Shared`] block, and the clone points there (its vtable
//! is [`SHARED`]): under the block's lock, it finds the set and the parent's
//! waker, which the owner stores there after each poll and removes when the
//! set goes. Children that only wake by reference never allocate.
//!
//! ```text
//! set (inline, or at the start of a heap block)    Shared (heap, refcounted)
//! +----------------------------------------+      +---------------------------+
//! | head | len | shared -------------------------> | refs | Mutex<set, parent> |
//! +----------------------------------------+      +---------------------------+
//! | Slot 0 | Slot 1 | ...       | Slot n-1 |      | id 0 | id 1 | ...  | n-1   |
//! +----------------------------------------+      +---------------------------+
//! | payload (the children), if a heap block|       a clone's data points at
//! +----------------------------------------+       the id of its child
//! ```

use std::alloc::{self, Layout};
use std::fmt;
use std::marker::{PhantomData, PhantomPinned};
use std::mem::{self, ManuallyDrop};
use std::ops::{ControlFlow, Deref};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::task::{Context, RawWaker, RawWakerVTable, Waker};

use crate::loom::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Mutex, Ordering};

/// The stack is empty / the end of the list (`next` of the last slot).
const EMPTY: u32 = u32::MAX;

/// Most children one set can hold: indices are `u32`, and `u32::MAX` is
/// [`EMPTY`].
const MAX_CHILDREN: usize = EMPTY as usize;

/// The start of a set.
#[repr(C)]
pub(crate) struct Header {
    /// Index of the most recently woken child (a Treiber stack linked through
    /// [`Slot::next`]), or [`EMPTY`]. Wakers only push; the owner only takes
    /// the whole stack with one swap, so there is no ABA problem.
    head: AtomicU32,
    /// How many slots follow (to size the [`Shared`] block).
    len: u32,
    /// The owner's own list of woken children (linked through
    /// [`Slot::next`], oldest first): those woken through their borrowed
    /// waker during their poll, which the owner links after that poll.
    /// Only the owner touches these two (so `Relaxed` everywhere): atomics
    /// only so that the header can be shared with the wakers' threads.
    local_head: AtomicU32,
    /// The newest entry of the owner's list, or [`EMPTY`].
    local_tail: AtomicU32,
    /// Null until a child's waker is first cloned, then the block that the
    /// clones share. Set once, during a poll (see `shared_for`); the owner
    /// holds one reference to it, released when the set is dropped.
    shared: AtomicPtr<Shared>,
}

/// One child's readiness. A child's borrowed waker points here.
#[repr(C)]
struct Slot {
    /// Whether the slot is on the stack, or taken off it and not yet handed
    /// to the owner's poll loop. Only the waker that flips it from `false` to
    /// `true` pushes the slot; only the owner sets it back to `false`, once it
    /// has read [`next`](Slot::next). So a slot is on the stack at most once,
    /// and the stack never holds more than `n` entries.
    queued: AtomicBool,
    /// Set by a wake through the borrowed waker (during the child's poll);
    /// the owner then queues the slot on its own list after that poll
    /// (`ReadySet::link_local`), instead of the waker pushing it on the
    /// stack: for the common wake of a child by itself (`yield_now`), no
    /// compare-and-swap loop, no parent wake from inside the child, and, if
    /// no clone of any child's waker exists, no read-modify-write at all.
    local: AtomicBool,
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
const _: () = assert!(mem::offset_of!(InlineSet<1>, slots) == SLOTS_OFFSET);

impl Header {
    #[inline(always)]
    fn new(len: usize) -> Header {
        assert!(
            len < MAX_CHILDREN,
            "gather: at most {} futures at once",
            MAX_CHILDREN - 1
        );
        Header {
            head: AtomicU32::new(EMPTY),
            // Cannot truncate: checked above.
            len: len as u32,
            local_head: AtomicU32::new(EMPTY),
            local_tail: AtomicU32::new(EMPTY),
            shared: AtomicPtr::new(ptr::null_mut()),
        }
    }
}

impl Slot {
    #[inline(always)]
    fn new(index: usize) -> Slot {
        Slot {
            queued: AtomicBool::new(false),
            local: AtomicBool::new(false),
            // Cannot truncate: `index < len < MAX_CHILDREN` (`Header::new`).
            index: index as u32,
            next: AtomicU32::new(EMPTY),
        }
    }
}

/// The memory of a set of `N` children inside the combinator that owns it
/// (for [`gather!`](crate::gather!)): no allocation. It must be pinned
/// before its set is made, and outlive the set (see [`InlineSet::set`]).
#[repr(C)]
pub(crate) struct InlineSet<const N: usize> {
    header: Header,
    slots: [Slot; N],
    /// The set points into it.
    _pinned: PhantomPinned,
}

impl<const N: usize> InlineSet<N> {
    /// The memory of a set of `N` children.
    ///
    /// # Panics
    ///
    /// If `N` is `u32::MAX` or more.
    #[inline(always)]
    pub(crate) fn new() -> Self {
        InlineSet {
            header: Header::new(N),
            slots: std::array::from_fn(Slot::new),
            _pinned: PhantomPinned,
        }
    }

    /// The set of these children.
    ///
    /// # Safety
    ///
    /// The returned set must be dropped before `self` is (it points into
    /// `self`; pinning guarantees only that `self` does not move until then),
    /// and only one set may be made of the same memory.
    #[inline(always)]
    pub(crate) unsafe fn set(self: Pin<&mut Self>) -> ReadySet {
        // SAFETY: nothing is moved out; the pointer stays valid while `self`
        // stays pinned, and the caller drops the set before `self`.
        let header = NonNull::from(unsafe { self.get_unchecked_mut() }).cast::<Header>();
        ReadySet::from_header(header, N, None)
    }
}

/// The owner's handle on a readiness set of `len` children: the one that
/// polls them. Dropping it forgets the parent's waker and cuts the clones of
/// the children's wakers off the set (they then wake nobody), and frees the
/// heap block if the set has one.
pub(crate) struct ReadySet {
    header: NonNull<Header>,
    len: usize,
    /// The heap block the set owns (its layout and payload offset), if any.
    block: Option<(Layout, usize)>,
    /// Whether a full pass over the children has started (so a later full
    /// pass starts over, after a child panicked).
    started: bool,
    /// Whether every child has been polled once (so later polls only take
    /// the woken ones).
    polled_all: bool,
    /// The data and vtable of the parent waker now in the header, so that
    /// re-registering the same waker (the usual case) takes no lock.
    registered: Option<(*const (), &'static RawWakerVTable)>,
}

// SAFETY: the set's memory is only touched through atomics and a mutex,
// except the payload, which `ReadySet` never reads: its users say what they
// store there and must be `Send`/`Sync` only if their contents are.
unsafe impl Send for ReadySet {}
// SAFETY: as above; through `&ReadySet` one can only get the payload's
// address. (`registered` only holds pointers to compare, never to follow.)
unsafe impl Sync for ReadySet {}

impl ReadySet {
    /// A set for `len` children in a heap block of its own, with no payload.
    #[cfg(test)]
    pub(crate) fn new(len: usize) -> ReadySet {
        ReadySet::with_payload(len, Layout::new::<()>())
    }

    /// A set for `len` children in a heap block of its own, with room for
    /// `payload` after the slots (uninitialised; see
    /// [`payload`](ReadySet::payload)).
    ///
    /// # Panics
    ///
    /// If `len` is `u32::MAX` or more, or the block is larger than `isize::MAX`.
    pub(crate) fn with_payload(len: usize, payload: Layout) -> ReadySet {
        let header = Header::new(len);
        let slots = Layout::array::<Slot>(len).expect("gather: too many futures");
        let (layout, slots_offset) = Layout::new::<Header>()
            .extend(slots)
            .expect("gather: too many futures");
        debug_assert_eq!(slots_offset, SLOTS_OFFSET);
        let (layout, payload_offset) = layout.extend(payload).expect("gather: too many futures");
        let layout = layout.pad_to_align();

        // SAFETY: `layout` has a non-zero size: it holds a `Header`.
        let block = unsafe { alloc::alloc(layout) };
        let Some(block) = NonNull::new(block.cast::<Header>()) else {
            alloc::handle_alloc_error(layout)
        };
        // SAFETY: the block is freshly allocated for `layout`, which starts
        // with a (suitably aligned) `Header` followed by `len` slots.
        unsafe {
            block.as_ptr().write(header);
            let first = block.byte_add(SLOTS_OFFSET).cast::<Slot>();
            for index in 0..len {
                first.add(index).write(Slot::new(index));
            }
        }
        ReadySet::from_header(block, len, Some((layout, payload_offset)))
    }

    #[inline(always)]
    fn from_header(header: NonNull<Header>, len: usize, block: Option<(Layout, usize)>) -> Self {
        ReadySet {
            header,
            len,
            block,
            started: false,
            polled_all: false,
            registered: None,
        }
    }

    /// Tracks only the first `len` children (for an iterator that yielded
    /// fewer items than it promised). Only before the first poll.
    pub(crate) fn truncate(&mut self, len: usize) {
        debug_assert!(!self.started && len <= self.len);
        self.len = self.len.min(len);
    }

    /// The start of the payload: uninitialised memory for the layout given
    /// to [`with_payload`](ReadySet::with_payload). It stays allocated (and
    /// never moves) until the set is dropped; the set never reads, writes or
    /// drops it, so its user must drop what it put there before dropping the
    /// set.
    ///
    /// # Panics
    ///
    /// If the set was not made by [`with_payload`](ReadySet::with_payload).
    pub(crate) fn payload(&self) -> NonNull<u8> {
        let (_, offset) = self.block.expect("gather: a set without a payload");
        // SAFETY: `offset` is within (or one past the end of) the block,
        // which is live while `self` is.
        unsafe { self.header.cast::<u8>().add(offset) }
    }

    #[inline(always)]
    fn header(&self) -> &Header {
        // SAFETY: the set's memory is live while `self` is; the header is
        // only read through shared references.
        unsafe { self.header.as_ref() }
    }

    #[inline(always)]
    fn slot(&self, index: usize) -> &Slot {
        debug_assert!(index < self.len);
        // SAFETY: `index < len`, so the slot lies inside the live set, and
        // is initialised (all are, from the start).
        unsafe { slot_of(self.header, index).as_ref() }
    }

    /// A borrowed waker for child `index`: building it costs nothing; a
    /// child that keeps it clones it (see [`SHARED`]).
    #[inline(always)]
    fn waker(&self, index: usize) -> WakerRef<'_> {
        debug_assert!(index < self.len);
        // Made from the set's pointer, not from `&Slot`: the vtable's
        // functions reach the header (and the clones the whole set) through
        // it, so it needs the whole set's provenance.
        // SAFETY: `index < len`: the slot lies inside the live set.
        let data = unsafe { slot_of(self.header, index) }
            .as_ptr()
            .cast_const()
            .cast::<()>();
        // SAFETY: `data` points at a slot of the set, with the provenance of
        // the whole set (from `self.header`), and `BORROWED`'s functions
        // uphold `RawWaker`'s contract for such a pointer while the set
        // lives; the waker is only lent while `self` is borrowed, and never
        // dropped.
        let waker = unsafe { Waker::from_raw(RawWaker::new(data, &BORROWED)) };
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
    /// Wakes `cx`'s waker if a child is woken during the pass, or later.
    #[inline(always)]
    pub(crate) fn poll_children<B>(
        &mut self,
        cx: &Context<'_>,
        mut poll_child: impl FnMut(usize, &mut Context<'_>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        let flow = self.pass(&mut poll_child);
        // After the pass: a child may have cloned its waker in it.
        self.register(cx.waker());
        // A wake through a borrowed waker does not wake the parent: it
        // happens during this pass (a borrowed waker lives no longer), so
        // here we see it (on our own list), and wake the parent ourselves,
        // without the lock and the clone a wake from outside needs. So does
        // a push (on the stack) through a
        // clone that found no parent registered: `register` took the lock
        // that push holds, so either the push saw the waker just registered
        // (and wakes it), or it happened before `register`, and so before
        // this load. (A push that found the stack empty and woke the parent
        // already makes this wake one too many: harmless.) Relaxed: the
        // other pushes were made by this thread, or by threads that the
        // child joined before its poll returned.
        let header = self.header();
        if header.local_head.load(Ordering::Relaxed) != EMPTY
            || header.head.load(Ordering::Relaxed) != EMPTY
        {
            cx.waker().wake_by_ref();
        }
        flow
    }

    /// One pass of [`poll_children`](ReadySet::poll_children): every child
    /// or only the woken ones.
    #[inline(always)]
    fn pass<B>(
        &mut self,
        poll_child: &mut impl FnMut(usize, &mut Context<'_>) -> ControlFlow<B>,
    ) -> ControlFlow<B> {
        if !self.polled_all {
            if mem::replace(&mut self.started, true) {
                // A child panicked during the last full pass. Every child is
                // polled again, so take every pending wake off the stack
                // first: left there, it would keep its slot `queued` (so
                // later wakes of that child would push nothing) and the stack
                // non-empty (so no later push would wake the parent).
                for _ in self.take_woken() {}
            }
            for index in 0..self.len {
                let waker = self.waker(index);
                let _link = LinkLocal { set: self, index };
                poll_child(index, &mut Context::from_waker(&waker))?;
            }
            // Only now: if a child panicked, the next poll starts over, so
            // none of them is left without a waker.
            self.polled_all = true;
        } else {
            for index in self.take_woken() {
                let waker = self.waker(index);
                let _link = LinkLocal { set: self, index };
                poll_child(index, &mut Context::from_waker(&waker))?;
            }
        }
        ControlFlow::Continue(())
    }

    /// The block the clones of the children's wakers share, if a child
    /// cloned its waker.
    #[inline(always)]
    fn shared(&self) -> Option<&Shared> {
        // SAFETY: the owner's reference keeps the block alive while the set
        // lives.
        self.shared_ptr().map(|shared| unsafe { shared.as_ref() })
    }

    /// [`shared`](ReadySet::shared), as the pointer with the provenance of
    /// the whole block (to free it).
    #[inline(always)]
    fn shared_ptr(&self) -> Option<NonNull<Shared>> {
        // Acquire: the pointer was stored by a clone made during one of our
        // polls, so this thread already saw it; Acquire keeps that explicit.
        NonNull::new(self.header().shared.load(Ordering::Acquire))
    }

    /// Makes `waker` the one that wakes from clones of the children's
    /// wakers wake. (Wakes through borrowed wakers need none: the owner
    /// sees them at the end of its pass.)
    #[inline(always)]
    fn register(&mut self, waker: &Waker) {
        let Some(shared) = self.shared() else {
            return;
        };
        // Only the owner writes the parent waker, so `registered` is the
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
        let registered = Some((new.data(), new.vtable()));
        let old = shared.state.lock().parent.replace(new);
        self.registered = registered;
        // Dropped outside the lock: it runs the executor's code.
        drop(old);
    }

    /// Forgets the parent's waker: later wakes wake nobody. For a combinator
    /// that has finished.
    #[inline(always)]
    pub(crate) fn close(&mut self) {
        if self.registered.take().is_none() {
            // Nothing registered, so no parent waker is stored.
            return;
        }
        let old = self
            .shared()
            .and_then(|shared| shared.state.lock().parent.take());
        // Dropped outside the lock: it runs the executor's code.
        drop(old);
    }

    /// Links child `index` into the owner's list if its borrowed waker
    /// queued it during the poll that just ended.
    #[inline(always)]
    fn link_local(&self, index: usize) {
        let slot = self.slot(index);
        // Relaxed: the wake happened during the child's poll, so before this
        // (on this thread, or on one joined before the poll returned).
        if !slot.local.load(Ordering::Relaxed) {
            return;
        }
        slot.local.store(false, Ordering::Relaxed);
        if !self.claim(slot) {
            // Already on the stack, pushed through a clone.
            return;
        }
        // Relaxed: the slot is `queued` by us, so no pusher touches `next`;
        // the list is the owner's.
        slot.next.store(EMPTY, Ordering::Relaxed);
        let header = self.header();
        match header.local_tail.load(Ordering::Relaxed) {
            EMPTY => header.local_head.store(index as u32, Ordering::Relaxed),
            tail => self
                .slot(tail as usize)
                .next
                .store(index as u32, Ordering::Relaxed),
        }
        header.local_tail.store(index as u32, Ordering::Relaxed);
    }

    /// Whether no clone of any child's waker exists: then no other thread
    /// can touch a slot's `queued` until the next child's poll (clones are
    /// made only during a child's poll, and the owner is not in one).
    #[inline(always)]
    fn unshared(&self) -> bool {
        // Relaxed: a block made by a clone during a child's poll was made
        // before that poll returned (on this thread, or a joined one).
        self.header().shared.load(Ordering::Relaxed).is_null()
    }

    /// Marks `slot` queued, for the owner's list; `false` if it was already
    /// (on the stack, through a clone).
    #[inline(always)]
    fn claim(&self, slot: &Slot) -> bool {
        if self.unshared() {
            // Only we touch `queued`, and the child just polled was not
            // queued: it was taken off the lists before its poll (or never
            // on them, in a full pass), and `queued` is set only by this
            // (once per poll) and by clones, of which there are none. So a
            // plain store, no load.
            debug_assert!(!slot.queued.load(Ordering::Relaxed));
            slot.queued.store(true, Ordering::Relaxed);
            return true;
        }
        // AcqRel: as in `Header::wake_slot`, which it races with.
        !slot.queued.swap(true, Ordering::AcqRel)
    }

    /// Takes every woken child: the owner's list, then the stack, each
    /// oldest wake first.
    #[inline(always)]
    fn take_woken(&self) -> Woken<'_> {
        let header = self.header();
        let local = header.local_head.load(Ordering::Relaxed);
        header.local_head.store(EMPTY, Ordering::Relaxed);
        header.local_tail.store(EMPTY, Ordering::Relaxed);
        // Relaxed load first: an empty stack (the usual case) costs no
        // read-modify-write. A push we miss found the stack empty, so it
        // wakes the parent, and the next poll takes it. Acquire on the swap:
        // pairs with each push's Release, so the `next` links written by the
        // pushers are visible.
        let mut top = match header.head.load(Ordering::Relaxed) {
            EMPTY => EMPTY,
            _ => header.head.swap(EMPTY, Ordering::Acquire),
        };
        // The stack is newest first: reverse it in place so children are
        // polled in the order they were woken, like asyncio's ready queue.
        // The taken slots are ours: they stay `queued`, so no waker writes
        // their `next` until we clear it.
        let mut reversed = EMPTY;
        while top != EMPTY {
            let slot = self.slot(top as usize);
            // Relaxed: ordered by the swap's Acquire above; the slot is ours.
            let below = slot.next.load(Ordering::Relaxed);
            slot.next.store(reversed, Ordering::Relaxed);
            reversed = top;
            top = below;
        }
        Woken {
            set: self,
            local,
            next: reversed,
        }
    }
}

impl Drop for ReadySet {
    /// Inline only the check for the usual case of a `gather!` whose
    /// children never cloned a waker: nothing to cut off, nothing to free.
    #[inline(always)]
    fn drop(&mut self) {
        if self.block.is_some() || self.shared_ptr().is_some() {
            self.drop_slow();
        }
    }
}

impl ReadySet {
    /// [`Drop::drop`] when there is a shared block or a heap block.
    #[inline(never)]
    fn drop_slow(&mut self) {
        if let Some(shared_ptr) = self.shared_ptr() {
            // SAFETY: the owner's reference keeps the block alive until the
            // `drop_shared_ref` below.
            let shared = unsafe { shared_ptr.as_ref() };
            // Under the lock: a wake through a clone that holds it finishes
            // before the set's memory goes; later ones find no set, and no
            // parent to wake.
            let parent = {
                let mut state = shared.state.lock();
                state.set = None;
                state.parent.take()
            };
            // Dropped outside the lock: it runs the executor's code.
            drop(parent);
            // SAFETY: the owner's reference, dropped exactly once, here.
            unsafe { drop_shared_ref(shared_ptr) };
        }
        if let Some((layout, _)) = self.block {
            // SAFETY: the block was allocated with `layout` by
            // `with_payload`, which wrote the header and `header.len` slots
            // (`self.len` may have been truncated); no waker reaches it any
            // more (the clones were cut off above, and borrowed wakers do
            // not outlive a poll); the payload was dropped by its user.
            unsafe {
                let slots = self.header().len as usize;
                ptr::drop_in_place(ptr::slice_from_raw_parts_mut(
                    slot_of(self.header, 0).as_ptr(),
                    slots,
                ));
                ptr::drop_in_place(self.header.as_ptr());
                alloc::dealloc(self.header.as_ptr().cast::<u8>(), layout);
            }
        }
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

/// A child's borrowed waker, lent for one poll (never dropped).
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

/// Links the child just polled into the owner's list if it was woken
/// through its borrowed waker; on drop, so also if the child panicked (its
/// slot is then left `queued`, and must not be lost).
struct LinkLocal<'a> {
    set: &'a ReadySet,
    index: usize,
}

impl Drop for LinkLocal<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.set.link_local(self.index);
    }
}

/// The children taken by one poll: the owner's list, then the stack's,
/// each oldest wake first.
struct Woken<'a> {
    set: &'a ReadySet,
    /// The first child of the owner's list not yet handed out, or [`EMPTY`].
    local: u32,
    /// The first child from the stack not yet handed out, or [`EMPTY`].
    next: u32,
}

impl Iterator for Woken<'_> {
    type Item = usize;

    #[inline(always)]
    fn next(&mut self) -> Option<usize> {
        // The list picked by value, not by a `&mut` to one of the two
        // fields: that would keep both in memory rather than in registers.
        let (index, from_local) = match (self.local, self.next) {
            (EMPTY, EMPTY) => return None,
            (EMPTY, next) => (next, false),
            (local, _) => (local, true),
        };
        let index = index as usize;
        let slot = self.set.slot(index);
        // Relaxed: written by this thread (in `take_woken` or `link_local`).
        let below = slot.next.load(Ordering::Relaxed);
        if from_local {
            self.local = below;
        } else {
            self.next = below;
        }
        // Cleared before the child is polled, so a wake during or after the
        // poll queues it again.
        if self.set.unshared() {
            // Only we touch `queued` (see `unshared`).
            slot.queued.store(false, Ordering::Relaxed);
        } else {
            // AcqRel: Acquire pairs with the Release of the wakes that found
            // it set, so what a waker did before waking is visible to the
            // poll that follows; Release orders the read of `next` above
            // before a new pusher's write of it.
            slot.queued.swap(false, Ordering::AcqRel);
        }
        Some(index)
    }
}

impl Drop for Woken<'_> {
    /// Puts back the children not handed out (a child panicked, or the
    /// combinator stopped early), so their wakes are not lost.
    #[inline(always)]
    fn drop(&mut self) {
        // The usual case (every child handed out) inline, the rest not.
        if self.local != EMPTY || self.next != EMPTY {
            self.put_back();
        }
    }
}

impl Woken<'_> {
    /// [`Drop::drop`] when children are left.
    #[cold]
    #[inline(never)]
    fn put_back(&mut self) {
        if self.local != EMPTY {
            // Back at the front of the owner's list: older than what this
            // poll linked there.
            let header = self.set.header();
            let mut last = self.local;
            loop {
                // Relaxed: the owner's list.
                match self.set.slot(last as usize).next.load(Ordering::Relaxed) {
                    EMPTY => break,
                    next => last = next,
                }
            }
            let front = header.local_head.load(Ordering::Relaxed);
            self.set
                .slot(last as usize)
                .next
                .store(front, Ordering::Relaxed);
            if front == EMPTY {
                header.local_tail.store(last, Ordering::Relaxed);
            }
            header.local_head.store(self.local, Ordering::Relaxed);
        }
        if self.next == EMPTY {
            return;
        }
        // Reversed again, newest first like the stack, so that the next take
        // hands them out in the order they were woken.
        let mut rest = self.next;
        let mut top = EMPTY;
        while rest != EMPTY {
            let slot = self.set.slot(rest as usize);
            // Relaxed: the list is still ours (its slots are `queued`).
            let below = slot.next.load(Ordering::Relaxed);
            slot.next.store(top, Ordering::Relaxed);
            top = rest;
            rest = below;
        }
        // `self.next` is now the bottom of the list. We are inside the
        // owner's poll: if a pass ends, it wakes the parent (see
        // `poll_children`); if a child is panicking, the next poll starts
        // over anyway.
        self.set
            .header()
            .push(top, self.set.slot(self.next as usize));
    }
}

impl Header {
    /// Pushes the list `first ..= last` (already linked, `last` at the
    /// bottom); returns whether the stack was empty, in which case the
    /// caller sees that the parent is woken.
    fn push(&self, first: u32, last: &Slot) -> bool {
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
        head == EMPTY
    }

    /// Marks child `slot` ready: pushes it unless it is queued already.
    /// Returns whether the parent is to be woken (see [`Header::push`]).
    fn wake_slot(&self, slot: &Slot) -> bool {
        // AcqRel: Release publishes what the waker did before waking to the
        // owner's clearing swap (see `Woken::next`); Acquire pairs with that
        // swap's Release, so the owner has read `next` before we overwrite it.
        if slot.queued.swap(true, Ordering::AcqRel) {
            return false;
        }
        self.push(slot.index, slot)
    }
}

/// Slot `index` of the set starting at `header`.
///
/// # Safety
///
/// `header` must point at a live set of more than `index` slots, with the
/// provenance of the whole set.
unsafe fn slot_of(header: NonNull<Header>, index: usize) -> NonNull<Slot> {
    // SAFETY: the slots start `SLOTS_OFFSET` bytes past the header, and slot
    // `index` lies inside the set (caller).
    unsafe { header.byte_add(SLOTS_OFFSET).cast::<Slot>().add(index) }
}

/// The header of the set holding `slot`.
///
/// # Safety
///
/// `slot` must point at a slot of a live set, and carry the provenance of
/// the whole set (as every slot pointer made by [`ReadySet::slot`] does).
unsafe fn header_of(slot: *const Slot) -> *const Header {
    // SAFETY: the slot is live (caller); slot `index` is `index` slots past
    // the first, which is `SLOTS_OFFSET` bytes past the header, all within
    // the one set the pointer may address.
    unsafe {
        let index = (*slot).index as usize;
        slot.sub(index).byte_sub(SLOTS_OFFSET).cast::<Header>()
    }
}

/// The vtable of a borrowed waker, whose data is a pointer to its [`Slot`],
/// lent to a child for one poll. It is never dropped, and cannot be woken by
/// value (only an owned waker can), so `wake` and `drop` are there only to
/// fill the table. Every function requires a slot pointer of a live set
/// (which the set's owner guarantees while it lends the waker).
static BORROWED: RawWakerVTable = RawWakerVTable::new(
    clone_borrowed,
    wake_by_ref_borrowed,
    wake_by_ref_borrowed,
    drop_borrowed,
);

unsafe fn clone_borrowed(data: *const ()) -> RawWaker {
    let slot = data.cast::<Slot>();
    // SAFETY: `data` is a slot of a live set (vtable contract).
    let (header, index) = unsafe { (header_of(slot), (*slot).index) };
    // SAFETY: as above, and the pointer has the whole set's provenance.
    let shared = unsafe { shared_for(NonNull::new_unchecked(header.cast_mut())) };
    // SAFETY: the block has an id per slot of the set, so `index` is in it.
    let id = unsafe { id_of(shared, index as usize) };
    RawWaker::new(id.as_ptr().cast_const().cast::<()>(), &SHARED)
}

unsafe fn wake_by_ref_borrowed(data: *const ()) {
    let slot = data.cast::<Slot>();
    // SAFETY: `data` is a slot of a live set (vtable contract); headers
    // and slots are only read through shared references.
    let slot = unsafe { &*slot };
    // Not pushed on the stack, and the parent not woken: a borrowed waker
    // is only used during its child's poll, after which the owner queues the
    // slot on its own list (`ReadySet::link_local`) and, at the end of the
    // pass, wakes the parent (`ReadySet::poll_children`). A plain store:
    // borrowed wakes of one child (from threads the child joins) all store
    // the same value. Relaxed: read by the owner after the child's poll
    // returned, which this wake happens before.
    slot.local.store(true, Ordering::Relaxed);
}

unsafe fn drop_borrowed(_: *const ()) {}

/// The block that clones of a set's wakers share. Made by the first clone,
/// it outlives the set as long as a clone does; the owner cuts it off the set
/// (`state.set` becomes `None`) before the set's memory goes.
///
/// `len` ids follow it in the block (`u32` each: the child's index); a
/// clone's data points at the id of its child.
#[repr(C)]
struct Shared {
    /// One reference per clone, plus the owner's while the set lives. The
    /// block is freed when it drops to zero.
    refs: AtomicUsize,
    /// Held while a wake touches the set, so the owner cannot free the set
    /// in the middle of it, nor change the parent's waker.
    state: Mutex<SharedState>,
    /// How many ids follow.
    len: usize,
}

/// What a wake through a clone needs, under [`Shared::state`]'s lock.
struct SharedState {
    /// The set, while its owner lives.
    set: Option<NonNull<Header>>,
    /// The waker of the task polling the combinator, once a poll ended with
    /// clones alive; `None` after the combinator finished or was dropped, so
    /// late wakes wake nobody.
    parent: Option<Waker>,
}

const _: () = assert!(mem::align_of::<Shared>() >= mem::align_of::<u32>());
const IDS_OFFSET: usize = mem::size_of::<Shared>();

fn shared_layout(len: usize) -> Layout {
    let ids = Layout::array::<u32>(len).expect("gather: too many futures");
    let (layout, offset) = Layout::new::<Shared>()
        .extend(ids)
        .expect("gather: too many futures");
    debug_assert_eq!(offset, IDS_OFFSET);
    layout.pad_to_align()
}

/// The id of child `index` in `shared`.
///
/// # Safety
///
/// `shared` must be live, with more than `index` ids.
unsafe fn id_of(shared: NonNull<Shared>, index: usize) -> NonNull<u32> {
    // SAFETY: the ids start `IDS_OFFSET` bytes in, and id `index` is inside
    // the block (caller).
    unsafe { shared.byte_add(IDS_OFFSET).cast::<u32>().add(index) }
}

/// The shared block of the set at `header`, made if it is the first clone,
/// with one more reference (the new clone's).
///
/// # Safety
///
/// `header` must point at a live set, with the provenance of the whole set,
/// and that set's owner must be inside a poll (clones are made only from a
/// borrowed waker, which lives only then), so it is not dropping the set.
unsafe fn shared_for(header: NonNull<Header>) -> NonNull<Shared> {
    // SAFETY: the set is live (caller).
    let h = unsafe { header.as_ref() };
    // Acquire: pairs with the Release of the compare-exchange below (on
    // another thread that cloned first), so the block it made is visible.
    if let Some(shared) = NonNull::new(h.shared.load(Ordering::Acquire)) {
        // SAFETY: the owner's reference keeps the block alive: the owner is
        // inside a poll (caller), not dropping the set.
        let refs = unsafe { &shared.as_ref().refs };
        take_ref(refs);
        return shared;
    }
    let len = h.len as usize;
    let layout = shared_layout(len);
    // SAFETY: `layout` has a non-zero size: it holds a `Shared`.
    let block = unsafe { alloc::alloc(layout) };
    let Some(shared) = NonNull::new(block.cast::<Shared>()) else {
        alloc::handle_alloc_error(layout)
    };
    // SAFETY: the block is fresh, laid out as `Shared` followed by `len`
    // ids, all written here.
    unsafe {
        shared.as_ptr().write(Shared {
            // The owner's and the new clone's.
            refs: AtomicUsize::new(2),
            state: Mutex::new(SharedState {
                set: Some(header),
                parent: None,
            }),
            len,
        });
        for index in 0..len {
            // Cannot truncate: `len < MAX_CHILDREN` (`Header::new`).
            id_of(shared, index).as_ptr().write(index as u32);
        }
    }
    // AcqRel on success: Release publishes the block to the threads that
    // load it (above; and the owner, in `ReadySet::drop`). Acquire on
    // failure: pairs with the winner's Release, so its block is visible.
    match h.shared.compare_exchange(
        ptr::null_mut(),
        shared.as_ptr(),
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => shared,
        Err(winner) => {
            // Another thread's clone made one first: use it, free ours.
            // SAFETY: ours was never published: drop it, free it.
            unsafe {
                ptr::drop_in_place(shared.as_ptr());
                alloc::dealloc(block, layout);
            }
            // SAFETY: the winner is non-null and live (as above).
            let winner = unsafe { NonNull::new_unchecked(winner) };
            // SAFETY: kept alive by the owner's reference (as above).
            take_ref(unsafe { &winner.as_ref().refs });
            winner
        }
    }
}

/// Adds a reference to a block that the caller can already reach.
fn take_ref(refs: &AtomicUsize) {
    // Relaxed: as in `Arc::clone`, a reference is made from a live one, so
    // the block cannot be freed meanwhile and nothing needs publishing.
    let old = refs.fetch_add(1, Ordering::Relaxed);
    if old > isize::MAX as usize {
        // Wakers leaked in a loop: abort rather than overflow, like `Arc`.
        std::process::abort();
    }
}

/// Drops one reference to a shared block, freeing it if that was the last.
///
/// # Safety
///
/// The caller must own one reference, and not use the block afterwards.
unsafe fn drop_shared_ref(shared: NonNull<Shared>) {
    // SAFETY: the caller's reference keeps the block alive until this
    // decrement.
    let refs = unsafe { &shared.as_ref().refs };
    // Release: everything this holder did with the block happens before
    // whoever frees it (their Acquire fence below). As in `Arc::drop`.
    if refs.fetch_sub(1, Ordering::Release) != 1 {
        return;
    }
    // Acquire: pairs with every other holder's Release decrement.
    fence(Ordering::Acquire);
    // SAFETY: that was the last reference, so nothing else can reach the
    // block: drop the `Shared` (the ids need no drop) and free it with the
    // layout it was made with.
    unsafe {
        let layout = shared_layout(shared.as_ref().len);
        ptr::drop_in_place(shared.as_ptr());
        alloc::dealloc(shared.as_ptr().cast::<u8>(), layout);
    }
}

/// The shared block holding `id`.
///
/// # Safety
///
/// `id` must point at an id of a live shared block, with the provenance of
/// the whole block (as every pointer made by [`id_of`] does).
unsafe fn shared_of(id: *const u32) -> NonNull<Shared> {
    // SAFETY: id `index` is `index` ids past the first, `IDS_OFFSET` bytes
    // past the block's start, all within the block (caller).
    unsafe {
        let index = *id as usize;
        NonNull::new_unchecked(
            id.sub(index)
                .byte_sub(IDS_OFFSET)
                .cast::<Shared>()
                .cast_mut(),
        )
    }
}

/// The vtable of a clone of a child's waker, whose data points at the
/// child's id in a [`Shared`] block.
///
/// Every function requires such a pointer, to which the calling waker holds
/// (or borrows) a reference. They touch only atomics and mutexes, so they
/// are safe from any thread, before and after the set is gone.
static SHARED: RawWakerVTable =
    RawWakerVTable::new(clone_shared, wake_shared, wake_by_ref_shared, drop_shared);

unsafe fn clone_shared(data: *const ()) -> RawWaker {
    // SAFETY: `data` is an id of a block kept alive by the waker being
    // cloned (vtable contract).
    let shared = unsafe { shared_of(data.cast::<u32>()) };
    // SAFETY: as above.
    take_ref(unsafe { &shared.as_ref().refs });
    RawWaker::new(data, &SHARED)
}

unsafe fn wake_shared(data: *const ()) {
    // SAFETY: the waker owns a reference (vtable contract), which `wake`
    // consumes: use it, then drop it.
    unsafe {
        wake_by_ref_shared(data);
        drop_shared(data);
    }
}

unsafe fn wake_by_ref_shared(data: *const ()) {
    let id = data.cast::<u32>();
    // SAFETY: `data` is an id of a block kept alive by the waker (vtable
    // contract).
    let (shared, index) = unsafe { (shared_of(id).as_ref(), *id as usize) };
    let parent = {
        let state = shared.state.lock();
        match state.set {
            Some(header) => {
                // SAFETY: the set is live while its pointer is here, and the
                // lock held keeps its owner from removing it meanwhile; it
                // has a slot per id, so `index` is in it.
                let (header, slot) = unsafe { (header.as_ref(), slot_of(header, index).as_ref()) };
                if header.wake_slot(slot) {
                    state.parent.clone()
                } else {
                    None
                }
            }
            None => None,
        }
    };
    // Woken outside the lock: it runs the executor's code.
    if let Some(parent) = parent {
        parent.wake();
    }
}

unsafe fn drop_shared(data: *const ()) {
    // SAFETY: the waker owns a reference to a live block (vtable contract),
    // dropped here, once; the waker is not used afterwards.
    unsafe { drop_shared_ref(shared_of(data.cast::<u32>())) }
}

/// Models of the races (wakes from other threads against the owner's polls
/// and drop), run by loom under `--cfg loom`, once otherwise.
#[cfg(test)]
#[path = "loom_models.rs"]
mod loom_models;

// Not under loom: these use loom's types outside a model (see
// `loom_models.rs` for the models).
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use test_util::CountingWaker;

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
        let (count, parent) = CountingWaker::new();
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
        assert_eq!(count.wakes(), 1);
        assert_eq!(poll_round(&mut set, &parent, None), [3, 1, 4]);
        wakers[1].wake_by_ref();
        assert_eq!(count.wakes(), 2);
        assert_eq!(poll_round(&mut set, &parent, None), [1]);
    }

    #[test]
    fn wake_during_poll_requeues_the_child() {
        let (count, parent) = CountingWaker::new();
        let mut set = ReadySet::new(2);
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |i, cx| {
            if i == 1 {
                cx.waker().wake_by_ref(); // like yield_now
            }
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        assert_eq!(count.wakes(), 1);
        let flow: ControlFlow<()> = set.poll_children(&Context::from_waker(&parent), |i, cx| {
            assert_eq!(i, 1);
            cx.waker().wake_by_ref();
            ControlFlow::Continue(())
        });
        assert!(flow.is_continue());
        assert_eq!(count.wakes(), 2);
        assert_eq!(poll_round(&mut set, &parent, None), [1]);
    }

    #[test]
    fn newest_parent_waker_is_woken() {
        let (old_count, old) = CountingWaker::new();
        let (new_count, new) = CountingWaker::new();
        let mut set = ReadySet::new(1);
        let mut wakers = Vec::new();
        poll_round(&mut set, &old, Some(&mut wakers));
        poll_round(&mut set, &new, None);
        wakers[0].wake_by_ref();
        assert_eq!(old_count.wakes(), 0);
        assert_eq!(new_count.wakes(), 1);
    }

    #[test]
    fn switching_parent_wakers_back_and_forth() {
        let (a_count, a) = CountingWaker::new();
        let (b_count, b) = CountingWaker::new();
        let mut set = ReadySet::new(1);
        let mut wakers = Vec::new();
        poll_round(&mut set, &a, Some(&mut wakers));
        for (parent, count, expected) in [(&b, &b_count, 1), (&a, &a_count, 1), (&a, &a_count, 2)] {
            poll_round(&mut set, parent, None);
            wakers[0].wake_by_ref();
            assert_eq!(count.wakes(), expected);
        }
        assert_eq!(b_count.wakes(), 1);
        set.close();
        wakers[0].wake_by_ref(); // still queued: no push, no wake
        poll_round(&mut set, &a, None);
        wakers[0].wake_by_ref();
        assert_eq!(a_count.wakes(), 3, "registered again after close");
    }

    #[test]
    fn break_puts_back_the_rest() {
        let (_count, parent) = CountingWaker::new();
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
        let (_count, parent) = CountingWaker::new();
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
        let (count, parent) = CountingWaker::new();
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
        assert_eq!(count.wakes(), 1);
        let mut seen = poll_round(&mut set, &parent, None);
        seen.sort_unstable();
        assert_eq!(seen, [0, 1, 2]);
        drop(set);
        // After the owner is gone: harmless, and wakes nobody.
        for w in &wakers {
            w.wake_by_ref();
        }
        assert_eq!(count.wakes(), 1);
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
        let (count, parent) = CountingWaker::new();
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
        assert!(count.wakes() >= 1);
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
