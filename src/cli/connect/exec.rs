//! Running a program against the local proxy (`-exec`, and the `ssh` helper).

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::ExitStatus;

use anyhow::Context;

use super::SshArgs;
use super::proxy::{Ending, LocalProxy};
use super::report::SessionInfo;
use super::signals::Signals;
use boundary_wire::api::credential::{SSH_PRIVATE_KEY, SessionCredential, USERNAME_PASSWORD};

/// A program, its arguments (templates not yet filled in) and extra environment.
pub struct Invocation {
    program: String,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    local: SocketAddr,
    /// Removed when the invocation is dropped.
    _key_file: Option<TempKeyFile>,
}

impl Invocation {
    pub fn new(
        program: String,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        local: SocketAddr,
    ) -> Self {
        Self {
            program,
            args,
            envs,
            local,
            _key_file: None,
        }
    }

    /// Arguments with `{{boundary.ip}}`, `{{boundary.port}}` and `{{boundary.addr}}` (with
    /// or without spaces inside the braces) replaced.
    fn filled_args(&self) -> Vec<String> {
        let (ip, port, addr) = proxied(self.local);
        self.args
            .iter()
            .map(|arg| {
                let arg = substitute(arg, "port", &port);
                let arg = substitute(&arg, "ip", &ip);
                substitute(&arg, "addr", &addr)
            })
            .collect()
    }
}

fn proxied(local: SocketAddr) -> (String, String, String) {
    (
        local.ip().to_string(),
        local.port().to_string(),
        local.to_string(),
    )
}

fn substitute(text: &str, name: &str, value: &str) -> String {
    let mut out = text.to_string();
    for template in [
        format!("{{{{boundary.{name}}}}}"),
        format!("{{{{ boundary.{name}}}}}"),
        format!("{{{{boundary.{name} }}}}"),
        format!("{{{{ boundary.{name} }}}}"),
    ] {
        out = out.replace(&template, value);
    }
    out
}

/// The ssh helper's command line: the user's arguments after `--` first (as Boundary
/// does), then `-p PORT -o HostKeyAlias=… [-i KEY] [-l USER] IP [REMOTE COMMAND]`.
pub struct SshPlan {
    pub invocation: Invocation,
    /// Brokered credentials ssh could not use (a password): printed for the user.
    pub unused_credentials: Vec<SessionCredential>,
}

impl SshPlan {
    /// The arguments ssh will get.
    #[cfg(test)]
    pub fn invocation_args(&self) -> Vec<String> {
        self.invocation.filled_args()
    }
}

