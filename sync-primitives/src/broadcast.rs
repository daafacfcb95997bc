//! A multi-producer, multi-consumer channel where every receiver sees every
//! value, like `tokio::sync::broadcast`.
//!
//! [`channel`] makes a [`Sender`] (clone it for more producers) and a
//! first [`Receiver`]; [`Sender::subscribe`] makes more. Each receiver sees
//! every value sent after it subscribed, in order. The channel keeps the
//! last `capacity` values (rounded up to a power of two); a receiver that
//! falls further behind gets [`RecvError::Lagged`] once, saying how many
//! values it missed, and then continues with the oldest value kept.
//!
//! # Examples
//!
//! ```
//! use sync_primitives::broadcast;
//!
//! runtime::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send("hello").unwrap();
//!     tx.send("world").unwrap();
//!     drop(tx);
//!     for rx in [&mut rx1, &mut rx2] {
//!         assert_eq!(rx.recv().await, Ok("hello"));
//!         assert_eq!(rx.recv().await, Ok("world"));
//!         assert_eq!(rx.recv().await, Err(broadcast::RecvError::Closed));
//!     }
//! });
//! ```
//!
//! A channel of values that cannot move between threads stays on one:
//!
//! ```compile_fail
//! fn send<T: Send>(_: T) {}
//! let (tx, _rx) = sync_primitives::broadcast::channel::<std::rc::Rc<u8>>(1);
//! send(tx);
//! ```
//!
//! # How it works
//!
//! A ring of `capacity` slots behind the crate's internal lock; each slot
//! holds its value in a heap cell, with the number of receivers that have
//! yet to read it. A receiver that is not a value's last reader takes a
//! *ticket* for the value under the lock and clones it after releasing the
//! lock (a `Clone` impl is user code, never run under the channel's lock).
//! Tickets serialise the clones of one value (`T` need only be `Send`): a
//! receiver whose turn has not come (another one is cloning the same
//! value) spins, then yields its thread, until it has, so a `Clone` impl
//! must not itself receive that same value through another receiver.
//! Taking a ticket is a plain write under the lock, waiting for a turn a
//! load, and serving the ticket a store: a receive costs the channel's
//! lock and unlock and no other read-modify-write. The last receiver to
//! read a slot moves the value out, without cloning: at once when nobody
//! is cloning it, else on its own ticket, after the clones. Overwritten
//! and fully read values are dropped after the lock is released. Parked
//! receivers wait in the crate's wait queue; a send wakes them all.
//!
//! A slot's cell is reused: when no ticket is outstanding (the common
//! case), the last reader moves the value out of it and the next send to
//! that slot moves its value in, so a value passing through allocates
//! nothing once the ring has gone round once. A new cell is allocated
//! (under the lock) only for a slot's first value, or when a receiver is
//! still cloning the value being replaced (or a dropped receiver was its
//! last reader). The old cell is then *buried*: kept in a list that each
//! send, and each drop of a sender or receiver, sweeps, freeing (after
//! the lock) the cells whose clones are done, with the values they hold.
//! Such a value is thus dropped at the channel's next send or drop of a
//! handle, not the moment its clone ends: a ticket holder cannot tell
//! whether its cell was buried without a read-modify-write.

use std::fmt;
use std::future::Future;
use std::hint::spin_loop;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::{yield_now, AtomicUsize, Mutex, MutexGuard, Ordering, UnsafeCell};
use crate::wait_queue::{Key, WaitQueue};

/// Creates a broadcast channel keeping the last `capacity` values
/// (rounded up to a power of two).
///
/// # Panics
///
/// If `capacity` is 0, or too large to round up to a power of two.
///
/// # Examples
///
/// ```
/// use sync_primitives::broadcast;
///
/// let (tx, mut rx) = broadcast::channel(2);
/// assert_eq!(tx.send(1), Ok(1)); // one receiver reached
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
#[must_use]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        capacity > 0,
        "broadcast channel capacity must be at least 1"
    );
    let capacity = capacity
        .checked_next_power_of_two()
        .expect("broadcast channel capacity too large");
    let buffer = (0..capacity)
        .map(|_| Slot {
            pos: 0,
            unread: 0,
            cell: None,
        })
        .collect();
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            buffer,
            tail: 0,
            senders: 1,
            receivers: 1,
            parked: false,
            buried: Vec::new(),
        }),
        queue: WaitQueue::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, next: 0 },
    )
}

