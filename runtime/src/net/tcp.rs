//! TCP: [`TcpListener`] and [`TcpStream`].

use super::{connect_result, each_addr, impl_async_read_write};
use crate::io::{Direction, Registration};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

/// A TCP socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use runtime::net::{TcpListener, TcpStream};
///
/// runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let client = runtime::spawn(async move { TcpStream::connect(addr).await });
///     let (server_side, peer) = listener.accept().await?;
///     let client = client.await.unwrap()?;
///     assert_eq!(peer, client.local_addr()?);
///     assert_eq!(server_side.peer_addr()?, client.local_addr()?);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    io: Registration<mio::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (`SO_REUSEADDR` set, backlog 1024), trying
    /// each address it resolves to in turn. Port 0 picks a free port: see
    /// [`local_addr`](Self::local_addr).
    ///
    /// # Errors
    ///
    /// The last address's error, e.g. [`io::ErrorKind::AddrInUse`].
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move {
            let listener = mio::net::TcpListener::bind(addr)?;
            Ok(TcpListener {
                io: Registration::new(listener)?,
            })
        })
        .await
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// Several tasks may accept on one listener; each connection goes to one
    /// of them.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) =
            poll_fn(|cx| self.io.poll_io(Direction::Read, cx, |l| l.accept())).await?;
        Ok((TcpStream::from_mio(stream)?, addr))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The value of `IP_TTL` for this socket.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Sets `IP_TTL` for this socket.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }
}

impl TryFrom<std::net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// Registers a bound std listener with the current runtime's reactor,
    /// making it non-blocking.
    fn try_from(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: Registration::new(mio::net::TcpListener::from_std(listener))?,
        })
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// A TCP connection.
///
/// Read and write it through [`futures::io::AsyncRead`] and
/// [`futures::io::AsyncWrite`] (and their `Ext` traits); both are also
/// implemented for `&TcpStream`, so one task can read while another writes.
/// [`poll_close`](futures_io::AsyncWrite::poll_close) shuts the write half
/// down (the peer reads `Ok(0)`); dropping the stream closes it.
///
/// [`futures::io::AsyncRead`]: futures_io::AsyncRead
/// [`futures::io::AsyncWrite`]: futures_io::AsyncWrite
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use runtime::net::{TcpListener, TcpStream};
///
/// runtime::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     client.close().await?; // the server then reads to the end
///     let mut got = Vec::new();
///     server.read_to_end(&mut got).await?;
///     assert_eq!(got, b"ping");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpStream {
    io: Registration<mio::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each address it resolves to in turn.
    ///
    /// # Errors
    ///
    /// The last address's error, e.g. [`io::ErrorKind::ConnectionRefused`].
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |addr| async move {
            let stream = TcpStream::from_mio(mio::net::TcpStream::connect(addr)?)?;
            // Writable once the handshake is over, one way or the other.
            poll_fn(|cx| {
                stream.io.poll_io(Direction::Write, cx, |s| {
                    connect_result(s.take_error(), || s.peer_addr().map(drop))
                })
            })
            .await?;
            Ok(stream)
        })
        .await
    }

    fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: Registration::new(stream)?,
        })
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY`: with `true`, small writes go out at once instead
    /// of waiting to be coalesced (Nagle's algorithm).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// The value of `TCP_NODELAY`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts the read half, the write half or both down (see
    /// [`std::net::TcpStream::shutdown`]).
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Reads into `buf` without removing the data from the socket's queue.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(Direction::Read, cx, |s| s.peek(buf))).await
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl_async_read_write!(TcpStream);

impl TryFrom<std::net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// Registers a connected std stream with the current runtime's reactor,
    /// making it non-blocking.
    fn try_from(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
