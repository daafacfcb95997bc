//! The reactor: the OS poller (epoll, through `mio`), the sources registered
//! with it, and the turn that waits for events and wakes the tasks waiting
//! for them.

//!
//! Its own locks and flags come from `std` and `parking_lot`, not from the
//! crate's loom facade: it sits on epoll, which loom cannot model, and it
//! must keep working in a `--cfg loom` build outside the models (as
//! `park.rs` does). The race that matters, readiness against waker
//! registration, lives in `scheduled_io.rs` and is modelled there.

use super::scheduled_io::{shut_down_error, Direction, ScheduledIo};
use mio::event::Source;
use mio::{Events, Interest, Poll, Registry, Token};
use parking_lot::{Mutex, MutexGuard};
use slab::Slab;
use std::fmt;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::Waker;
use std::time::Duration;

/// The token of the driver's own waker (the eventfd that interrupts a wait);
/// sources use their slab index, which never gets this large.
const WAKE_TOKEN: Token = Token(usize::MAX);

/// How many events one turn takes from the OS at most (more stay queued in
/// the kernel for the next turn).
const EVENTS_CAPACITY: usize = 1024;

/// One runtime's reactor (see the module docs of [`crate::io`]).
pub(crate) struct Driver {
    /// The poller and its event buffer. Whoever holds this lock is *the*
    /// thread waiting in (or about to wait in) `epoll_wait`; others only ever
    /// `try_lock` it.
    poll: Mutex<PollState>,
    /// Registers and deregisters sources without the poll lock.
    registry: Registry,
    /// Interrupts the thread waiting in `epoll_wait`.
    waker: mio::Waker,
    /// Registered sources, indexed by their token.
    sources: Mutex<Slab<Arc<ScheduledIo>>>,
    /// `sources.len()`, readable without the lock: a busy scheduler skips
    /// its non-blocking turn while nothing is registered.
    num_sources: AtomicUsize,
    /// The runtime shut down: registrations fail and every source's
    /// operations fail.
    shut_down: AtomicBool,
}

struct PollState {
    poll: Poll,
    events: Events,
}

/// The right to wait in the poller; see [`Driver::try_lock`].
pub(crate) struct PollGuard<'a> {
    driver: &'a Driver,
    state: MutexGuard<'a, PollState>,
}

