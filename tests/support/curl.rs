//! curl in a namespace as root or a user, for HTTP the way any local program speaks it:
//! `-sS --max-time 30 -w '\n%{http_code}'`, so the status comes back with the body.

use std::process::{Command, Output};

use super::netns::Netns;
use super::os_user::OsUser;
use super::process::{HANG_TIMEOUT, expect_success, run_with_timeout, run_with_timeout_async};

/// `curl <args>` with the status line appended, in `netns` as `user` (root when `None`).
pub fn curl_command(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> Command {
    let mut command = netns.command_for(user, "curl");
    command
        .args(["-sS", "--max-time", "30", "-w", "\n%{http_code}"])
        .args(args);
    command
}

/// Runs curl (with `stdin`, e.g. a body given as `--data-binary @-`); returns the HTTP
/// status and the body. Panics if curl itself failed (no HTTP answer).
pub fn curl(
    netns: &Netns,
    user: Option<&OsUser>,
    args: &[&str],
    stdin: Option<&[u8]>,
) -> (u16, String) {
    let output = run_with_timeout(&mut curl_command(netns, user, args), stdin, HANG_TIMEOUT);
    status_and_body(args, &output)
}

/// [`curl`] for async code (the runtime keeps serving meanwhile, e.g. the server curl
/// talks to).
pub async fn curl_async(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> (u16, String) {
    let output = run_with_timeout_async(curl_command(netns, user, args), None, HANG_TIMEOUT).await;
    status_and_body(args, &output)
}

fn status_and_body(args: &[&str], output: &Output) -> (u16, String) {
    let stdout = expect_success(&format!("curl {args:?}"), output);
    let (body, code) = stdout
        .rsplit_once('\n')
        .unwrap_or_else(|| panic!("curl output {stdout:?}"));
    let code = code
        .parse()
        .unwrap_or_else(|_| panic!("not an HTTP status: {code:?}"));
    (code, body.to_owned())
}
