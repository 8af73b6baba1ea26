//! A token-store entry in the kernel keyring that a test writes, removed even when the
//! test fails.

use super::runtime::block_on_thread;

/// Removes the entry named `.0` when dropped.
pub struct KeyringEntry(pub String);

impl Drop for KeyringEntry {
    fn drop(&mut self) {
        let _ = block_on_thread(boundary::cli::token_store::remove(&self.0));
    }
}
