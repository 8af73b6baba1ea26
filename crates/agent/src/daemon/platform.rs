//! Whether this machine can run the agent at all: the OS layer must exist and the agent
//! must be root (it rewrites `/etc/resolv.conf`, adds addresses and listens on port 53).

/// Why the agent cannot run here; the message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error(
        "boundary-client-agent must run as root (uid 0): it becomes the system's DNS resolver \
         (port 53, /etc/resolv.conf) and adds local addresses; start it with sudo or as the \
         packaged systemd service"
    )]
    NotRoot,
    #[error("the client agent's macOS OS layer is not built yet; only Linux is supported")]
    MacOs,
    #[error("the client agent supports only Linux (this is {0})")]
    UnsupportedOs(&'static str),
}

/// Refuses to go on unless the agent can work on this machine.
pub fn check() -> Result<(), PlatformError> {
    if cfg!(target_os = "macos") {
        return Err(PlatformError::MacOs);
    }
    if !cfg!(target_os = "linux") {
        return Err(PlatformError::UnsupportedOs(std::env::consts::OS));
    }
    if !nix::unistd::geteuid().is_root() {
        return Err(PlatformError::NotRoot);
    }
    Ok(())
}
