//! Blocks and the keys in them.
//!
//! A [`Block`] is a block as written (or the file's top level). Its [`Section`] is the
//! block checked against what it may hold: [`Block::section`] refuses any key or nested
//! block not listed, naming it and listing the known ones, before any value is read, so
//! a misspelt key is reported as such rather than as the correct key missing.

use std::ops::Range;

use hcl::edit::Span;
use hcl::edit::structure::{self, Body, Structure};

use crate::document::Lines;
use crate::{ConfigError, ErrorKind, Value};

/// A block of the file, or its top level ([`Block::path`] is then empty).
#[derive(Clone, Debug)]
pub struct Block<'d> {
    body: &'d Body,
    lines: &'d Lines,
    path: String,
    line: Option<usize>,
    labels: Vec<&'d str>,
}

impl<'d> Block<'d> {
    pub(crate) fn root(body: &'d Body, lines: &'d Lines) -> Block<'d> {
        Block {
            body,
            lines,
            path: String::new(),
            line: None,
            labels: Vec::new(),
        }
    }

    fn child(&self, block: &'d structure::Block) -> Block<'d> {
        let labels: Vec<&str> = block.labels.iter().map(|label| label.as_str()).collect();
        let mut name = block.ident.as_str().to_owned();
        for label in &labels {
            name.push_str(&format!(" {label:?}"));
        }
        Block {
            body: &block.body,
            lines: self.lines,
            path: self.key_path(&name),
            line: self.lines.line(block.span()),
            labels,
        }
    }

    /// The key path of this block, e.g. `controller > database` or `kms "aead"`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The line the block starts on; `None` for the top level.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    pub fn labels(&self) -> &[&'d str] {
        &self.labels
    }

    /// The block's one label, which must be one of `allowed`.
    pub fn label(&self, allowed: &[&str]) -> Result<&'d str, ConfigError> {
        match self.labels[..] {
            [label] if allowed.contains(&label) => Ok(label),
            [label] => Err(self.invalid(format!(
                "type {label:?} is not supported; use {}",
                quoted(allowed)
            ))),
            _ => Err(self.invalid(format!(
                "needs exactly one label, one of {}",
                quoted(allowed)
            ))),
        }
    }

    /// A problem with the block as a whole.
    pub fn invalid(&self, reason: impl Into<String>) -> ConfigError {
        let reason = reason.into();
        ConfigError::new(ErrorKind::Invalid { reason })
            .at_key(self.path.clone())
            .at_line(self.line)
    }

    /// Checks that the block holds only `keys` and `blocks` (the first other one, in the
    /// order of the file, is the error) and returns it for reading.
    pub fn section(&self, keys: &[&str], blocks: &[&str]) -> Result<Section<'d>, ConfigError> {
        if let Some(error) = self.body.iter().find_map(|s| self.unknown(s, keys, blocks)) {
            return Err(error);
        }
        Ok(Section {
            block: self.clone(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            blocks: blocks.iter().map(|b| b.to_string()).collect(),
        })
    }

    /// The error for `structure` if it is not one of `keys` or `blocks`.
    fn unknown(
        &self,
        structure: &'d Structure,
        keys: &[&str],
        blocks: &[&str],
    ) -> Option<ConfigError> {
        let listed = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        let (kind, path) = match structure {
            Structure::Attribute(attr) if !keys.contains(&attr.key.as_str()) => (
                ErrorKind::UnknownKey {
                    known: listed(keys),
                },
                self.key_path(attr.key.as_str()),
            ),
            Structure::Block(block) if !blocks.contains(&block.ident.as_str()) => (
                ErrorKind::UnknownBlock {
                    known: listed(blocks),
                },
                self.child(block).path,
            ),
            _ => return None,
        };
        let line = self.lines.line(structure.span());
        Some(ConfigError::new(kind).at_key(path).at_line(line))
    }

    fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{} > {key}", self.path)
        }
    }

    /// For a duplicate key at `offset`: the key path of `key` in the innermost block
    /// around `offset`, and the line of its (first) definition there.
    pub(crate) fn find_attribute_around(
        &self,
        offset: usize,
        key: &str,
    ) -> Option<(String, Option<usize>)> {
        let around = |span: Option<Range<usize>>| span.is_some_and(|s| s.contains(&offset));
        for block in self.body.blocks() {
            if around(block.span()) {
                return self.child(block).find_attribute_around(offset, key);
            }
        }
        let first = self.body.get_attribute(key)?;
        Some((self.key_path(key), self.lines.line(first.span())))
    }
}

/// A block checked against the keys and blocks it may hold ([`Block::section`]).
#[derive(Debug)]
pub struct Section<'d> {
    block: Block<'d>,
    keys: Vec<String>,
    blocks: Vec<String>,
}

impl<'d> Section<'d> {
    pub fn path(&self) -> &str {
        self.block.path()
    }

    pub fn line(&self) -> Option<usize> {
        self.block.line()
    }

    /// The value of `key`, if the block sets it. Errors about it show the value.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.value(key, false)
    }

    /// Like [`Section::get`], for secrets: errors about the value never show it.
    pub fn secret(&self, key: &str) -> Option<Value> {
        self.value(key, true)
    }

    /// The value of `key`, which must be set; `expected` says what it should hold.
    pub fn require(&self, key: &str, expected: &str) -> Result<Value, ConfigError> {
        self.get(key).ok_or_else(|| self.missing(key, expected))
    }

    fn value(&self, key: &str, secret: bool) -> Option<Value> {
        debug_assert!(self.keys.iter().any(|k| k == key), "{key} is not declared");
        let attr = self.block.body.get_attribute(key)?;
        let line = self.block.lines.line(attr.span());
        let expr = hcl::Expression::from(attr.value.clone());
        Some(Value::new(self.block.key_path(key), line, expr, secret))
    }

    /// The block `ident`, if present; it may appear at most once.
    pub fn block(&self, ident: &str) -> Result<Option<Block<'d>>, ConfigError> {
        let mut found = self.blocks(ident).into_iter();
        let first = found.next();
        if let Some(second) = found.next() {
            let first_line = first.as_ref().and_then(Block::line);
            return Err(ConfigError::new(ErrorKind::Duplicate { first_line })
                .at_key(second.path)
                .at_line(second.line));
        }
        Ok(first)
    }

    /// Every block `ident`, in the order of the file.
    pub fn blocks(&self, ident: &str) -> Vec<Block<'d>> {
        debug_assert!(
            self.blocks.iter().any(|b| b == ident),
            "{ident} is not declared"
        );
        let body: &'d Body = self.block.body;
        body.blocks()
            .filter(|block| block.ident.as_str() == ident)
            .map(|block| self.block.child(block))
            .collect()
    }

    /// A problem with `key` (set or not), e.g. found by comparing it with another key.
    /// The value is not shown: say in `reason` what matters.
    pub fn invalid(&self, key: &str, reason: impl Into<String>) -> ConfigError {
        let line = match self.block.body.get_attribute(key) {
            Some(attr) => self.block.lines.line(attr.span()),
            None => self.line(),
        };
        ConfigError::new(ErrorKind::Invalid {
            reason: reason.into(),
        })
        .at_key(self.block.key_path(key))
        .at_line(line)
    }

    /// `what` (a key or a block of this section) is required; `expected` says what to add.
    pub fn missing(&self, what: &str, expected: &str) -> ConfigError {
        ConfigError::new(ErrorKind::Missing {
            expected: expected.to_owned(),
        })
        .at_key(self.block.key_path(what))
        .at_line(self.line())
    }
}

/// `"a", "b" or "c"`.
fn quoted(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}
