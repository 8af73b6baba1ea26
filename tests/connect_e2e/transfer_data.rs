//! The file and hashing helpers of the transfer tests, and the transfer itself.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Stdio};

use sha2::{Digest, Sha256};

use super::support::tcp_servers::sha256_to_eof;
use super::world::wait_output;

/// Uploads `data` (`len` bytes, SHA-256 `sum`) through `ssh` to the target's `sha256sum`,
/// then downloads it with `cat`; asserts both directions carried it whole. `ssh` runs a
/// remote command with a stdin; `what` ends the names of the steps in failure messages.
pub fn assert_moves_each_way(
    ssh: impl Fn(&str, Stdio) -> Child,
    data: &Path,
    sum: &str,
    len: usize,
    what: &str,
) {
    let upload = ssh("sha256sum", Stdio::from(std::fs::File::open(data).unwrap()));
    let output = wait_output(upload, &format!("upload{what}"));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout)
            .split_whitespace()
            .next(),
        Some(sum)
    );

    let mut download = ssh(&format!("cat {}", data.display()), Stdio::null());
    let (downloaded, length) = hash_stream(download.stdout.take().unwrap());
    wait_output(download, &format!("download{what}"));
    assert_eq!((downloaded.as_str(), length), (sum, len as u64));
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
pub fn hash_stream(reader: impl Read) -> (String, u64) {
    sha256_to_eof(reader).unwrap_or_else(|e| panic!("reading the transfer failed: {e}"))
}
