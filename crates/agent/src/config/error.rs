//! Why a configuration was refused. Every variant about content names the key.

use std::path::PathBuf;

use super::ConfigKey;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error in the text of `path` (the file name is part of the message).
    #[error("configuration file {path}: {error}")]
    InFile {
        path: PathBuf,
        error: Box<ConfigError>,
    },
    #[error("not valid HCL: {0}")]
    Syntax(String),
    #[error(
        "unknown key `{key}`; the client agent knows: {}",
        ConfigKey::ALL.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")
    )]
    UnknownKey { key: String },
    #[error(
        "unexpected block `{name}`: the client agent configuration has only top-level \
         attributes (key = value)"
    )]
    Block { name: String },
    /// A value of the wrong type or out of range. `value` is the value as written.
    #[error("`{key}` = {value}: {reason}")]
    Value {
        key: &'static str,
        value: String,
        reason: String,
    },
}

impl ConfigError {
    /// The key the error is about, if it is about one (through [`ConfigError::InFile`]).
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::InFile { error, .. } => error.key(),
            ConfigError::UnknownKey { key } => Some(key),
            ConfigError::Value { key, .. } => Some(key),
            ConfigError::Read { .. } | ConfigError::Syntax(_) | ConfigError::Block { .. } => None,
        }
    }
}
