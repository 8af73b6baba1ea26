//! Small TCP servers playing the target, and the file and hashing helpers of the transfer
//! tests.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::Path;

use sha2::{Digest, Sha256};

/// Reads each connection to EOF, then answers `<length> <sha256 hex>\n` and closes: a
/// request/response protocol that only works if a half-close crosses the tunnel.
pub fn reply_after_eof_server() -> u16 {
    serve(|mut tcp| {
        let mut hasher = Sha256::new();
        let mut length = 0u64;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match tcp.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    hasher.update(&buf[..n]);
                    length += n as u64;
                }
                Err(_) => return,
            }
        }
        let _ = writeln!(tcp, "{length} {}", hex::encode(hasher.finalize()));
        let _ = tcp.shutdown(Shutdown::Write);
    })
}

/// Echoes every byte back until EOF.
pub fn echo_server() -> u16 {
    serve(|mut tcp| {
        let Ok(mut reader) = tcp.try_clone() else {
            return;
        };
        let _ = std::io::copy(&mut reader, &mut tcp);
        let _ = tcp.shutdown(Shutdown::Write);
    })
}

/// Accepts forever on a free port, one thread per connection; the threads end with the
/// test process.
fn serve(handler: fn(TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a target server");
    let port = listener.local_addr().expect("local addr").port();
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            std::thread::spawn(move || handler(tcp));
        }
    });
    port
}

/// Writes `len` pseudo-random bytes to `path` and returns their SHA-256 (hex).
pub fn random_file(path: &Path, len: usize) -> String {
    use rand::RngCore;
    let mut file = std::fs::File::create(path).expect("create data file");
    let mut hasher = Sha256::new();
    let mut rng = rand::rng();
    let mut chunk = vec![0u8; 1024 * 1024];
    let mut left = len;
    while left > 0 {
        let n = left.min(chunk.len());
        rng.fill_bytes(&mut chunk[..n]);
        hasher.update(&chunk[..n]);
        file.write_all(&chunk[..n]).expect("write data file");
        left -= n;
    }
    hex::encode(hasher.finalize())
}

/// SHA-256 (hex) and length of everything `reader` yields.
pub fn hash_stream(mut reader: impl Read) -> (String, u64) {
    let mut hasher = Sha256::new();
    let mut length = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                length += n as u64;
            }
            Err(e) => panic!("reading the transfer failed: {e}"),
        }
    }
    (hex::encode(hasher.finalize()), length)
}
