//! The I/O reactor under [`crate::net`].
//!
//! # Shape (that of tokio's I/O driver and async-io's reactor)
//!
//! * Each runtime owns one `Driver`: an epoll instance (through `mio`),
//!   an eventfd to interrupt a wait, and a slab of the registered sources,
//!   whose index is the token epoll hands back with each event.
//! * A source is registered once, for both directions, edge-triggered: the
//!   OS reports each change ("data arrived", "room to write") once, and
//!   nothing has to be re-armed after an event. Its `ScheduledIo` holds,
//!   per direction, whether it is ready, a tick counting its events (so that
//!   an operation's `WouldBlock` never erases an event that arrived while it
//!   ran) and the newest waiting waker. One event wakes each waiter once.
//! * Operations are tried first and wait only on `WouldBlock`: a socket that
//!   has data is read without touching the reactor's locks more than once.
//!   A stream read or write shorter than asked clears the readiness at once
//!   (the socket is drained), so the next one waits for the next event
//!   without first paying a system call for its `WouldBlock`; a direction
//!   the OS reported closed stays ready for good, so the end of stream
//!   behind such a read is still seen. One `recv` and one `send` per
//!   request-response, as tokio.
//!
//! # Who waits in `epoll_wait`
//!
//! The scheduler threads, in their `Parker` (`park.rs`): an idle
//! thread that finds the poller free waits in it, with the time-out of the
//! next timer deadline, so I/O and timers share one system call; its unpark
//! writes the eventfd. Only one thread waits in the poller at a time (the
//! poll lock, as in async-io and tokio): the others park on their condition
//! variables. A thread leaves the poller only to run the tasks its events
//! woke; if they are two or more, the multi-thread scheduler wakes one idle
//! worker to steal some, which finds the poller free when it parks again
//! and takes it over (a turn that woke one task leaves the other asleep:
//! see "Who polls the reactor" in `scheduler/multi_thread.rs`). Busy
//! schedulers also poll without blocking now and then (the current-thread
//! one once per round, as asyncio's `_run_once` does; workers every few
//! dozen tasks), so a queue that never empties does not starve I/O.
//!
//! A socket registers with the reactor of the runtime it is created in.
//! Outside any runtime it uses a global reactor, driven by a thread of its
//! own started on first use. When a runtime shuts down its reactor fails
//! every later operation of its sockets with an error.

mod driver;
mod registration;
mod scheduled_io;

pub(crate) use driver::{global, Driver};
pub(crate) use registration::Registration;
pub(crate) use scheduled_io::Direction;

#[cfg(all(test, not(loom)))]
mod tests {
    //! The reactor end to end on a socketpair: a read that waits in
    //! `epoll_wait` and is woken by the peer's write, then end of stream.

    use crate::net::UnixStream;
    use futures_io::{AsyncRead, AsyncWrite};
    use std::future::poll_fn;
    use std::pin::Pin;

    #[test]
    #[cfg_attr(
        miri,
        ignore = "miri emulates socketpair with read/write but not recv/send, which std uses"
    )]
    fn a_waiting_read_is_woken_by_the_peers_write() {
        let rt = crate::Runtime::new();
        rt.block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            let reader = crate::spawn(async move {
                let mut buf = [0; 8];
                let n = poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
                    .await
                    .unwrap();
                let end = poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf[n..]))
                    .await
                    .unwrap();
                (buf[..n].to_vec(), end)
            });
            // Let the reader find the socket empty and wait.
            crate::yield_now().await;
            let written = poll_fn(|cx| Pin::new(&mut a).poll_write(cx, b"ping"))
                .await
                .unwrap();
            assert_eq!(written, 4);
            drop(a);
            let (read, end) = reader.await.unwrap();
            assert_eq!(read, b"ping");
            assert_eq!(end, 0, "the closed peer reads as the end");
        });
    }
}
