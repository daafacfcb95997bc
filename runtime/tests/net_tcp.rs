//! TCP over real loopback sockets, on both runtime flavours. Every test is
//! bounded by a watchdog.

mod net_common;

use futures::{AsyncReadExt, AsyncWriteExt};
use net_common::flavours;
use runtime::net::{TcpListener, TcpStream};
use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use test_util::with_watchdog;

/// An echo server on `listener`: one task per connection, copying what it
/// reads back through `&TcpStream` (reader and writer share the stream).
async fn serve_echo(listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        // Detached: it ends when the client closes its half.
        drop(runtime::spawn(async move {
            let _ = futures::io::copy(&stream, &mut &stream).await;
        }));
    }
}

const CLIENTS: usize = 100;
const MESSAGES: usize = 100;

#[test]
fn echo_100_clients_100_messages_each_in_order() {
    with_watchdog(120, || {
        for (flavour, rt) in flavours() {
            let echoed = rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = runtime::spawn(serve_echo(listener));
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|client| {
                        runtime::spawn(async move {
                            let mut stream = TcpStream::connect(addr).await.unwrap();
                            stream.set_nodelay(true).unwrap();
                            let mut bytes = 0;
                            for message in 0..MESSAGES {
                                // Lengths vary, so message boundaries are not
                                // a given.
                                let sent = format!("{client}:{message}:{}\n", "x".repeat(message));
                                stream.write_all(sent.as_bytes()).await.unwrap();
                                let mut back = vec![0; sent.len()];
                                stream.read_exact(&mut back).await.unwrap();
                                assert_eq!(
                                    back,
                                    sent.as_bytes(),
                                    "client {client} message {message}"
                                );
                                bytes += back.len();
                            }
                            // Closing our half makes the server's copy finish.
                            stream.close().await.unwrap();
                            let mut rest = Vec::new();
                            stream.read_to_end(&mut rest).await.unwrap();
                            assert!(rest.is_empty());
                            bytes
                        })
                    })
                    .collect();
                let mut total = 0;
                for client in clients {
                    total += client.await.unwrap();
                }
                server.abort();
                total
            });
            let expected: usize = (0..CLIENTS)
                .flat_map(|c| (0..MESSAGES).map(move |m| format!("{c}:{m}:\n").len() + m))
                .sum();
            assert_eq!(echoed, expected, "{flavour}");
        }
    });
}

#[test]
fn sixteen_mib_through_one_connection_intact() {
    const LEN: usize = 16 << 20;
    with_watchdog(120, || {
        let byte = |i: usize| (i % 251) as u8;
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let sender = runtime::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    let data: Vec<u8> = (0..LEN).map(byte).collect();
                    // Uneven chunks, so writes often stop half-way (WouldBlock).
                    for chunk in data.chunks(100_003) {
                        stream.write_all(chunk).await.unwrap();
                    }
                    stream.close().await.unwrap();
                });
                let (mut stream, _) = listener.accept().await.unwrap();
                let mut received = 0;
                let mut buf = vec![0; 64 * 1024];
                loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    for (offset, &b) in buf[..n].iter().enumerate() {
                        assert_eq!(
                            b,
                            byte(received + offset),
                            "{flavour}: byte {}",
                            received + offset
                        );
                    }
                    received += n;
                }
                assert_eq!(received, LEN, "{flavour}");
                sender.await.unwrap();
            });
        }
    });
}

/// A port nothing listens on (bound, then closed).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            let addr = closed_port();
            let err = rt.block_on(TcpStream::connect(addr)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{flavour}: {err}");
        }
    });
}

#[test]
fn a_dropped_listeners_port_refuses_connections() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                // Listening: a connection goes through.
                drop(TcpStream::connect(addr).await.unwrap());
                drop(listener);
                let err = TcpStream::connect(addr).await.unwrap_err();
                assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{flavour}: {err}");
            });
        }
    });
}

#[test]
fn binding_a_bound_address_is_addr_in_use() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let err = TcpListener::bind(listener.local_addr().unwrap())
                    .await
                    .unwrap_err();
                assert_eq!(err.kind(), ErrorKind::AddrInUse, "{flavour}: {err}");
            });
        }
    });
}

#[test]
fn a_closed_peer_reads_as_zero() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let mut client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                let (server, _) = listener.accept().await.unwrap();
                // The reader waits first, then the peer goes away.
                let closer = runtime::spawn(async move {
                    runtime::sleep(Duration::from_millis(20)).await;
                    drop(server);
                });
                let mut buf = [0; 16];
                assert_eq!(client.read(&mut buf).await.unwrap(), 0, "{flavour}");
                // And stays at the end.
                assert_eq!(client.read(&mut buf).await.unwrap(), 0, "{flavour}");
                closer.await.unwrap();
            });
        }
    });
}

