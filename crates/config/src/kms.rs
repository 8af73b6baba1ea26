//! The `kms "aead"` blocks of the controller's and the worker's files, in Boundary's
//! shape:
//!
//! ```hcl
//! kms "aead" {
//!   purpose   = "worker-auth"        # or a list: ["root", "worker-auth"]
//!   aead_type = "aes-gcm"            # optional; the only type
//!   key       = "<base64 of 32 bytes>"   # or env://NAME, file://PATH
//!   key_id    = "global_worker-auth" # optional
//! }
//! ```
//!
//! Each program takes the purposes it uses ([`Kms::key`]); a key is decoded only when
//! asked for, so a worker does not need (the environment variable holding) the root key
//! of a configuration shared with a controller. A purpose may be given by one block only.

use base64::Engine as _;
use std::fmt;

use crate::{Block, ConfigError, Section, Value};

/// What a `kms` block may hold.
const KEYS: &[&str] = &["purpose", "aead_type", "key", "key_id"];

/// An AES-256-GCM key (Boundary's aead KMS). `Debug` never shows the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct KmsKey {
    pub key: [u8; 32],
    pub key_id: String,
}

impl fmt::Debug for KmsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The `kms` blocks of a file.
#[derive(Debug)]
pub struct Kms<'d> {
    blocks: Vec<KmsBlock<'d>>,
}

/// One `kms "aead"` block, its key not decoded yet.
#[derive(Debug)]
pub struct KmsBlock<'d> {
    section: Section<'d>,
    purpose: Value,
    purposes: Vec<String>,
    key: Option<Value>,
    key_id: String,
}

impl<'d> Kms<'d> {
    /// Reads every `kms` block of `section` (which declares the block `kms`).
    pub fn read(section: &Section<'d>) -> Result<Kms<'d>, ConfigError> {
        let mut blocks: Vec<KmsBlock<'d>> = Vec::new();
        for block in section.blocks("kms") {
            let kms = KmsBlock::read(block)?;
            for purpose in &kms.purposes {
                if let Some(first) = blocks.iter().find(|b| b.purposes.contains(purpose)) {
                    return Err(kms.purpose.invalid(format!(
                        "a second block with purpose {purpose:?}; the first is at line {}",
                        first.section.line().unwrap_or(0)
                    )));
                }
            }
            blocks.push(kms);
        }
        Ok(Kms { blocks })
    }

    pub fn blocks(&self) -> &[KmsBlock<'d>] {
        &self.blocks
    }

    /// The key of the block with `purpose`, if there is one.
    pub fn key(&self, purpose: &str) -> Result<Option<KmsKey>, ConfigError> {
        self.blocks
            .iter()
            .find(|block| block.purposes.iter().any(|p| p == purpose))
            .map(KmsBlock::key)
            .transpose()
    }
}

impl<'d> KmsBlock<'d> {
    fn read(block: Block<'d>) -> Result<KmsBlock<'d>, ConfigError> {
        block.label(&["aead"])?;
        let section = block.section(KEYS, &[])?;
        let purpose = section.require("purpose", "a purpose such as \"worker-auth\"")?;
        let purposes = purpose.string_or_strings()?;
        if purposes.is_empty() {
            return Err(purpose.invalid("lists no purpose"));
        }
        if let Some(kind) = section.get("aead_type")
            && kind.string()? != "aes-gcm"
        {
            return Err(kind.invalid("only \"aes-gcm\" is supported"));
        }
        let key_id = match section.get("key_id") {
            Some(value) => value.string()?,
            None => String::new(),
        };
        Ok(KmsBlock {
            key: section.secret("key"),
            section,
            purpose,
            purposes,
            key_id,
        })
    }

    /// The purposes the block serves.
    pub fn purposes(&self) -> &[String] {
        &self.purposes
    }

    /// An error about the block's `purpose`, e.g. one this program has no use for.
    pub fn purpose_error(&self, reason: impl Into<String>) -> ConfigError {
        self.purpose.invalid(reason)
    }

    /// The block's key: base64 (standard alphabet, padded) of 32 bytes, possibly through
    /// `env://` or `file://`.
    pub fn key(&self) -> Result<KmsKey, ConfigError> {
        let Some(value) = &self.key else {
            return Err(self.section.missing("key", "the base64 of a 32-byte key"));
        };
        let text = value.indirect()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|_| value.invalid("is not valid base64"))?;
        let key = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
            value.invalid(format!(
                "decodes to {} bytes; an aes-gcm key is 32 bytes (base64 of 32 random bytes)",
                bytes.len()
            ))
        })?;
        Ok(KmsKey {
            key,
            key_id: self.key_id.clone(),
        })
    }
}
