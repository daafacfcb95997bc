//! The readiness of one registered source: a slot per direction holding
//! whether the OS said it is ready, a tick counting those events, and the
//! waker(s) of the task(s) waiting for the next one.
//!
//! Sources are registered edge-triggered, so the OS reports a direction once
//! per change ("data arrived", "room to write"), not while it stays ready.
//! The slot remembers it: `ready` stays set until an operation actually
//! returns `WouldBlock`. Clearing it then must not erase an event that came
//! *during* that operation (its data would never be reported again): so the
//! operation notes the slot's `tick` before it starts, and clears `ready`
//! only if no event bumped the tick meanwhile, else it tries again. (tokio's
//! `ScheduledIo` packs the same tick into its readiness word.)

use crate::loom::Mutex;
use std::fmt;
use std::io;
use std::task::{Context, Poll, Waker};

/// The two directions a source can wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    Read = 0,
    Write = 1,
}

/// Readiness and waiters of one source, shared by its owner (the socket) and
/// the driver that delivers events.
pub(crate) struct ScheduledIo {
    slots: [Mutex<Slot>; 2],
}

/// One direction of a [`ScheduledIo`].
struct Slot {
    /// The OS reported this direction ready and no operation has failed
    /// with `WouldBlock` since. Starts `true`: a fresh socket is tried once
    /// before anything waits for an event.
    ready: bool,
    /// The OS reported this direction closed (the peer's FIN for reads, a
    /// hang-up for writes). Final: never cleared, so the end of stream is
    /// always seen even when the data before it was read in one short read
    /// (see `poll_io_drained`) that cleared `ready`.
    closed: bool,
    /// Bumped by every event of this direction (wrapping: only equality is
    /// ever tested, between two reads a few instructions apart).
    tick: u32,
    /// The newest task waiting for the next event.
    waker: Option<Waker>,
    /// Waiters of other tasks displaced from `waker` by a newer one. They are
    /// woken with it at the next event rather than dropped (a lost wake-up)
    /// or woken at once (two tasks reading one socket would wake each other
    /// in a loop). Empty unless several tasks wait on one direction.
    displaced: Vec<Waker>,
    /// The driver shut down (its runtime was dropped): every operation
    /// fails from now on.
    shut_down: bool,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            ready: true,
            closed: false,
            tick: 0,
            waker: None,
            displaced: Vec::new(),
            shut_down: false,
        }
    }

    /// Makes `waker` the newest waiter.
    fn register(&mut self, waker: &Waker) {
        match &mut self.waker {
            Some(current) if current.will_wake(waker) => {}
            Some(current) => {
                let old = std::mem::replace(current, waker.clone());
                if !self.displaced.iter().any(|w| w.will_wake(&old)) {
                    self.displaced.push(old);
                }
            }
            None => self.waker = Some(waker.clone()),
        }
    }

    /// Moves every waiter to `wakers`.
    fn take_wakers(&mut self, wakers: &mut Vec<Waker>) {
        wakers.extend(self.waker.take());
        wakers.append(&mut self.displaced);
    }
}

/// The error of an operation on a source whose runtime is gone.
pub(crate) fn shut_down_error() -> io::Error {
    io::Error::other("the runtime that drives this socket's I/O was shut down")
}

impl ScheduledIo {
    pub(crate) fn new() -> ScheduledIo {
        ScheduledIo {
            slots: [Mutex::new(Slot::new()), Mutex::new(Slot::new())],
        }
    }

