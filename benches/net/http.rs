//! The HTTP/1.1 handling every server of the benchmark shares: complete
//! request heads in, one fixed response each out (keep-alive, pipelining).

use std::io;

/// The fixed response (the same bytes as `runtime/examples/hello_http.rs`).
pub const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";

/// The largest request head accepted.
pub const MAX_HEAD: usize = 8 * 1024;

/// One connection's buffers.
#[derive(Debug)]
pub struct Conn {
    /// Received bytes; the first `filled` are valid.
    pub buf: Vec<u8>,
    pub filled: usize,
    /// Responses to write.
    pub out: Vec<u8>,
}

impl Conn {
    pub fn new() -> Conn {
        Conn {
            buf: vec![0; MAX_HEAD],
            filled: 0,
            out: Vec::new(),
        }
    }

    /// Where the next read goes.
    pub fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.filled..]
    }

    /// `n` bytes were read: queues a response per complete request head.
    pub fn received(&mut self, n: usize) -> io::Result<()> {
        self.filled += n;
        let mut start = 0;
        while let Some(end) = self.buf[start..self.filled]
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
        {
            start += end + 4;
            self.out.extend_from_slice(RESPONSE);
        }
        self.buf.copy_within(start..self.filled, 0);
        self.filled -= start;
        if self.filled == self.buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        Ok(())
    }
}
