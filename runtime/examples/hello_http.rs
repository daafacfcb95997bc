//! A minimal HTTP/1.1 keep-alive server answering every request with a fixed
//! body (the server `benches/net` measures with `wrk`).
//!
//! ```text
//! cargo run --release -p runtime --example hello_http                        # current-thread
//! cargo run --release -p runtime --example hello_http -- --multi-thread 2    # 2 workers
//! cargo run --release -p runtime --example hello_http -- --addr 127.0.0.1:8080
//! ```
//!
//! Then `curl http://127.0.0.1:8080/` or `wrk http://127.0.0.1:8080/`.
//! Requests are read up to their blank line (no bodies), pipelined requests
//! are answered in order, and a connection lives until the client closes it.

use futures::{AsyncReadExt, AsyncWriteExt};
use runtime::net::{TcpListener, TcpStream};
use std::io;

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!";

/// The largest request head accepted.
const MAX_HEAD: usize = 8 * 1024;

fn usage() -> ! {
    eprintln!("usage: hello_http [--current-thread | --multi-thread N] [--addr HOST:PORT]");
    std::process::exit(2);
}

fn main() -> io::Result<()> {
    let mut workers = None;
    let mut addr = "127.0.0.1:8080".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--current-thread" => workers = None,
            "--multi-thread" => {
                let n = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| usage());
                if n == 0 {
                    usage();
                }
                workers = Some(n);
            }
            "--addr" => addr = args.next().unwrap_or_else(|| usage()),
            _ => usage(),
        }
    }
    let rt = match workers {
        None => runtime::Builder::new_current_thread().build()?,
        Some(n) => runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .build()?,
    };
    let server = rt.spawn(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        let flavour = match workers {
            None => "current-thread".to_string(),
            Some(n) => format!("multi-thread, {n} workers"),
        };
        println!("listening on http://{} ({flavour})", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            drop(runtime::spawn(async move {
                // A client that goes away mid-request is not our error.
                let _ = serve(stream).await;
            }));
        }
    });
    rt.block_on(server).expect("the accept loop does not panic")
}

/// Answers the requests of one connection until the client closes it.
async fn serve(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = vec![0; MAX_HEAD];
    let mut filled = 0;
    let mut out = Vec::new();
    loop {
        let n = stream.read(&mut buf[filled..]).await?;
        if n == 0 {
            return Ok(());
        }
        filled += n;
        // Every complete request head in the buffer gets one response.
        let mut start = 0;
        while let Some(end) = find_head_end(&buf[start..filled]) {
            start += end;
            out.extend_from_slice(RESPONSE);
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        if filled == buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "request head too large",
            ));
        }
        if !out.is_empty() {
            stream.write_all(&out).await?;
            out.clear();
        }
    }
}

/// The length of the first request head in `buf` (through its blank line).
fn find_head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}