    /// Runs the non-blocking `op` if `direction` may be ready. If it is not,
    /// or `op` fails with `WouldBlock`, registers the task's waker and
    /// returns `Pending`: the next event of `direction` wakes it, once.
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_drained(direction, cx, op, |_| false)
    }

    /// [`poll_io`](Self::poll_io), and when `drained` says that `op`'s
    /// success emptied the socket (a read shorter than its buffer: the
    /// kernel had no more; a write shorter than its data: the send buffer is
    /// full), clears the readiness at once, as tokio does: the next
    /// operation then waits for the next event instead of first paying a
    /// system call for its `WouldBlock`. Cleared only if no event came while
    /// `op` ran, as after a `WouldBlock`.
    pub(crate) fn poll_io_drained<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl FnOnce(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        let slot = &self.slots[direction as usize];
        let mut tick = {
            let mut slot = slot.lock();
            if slot.shut_down {
                return Poll::Ready(Err(shut_down_error()));
            }
            if !slot.ready && !slot.closed {
                slot.register(cx.waker());
                return Poll::Pending;
            }
            slot.tick
        };
        loop {
            match op() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    let mut slot = slot.lock();
                    if slot.shut_down {
                        return Poll::Ready(Err(shut_down_error()));
                    }
                    if slot.tick == tick {
                        // No event since `op` started: the OS will report the
                        // next change, and the driver will wake us then.
                        slot.ready = false;
                        slot.register(cx.waker());
                        return Poll::Pending;
                    }
                    // An event came while `op` ran: what it announced may
                    // postdate `op`'s look at the socket. Try again.
                    tick = slot.tick;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Ok(value) => {
                    if drained(&value) {
                        let mut slot = slot.lock();
                        if slot.tick == tick {
                            slot.ready = false;
                        }
                    }
                    return Poll::Ready(Ok(value));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// An event of `direction` arrived (`closed`: it says the direction is
    /// closed for good): marks it ready and moves its waiters to `wakers`,
    /// for the caller to wake once it holds no lock.
    pub(crate) fn set_ready(&self, direction: Direction, closed: bool, wakers: &mut Vec<Waker>) {
        let mut slot = self.slots[direction as usize].lock();
        slot.ready = true;
        slot.closed |= closed;
        slot.tick = slot.tick.wrapping_add(1);
        slot.take_wakers(wakers);
    }

    /// The driver shuts down: every operation fails from now on; moves every
    /// waiter to `wakers`, for the caller to wake once it holds no lock.
    pub(crate) fn shut_down(&self, wakers: &mut Vec<Waker>) {
        for slot in &self.slots {
            let mut slot = slot.lock();
            slot.shut_down = true;
            slot.take_wakers(wakers);
        }
    }

    /// Forgets every waiter (the source is deregistered); the caller drops
    /// them once it holds no lock.
    pub(crate) fn clear_wakers(&self, wakers: &mut Vec<Waker>) {
        for slot in &self.slots {
            slot.lock().take_wakers(wakers);
        }
    }
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let read = self.slots[0].lock().ready;
        let write = self.slots[1].lock().ready;
        f.debug_struct("ScheduledIo")
            .field("read_ready", &read)
            .field("write_ready", &write)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{Direction, ScheduledIo};
    use std::io;
    use std::task::{Context, Poll, Waker};
    use test_util::CountingWaker;

    fn would_block() -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }

    #[test]
    fn one_event_wakes_each_waiter_once() {
        let io = ScheduledIo::new();
        let (a, waker_a) = CountingWaker::new();
        let (b, waker_b) = CountingWaker::new();
        // First try: ready, WouldBlock, the slot clears and a waits.
        assert!(io
            .poll_io(
                Direction::Read,
                &mut Context::from_waker(&waker_a),
                would_block
            )
            .is_pending());
        // b displaces a as the newest waiter; a is kept, not woken.
        assert!(io
            .poll_io(Direction::Read, &mut Context::from_waker(&waker_b), || Ok(
                1
            ))
            .is_pending());
        assert_eq!(a.wakes(), 0);
        let mut wakers = Vec::new();
        io.set_ready(Direction::Write, false, &mut wakers);
        assert!(wakers.is_empty(), "a write event wakes no reader");
        io.set_ready(Direction::Read, false, &mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        // A second event with nobody waiting wakes nobody again.
        io.set_ready(Direction::Read, false, &mut wakers);
        assert!(wakers.is_empty());
        assert_eq!(a.wakes(), 1);
        assert_eq!(b.wakes(), 1);
        let mut cx = Context::from_waker(&waker_b);
        assert!(matches!(
            io.poll_io(Direction::Read, &mut cx, || Ok(7)),
            Poll::Ready(Ok(7))
        ));
    }

    #[test]
    fn an_event_during_the_operation_is_not_erased() {
        let io = ScheduledIo::new();
        let (count, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        let mut attempts = 0;
        let result = io.poll_io(Direction::Read, &mut cx, || {
            attempts += 1;
            if attempts == 1 {
                // The event lands while the first attempt runs.
                let mut wakers = Vec::new();
                io.set_ready(Direction::Read, false, &mut wakers);
                would_block()
            } else {
                Ok(5)
            }
        });
        assert!(matches!(result, Poll::Ready(Ok(5))));
        assert_eq!(attempts, 2);
        assert_eq!(count.wakes(), 0);
    }

    #[test]
    fn a_short_read_clears_readiness_but_not_the_end_of_stream() {
        let io = ScheduledIo::new();
        let (_, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        let short = |_: &usize| true;
        // Data then FIN, reported by one edge: the short read of the data
        // clears `ready`, yet the next read runs (and reads the end).
        let mut wakers = Vec::new();
        io.set_ready(Direction::Read, true, &mut wakers);
        let read = io.poll_io_drained(Direction::Read, &mut cx, || Ok(4), short);
        assert!(matches!(read, Poll::Ready(Ok(4))));
        let end = io.poll_io_drained(Direction::Read, &mut cx, || Ok(0), |_| false);
        assert!(matches!(end, Poll::Ready(Ok(0))));
        // Without a close, a short read makes the next one wait for an event
        // without trying (an op that would panic if run).
        let io = ScheduledIo::new();
        let read = io.poll_io_drained(Direction::Read, &mut cx, || Ok(4), short);
        assert!(matches!(read, Poll::Ready(Ok(4))));
        let next = io.poll_io(Direction::Read, &mut cx, || -> io::Result<usize> {
            panic!("tried a drained socket")
        });
        assert!(next.is_pending());
    }

    #[test]
    fn shut_down_fails_operations_and_wakes_waiters() {
        let io = ScheduledIo::new();
        let (count, waker) = CountingWaker::new();
        let mut cx = Context::from_waker(&waker);
        assert!(io
            .poll_io(Direction::Write, &mut cx, would_block)
            .is_pending());
        let mut wakers = Vec::new();
        io.shut_down(&mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(count.wakes(), 1);
        assert!(matches!(
            io.poll_io(Direction::Write, &mut cx, || Ok(1)),
            Poll::Ready(Err(_))
        ));
    }
}

#[cfg(all(test, loom))]
mod loom_models {
    //! The race of the reactor's own synchronisation: a task's operation
    //! failing with `WouldBlock` and registering its waker, against the
    //! driver delivering the event for the data that arrives meanwhile. The
    //! task must never sleep with the data there and no wake-up coming.

    use super::{Direction, ScheduledIo};
    use crate::loom::{thread, Arc, AtomicBool, Mutex, Ordering};
    use std::future::poll_fn;
    use std::io;
    use std::task::Waker;

    /// A fake non-blocking socket: `data` is what a read would return. A
    /// lock, like the kernel's socket lock: with a `SeqCst` atomic here,
    /// loom 0.7 produced a `swap` reading 0 after the other thread's store
    /// of 3 had been ordered before it through the slot's mutex, a
    /// "lost" packet no real socket loses.
    type Socket = Mutex<usize>;

    fn read(data: &Socket) -> io::Result<usize> {
        match std::mem::take(&mut *data.lock()) {
            0 => Err(io::ErrorKind::WouldBlock.into()),
            n => Ok(n),
        }
    }

    /// The driver's side: the data arrives, then the OS reports the edge.
    fn deliver(io: &ScheduledIo, data: &Socket, n: usize) {
        *data.lock() = n;
        let mut wakers = Vec::new();
        io.set_ready(Direction::Read, false, &mut wakers);
        wakers.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn event_racing_a_would_block_read_is_not_lost() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let data = Arc::new(Mutex::new(0));
            let driver = {
                let (io, data) = (Arc::clone(&io), Arc::clone(&data));
                thread::spawn(move || deliver(&io, &data, 3))
            };
            // loom reports a deadlock if the read waits with no wake-up.
            let n = loom::future::block_on(poll_fn(|cx| {
                io.poll_io(Direction::Read, cx, || read(&data))
            }))
            .unwrap();
            assert_eq!(n, 3);
            driver.join().unwrap();
        });
    }

    #[test]
    fn two_events_two_reads() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let data = Arc::new(Mutex::new(0));
            let consumed = Arc::new(AtomicBool::new(false));
            let driver = {
                let (io, data, consumed) =
                    (Arc::clone(&io), Arc::clone(&data), Arc::clone(&consumed));
                thread::spawn(move || {
                    deliver(&io, &data, 1);
                    // The second packet comes after the first was read.
                    while !consumed.load(Ordering::SeqCst) {
                        thread::yield_now();
                    }
                    deliver(&io, &data, 2);
                })
            };
            let next = || {
                loom::future::block_on(poll_fn(|cx| {
                    io.poll_io(Direction::Read, cx, || read(&data))
                }))
                .unwrap()
            };
            assert_eq!(next(), 1);
            consumed.store(true, Ordering::SeqCst);
            assert_eq!(next(), 2);
            driver.join().unwrap();
        });
    }

    #[test]
    fn event_racing_a_short_read_is_not_lost() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let data = Arc::new(Mutex::new(1));
            let driver = {
                let (io, data) = (Arc::clone(&io), Arc::clone(&data));
                thread::spawn(move || deliver(&io, &data, 2))
            };
            // Each read is "short" (it takes less than a 4-byte buffer), so
            // it clears the readiness unless an event came meanwhile. The
            // two values may also come in one read if 2 overwrote 1.
            let mut total = 0;
            while total != 2 && total != 3 {
                total += loom::future::block_on(poll_fn(|cx| {
                    io.poll_io_drained(Direction::Read, cx, || read(&data), |&n| n < 4)
                }))
                .unwrap();
            }
            driver.join().unwrap();
        });
    }

    #[test]
    fn shut_down_racing_a_wait_fails_it() {
        loom::model(|| {
            let io = Arc::new(ScheduledIo::new());
            let data = Arc::new(Mutex::new(0));
            let driver = {
                let io = Arc::clone(&io);
                thread::spawn(move || {
                    let mut wakers = Vec::new();
                    io.shut_down(&mut wakers);
                    wakers.into_iter().for_each(Waker::wake);
                })
            };
            let result = loom::future::block_on(poll_fn(|cx| {
                io.poll_io(Direction::Read, cx, || read(&data))
            }));
            assert!(result.is_err());
            driver.join().unwrap();
        });
    }
}