#[test]
fn writing_after_a_reset_is_an_error_not_a_panic() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let mut client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                let (server, _) = listener.accept().await.unwrap();
                client.write_all(b"never read").await.unwrap();
                runtime::sleep(Duration::from_millis(20)).await;
                // Closing with unread data makes the kernel answer with a reset.
                drop(server);
                let mut err = None;
                for _ in 0..1000 {
                    match client.write_all(b"more").await {
                        Ok(()) => runtime::sleep(Duration::from_millis(1)).await,
                        Err(e) => {
                            err = Some(e);
                            break;
                        }
                    }
                }
                let err = err.expect("writes kept succeeding after the reset");
                assert!(
                    matches!(
                        err.kind(),
                        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe
                    ),
                    "{flavour}: {err}"
                );
                // Reading the reset socket fails (or reads the end); no panic.
                let mut buf = [0; 4];
                let _ = client.read(&mut buf).await;
            });
        }
    });
}

#[test]
fn a_timeout_around_a_read_that_never_comes_fires_on_time() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let mut client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                let (mut server, _) = listener.accept().await.unwrap();
                let start = Instant::now();
                let mut buf = [0; 1];
                let result =
                    runtime::timeout(Duration::from_millis(200), client.read(&mut buf)).await;
                let elapsed = start.elapsed();
                assert!(result.is_err(), "{flavour}: the read completed");
                assert!(
                    elapsed >= Duration::from_millis(200),
                    "{flavour}: {elapsed:?}"
                );
                // Generous: the machine is shared with parallel builds.
                assert!(elapsed < Duration::from_secs(2), "{flavour}: {elapsed:?}");
                // The socket still works after the cancelled read.
                server.write_all(b"!").await.unwrap();
                client.read_exact(&mut buf).await.unwrap();
                assert_eq!(&buf, b"!");
            });
        }
    });
}

#[test]
fn one_reader_and_one_writer_share_a_stream() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let addr = listener.local_addr().unwrap();
                let server = runtime::spawn(serve_echo(listener));
                let stream = Arc::new(TcpStream::connect(addr).await.unwrap());
                let writer = {
                    let stream = Arc::clone(&stream);
                    runtime::spawn(async move {
                        for i in 0..1000u32 {
                            (&*stream).write_all(&i.to_be_bytes()).await.unwrap();
                        }
                        stream.shutdown(Shutdown::Write).unwrap();
                    })
                };
                let mut all = Vec::new();
                (&*stream).read_to_end(&mut all).await.unwrap();
                writer.await.unwrap();
                let expected: Vec<u8> = (0..1000u32).flat_map(u32::to_be_bytes).collect();
                assert_eq!(all, expected, "{flavour}");
                server.abort();
            });
        }
    });
}

#[test]
fn sockets_work_outside_a_runtime_on_the_global_reactor() {
    with_watchdog(30, || {
        futures::executor::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let client = std::thread::spawn(move || {
                futures::executor::block_on(async {
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(b"from another executor").await.unwrap();
                })
            });
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut got = Vec::new();
            stream.read_to_end(&mut got).await.unwrap();
            assert_eq!(got, b"from another executor");
            client.join().unwrap();
        });
    });
}

#[test]
fn std_types_convert_and_become_non_blocking() {
    with_watchdog(30, || {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = std_listener.local_addr().unwrap();
        let std_client = std::net::TcpStream::connect(addr).unwrap();
        runtime::block_on(async {
            let listener = TcpListener::try_from(std_listener).unwrap();
            let mut client = TcpStream::try_from(std_client).unwrap();
            let (mut server, _) = listener.accept().await.unwrap();
            // Would block the thread (and hang) if it were still blocking.
            let reader = runtime::spawn(async move {
                let mut buf = [0; 2];
                server.read_exact(&mut buf).await.unwrap();
                buf
            });
            runtime::yield_now().await;
            client.write_all(b"ok").await.unwrap();
            assert_eq!(&reader.await.unwrap(), b"ok");
        });
    });
}

#[test]
fn a_socket_of_a_dropped_runtime_fails_instead_of_hanging() {
    with_watchdog(30, || {
        let (listener, client) = {
            let rt = runtime::Runtime::new();
            rt.block_on(async {
                let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
                let client = TcpStream::connect(listener.local_addr().unwrap())
                    .await
                    .unwrap();
                (listener, client)
            })
        };
        let other = runtime::Runtime::new();
        other.block_on(async {
            let mut buf = [0; 1];
            let err = (&client).read(&mut buf).await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{err}");
            assert!(listener.accept().await.is_err());
        });
    });
}

#[test]
fn io_keeps_flowing_while_a_worker_is_blocked() {
    with_watchdog(30, || {
        let rt = runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = runtime::spawn(serve_echo(listener));
            let mut client = TcpStream::connect(addr).await.unwrap();
            // One worker is stuck in a task that blocks its thread: whichever
            // worker was waiting in the poller, the other must take it over.
            let blocker = runtime::spawn(async { std::thread::sleep(Duration::from_secs(2)) });
            runtime::sleep(Duration::from_millis(50)).await;
            let start = Instant::now();
            for i in 0..20u8 {
                client.write_all(&[i]).await.unwrap();
                let mut back = [0];
                client.read_exact(&mut back).await.unwrap();
                assert_eq!(back, [i]);
            }
            let elapsed = start.elapsed();
            // Far below the blocker's 2 s (generous for a loaded machine).
            assert!(elapsed < Duration::from_millis(1500), "{elapsed:?}");
            blocker.await.unwrap();
            server.abort();
        });
    });
}