/// What every sender and receiver shares.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// Parked receivers. Always locked after `state` when both are held.
    queue: WaitQueue,
}

struct State<T> {
    /// The ring; its length is a power of two. Position `p` lives in slot
    /// `p % len`.
    buffer: Box<[Slot<T>]>,
    /// The position the next value will get. Positions `tail - len ..
    /// tail` (those `>= 0`) are kept.
    tail: u64,
    /// Live senders; the channel is closed when this reaches 0.
    senders: usize,
    /// Live receivers.
    receivers: usize,
    /// Whether a receiver may be parked in the queue: set by a receiver
    /// that parks, cleared by the send or close that wakes the queue, so a
    /// send with nobody parked never takes the queue's lock.
    parked: bool,
    /// Cells the ring gave up while a receiver still had a ticket for
    /// them (a value overwritten, or dropped with a receiver, while another
    /// receiver clones it): freed, with whatever value they still hold, by
    /// the first send or drop of a sender or receiver that finds them
    /// unique. A ticket holder cannot free a cell itself: it serves its
    /// ticket with a plain store, and to know whether the cell was given
    /// up before that store it would need a read-modify-write, the very
    /// cost tickets avoid.
    buried: Vec<CellBox<T>>,
}

struct Slot<T> {
    /// The position of the value stored here (meaningful when `cell` was
    /// set by a send).
    pos: u64,
    /// Receivers that have yet to read this value; the last one takes it.
    unread: usize,
    /// `None` before the first send to this slot, and after a dropped
    /// receiver buried the cell. Otherwise the cell holds the value until
    /// its last reader moves it out, and is then empty, kept for the next
    /// value.
    cell: Option<CellBox<T>>,
}

impl<T> Slot<T> {
    /// Stores `value`, in the slot's cell if it is unique, returning the
    /// value it replaced (if any); or else, if a receiver still has a
    /// ticket for the old cell, in a new cell, returning the old one to be
    /// buried.
    fn store(&mut self, value: T) -> Result<Option<T>, CellBox<T>> {
        let value = match &self.cell {
            Some(cell) => match cell.replace_if_unique(value) {
                Ok(old) => return Ok(old),
                // A lagging receiver is still cloning the value being
                // overwritten: the slot gives that cell up.
                Err(value) => value,
            },
            None => value,
        };
        match self.cell.replace(CellBox::new(value)) {
            Some(old) => Err(old),
            None => Ok(None),
        }
    }

    /// Takes the value for its last reader: moved out of the cell if it is
    /// unique, otherwise a ticket to move it out after the clones of the
    /// receivers ahead (the cell stays in the slot, empty after that, for
    /// the next value).
    fn take_last(&mut self) -> Taken<T> {
        let cell = self.cell.as_ref().expect("an unread value is kept");
        match cell.take_if_unique() {
            Some(value) => Taken::Owned(value),
            None => Taken::Ticket(cell.ticket(true)),
        }
    }

    /// A ticket to clone the value, for a receiver that is not its last
    /// reader.
    fn share(&self) -> Taken<T> {
        let cell = self.cell.as_ref().expect("an unread value is kept");
        Taken::Ticket(cell.ticket(false))
    }

    /// Removes a value that its last reader, a dropped receiver, will never
    /// read: moved out of a unique cell, or else the cell itself, to be
    /// buried.
    fn discard(&mut self) -> Result<T, CellBox<T>> {
        let cell = self.cell.as_ref().expect("an unread value is kept");
        match cell.take_if_unique() {
            Some(value) => Ok(value),
            None => Err(self.cell.take().expect("an unread value is kept")),
        }
    }
}

