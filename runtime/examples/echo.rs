//! An echo server: every connection gets back what it sends.
//!
//! ```text
//! cargo run -p runtime --example echo              # on 127.0.0.1:7000
//! cargo run -p runtime --example echo -- 0.0.0.0:9000
//! ```
//!
//! Try it with `nc 127.0.0.1 7000`.

use runtime::net::TcpListener;

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".into());
    runtime::block_on(async {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("echo server listening on {}", listener.local_addr()?);
        loop {
            let (stream, peer) = listener.accept().await?;
            // One task per connection; the listener keeps accepting.
            drop(runtime::spawn(async move {
                // `&TcpStream` reads and writes: copy its input to its output.
                match futures::io::copy(&stream, &mut &stream).await {
                    Ok(bytes) => println!("{peer}: echoed {bytes} bytes"),
                    Err(err) => println!("{peer}: {err}"),
                }
            }));
        }
    })
}
