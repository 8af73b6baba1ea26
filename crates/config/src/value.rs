//! One attribute's value, read as the type the key needs. Every error names the key
//! path and line, shows the value as written (unless it is secret) and says what was
//! expected. Values must be literals: `${…}` interpolation, variables and functions are
//! not evaluated.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;

use hcl::Expression;

use crate::{ConfigError, ErrorKind};

/// The value of one key ([`crate::Section::get`]).
#[derive(Clone, Debug)]
pub struct Value {
    key: String,
    line: Option<usize>,
    expr: Expression,
    secret: bool,
}

impl Value {
    pub(crate) fn new(key: String, line: Option<usize>, expr: Expression, secret: bool) -> Value {
        Value {
            key,
            line,
            expr,
            secret,
        }
    }

    /// The key path, e.g. `listener "tcp" > address`.
    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The value as parsed, for shapes the readers here do not cover.
    pub fn expr(&self) -> &Expression {
        &self.expr
    }

    pub fn is_null(&self) -> bool {
        matches!(self.expr, Expression::Null)
    }

    pub fn string(&self) -> Result<String, ConfigError> {
        match &self.expr {
            Expression::String(s) => Ok(s.clone()),
            _ => Err(self.wrong_type("a string")),
        }
    }

    /// A string; `null` and `""` mean "not set".
    pub fn optional_string(&self) -> Result<Option<String>, ConfigError> {
        match &self.expr {
            Expression::Null => Ok(None),
            Expression::String(s) if s.is_empty() => Ok(None),
            _ => self.string().map(Some),
        }
    }

    /// `true` or `false`; also the strings `"true"` and `"false"`, which Boundary's own
    /// (HCL 1) parser accepts for booleans.
    pub fn bool(&self) -> Result<bool, ConfigError> {
        match &self.expr {
            Expression::Bool(b) => Ok(*b),
            Expression::String(s) if s == "true" => Ok(true),
            Expression::String(s) if s == "false" => Ok(false),
            _ => Err(self.wrong_type("true or false")),
        }
    }

    /// A whole number within `range`.
    pub fn integer<T>(&self, range: RangeInclusive<T>) -> Result<T, ConfigError>
    where
        T: TryFrom<i64> + TryFrom<u64> + PartialOrd + Display,
    {
        let Expression::Number(number) = &self.expr else {
            return Err(self.wrong_type("a whole number"));
        };
        let value = match (number.as_i64(), number.as_u64()) {
            (Some(n), _) => T::try_from(n).ok(),
            (None, Some(n)) => T::try_from(n).ok(),
            (None, None) => return Err(self.wrong_type("a whole number")),
        };
        match value {
            Some(value) if range.contains(&value) => Ok(value),
            _ => Err(self.out_of_range(format!("use {} to {}", range.start(), range.end()))),
        }
    }

    /// A list of strings.
    pub fn strings(&self) -> Result<Vec<String>, ConfigError> {
        let Expression::Array(items) = &self.expr else {
            return Err(self.wrong_type("a list of strings"));
        };
        items
            .iter()
            .map(|item| match item {
                Expression::String(s) => Ok(s.clone()),
                _ => Err(self.wrong_type(&format!("a list of strings; {item} is not a string"))),
            })
            .collect()
    }

    /// A string or a list of strings (Boundary allows both for `purpose`).
    pub fn string_or_strings(&self) -> Result<Vec<String>, ConfigError> {
        match &self.expr {
            Expression::Array(_) => self.strings(),
            _ => self.string().map(|s| vec![s]),
        }
    }

    /// A string parsed by `T::from_str`; `expected` describes the form, for the error.
    pub fn parse<T: FromStr>(&self, expected: &str) -> Result<T, ConfigError> {
        let text = self.string()?;
        text.parse()
            .map_err(|_| self.invalid(format!("expected {expected}")))
    }

    /// A string, or Boundary's indirections: `env://NAME` is the value of the environment
    /// variable NAME, `file://PATH` the content of the file (trimmed), so that secrets
    /// need not sit in the file.
    pub fn indirect(&self) -> Result<String, ConfigError> {
        let raw = self.string()?;
        if let Some(var) = raw.strip_prefix("env://") {
            return std::env::var(var).map_err(|_| {
                self.invalid(format!(
                    "names the environment variable {var}, which is not set"
                ))
            });
        }
        if let Some(path) = raw.strip_prefix("file://") {
            return std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| self.invalid(format!("cannot read {path}: {e}")));
        }
        Ok(raw)
    }

    /// The value has the right type but is not acceptable; `reason` says why.
    pub fn invalid(&self, reason: impl Into<String>) -> ConfigError {
        self.error(ErrorKind::Invalid {
            reason: reason.into(),
        })
    }

    /// The value is of another type than `expected` (e.g. "a string").
    pub fn wrong_type(&self, expected: &str) -> ConfigError {
        let expected = match &self.expr {
            Expression::TemplateExpr(_) => format!(
                "{expected}; templates and interpolation (${{…}}) are not evaluated, write \
                 the value itself"
            ),
            Expression::Variable(_)
            | Expression::Traversal(_)
            | Expression::FuncCall(_)
            | Expression::Conditional(_)
            | Expression::Operation(_)
            | Expression::ForExpr(_)
            | Expression::Parenthesis(_) => {
                format!("{expected}; variables, functions and operators are not supported")
            }
            _ => expected.to_owned(),
        };
        self.error(ErrorKind::WrongType { expected })
    }

    /// The value is outside its range; `expected` names the range.
    pub fn out_of_range(&self, expected: impl Into<String>) -> ConfigError {
        self.error(ErrorKind::OutOfRange {
            expected: expected.into(),
        })
    }

    fn error(&self, kind: ErrorKind) -> ConfigError {
        ConfigError::new(kind)
            .at_key(self.key.clone())
            .at_line(self.line)
            .showing(self.shown())
    }

    /// The value as written, on one line; `None` for secrets.
    fn shown(&self) -> Option<String> {
        if self.secret {
            return None;
        }
        Some(match &self.expr {
            Expression::Array(_) | Expression::Object(_) => self
                .expr
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
            _ => self.expr.to_string(),
        })
    }
}
