//! UDP and Unix-domain round trips over real sockets, on both runtime
//! flavours. Every test is bounded by a watchdog.

mod net_common;

use futures::{AsyncReadExt, AsyncWriteExt};
use net_common::flavours;
use runtime::net::{UdpSocket, UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Arc;
use test_util::with_watchdog;

#[test]
fn udp_round_trip_unconnected_and_connected() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let server_addr = server.local_addr().unwrap();
                // The server answers each datagram with it reversed, to its
                // sender; the receive is waiting before anything is sent.
                let echo = runtime::spawn(async move {
                    let mut buf = [0; 64];
                    for _ in 0..20 {
                        let (n, from) = server.recv_from(&mut buf).await.unwrap();
                        buf[..n].reverse();
                        assert_eq!(server.send_to(&buf[..n], from).await.unwrap(), n);
                    }
                });
                let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let mut buf = [0; 64];
                for i in 0..10 {
                    let msg = format!("datagram {i}");
                    client.send_to(msg.as_bytes(), server_addr).await.unwrap();
                    let (n, from) = client.recv_from(&mut buf).await.unwrap();
                    assert_eq!(from, server_addr, "{flavour}");
                    let back: String = msg.chars().rev().collect();
                    assert_eq!(&buf[..n], back.as_bytes(), "{flavour}");
                }
                client.connect(server_addr).await.unwrap();
                assert_eq!(client.peer_addr().unwrap(), server_addr);
                for i in 10..20 {
                    let msg = format!("connected {i}");
                    client.send(msg.as_bytes()).await.unwrap();
                    let n = client.recv(&mut buf).await.unwrap();
                    let back: String = msg.chars().rev().collect();
                    assert_eq!(&buf[..n], back.as_bytes(), "{flavour}");
                }
                echo.await.unwrap();
            });
        }
    });
}

/// A fresh socket path in a fresh directory (removed by the caller).
fn socket_path(name: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("runtime-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    (dir.join("sock"), dir)
}

#[test]
fn unix_round_trip_through_a_listener() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            let (path, dir) = socket_path(flavour);
            rt.block_on(async {
                let listener = UnixListener::bind(&path).unwrap();
                let server = runtime::spawn(async move {
                    // Two clients, one after the other; each gets its bytes back.
                    for _ in 0..2 {
                        let (stream, _) = listener.accept().await.unwrap();
                        futures::io::copy(&stream, &mut &stream).await.unwrap();
                    }
                });
                for client in 0..2u32 {
                    let stream = Arc::new(UnixStream::connect(&path).await.unwrap());
                    assert!(stream.peer_addr().is_ok());
                    let payload: Vec<u8> =
                        (0..100_000u32).map(|i| (i * 7 + client) as u8).collect();
                    // One task writes while this one reads, through `&UnixStream`.
                    let writer = {
                        let (stream, payload) = (Arc::clone(&stream), payload.clone());
                        runtime::spawn(async move {
                            (&*stream).write_all(&payload).await.unwrap();
                            (&*stream).close().await.unwrap();
                        })
                    };
                    let mut back = Vec::new();
                    (&*stream).read_to_end(&mut back).await.unwrap();
                    assert_eq!(back, payload, "{flavour}: client {client}");
                    writer.await.unwrap();
                }
                server.await.unwrap();
            });
            std::fs::remove_dir_all(dir).unwrap();
        }
    });
}

#[test]
fn unix_pair_and_std_conversion() {
    with_watchdog(30, || {
        for (flavour, rt) in flavours() {
            rt.block_on(async {
                let (mut a, mut b) = UnixStream::pair().unwrap();
                let (std_a, std_b) = std::os::unix::net::UnixStream::pair().unwrap();
                let mut c = UnixStream::try_from(std_a).unwrap();
                let mut d = UnixStream::try_from(std_b).unwrap();
                let reader = runtime::spawn(async move {
                    let mut buf = [0; 3];
                    b.read_exact(&mut buf).await.unwrap();
                    d.read_exact(&mut buf[..2]).await.unwrap();
                    buf
                });
                a.write_all(b"abc").await.unwrap();
                c.write_all(b"de").await.unwrap();
                assert_eq!(&reader.await.unwrap(), b"dec", "{flavour}");
            });
        }
    });
}

#[test]
fn unix_connect_to_a_missing_path_fails() {
    with_watchdog(30, || {
        let (path, dir) = socket_path("missing");
        runtime::block_on(async {
            let err = UnixStream::connect(&path).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
        });
        std::fs::remove_dir_all(dir).unwrap();
    });
}
