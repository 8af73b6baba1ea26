//! Reading a file or a string into a [`Block`] (the file's top level), and turning the
//! parser's errors into [`ConfigError`]s.
//!
//! The text is parsed with `hcl::edit` (hcl-rs's own parser, re-exported by it), not
//! `hcl::parse`: `hcl::parse` runs the same parser but converts the result into
//! `hcl::Body`, which drops the byte spans of attributes and blocks, and errors should
//! name the line. Values are converted to `hcl::Expression` exactly as `hcl::parse` does,
//! so what a value is does not depend on which entry point read it.

use std::ops::Range;
use std::path::Path;

use hcl::edit::parser::{self, parse_body};

use crate::{Block, ConfigError, ErrorKind};

/// Reads the file at `path` and hands its top level to `read`. Every error, also those
/// `read` returns, names the file.
pub fn load<T>(
    path: &Path,
    read: impl FnOnce(Block<'_>) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::new(ErrorKind::Read(source)).in_file(path))?;
    parse(&text, read).map_err(|error| error.in_file(path))
}

/// Parses `text` and hands its top level to `read`.
pub fn parse<T>(
    text: &str,
    read: impl FnOnce(Block<'_>) -> Result<T, ConfigError>,
) -> Result<T, ConfigError> {
    let lines = Lines::new(text);
    let body = parse_body(text).map_err(|error| syntax_error(text, &lines, &error))?;
    read(Block::root(&body, &lines))
}

/// Where each line starts, to turn byte offsets into line numbers.
#[derive(Debug)]
pub(crate) struct Lines(Vec<usize>);

impl Lines {
    fn new(text: &str) -> Lines {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines(starts.collect())
    }

    /// The 1-based line of the start of `span`.
    pub(crate) fn line(&self, span: Option<Range<usize>>) -> Option<usize> {
        let offset = span?.start;
        Some(self.0.partition_point(|&start| start <= offset))
    }
}

/// The parser refuses a key set twice in one body (and stops there), so a duplicate
/// arrives as a syntax error; it is reported as a [`ErrorKind::Duplicate`] naming the key
/// path and both lines when the text parses with the second definition blanked out.
fn syntax_error(text: &str, lines: &Lines, error: &parser::Error) -> ConfigError {
    let location = error.location();
    if error.message().contains("redefined attribute")
        && let Some(duplicate) = locate_duplicate(text, lines, location.offset())
    {
        return duplicate;
    }
    ConfigError::new(ErrorKind::Syntax {
        message: error.message().to_owned(),
        column: location.column(),
        text: error.line().trim().to_owned(),
    })
    .at_line(Some(location.line()))
}

/// The second definition starts at `offset`: blank its line (keeping offsets), parse
/// again, and find the first definition in the innermost block around `offset`.
fn locate_duplicate(text: &str, lines: &Lines, offset: usize) -> Option<ConfigError> {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let key: String = text[offset..end]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    let blanked = format!(
        "{}{}{}",
        &text[..start],
        " ".repeat(end - start),
        &text[end..]
    );
    let body = parse_body(&blanked).ok()?;
    let root = Block::root(&body, lines);
    let (path, first_line) = root.find_attribute_around(offset, &key)?;
    Some(
        ConfigError::new(ErrorKind::Duplicate { first_line })
            .at_key(path)
            .at_line(lines.line(Some(offset..offset))),
    )
}
