//! Encryption at rest with the controller's root key: AES-256-GCM (ring).
//!
//! Used for what the controller must read back in the clear later (session private keys,
//! credential secrets); token secrets and passwords are hashed instead. Each sealed value is
//! bound to a context string (the owning record's id) through the AEAD's associated data,
//! so a ciphertext copied onto another row does not open.
//!
//! Layout: `version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

const FORMAT_VERSION: u8 = 1;

/// Length of an AES-256 key.
pub const KEY_LEN: usize = 32;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the key must be {KEY_LEN} bytes, got {0}")]
    KeyLength(usize),
    #[error("sealed value is too short or has an unknown format")]
    Format,
    /// Wrong key, wrong context, or the bytes were changed.
    #[error("sealed value does not open with this key")]
    Open,
    #[error("the system random number generator failed")]
    Random,
}

/// The root key. `Debug` never shows it.
pub struct SealKey {
    aead: LessSafeKey,
    mac: hmac::Key,
}

impl SealKey {
    pub fn new(key: &[u8]) -> Result<Self, SealError> {
        if key.len() != KEY_LEN {
            return Err(SealError::KeyLength(key.len()));
        }
        let unbound =
            UnboundKey::new(&AES_256_GCM, key).map_err(|_| SealError::KeyLength(key.len()))?;
        // A separate key for HMACs, derived so that a MAC never reveals anything about the
        // encryption key.
        let mac_key = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, key),
            b"boundary secret hmac v1",
        );
        Ok(Self {
            aead: LessSafeKey::new(unbound),
            mac: hmac::Key::new(hmac::HMAC_SHA256, mac_key.as_ref()),
        })
    }

    /// A fresh random key (dev mode, in-memory databases).
    pub fn generate_bytes() -> Result<[u8; KEY_LEN], SealError> {
        let mut key = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| SealError::Random)?;
        Ok(key)
    }

    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut in_out = plaintext.to_vec();
        self.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| SealError::Format)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&in_out);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let (version, rest) = sealed.split_first().ok_or(SealError::Format)?;
        if *version != FORMAT_VERSION || rest.len() < NONCE_LEN + AES_256_GCM.tag_len() {
            return Err(SealError::Format);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Format)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .aead
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }

    /// HMAC-SHA256 of a secret, hex: shown instead of the secret (credential attributes).
    pub fn hmac_hex(&self, data: &[u8]) -> String {
        hex::encode(hmac::sign(&self.mac, data).as_ref())
    }
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> SealKey {
        SealKey::new(&[7u8; 32]).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_nonces_differ() {
        let k = key();
        let a = k.seal(b"private key", "s_1234567890").unwrap();
        let b = k.seal(b"private key", "s_1234567890").unwrap();
        assert_ne!(a, b);
        assert_eq!(k.open(&a, "s_1234567890").unwrap(), b"private key");
    }

    #[test]
    fn wrong_context_key_or_bytes_do_not_open() {
        let k = key();
        let sealed = k.seal(b"x", "s_1").unwrap();
        assert_eq!(k.open(&sealed, "s_2"), Err(SealError::Open));
        let other = SealKey::new(&[8u8; 32]).unwrap();
        assert_eq!(other.open(&sealed, "s_1"), Err(SealError::Open));
        let mut flipped = sealed.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(k.open(&flipped, "s_1"), Err(SealError::Open));
        assert_eq!(k.open(&[], "s_1"), Err(SealError::Format));
        assert_eq!(k.open(&[2, 0, 0], "s_1"), Err(SealError::Format));
    }

    #[test]
    fn key_length_is_checked_and_debug_is_redacted() {
        assert_eq!(
            SealKey::new(&[0u8; 16]).unwrap_err(),
            SealError::KeyLength(16)
        );
        assert_eq!(format!("{:?}", key()), "SealKey(<redacted>)");
    }

    #[test]
    fn hmac_is_stable_and_keyed() {
        assert_eq!(key().hmac_hex(b"pw"), key().hmac_hex(b"pw"));
        assert_ne!(
            key().hmac_hex(b"pw"),
            SealKey::new(&[8u8; 32]).unwrap().hmac_hex(b"pw")
        );
    }

    proptest! {
        #[test]
        fn open_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = key().open(&bytes, "ctx");
        }
    }
}