impl<T> State<T> {
    #[inline]
    fn slot_mut(&mut self, pos: u64) -> &mut Slot<T> {
        let mask = self.buffer.len() - 1;
        // Truncation is the point: the low bits pick the slot.
        &mut self.buffer[pos as usize & mask]
    }

    /// The oldest position still kept.
    #[inline]
    fn oldest(&self) -> u64 {
        self.tail.saturating_sub(self.buffer.len() as u64)
    }

    fn is_closed(&self) -> bool {
        self.senders == 0
    }

    /// Takes the buried cells that are unique by now, to be freed after
    /// the lock is released.
    /// Allocates only when it frees something.
    #[inline]
    fn sweep(&mut self) -> Vec<CellBox<T>> {
        if self.buried.is_empty() {
            return Vec::new();
        }
        self.sweep_buried()
    }

    /// Releases the channel's lock, first taking the buried cells that are
    /// unique by now, and frees those after it. Every receive ends here:
    /// with nothing buried (the common case) it is a length check and the
    /// unlock, inlined, with no vector to drop (fan-out to 4: 651 -> 472
    /// instructions per value).
    #[inline]
    fn unlock_sweeping(state: MutexGuard<'_, State<T>>) {
        if state.buried.is_empty() {
            drop(state);
        } else {
            Self::unlock_sweeping_buried(state);
        }
    }

    #[cold]
    #[inline(never)]
    fn unlock_sweeping_buried(mut state: MutexGuard<'_, State<T>>) {
        let freed = state.sweep_buried();
        drop(state);
        drop(freed);
    }

    #[cold]
    #[inline(never)]
    fn sweep_buried(&mut self) -> Vec<CellBox<T>> {
        let mut freed = Vec::new();
        let mut i = 0;
        while i < self.buried.len() {
            if self.buried[i].is_unique() {
                freed.push(self.buried.swap_remove(i));
            } else {
                i += 1;
            }
        }
        freed
    }
}

impl<T> Shared<T> {
    /// A new receiver of `shared` that sees the values sent from now on.
    fn subscribe(shared: &Arc<Shared<T>>) -> Receiver<T> {
        let mut state = shared.state.lock();
        state.receivers += 1;
        let next = state.tail;
        drop(state);
        Receiver {
            shared: shared.clone(),
            next,
        }
    }

    /// Wakes every parked receiver, after releasing `state`.
    fn wake_receivers(&self, mut state: MutexGuard<'_, State<T>>) {
        if !std::mem::take(&mut state.parked) {
            return;
        }
        // Receivers park with `state` held: taking the queue's lock before
        // releasing it means every receiver that parked so far is queued.
        let list = self.queue.lock();
        drop(state);
        self.queue.wake_all(list);
    }
}

/// The sending half of a broadcast [`channel`]. Clone it for more
/// producers; the channel closes when the last one is dropped.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A receiving half of a broadcast [`channel`]: sees every value sent
/// after it was created, in order.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position of the next value to read.
    next: u64,
}

impl<T> Sender<T> {
    /// Sends `value` to every receiver, returning how many there are.
    ///
    /// It never waits: when the ring is full, the oldest value is
    /// overwritten, and receivers that had not read it will get
    /// [`RecvError::Lagged`].
    ///
    /// # Errors
    ///
    /// Hands `value` back if there is no receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.send("a"), Ok(2));
    /// drop((rx, _rx2));
    /// assert_eq!(tx.send("b").unwrap_err().0, "b");
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut state = self.shared.state.lock();
        let receivers = state.receivers;
        if receivers == 0 {
            drop(state);
            return Err(SendError(value));
        }
        let pos = state.tail;
        let slot = state.slot_mut(pos);
        slot.pos = pos;
        slot.unread = receivers;
        let overwritten = match slot.store(value) {
            Ok(old) => old,
            Err(cell) => {
                state.buried.push(cell);
                None
            }
        };
        state.tail = pos + 1;
        let freed = state.sweep();
        self.shared.wake_receivers(state);
        // Destructors are user code: run outside the lock.
        drop(overwritten);
        drop(freed);
        Ok(receivers)
    }

    /// A new receiver that sees every value sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// let mut late = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(late.try_recv(), Ok(2));
    /// ```
    #[must_use]
    pub fn subscribe(&self) -> Receiver<T> {
        Shared::subscribe(&self.shared)
    }

    /// How many receivers there are.
    #[must_use]
    pub fn receiver_count(&self) -> usize {
        self.shared.state.lock().receivers
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.senders -= 1;
        let freed = state.sweep();
        if state.is_closed() {
            // Closing: every parked receiver drains what is left, then
            // gets `Closed`.
            self.shared.wake_receivers(state);
        } else {
            drop(state);
        }
        drop(freed);
    }
}

