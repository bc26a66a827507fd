//! A TCP proxy on 127.0.0.1 that holds every byte for a fixed time each way, so that a control
//! plane on loopback answers as a cluster in another region would (for benchmarks: on loopback
//! every install is bound by the machine's cores, against a real cluster by round trips).
//!
//! Chunks are delayed, not the connection slowed: each chunk read is stamped and written when its
//! time comes, so a stream keeps its throughput and only gains latency. TLS passes through
//! untouched (the server's certificate names 127.0.0.1, which the proxy also is).

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

pub struct LatencyProxy {
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

impl LatencyProxy {
    /// Forwards to `upstream` (`127.0.0.1:PORT`), each direction `one_way` late.
    pub fn start(upstream: &str, one_way: Duration) -> LatencyProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let addr = listener.local_addr().unwrap().to_string();
        let upstream = upstream.to_owned();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for (from, to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ] {
                    if let (Ok(from), Ok(to)) = (from, to) {
                        relay(from, to, one_way);
                    }
                }
            }
        });
        LatencyProxy { addr }
    }
}

/// Copies `from` to `to`, each chunk `delay` after it was read.
fn relay(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (send, receive) = std::sync::mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if send
                        .send((Instant::now() + delay, buffer[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        // Dropping `send` tells the writer the stream ended.
    });
    std::thread::spawn(move || {
        for (due, chunk) in receive {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
