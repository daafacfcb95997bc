//! Unix-domain stream sockets: [`UnixListener`] and [`UnixStream`].

use super::{connect_result, impl_async_read_write};
use crate::io::{Direction, Registration};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// A Unix-domain socket server, listening for connections.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use runtime::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("runtime-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("sock");
/// let _ = std::fs::remove_file(&path);
/// runtime::block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"over a path").await?;
///     let mut buf = [0; 11];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"over a path");
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    io: Registration<mio::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to the socket file `path` (which must not exist).
    /// Synchronous, as in tokio and smol: binding never waits.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Registration::new(mio::net::UnixListener::bind(path)?)?,
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, addr) =
            poll_fn(|cx| self.io.poll_io(Direction::Read, cx, |l| l.accept())).await?;
        Ok((UnixStream::from_mio(stream)?, addr))
    }

    /// The address this listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl TryFrom<std::os::unix::net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// Registers a bound std listener with the current runtime's reactor,
    /// making it non-blocking.
    fn try_from(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: Registration::new(mio::net::UnixListener::from_std(listener))?,
        })
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}

/// A Unix-domain stream connection: [`futures::io::AsyncRead`] and
/// [`futures::io::AsyncWrite`], for `&UnixStream` too, as
/// [`TcpStream`](super::TcpStream).
///
/// [`futures::io::AsyncRead`]: futures_io::AsyncRead
/// [`futures::io::AsyncWrite`]: futures_io::AsyncWrite
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use runtime::net::UnixStream;
///
/// runtime::block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"one socketpair").await?;
///     let mut buf = [0; 14];
///     b.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"one socketpair");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    io: Registration<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket file `path`.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(mio::net::UnixStream::connect(path)?)?;
        poll_fn(|cx| {
            stream.io.poll_io(Direction::Write, cx, |s| {
                connect_result(s.take_error(), || s.peer_addr().map(drop))
            })
        })
        .await?;
        Ok(stream)
    }

    /// A connected pair of streams (`socketpair`).
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
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

    /// Shuts the read half, the write half or both down.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

impl_async_read_write!(UnixStream);

impl TryFrom<std::os::unix::net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// Registers a connected std stream with the current runtime's reactor,
    /// making it non-blocking.
    fn try_from(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .field("fd", &self.as_raw_fd())
            .finish()
    }
}
