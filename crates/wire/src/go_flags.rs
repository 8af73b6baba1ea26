//! Go-style flag normalisation.

/// Rewrites `-long-flag` and `-long-flag=value` to `--long-flag…` so clap parses Boundary's
/// flag style. Single-letter flags (`-h`), plain values, a lone `-`, negative numbers and
/// everything after `--` are left alone. The first element (program name) is kept.
pub fn normalize_go_style_flags(argv: Vec<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    let mut passthrough = false;
    for (i, arg) in argv.into_iter().enumerate() {
        if i == 0 || passthrough {
            out.push(arg);
            continue;
        }
        if arg == "--" {
            passthrough = true;
            out.push(arg);
            continue;
        }
        let is_go_long = arg.starts_with('-')
            && !arg.starts_with("--")
            && arg.len() > 2
            && arg[1..].starts_with(|c: char| c.is_ascii_alphabetic());
        out.push(if is_go_long { format!("-{arg}") } else { arg });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_go_style_flags;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_go_style_flags(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn go_style_long_flags_become_double_dash() {
        assert_eq!(
            norm(&[
                "boundary",
                "authenticate",
                "password",
                "-auth-method-id",
                "ampw_1",
                "-format=json",
                "-h"
            ]),
            [
                "boundary",
                "authenticate",
                "password",
                "--auth-method-id",
                "ampw_1",
                "--format=json",
                "-h"
            ]
        );
    }

    #[test]
    fn values_and_passthrough_are_untouched() {
        assert_eq!(
            norm(&[
                "boundary",
                "connect",
                "--target-id",
                "-1",
                "-",
                "--",
                "-exec-arg",
                "-l"
            ]),
            [
                "boundary",
                "connect",
                "--target-id",
                "-1",
                "-",
                "--",
                "-exec-arg",
                "-l"
            ]
        );
    }
}
