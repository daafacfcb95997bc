//! What a channel and a queue cost in memory: the allocations of creating
//! one, of a value passing through, and of a parked task.

#![cfg(not(loom))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use sync_primitives::{mpsc, Queue};
use test_util::{poll_with, CountingWaker};

/// The system allocator, counting the calling thread's allocations (tests
/// run in parallel on other threads).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    /// Bytes asked for by those allocations (a `realloc` counts its new
    /// size).
    static BYTES: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is a thread-local `Cell` with a const initialiser and no
// destructor, so touching it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        BYTES.with(|n| n.set(n.get() + layout.size()));
        // SAFETY: the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        BYTES.with(|n| n.set(n.get() + new_size));
        // SAFETY: the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many bytes `f` allocates on this thread.
fn bytes<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = BYTES.with(Cell::get);
    let value = f();
    (value, BYTES.with(Cell::get) - before)
}

/// How many allocations `f` makes on this thread.
fn allocations<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let value = f();
    (value, ALLOCATIONS.with(Cell::get) - before)
}

#[test]
fn a_channel_is_one_allocation_and_values_allocate_nothing_once_the_buffer_grew() {
    let ((tx, mut rx), n) = allocations(|| mpsc::channel::<u64>(16));
    assert_eq!(n, 1, "the shared state, in one Arc");
    // The ring buffer grows (by doubling) to the peak number of values
    // buffered, here 16.
    for i in 0..16 {
        tx.try_send(i).unwrap();
    }
    for _ in 0..16 {
        rx.try_recv().unwrap();
    }
    // (Fewer rounds under miri, which is slow.)
    let rounds = if cfg!(miri) { 20 } else { 1000 };
    let ((), n) = allocations(|| {
        for round in 0..rounds {
            for i in 0..16 {
                tx.try_send(round * 16 + i).unwrap();
            }
            for _ in 0..16 {
                rx.try_recv().unwrap();
            }
        }
    });
    assert_eq!(n, 0, "steady state: no allocation per value");

    let ((utx, urx), n) = allocations(mpsc::unbounded_channel::<u64>);
    assert_eq!(n, 1);
    drop((utx, urx));
    let (queue, n) = allocations(|| Queue::<u64>::new(0));
    assert_eq!(n, 0, "a Queue lives where the user puts it: no allocation");
    drop(queue);
}

#[test]
fn parking_one_sender_or_one_receiver_allocates_nothing() {
    let (tx, mut rx) = mpsc::channel::<u64>(1);
    tx.try_send(0).unwrap();
    let (_counter, waker) = CountingWaker::new();
    let mut send = Box::pin(tx.send(1));
    let (pending, n) = allocations(|| poll_with(&mut send, &waker).is_pending());
    assert!(pending);
    // `CountingWaker` is an `Arc`: cloning it does not allocate, and the
    // first parked task of a line uses the wait queue's inline slot.
    assert_eq!(n, 0, "a parked sender costs no allocation");
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(poll_with(&mut send, &waker).is_ready());
    assert_eq!(rx.try_recv(), Ok(1));
    let mut recv = Box::pin(rx.recv());
    let (pending, n) = allocations(|| poll_with(&mut recv, &waker).is_pending());
    assert!(pending);
    assert_eq!(n, 0, "a parked receiver costs no allocation");
}

#[test]
fn sizes() {
    use std::mem::size_of;
    // Handles are one pointer; futures are small and hold the value.
    assert_eq!(size_of::<mpsc::Sender<u64>>(), size_of::<usize>());
    assert_eq!(size_of::<mpsc::UnboundedSender<u64>>(), size_of::<usize>());
    println!(
        "Queue<u64>: {} bytes; Receiver<u64>: {}; Send<'_, u64>: {}; Recv<'_, u64>: {}",
        size_of::<Queue<u64>>(),
        size_of::<mpsc::Receiver<u64>>(),
        size_of::<mpsc::Send<'_, u64>>(),
        size_of::<mpsc::Recv<'_, u64>>(),
    );
    // Exact on 64-bit targets, so that growth is noticed: the buffer (an
    // empty `VecDeque`, 32 bytes), the counters and the one lock, and three
    // lines of waiters (getters, putters, joiners) of 120 bytes each, each
    // with its inline slot (632 bytes when each line had its own lock and
    // a slot carried a generation).
    #[cfg(target_pointer_width = "64")]
    {
        assert_eq!(size_of::<Queue<u64>>(), 448);
        assert!(size_of::<sync_primitives::PriorityQueue<u64>>() <= 448);
        assert!(size_of::<sync_primitives::LifoQueue<u64>>() <= 448);
        // An mpsc channel is one allocation: the same state plus the
        // handles' counts (656 bytes before).
        let (channel, n) = bytes(|| mpsc::channel::<u64>(16));
        assert_eq!(n, 472, "an idle bounded channel's one allocation");
        drop(channel);
        let (channel, n) = bytes(mpsc::unbounded_channel::<u64>);
        assert_eq!(n, 472, "an idle unbounded channel's one allocation");
        drop(channel);
    }
}

#[test]
fn a_queued_value_costs_its_size_once_the_buffer_grew() {
    let queue = Queue::<u64>::new(0);
    // The ring buffer doubles up to the peak, 1024 values (8 KiB): the
    // allocations on the way sum to less than twice that.
    let ((), n) = bytes(|| {
        for i in 0..1024 {
            queue.put_nowait(i).unwrap();
        }
    });
    assert!(
        (1024 * 8..=2 * 1024 * 8 + 1024).contains(&n),
        "{n} bytes for 1024 u64s"
    );
    for _ in 0..1024 {
        queue.get_nowait().unwrap();
    }
    let ((), n) = bytes(|| {
        for i in 0..1024 {
            queue.put_nowait(i).unwrap();
        }
    });
    assert_eq!(n, 0, "the grown buffer is kept and reused");
}

#[test]
fn broadcast_values_allocate_nothing_once_the_ring_went_round() {
    use sync_primitives::broadcast;
    let (tx, mut first) = broadcast::channel::<u64>(4);
    let mut second = tx.subscribe();
    // The first lap gives each of the 4 slots its cell.
    let ((), n) = allocations(|| {
        for i in 0..4 {
            tx.send(i).unwrap();
        }
    });
    assert_eq!(n, 4, "one cell per slot, on the slot's first value");
    for i in 0..4 {
        assert_eq!(first.try_recv(), Ok(i));
        assert_eq!(second.try_recv(), Ok(i));
    }
    let ((), n) = allocations(|| {
        for i in 4..1004 {
            tx.send(i).unwrap();
            assert_eq!(first.try_recv(), Ok(i));
            assert_eq!(second.try_recv(), Ok(i));
        }
        // Overwriting values nobody read reuses the cells too: a lag.
        for i in 1004..1012 {
            tx.send(i).unwrap();
        }
    });
    assert_eq!(n, 0, "steady state: a value reuses its slot's cell");
    assert_eq!(
        first.try_recv(),
        Err(broadcast::TryRecvError::Lagged(4)),
        "the 4 overwritten values reported once"
    );
    assert_eq!(first.try_recv(), Ok(1008));
}
