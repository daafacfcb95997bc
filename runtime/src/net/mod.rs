//! Networking: TCP, UDP and Unix-domain sockets driven by the runtime's I/O
//! reactor.
//!
//! The types work inside either flavour of runtime (and, through a global
//! reactor thread, under any other executor). An operation that would block
//! parks only the task: it resumes when the OS reports the socket ready, and
//! one readiness event wakes each task waiting for it once. A worker with
//! nothing to run waits for I/O and for its next timer in one `epoll_wait`.
//!
//! Errors are [`std::io::Error`]s (connection refused, address in use, reset
//! by peer, ...); a peer that closed the connection reads as `Ok(0)`.
//! Dropping a socket deregisters it from the reactor and closes it.
//!
//! Addresses are taken as [`std::net::ToSocketAddrs`], like `std`: host
//! names are resolved by the blocking system resolver on the calling thread,
//! so pass IP addresses in latency-sensitive code.
//!
//! ```
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use runtime::net::{TcpListener, TcpStream};
//!
//! runtime::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = runtime::spawn(async move {
//!         let (mut stream, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         stream.read_exact(&mut buf).await?;
//!         stream.write_all(&buf).await?;
//!         Ok::<_, std::io::Error>(())
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut echoed = [0; 5];
//!     client.read_exact(&mut echoed).await?;
//!     assert_eq!(&echoed, b"hello");
//!     server.await.unwrap()
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod tcp;
mod udp;
mod unix;

pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

use crate::io::Registration;
use crate::scheduler::context;
use mio::event::Source;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

// The sockets' constructor lives here, in the front end, because it looks up
// the thread's current runtime: the reactor (`crate::io`) never does (see
// `.ci/modgraph.py`).
impl<S: Source> Registration<S> {
    /// Registers `io` with the reactor of the runtime running on this thread
    /// (else the global reactor).
    pub(crate) fn new(io: S) -> io::Result<Registration<S>> {
        Registration::register(io, context::io_driver())
    }
}

/// Calls `f` with each address `addr` resolves to until one succeeds;
/// returns the last error (or one saying nothing was resolved).
async fn each_addr<T, F, Fut>(addr: impl ToSocketAddrs, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last_err = None;
    for addr in addr.to_socket_addrs()? {
        match f(addr).await {
            Ok(value) => return Ok(value),
            Err(err) => last_err = Some(err),
        }
    }
    Err(last_err.unwrap_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        )
    }))
}

/// `futures::io::AsyncRead` and `AsyncWrite` for a stream type and for a
/// shared reference to it, all four delegating to its `Registration` (in
/// field `io`); `poll_close` shuts the write half down.
macro_rules! impl_async_read_write {
    ($stream:ty) => {
        $crate::net::impl_async_read_write!(@one $stream);
        $crate::net::impl_async_read_write!(@one &$stream);
    };
    (@one $ty:ty) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_read_vectored(cx, bufs)
            }
        }

        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                self.io.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Nothing is buffered in user space.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(self.shutdown(std::net::Shutdown::Write))
            }
        }
    };
}
use impl_async_read_write;

/// The check after a non-blocking `connect` reported writable: its error,
/// if it failed; `WouldBlock` while it is still in progress (the peer
/// address is unknown, `ENOTCONN`, until it completes).
fn connect_result(
    take_error: io::Result<Option<io::Error>>,
    peer_addr: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    if let Some(err) = take_error? {
        return Err(err);
    }
    match peer_addr() {
        Err(err) if err.kind() == io::ErrorKind::NotConnected => {
            Err(io::ErrorKind::WouldBlock.into())
        }
        result => result,
    }
}