impl Driver {
    /// Creates a reactor (an epoll instance and its eventfd).
    pub(crate) fn new() -> io::Result<Arc<Driver>> {
        let poll = Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKE_TOKEN)?;
        Ok(Arc::new(Driver {
            poll: Mutex::new(PollState {
                poll,
                events: Events::with_capacity(EVENTS_CAPACITY),
            }),
            registry,
            waker,
            sources: Mutex::new(Slab::new()),
            num_sources: AtomicUsize::new(0),
            shut_down: AtomicBool::new(false),
        }))
    }

    /// Becomes the thread that waits in the poller, unless another one is.
    pub(crate) fn try_lock(&self) -> Option<PollGuard<'_>> {
        self.poll.try_lock().map(|state| PollGuard {
            driver: self,
            state,
        })
    }

    /// Waits until no other thread waits in the poller, then becomes it.
    fn lock(&self) -> PollGuard<'_> {
        PollGuard {
            driver: self,
            state: self.poll.lock(),
        }
    }

    /// Interrupts the current (or the next) wait in the poller.
    pub(crate) fn unpark(&self) {
        // Fails only if the eventfd write fails, which it does not short of
        // a bug: the waiter then wakes at its time-out.
        let _ = self.waker.wake();
    }

    /// Delivers the events ready now without waiting, if no other thread
    /// waits in the poller and any source is registered. A busy scheduler
    /// calls it between tasks, so I/O is not starved by a queue that never
    /// empties.
    pub(crate) fn poll_ready_now(&self) {
        // Relaxed: a hint; a source registered just now has its first
        // operation tried without waiting for an event anyway.
        if self.num_sources.load(Ordering::Relaxed) == 0 {
            return;
        }
        if let Some(guard) = self.try_lock() {
            guard.turn(Some(Duration::ZERO));
        }
    }

    /// Registers `source` for both directions, edge-triggered.
    pub(crate) fn register(
        &self,
        source: &mut impl Source,
    ) -> io::Result<(usize, Arc<ScheduledIo>)> {
        // Acquire: pairs with the SeqCst store in `shut_down` (a source
        // registered after it would wait forever).
        if self.shut_down.load(Ordering::Acquire) {
            return Err(shut_down_error());
        }
        let io = Arc::new(ScheduledIo::new());
        let key = {
            let mut sources = self.sources.lock();
            let key = sources.insert(Arc::clone(&io));
            self.num_sources.store(sources.len(), Ordering::Relaxed);
            key
        };
        let interest = Interest::READABLE | Interest::WRITABLE;
        if let Err(err) = self.registry.register(source, Token(key), interest) {
            self.remove(key);
            return Err(err);
        }
        Ok((key, io))
    }

    /// Deregisters `source` (before its file descriptor is closed) and
    /// forgets its readiness.
    pub(crate) fn deregister(&self, source: &mut impl Source, key: usize) {
        // Fails only if the source was never registered: nothing to undo.
        let _ = self.registry.deregister(source);
        self.remove(key);
    }

    fn remove(&self, key: usize) {
        let removed = {
            let mut sources = self.sources.lock();
            let removed = sources.try_remove(key);
            self.num_sources.store(sources.len(), Ordering::Relaxed);
            removed
        };
        // Outside the lock: dropping a waker may run a destructor.
        if let Some(io) = removed {
            let mut wakers = Vec::new();
            io.clear_wakers(&mut wakers);
            drop(wakers);
        }
    }

    /// The runtime shuts down: every registered source's operations fail
    /// from now on, and the tasks waiting on them are woken (they find the
    /// runtime closed and are dropped, as timers do on shutdown).
    pub(crate) fn shut_down(&self) {
        // SeqCst: see `register`.
        self.shut_down.store(true, Ordering::SeqCst);
        let mut wakers = Vec::new();
        for (_, io) in self.sources.lock().iter() {
            io.shut_down(&mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
        self.unpark();
    }
}

impl PollGuard<'_> {
    /// Waits up to `timeout` (`None`: until an event or [`Driver::unpark`])
    /// for events, then releases the poller and wakes the tasks waiting for
    /// the events that came.
    pub(crate) fn turn(mut self, timeout: Option<Duration>) {
        let PollState { poll, events } = &mut *self.state;
        if let Err(err) = poll.poll(events, timeout) {
            // EINTR (a signal): a spurious wake-up, which callers handle.
            // Anything else is a bug of ours (a bad epoll fd).
            debug_assert_eq!(err.kind(), io::ErrorKind::Interrupted, "epoll_wait: {err}");
            return;
        }
        let mut wakers = Vec::new();
        if !events.is_empty() {
            let sources = self.driver.sources.lock();
            for event in events.iter() {
                if event.token() == WAKE_TOKEN {
                    continue;
                }
                // A source deregistered since the event was queued is gone;
                // a reused index gets a spurious readiness, which costs its
                // next operation one `WouldBlock`.
                let Some(io) = sources.get(event.token().0) else {
                    continue;
                };
                let read_closed = event.is_read_closed();
                if event.is_readable() || read_closed || event.is_error() {
                    io.set_ready(Direction::Read, read_closed, &mut wakers);
                }
                let write_closed = event.is_write_closed();
                if event.is_writable() || write_closed || event.is_error() {
                    io.set_ready(Direction::Write, write_closed, &mut wakers);
                }
            }
        }
        // Release the poller before waking anyone: a waker runs scheduler
        // code (and possibly user code), which must not find it locked.
        drop(self);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("num_sources", &self.num_sources.load(Ordering::Relaxed))
            .field("shut_down", &self.shut_down.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for PollGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PollGuard").finish_non_exhaustive()
    }
}

/// The reactor of sockets created outside our runtimes (under
/// `futures::executor`, tokio, ...): a thread started on first use waits in
/// it for ever, like the global timer's thread.
pub(crate) fn global() -> &'static Arc<Driver> {
    static GLOBAL: OnceLock<Arc<Driver>> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let driver = Driver::new().expect("failed to create the global I/O reactor");
        let polled = Arc::clone(&driver);
        std::thread::Builder::new()
            .name("runtime-global-io".into())
            .spawn(move || loop {
                polled.lock().turn(None);
            })
            .expect("failed to start the global I/O reactor thread");
        driver
    })
}
