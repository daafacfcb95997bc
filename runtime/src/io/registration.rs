//! A non-blocking OS object registered with a reactor: what every socket
//! type of [`crate::net`] is built on.

use super::driver::Driver;
use super::scheduled_io::{Direction, ScheduledIo};
use mio::event::Source;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::sync::Arc;
use std::task::{Context, Poll};

/// Owns `S` (a `mio` socket) while it is registered with a [`Driver`];
/// dropping it deregisters `S`, then closes it.
pub(crate) struct Registration<S: Source> {
    /// `Some` until dropped.
    io: Option<S>,
    key: usize,
    scheduled: Arc<ScheduledIo>,
    driver: Arc<Driver>,
}

impl<S: Source> Registration<S> {
    /// Registers `io` with the reactor `driver` (the sockets pass the one of
    /// the runtime running on this thread: see `Registration::new` in `net`).
    pub(crate) fn register(mut io: S, driver: Arc<Driver>) -> io::Result<Registration<S>> {
        let (key, scheduled) = driver.register(&mut io)?;
        Ok(Registration {
            io: Some(io),
            key,
            scheduled,
            driver,
        })
    }

    /// The registered object.
    pub(crate) fn get_ref(&self) -> &S {
        self.io
            .as_ref()
            .expect("a registration holds its object until dropped")
    }

    /// Runs the non-blocking `op` on the object, waiting for `direction`'s
    /// next event while it would block (see [`ScheduledIo::poll_io`]).
    pub(crate) fn poll_io<R>(
        &self,
        direction: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let io = self.get_ref();
        self.scheduled.poll_io(direction, cx, || op(io))
    }
}

impl<S: Source> Registration<S>
where
    for<'a> &'a S: Read + Write,
{
    // Stream reads and writes: a transfer shorter than asked (but not the
    // end of stream) means the socket is drained for now; see
    // `ScheduledIo::poll_io_drained`.

    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        let mut io = self.get_ref();
        self.scheduled
            .poll_io_drained(Direction::Read, cx, || io.read(buf), |&n| 0 < n && n < len)
    }

    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        let mut io = self.get_ref();
        self.scheduled.poll_io_drained(
            Direction::Read,
            cx,
            || io.read_vectored(bufs),
            |&n| 0 < n && n < len,
        )
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let mut io = self.get_ref();
        self.scheduled.poll_io_drained(
            Direction::Write,
            cx,
            || io.write(buf),
            |&n| 0 < n && n < buf.len(),
        )
    }

    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len: usize = bufs.iter().map(|b| b.len()).sum();
        let mut io = self.get_ref();
        self.scheduled.poll_io_drained(
            Direction::Write,
            cx,
            || io.write_vectored(bufs),
            |&n| 0 < n && n < len,
        )
    }
}

impl<S: Source> Drop for Registration<S> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregistered before `io` drops and closes its descriptor: a
            // closed descriptor's number may be reused at once.
            self.driver.deregister(&mut io, self.key);
        }
    }
}

impl<S: Source + fmt::Debug> fmt::Debug for Registration<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("io", &self.io)
            .field("key", &self.key)
            .field("readiness", &self.scheduled)
            .finish()
    }
}