/// The heap cell of a sent value: the value, and the ticket counters that
/// order the receivers' clones of it.
///
/// A receiver that is not a value's last reader takes the next *ticket*
/// under the channel's lock (`issued`, a plain counter), then, after
/// releasing that lock, waits until `served` reaches its ticket, clones
/// the value and serves its ticket (`served` moves on by one). Tickets
/// serialise the clones (`T` need only be `Send`, as in tokio, even though
/// receivers on several threads clone the same value, and `Clone` for a
/// `!Sync` type may assume it is not called concurrently), and they cost
/// no read-modify-write: `served` has one writer at a time, the holder of
/// the ticket being served, so waiting for a turn is a load and serving a
/// ticket a store. A non-last receive is the channel's lock and unlock and
/// nothing else atomic, where a clone lock plus a holder count cost two
/// more operations (tokio's receive is its slot's lock and unlock). Those
/// operations are most of a receive's cost: about 8 ns each on the
/// development machine, where `fanout_4` spends 75-90 ns per value on one
/// thread.
///
/// The cell is *unique*, nobody but the channel's lock holder reaching its
/// value, exactly when `served == issued`: no ticket is outstanding, and
/// new ones are only issued under that lock. A cell that is not unique
/// when the ring gives it up is buried (see [`State::buried`]).
///
/// This is the one place the crate runs user code (`T`'s `Clone`) under a
/// lock of its own, and it is deliberate: the turn guards nothing but this
/// one value, it is never held together with the channel's lock, and
/// nothing is woken or dropped under it. Clones of one value run one after
/// another, and a receiver waiting for its turn spins, then yields its
/// thread, without parking: a `Clone` should be quick. A `Clone` impl may
/// send and subscribe; it must not receive from this channel (receiving
/// *this same value* through another receiver waits for its own turn to
/// end, and two clones receiving each other's value wait crosswise), nor
/// block on anything a receiver of the channel may hold.
struct Cell<T> {
    /// Tickets served (wrapping). Written only by the holder of the ticket
    /// being served, with `Release`.
    served: AtomicUsize,
    /// Tickets issued (wrapping): changed only under the channel's lock,
    /// while the cell is in its slot.
    issued: UnsafeCell<usize>,
    /// `None` once its last reader moved the value out: the empty cell
    /// stays in its slot for the next value.
    value: UnsafeCell<Option<T>>,
}

/// The channel's ownership of a [`Cell`] (in its slot, or buried):
/// dropping it frees the cell, which is only done once it is unique.
struct CellBox<T> {
    cell: NonNull<Cell<T>>,
    _owns: PhantomData<Cell<T>>,
}

// SAFETY: the value is only reached by one thread at a time: by the
// channel's lock holder while no ticket is outstanding, or by the ticket
// holder whose turn it is (see `Cell`), as with a `Mutex<T>`, which is
// `Send + Sync` for `T: Send`.
unsafe impl<T: Send> Send for CellBox<T> {}

impl<T> CellBox<T> {
    /// A new cell holding `value`, with no ticket issued.
    fn new(value: T) -> Self {
        let cell = Box::new(Cell {
            served: AtomicUsize::new(0),
            issued: UnsafeCell::new(0),
            value: UnsafeCell::new(Some(value)),
        });
        CellBox {
            cell: NonNull::from(Box::leak(cell)),
            _owns: PhantomData,
        }
    }

    fn cell(&self) -> &Cell<T> {
        // SAFETY: the cell lives until this `CellBox` is dropped.
        unsafe { self.cell.as_ref() }
    }

