//! Small TCP servers on 127.0.0.1 playing a target, one thread per connection (so sync and
//! async tests use them alike); they live as long as the test process.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use sha2::{Digest, Sha256};

/// Echoes every byte back until EOF, then shuts its writing half down.
pub fn echo_server() -> u16 {
    serve(|mut tcp| {
        let Ok(mut reader) = tcp.try_clone() else {
            return;
        };
        let _ = std::io::copy(&mut reader, &mut tcp);
        let _ = tcp.shutdown(Shutdown::Write);
    })
}

/// Reads each connection to EOF, then answers `<length> <sha256 hex>\n` and closes: a
/// request/response protocol that only works if a half-close crosses the tunnel.
pub fn reply_after_eof_server() -> u16 {
    serve(|mut tcp| {
        let Ok((sum, length)) = sha256_to_eof(&mut tcp) else {
            return;
        };
        let _ = writeln!(tcp, "{length} {sum}");
        let _ = tcp.shutdown(Shutdown::Write);
    })
}

/// SHA-256 (hex) and length of everything `reader` yields until EOF.
pub fn sha256_to_eof(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let mut length = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf)? {
            0 => return Ok((hex::encode(hasher.finalize()), length)),
            n => {
                hasher.update(&buf[..n]);
                length += n as u64;
            }
        }
    }
}

/// Accepts forever on a free port, one thread per connection; returns the port.
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
