//! Boundary's way of passing secrets on the command line without putting them there:
//! `env://VAR` reads an environment variable, `file://PATH` reads a file. Surrounding
//! whitespace (a trailing newline) is dropped, as Boundary does.

use anyhow::{Context, bail};
use boundary_wire::api::Secret;
use std::path::Path;

/// What a secret flag value refers to.
#[derive(Debug, PartialEq, Eq)]
pub enum SecretRef<'a> {
    Env(&'a str),
    File(&'a str),
    /// Neither URL form: the value itself.
    Literal(&'a str),
}

pub fn parse(value: &str) -> SecretRef<'_> {
    if let Some(var) = value.strip_prefix("env://") {
        SecretRef::Env(var)
    } else if let Some(path) = value.strip_prefix("file://") {
        SecretRef::File(path)
    } else {
        SecretRef::Literal(value)
    }
}

/// Resolves a flag that accepts `env://`, `file://` or the value itself (`-password`).
pub fn read(value: &str, flag: &str) -> anyhow::Result<Secret> {
    match parse(value) {
        SecretRef::Literal("") => bail!("{flag} is empty"),
        SecretRef::Literal(v) => Ok(Secret::new(v)),
        other => read_ref(other, flag),
    }
}

/// Resolves a flag that accepts only `env://` or `file://` (`-token`): a literal there
/// would end up in shell history and `ps` output.
pub fn read_url_only(value: &str, flag: &str) -> anyhow::Result<Secret> {
    match parse(value) {
        SecretRef::Literal(_) => bail!(
            "{flag} takes file://PATH or env://VAR; to give the token itself, set BOUNDARY_TOKEN"
        ),
        other => read_ref(other, flag),
    }
}

fn read_ref(r: SecretRef<'_>, flag: &str) -> anyhow::Result<Secret> {
    let value = match r {
        SecretRef::Env(var) => {
            if var.is_empty() {
                bail!("{flag} env:// needs a variable name");
            }
            std::env::var(var)
                .with_context(|| format!("{flag} env://{var}: the variable is not set"))?
        }
        SecretRef::File(path) => {
            if path.is_empty() {
                bail!("{flag} file:// needs a path");
            }
            std::fs::read_to_string(Path::new(path))
                .with_context(|| format!("{flag} file://{path}: cannot read the file"))?
        }
        SecretRef::Literal(v) => v.to_owned(),
    };
    let trimmed = value.trim();
    if trimmed.is_empty() {
        bail!("{flag}: the value read is empty");
    }
    Ok(Secret::new(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_forms() {
        assert_eq!(parse("env://PW"), SecretRef::Env("PW"));
        assert_eq!(
            parse("file:///etc/boundary/pw"),
            SecretRef::File("/etc/boundary/pw")
        );
        assert_eq!(parse("hunter2"), SecretRef::Literal("hunter2"));
    }

    #[test]
    fn reads_files_trimmed_and_names_the_path_on_failure() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\n").unwrap();
        let url = format!("file://{}", path.display());
        assert_eq!(read(&url, "-password").unwrap().expose(), "s3cret");
        assert_eq!(read_url_only(&url, "-token").unwrap().expose(), "s3cret");

        let missing = format!("file://{}", dir.path().join("nope").display());
        let err = format!("{:#}", read(&missing, "-password").unwrap_err());
        assert!(
            err.contains("-password file://") && err.contains("nope"),
            "{err}"
        );

        std::fs::write(&path, " \n").unwrap();
        let err = read(&url, "-password").unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn reads_environment_variables() {
        // A name unique to this test: the process environment is shared between tests.
        let var = "BOUNDARY_TEST_SECRET_SOURCE_7f3a";
        // SAFETY: no other test reads or writes this variable.
        unsafe { std::env::set_var(var, "from-env") };
        assert_eq!(
            read(&format!("env://{var}"), "-password").unwrap().expose(),
            "from-env"
        );
        unsafe { std::env::remove_var(var) };
        let err = read(&format!("env://{var}"), "-password")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not set") && err.contains(var), "{err}");
    }

    #[test]
    fn literals_are_accepted_only_where_boundary_accepts_them() {
        assert_eq!(read("hunter2", "-password").unwrap().expose(), "hunter2");
        let err = read_url_only("at_1234567890_s1abc", "-token")
            .unwrap_err()
            .to_string();
        assert!(err.contains("BOUNDARY_TOKEN"), "{err}");
        // The error must not echo the would-be token.
        assert!(!err.contains("s1abc"));
    }
}