    /// Whether every ticket issued has been served: nobody else reaches
    /// the value then, and nobody can start to until the channel's lock,
    /// held by the caller, is released.
    fn is_unique(&self) -> bool {
        // SAFETY: `issued` only changes under the channel's lock, held.
        let issued = self.cell().issued.with(|issued| unsafe { *issued });
        // Acquire: each ticket holder served its ticket (with `Release`)
        // after using the value, so that use happens before whatever the
        // caller does to the value now, or the cell's freeing.
        self.cell().served.load(Ordering::Acquire) == issued
    }

    /// Replaces the value with `value` if the cell is unique, returning the
    /// old one (if any); otherwise hands `value` back.
    fn replace_if_unique(&self, value: T) -> Result<Option<T>, T> {
        if !self.is_unique() {
            return Err(value);
        }
        // SAFETY: unique, with the channel's lock held: nobody else
        // reaches the value (see `is_unique`).
        Ok(self
            .cell()
            .value
            .with_mut(|v| unsafe { (*v).replace(value) }))
    }

    /// Moves the value out if the cell is unique (the cell stays, empty,
    /// for the next value).
    fn take_if_unique(&self) -> Option<T> {
        if !self.is_unique() {
            return None;
        }
        // SAFETY: as in `replace_if_unique`.
        let value = self.cell().value.with_mut(|v| unsafe { (*v).take() });
        Some(value.expect("an unread value is in its cell"))
    }

    /// Issues the next ticket, for a receiver that will clone the value
    /// once its turn comes, or (`take`, its last reader) move it out.
    /// Called with the channel's lock held.
    fn ticket(&self, take: bool) -> Ticket<T> {
        // SAFETY: `issued` only changes under the channel's lock, held.
        let ticket = self.cell().issued.with_mut(|issued| unsafe {
            let ticket = *issued;
            *issued = ticket.wrapping_add(1);
            ticket
        });
        Ticket {
            cell: self.cell,
            ticket,
            take,
        }
    }
}

impl<T> Drop for CellBox<T> {
    fn drop(&mut self) {
        // SAFETY: the cell is unique (a slot's cell is dropped with the
        // channel, whose receivers are all gone, and a buried one once
        // `is_unique` said so): nobody else reaches it; it came from
        // `Box::leak` in `new`. Its value, if any, is dropped here, which
        // the channel does with no lock held.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }
}

/// A receiver's turn at a value: it waits for it, then clones or takes
/// the value, and serves its ticket when dropped (also when a user's
/// `Clone` panics).
struct Ticket<T> {
    cell: NonNull<Cell<T>>,
    ticket: usize,
    /// The last reader's ticket: the value is moved, not cloned.
    take: bool,
}

impl<T> Ticket<T> {
    fn cell(&self) -> &Cell<T> {
        // SAFETY: a cell is freed only once every ticket issued for it was
        // served, and this one has not been yet.
        unsafe { self.cell.as_ref() }
    }

    /// Waits (spinning, then yielding the thread) until every earlier
    /// ticket was served.
    fn wait_turn(&self) {
        let mut spins = 0_u32;
        // Acquire: the previous ticket holder's use of the value (released
        // when it served its ticket) happens before ours.
        while self.cell().served.load(Ordering::Acquire) != self.ticket {
            if cfg!(loom) || spins >= 6 {
                yield_now();
            } else {
                for _ in 0..1_u32 << spins {
                    spin_loop();
                }
                spins += 1;
            }
        }
    }

