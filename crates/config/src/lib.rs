//! The HCL configuration reader the controller, the worker and the client agent share.
//!
//! Each program describes its file by walking it: [`load`] (or [`parse`]) hands over
//! the top level as a [`Block`]; [`Block::section`] checks it holds only the keys and
//! blocks the program lists; [`Section::get`] / [`Section::block`] hand out the
//! [`Value`]s and nested blocks, and the `Value` readers turn them into typed values
//! (strings, booleans, whole numbers and durations within ranges, lists, addresses with
//! a default port, IP prefixes, `env://` / `file://` indirections). The `kms "aead"`
//! blocks both servers carry are read once, by [`Kms`].
//!
//! Defaults are not here: each program starts from its own and overwrites what the file
//! sets.
//!
//! Every error is a [`ConfigError`] that names the file, the line, the key path (e.g.
//! `listener "tcp" > address`) and what was expected; a value is shown as written unless
//! it is secret ([`Section::secret`]). Unknown keys and blocks are refused naming them,
//! as are a key set twice (the HCL parser refuses it) and a second block of a kind that
//! may appear once ([`Section::block`]).
//!
//! The file is walked as an HCL body rather than deserialised through serde: serde errors
//! do not say which field failed, several blocks can share a label (`listener "tcp"`),
//! which serde's map shape cannot hold, and this way nothing is silently ignored.

mod address;
mod block;
mod document;
mod duration;
mod error;
mod kms;
mod value;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_values;

pub use address::with_default_port;
pub use block::{Block, Section};
pub use document::{load, parse};
pub use duration::{format_duration, parse_duration};
pub use error::{ConfigError, ErrorKind};
pub use kms::{Kms, KmsBlock, KmsKey};
pub use value::Value;
