//! The minimal HTTP/1.1 keep-alive server of the `wrk` benchmark, on the
//! runtime the arguments name: `net-server RUNTIME PORT` with RUNTIME one of
//!
//! | RUNTIME | what serves |
//! |---|---|
//! | `ours-current` | `runtime`, current-thread |
//! | `ours-multi` | `runtime`, multi-thread, 2 workers |
//! | `tokio-current` | tokio, current-thread |
//! | `tokio-multi` | tokio, multi-thread, 2 workers |
//! | `smol-1` | smol: one `Executor` run by one thread (`block_on`) |
//! | `smol-2` | smol: one `Executor` run by two threads |
//!
//! Each accepts on 127.0.0.1:PORT, sets `TCP_NODELAY`, and serves each
//! connection in its own task with the same code (`http.rs`). `run.sh` runs
//! them in turn.

mod http;

use http::Conn;
use std::io;

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(which), Some(port)) = (args.get(1), args.get(2).and_then(|p| p.parse::<u16>().ok()))
    else {
        eprintln!("usage: net-server ours-current|ours-multi|tokio-current|tokio-multi|smol-1|smol-2 PORT");
        std::process::exit(2);
    };
    let addr = format!("127.0.0.1:{port}");
    match which.as_str() {
        "ours-current" => ours(runtime::Builder::new_current_thread().build()?, &addr),
        "ours-multi" => ours(
            runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .build()?,
            &addr,
        ),
        "tokio-current" => tokio_serve(
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?,
            &addr,
        ),
        "tokio-multi" => tokio_serve(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?,
            &addr,
        ),
        "smol-1" => smol_serve(1, &addr),
        "smol-2" => smol_serve(2, &addr),
        other => {
            eprintln!("unknown runtime {other}");
            std::process::exit(2);
        }
    }
}

fn ours(rt: runtime::Runtime, addr: &str) -> io::Result<()> {
    use futures::{AsyncReadExt, AsyncWriteExt};
    let addr = addr.to_string();
    let server = rt.spawn(async move {
        let listener = runtime::net::TcpListener::bind(addr.as_str()).await?;
        println!("listening");
        loop {
            let (mut stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            drop(runtime::spawn(async move {
                let mut conn = Conn::new();
                loop {
                    let n = stream.read(conn.spare()).await?;
                    if n == 0 {
                        return Ok::<(), io::Error>(());
                    }
                    conn.received(n)?;
                    if !conn.out.is_empty() {
                        stream.write_all(&conn.out).await?;
                        conn.out.clear();
                    }
                }
            }));
        }
    });
    rt.block_on(server).expect("the accept loop does not panic")
}

fn tokio_serve(rt: tokio::runtime::Runtime, addr: &str) -> io::Result<()> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = addr.to_string();
    let server = rt.spawn(async move {
        let listener = tokio::net::TcpListener::bind(addr.as_str()).await?;
        println!("listening");
        loop {
            let (mut stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            tokio::spawn(async move {
                let mut conn = Conn::new();
                loop {
                    let n = stream.read(conn.spare()).await?;
                    if n == 0 {
                        return Ok::<(), io::Error>(());
                    }
                    conn.received(n)?;
                    if !conn.out.is_empty() {
                        stream.write_all(&conn.out).await?;
                        conn.out.clear();
                    }
                }
            });
        }
    });
    rt.block_on(server).expect("the accept loop does not panic")
}

fn smol_serve(threads: usize, addr: &str) -> io::Result<()> {
    use smol::io::{AsyncReadExt, AsyncWriteExt};
    let ex: &'static smol::Executor<'static> = Box::leak(Box::new(smol::Executor::new()));
    for _ in 1..threads {
        std::thread::spawn(move || smol::block_on(ex.run(std::future::pending::<()>())));
    }
    let addr = addr.to_string();
    smol::block_on(ex.run(async move {
        let listener = smol::net::TcpListener::bind(addr.as_str()).await?;
        println!("listening");
        loop {
            let (mut stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            ex.spawn(async move {
                let mut conn = Conn::new();
                loop {
                    let n = stream.read(conn.spare()).await?;
                    if n == 0 {
                        return Ok::<(), io::Error>(());
                    }
                    conn.received(n)?;
                    if !conn.out.is_empty() {
                        stream.write_all(&conn.out).await?;
                        conn.out.clear();
                    }
                }
            })
            .detach();
        }
    }))
}