    /// The value, moved out or cloned, once it is this ticket's turn.
    fn into_value(self) -> T
    where
        T: Clone,
    {
        self.wait_turn();
        self.cell().value.with_mut(|v| {
            // SAFETY: every earlier ticket was served, later ones wait for
            // this one, and the channel's lock holder only touches the
            // value of a unique cell, which this one is not until it is
            // served. `take` is only set for the ticket of the value's
            // last reader: nobody reads the value after it.
            let value = unsafe { &mut *v };
            if self.take {
                value.take().expect("an unread value is in its cell")
            } else {
                T::clone(value.as_ref().expect("an unread value is in its cell"))
            }
        })
    }
}

impl<T> Drop for Ticket<T> {
    fn drop(&mut self) {
        // Normally returns at once (`into_value` waited already); it keeps
        // the ticket order if a ticket is ever dropped before its turn.
        self.wait_turn();
        // Release: our use of the value happens before the next holder's
        // (Acquire in `wait_turn`) and the lock holder's (`is_unique`).
        // A plain store: nobody else writes `served` until it is done.
        // The cell may be freed as soon as it is: not touched after.
        self.cell()
            .served
            .store(self.ticket.wrapping_add(1), Ordering::Release);
    }
}

/// What a receiver took from the ring under the lock: the value is made
/// into a `T` after the lock is released.
enum Taken<T> {
    /// The value itself, moved out by its last reader.
    Owned(T),
    /// A ticket to clone the value, or take it (the last reader, finding
    /// another receiver still cloning it).
    Ticket(Ticket<T>),
}

impl<T: Clone> Taken<T> {
    fn into_value(self) -> T {
        match self {
            Taken::Owned(value) => value,
            Taken::Ticket(ticket) => ticket.into_value(),
        }
    }
}

impl<T> Receiver<T> {
    /// Takes the value at `next` (or a ticket to clone it) under the lock (moving `next`
    /// on), or says why there is none.
    fn take(next: &mut u64, state: &mut State<T>) -> Result<Taken<T>, TryRecvError> {
        if *next == state.tail {
            return Err(if state.is_closed() {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        let oldest = state.oldest();
        if *next < oldest {
            let missed = oldest - *next;
            *next = oldest;
            return Err(TryRecvError::Lagged(missed));
        }
        let pos = *next;
        *next += 1;
        let slot = state.slot_mut(pos);
        debug_assert_eq!(slot.pos, pos, "a kept position is in its slot");
        slot.unread -= 1;
        if slot.unread == 0 {
            return Ok(slot.take_last());
        }
        Ok(slot.share())
    }

    /// How many values this receiver has yet to read (at most the
    /// capacity; a lagging receiver has missed more).
    #[must_use]
    pub fn len(&self) -> usize {
        let state = self.shared.state.lock();
        // At most the capacity, a `usize`.
        (state.tail - self.next.max(state.oldest())) as usize
    }

    /// Whether this receiver has read every value kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A new receiver that sees the values sent from now on (not the ones
    /// this receiver has yet to read).
    #[must_use]
    pub fn resubscribe(&self) -> Receiver<T> {
        Shared::subscribe(&self.shared)
    }
}

impl<T: Clone> Receiver<T> {
    /// Waits for the next value.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`]`(n)` if `n` values were overwritten before this
    /// receiver read them (the next call returns the oldest value kept);
    /// [`RecvError::Closed`] once every sender is dropped and every value
    /// kept has been read.
    ///
    /// # Examples
    ///
    /// ```
    /// use sync_primitives::broadcast::{self, RecvError};
    ///
    /// runtime::block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(2);
    ///     for i in 0..5 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    ///     assert_eq!(rx.recv().await, Ok(3));
    ///     assert_eq!(rx.recv().await, Ok(4));
    /// });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, T> {
        Recv {
            receiver: self,
            key: None,
        }
    }

    /// Takes the next value if there is one, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if nothing is there yet, otherwise as
    /// [`recv`](Receiver::recv).
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut state = self.shared.state.lock();
        let taken = Self::take(&mut self.next, &mut state);
        // A value buried while it was being cloned is freed by the next
        // receive too, not only by a send: a channel gone quiet keeps no
        // overwritten value alive. Freed after unlocking.
        State::unlock_sweeping(state);
        taken.map(Taken::into_value)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut state = self.shared.state.lock();
        state.receivers -= 1;
        // The values this receiver will never read no longer wait for it;
        // those nobody else waits for either are dropped, after the lock.
        let mut unwanted = Vec::new();
        for pos in self.next.max(state.oldest())..state.tail {
            let slot = state.slot_mut(pos);
            slot.unread -= 1;
            if slot.unread == 0 {
                match slot.discard() {
                    Ok(value) => unwanted.push(value),
                    Err(cell) => state.buried.push(cell),
                }
            }
        }
        State::unlock_sweeping(state);
        drop(unwanted);
    }
}

/// The future returned by [`Receiver::recv`].
///
/// Dropping it before it completes takes it out of the queue; no value is
/// lost (the receiver's position only moves when a value is returned).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// Our waiter, once parked (possibly woken since).
    key: Option<Key>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let receiver = &mut *this.receiver;
        let shared = &*receiver.shared;
        let mut state = shared.state.lock();
        let result = match Receiver::take(&mut receiver.next, &mut state) {
            Ok(taken) => Ok(taken),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Empty) => {
                // Queued under the state lock: a send stores its value under
                // it too, then takes the queue lock before releasing it, so
                // it either came before our check or finds our waker.
                state.parked = true;
                let mut list = shared.queue.lock();
                this.key = Some(match this.key {
                    Some(key) if list.update_waker(key, cx.waker()) => key,
                    _ => list.push_back(cx.waker().clone()),
                });
                // The replaced waker is dropped with neither lock held.
                list.unlock_after(state);
                return Poll::Pending;
            }
        };
        State::unlock_sweeping(state);
        // Serve the ticket before anything else: removing our waiter may
        // drop its waker (user code), which must not run while this
        // receiver holds a turn on the value, or a destructor receiving the
        // same value through another receiver would wait for us forever.
        let result = result.map(Taken::into_value);
        // After releasing `state`: the freed waker is dropped with no lock
        // held. A send meanwhile may wake us once more, needlessly.
        if let Some(key) = this.key.take() {
            shared.queue.remove(key);
        }
        Poll::Ready(result)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.receiver.shared.queue.remove(key);
        }
    }
}

