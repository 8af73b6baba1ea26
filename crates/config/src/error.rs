//! The one error every configuration file reports: where (file, line), what (the key
//! path, e.g. `listener "tcp" > address`, and the value as written unless it is secret)
//! and what was expected.

use std::fmt;
use std::path::{Path, PathBuf};

/// Why a configuration was refused. Display gives one line:
/// `FILE:LINE: `KEY` = VALUE: MESSAGE`, leaving out the parts that are unknown (a value
/// that is secret or absent, a line for something missing, a file for text parsed from
/// memory).
///
/// Boxed: it travels in every `Result` of a reader, and is made once per failed file.
#[derive(Debug)]
pub struct ConfigError(Box<Details>);

#[derive(Debug)]
struct Details {
    file: Option<PathBuf>,
    line: Option<usize>,
    key: Option<String>,
    value: Option<String>,
    kind: ErrorKind,
}

/// What is wrong, and what was expected instead.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be read.
    Read(std::io::Error),
    /// The text is not HCL. `message` is the parser's; `text` the offending line.
    Syntax {
        message: String,
        column: usize,
        text: String,
    },
    /// A key this section does not have; `known` are the ones it has.
    UnknownKey { known: Vec<String> },
    /// A block this section does not have; `known` are the ones it has.
    UnknownBlock { known: Vec<String> },
    /// Set twice: a key, a block that may appear once, or a purpose given twice.
    Duplicate { first_line: Option<usize> },
    /// Required and absent; `expected` says what to add.
    Missing { expected: String },
    /// A value of the wrong type (a number where a string belongs...).
    WrongType { expected: String },
    /// A value of the right type outside its range; `expected` names the range.
    OutOfRange { expected: String },
    /// Any other problem with the value; `reason` says what.
    Invalid { reason: String },
}

impl ConfigError {
    /// An error of `kind` about nothing in particular yet; add the context with the
    /// `at_*` builders.
    pub fn new(kind: ErrorKind) -> ConfigError {
        ConfigError(Box::new(Details {
            file: None,
            line: None,
            key: None,
            value: None,
            kind,
        }))
    }

    /// A problem with the value of `key` found outside a file (a value built in code).
    pub fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::new(ErrorKind::Invalid {
            reason: reason.into(),
        })
        .at_key(key)
    }

    pub fn at_key(mut self, key: impl Into<String>) -> ConfigError {
        self.0.key = Some(key.into());
        self
    }

    pub fn at_line(mut self, line: Option<usize>) -> ConfigError {
        self.0.line = line;
        self
    }

    /// Shows `value` (as written in the file) in the message. Never for secrets.
    pub fn showing(mut self, value: Option<String>) -> ConfigError {
        self.0.value = value;
        self
    }

    /// Names the file, unless a file is named already.
    pub fn in_file(mut self, path: &Path) -> ConfigError {
        self.0.file.get_or_insert_with(|| path.to_path_buf());
        self
    }

    pub fn file(&self) -> Option<&Path> {
        self.0.file.as_deref()
    }

    /// The line (1-based) of the offending text, where there is one.
    pub fn line(&self) -> Option<usize> {
        self.0.line
    }

    /// The key path the error is about, e.g. `listener "tcp" > address`.
    pub fn key(&self) -> Option<&str> {
        self.0.key.as_deref()
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    fn write_location(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.file, self.0.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display()),
            (Some(file), None) => write!(f, "{}: ", file.display()),
            (None, Some(line)) => write!(f, "line {line}: "),
            (None, None) => Ok(()),
        }
    }

    fn write_subject(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.0.key, &self.0.value) {
            (Some(key), Some(value)) => write!(f, "`{key}` = {value}: "),
            (Some(key), None) => write!(f, "`{key}`: "),
            (None, _) => Ok(()),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let ErrorKind::Read(source) = &self.0.kind {
            let file = self.0.file.as_deref().unwrap_or(Path::new("?"));
            return write!(f, "cannot read {}: {source}", file.display());
        }
        self.write_location(f)?;
        self.write_subject(f)?;
        match &self.0.kind {
            ErrorKind::Read(_) => unreachable!("handled above"),
            ErrorKind::Syntax {
                message,
                column,
                text,
            } => write!(f, "not valid HCL: {message} (column {column} of `{text}`)"),
            ErrorKind::UnknownKey { known } if known.is_empty() => {
                f.write_str("unknown key; this block takes no keys")
            }
            ErrorKind::UnknownKey { known } => {
                write!(f, "unknown key; known keys here: {}", known.join(", "))
            }
            ErrorKind::UnknownBlock { known } if known.is_empty() => {
                f.write_str("unknown block; only `key = value` attributes are allowed here")
            }
            ErrorKind::UnknownBlock { known } => {
                write!(f, "unknown block; known blocks here: {}", known.join(", "))
            }
            ErrorKind::Duplicate {
                first_line: Some(first),
            } => write!(f, "set twice; the first is at line {first}"),
            ErrorKind::Duplicate { first_line: None } => f.write_str("set twice"),
            ErrorKind::Missing { expected } => write!(f, "missing; expected {expected}"),
            ErrorKind::WrongType { expected } => write!(f, "expected {expected}"),
            ErrorKind::OutOfRange { expected } => write!(f, "out of range; {expected}"),
            ErrorKind::Invalid { reason } => f.write_str(reason),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0.kind {
            ErrorKind::Read(source) => Some(source),
            _ => None,
        }
    }
}
