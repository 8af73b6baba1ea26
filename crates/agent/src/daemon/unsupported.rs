//! The in-process dev agent on an OS whose agent layer is not built yet: same API as on
//! Linux, and `start` says why it cannot run.

use super::platform;
use boundary_wire::api::Secret;

pub struct DevAgent {
    pub uid: u32,
}

pub struct DevLogin<'a> {
    pub controller_addr: &'a str,
    pub auth_method_id: &'a str,
    pub login_name: &'a str,
    pub password: &'a Secret,
}

impl DevAgent {
    pub async fn start(_login: DevLogin<'_>) -> anyhow::Result<DevAgent> {
        platform::check()?;
        anyhow::bail!("the client agent runs on Linux only")
    }

    pub async fn stop(self) -> bool {
        true
    }
}