/// The error of [`Sender::send`] when there is no receiver: holds the
/// value that was not sent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SendError<T>(pub T);

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broadcast channel has no receiver")
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of [`Receiver::recv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// Every sender is gone and every value kept has been read.
    Closed,
    /// This many values were overwritten before this receiver read them;
    /// it continues with the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for RecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvError::Closed => f.write_str("broadcast channel closed"),
            RecvError::Lagged(n) => write!(f, "broadcast receiver lagged by {n} values"),
        }
    }
}

impl std::error::Error for RecvError {}

/// The error of [`Receiver::try_recv`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryRecvError {
    /// No value yet; senders may still send.
    Empty,
    /// Every sender is gone and every value kept has been read.
    Closed,
    /// This many values were overwritten before this receiver read them;
    /// it continues with the oldest value kept.
    Lagged(u64),
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryRecvError::Empty => f.write_str("broadcast channel empty"),
            TryRecvError::Closed => f.write_str("broadcast channel closed"),
            TryRecvError::Lagged(n) => write!(f, "broadcast receiver lagged by {n} values"),
        }
    }
}

impl std::error::Error for TryRecvError {}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state.lock();
        f.debug_struct("Sender")
            .field("capacity", &state.buffer.len())
            .field("sent", &state.tail)
            .field("receivers", &state.receivers)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Recv<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recv")
            .field("receiver", &self.receiver)
            .field("parked", &self.key.is_some())
            .finish()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn idle_channel_memory() {
        // The shared part of an idle channel, without its ring: the lock
        // and counters, the buried cells' (empty) list, and the wait queue
        // with its inline slot.
        let shared = std::mem::size_of::<Shared<u64>>();
        assert!(shared <= 208, "broadcast Shared grew to {shared} bytes");
        // Per slot: position, unread count, the cell pointer (the value
        // lives in the cell's allocation, kept and reused once the slot was
        // used: the two ticket counters + `Option<T>`).
        assert_eq!(std::mem::size_of::<Slot<u64>>(), 24);
        assert_eq!(
            std::mem::size_of::<Cell<u64>>(),
            16 + std::mem::size_of::<Option<u64>>()
        );
    }
}
