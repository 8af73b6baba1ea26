//! The file and hashing helpers of the transfer tests.

use std::io::{Read, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

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