pub fn ssh_plan(args: &SshArgs, info: &SessionInfo) -> anyhow::Result<SshPlan> {
    let local = SocketAddr::new(
        info.address
            .parse()
            .context("the proxy address is not an IP address")?,
        info.port,
    );
    let (ip, port, _) = proxied(local);
    // Host keys belong to the host, not to the ephemeral local port.
    let host_key_alias = if info.host_id.is_empty() {
        &info.target_id
    } else {
        &info.host_id
    };
    let mut ssh_args = args.args.clone();
    ssh_args.extend([
        "-p".into(),
        port,
        "-o".into(),
        format!("HostKeyAlias={host_key_alias}"),
    ]);

    let mut username = args.username.clone();
    let mut key_file = None;
    let mut unused_credentials = vec![];
    let private_key = find(&info.credentials, SSH_PRIVATE_KEY);
    let password = find(&info.credentials, USERNAME_PASSWORD);
    if let Some((credential, fields)) = private_key {
        let key = fields
            .get("private_key")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let file = TempKeyFile::write(key)?;
        ssh_args.extend(["-i".into(), file.path.display().to_string()]);
        key_file = Some(file);
        if username.is_none() {
            username = string_field(fields, "username");
        }
        if fields
            .get("private_key_passphrase")
            .and_then(|v| v.as_str())
            .is_some_and(|p| !p.is_empty())
        {
            unused_credentials.push(credential.clone());
        }
    } else if let Some((credential, fields)) = password {
        // ssh asks for the password itself; the user needs to see it.
        if username.is_none() {
            username = string_field(fields, "username");
        }
        unused_credentials.push(credential.clone());
    }
    if let Some(user) = username.filter(|u| !u.is_empty()) {
        ssh_args.extend(["-l".into(), user]);
    }
    ssh_args.push(ip);
    if let Some(command) = &args.remote_command {
        ssh_args.extend(
            command
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    let mut invocation = Invocation::new(
        args.exec.clone().unwrap_or_else(|| "ssh".into()),
        ssh_args,
        vec![],
        local,
    );
    invocation._key_file = key_file;
    Ok(SshPlan {
        invocation,
        unused_credentials,
    })
}

fn find<'a>(
    credentials: &'a [SessionCredential],
    kind: &str,
) -> Option<(
    &'a SessionCredential,
    &'a serde_json::Map<String, serde_json::Value>,
)> {
    credentials.iter().find_map(|c| {
        let fields = c.typed()?.as_object()?;
        let declared = &c.credential_source.credential_type;
        let matches = declared == kind
            || (declared.is_empty()
                && kind == SSH_PRIVATE_KEY
                && fields.contains_key("private_key"))
            || (declared.is_empty()
                && kind == USERNAME_PASSWORD
                && fields.contains_key("password"));
        matches.then_some((c, fields))
    })
}

fn string_field(fields: &serde_json::Map<String, serde_json::Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(|v| v.as_str())
        .map(str::to_string)
}

/// Runs the program while the proxy serves; the proxy stops when the program exits. A
/// signal stops the proxy first (the program usually got it too); a second one kills the
/// program. Returns how the proxy ended and the program's exit code.
pub async fn run_with_proxy(
    invocation: Invocation,
    proxy: LocalProxy,
    signals: &mut Signals,
    on_connections_left: impl FnMut(i32),
) -> anyhow::Result<(Ending, i32)> {
    let (ip, port, addr) = proxied(invocation.local);
    let mut child = tokio::process::Command::new(&invocation.program)
        .args(invocation.filled_args())
        .envs(
            invocation
                .envs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .env("BOUNDARY_PROXIED_IP", ip)
        .env("BOUNDARY_PROXIED_PORT", port)
        .env("BOUNDARY_PROXIED_ADDR", addr)
        .spawn()
        .with_context(|| format!("cannot run {:?}", invocation.program))?;

    let stop = async {
        tokio::select! {
            status = child.wait() => Ending::CommandExited(exit_code(status)),
            _ = signals.recv() => Ending::Shutdown,
        }
    };
    let ending = proxy.run(stop, on_connections_left).await;
    let code = match ending {
        Ending::CommandExited(code) => code,
        _ => loop {
            tokio::select! {
                status = child.wait() => break exit_code(status),
                _ = signals.recv() => {
                    let _ = child.start_kill();
                }
            }
        },
    };
    Ok((ending, code))
}

/// The program's exit code; 128 + signal number when a signal ended it, like a shell.
fn exit_code(status: std::io::Result<ExitStatus>) -> i32 {
    match status {
        Ok(status) => status
            .code()
            .or_else(|| status.signal().map(|s| 128 + s))
            .unwrap_or(1),
        Err(_) => 1,
    }
}

/// A brokered SSH private key on disk for `ssh -i`, readable only by the user, removed
/// when dropped.
struct TempKeyFile {
    path: PathBuf,
}

impl TempKeyFile {
    fn write(key: &str) -> anyhow::Result<Self> {
        // The user's own runtime directory where there is one; in the shared temporary
        // directory the name is random and the file is created new, never followed.
        let dir = std::env::var_os("XDG_RUNTIME_DIR")
            .map(PathBuf::from)
            .filter(|dir| dir.is_absolute() && dir.is_dir())
            .unwrap_or_else(std::env::temp_dir);
        let path = dir.join(format!(
            "boundary-ssh-key-{}",
            boundary_wire::api::ids::random_base62(12)
        ));
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let file_guard = Self { path };
        // ssh wants the key to end with a newline.
        let newline = if key.ends_with('\n') { "" } else { "\n" };
        file.write_all(key.as_bytes())
            .and_then(|()| file.write_all(newline.as_bytes()))
            .with_context(|| format!("cannot write {}", file_guard.path.display()))?;
        Ok(file_guard)
    }
}

impl Drop for TempKeyFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_with_and_without_spaces() {
        let invocation = Invocation::new(
            "nc".into(),
            vec![
                "{{boundary.ip}}".into(),
                "{{ boundary.port }}".into(),
                "http://{{boundary.addr }}/x".into(),
                "{{boundary.other}}".into(),
            ],
            vec![],
            "127.0.0.1:4567".parse().unwrap(),
        );
        assert_eq!(
            invocation.filled_args(),
            [
                "127.0.0.1",
                "4567",
                "http://127.0.0.1:4567/x",
                "{{boundary.other}}"
            ]
        );
    }

    #[test]
    fn exit_codes_follow_the_shell() {
        assert_eq!(exit_code(Ok(ExitStatus::from_raw(3 << 8))), 3);
        assert_eq!(exit_code(Ok(ExitStatus::from_raw(9))), 137);
    }
}
