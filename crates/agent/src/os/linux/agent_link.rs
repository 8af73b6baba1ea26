//! The agent's own network link for systemd-resolved mode: a TUN device that exists
//! exactly as long as the agent holds it open.
//!
//! Why a link of its own: resolved takes DNS servers and routing domains per link, and
//! NetworkManager re-pushes its own settings for the links it manages, so the agent's
//! settings on the uplink would be overwritten. Why TUN (not `dummy` or veth): it exists
//! on every kernel the agent runs on (`dummy` is a module that is not always there), and
//! it is not persistent: when the agent exits or is killed, the kernel deletes it, and
//! resolved drops its DNS configuration with it, so even a crash cannot leave the machine
//! sending names to a server that is gone. resolved only uses links that are up with
//! carrier and carry a routable address; an open TUN has carrier, and the agent's DNS
//! addresses are put on it (resolved binds per-link queries to the link, so the server
//! must be reachable through it: a local address on the link is).
//!
//! Nothing is routed into the device (the agent's addresses are host addresses, which
//! the kernel delivers locally), so nobody needs to read from it.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;

use futures_util::TryStreamExt;
use rtnetlink::LinkUnspec;
use rtnetlink::packet_route::link::{InfoKind, LinkAttribute, LinkInfo};

use super::addr::to_io;

/// The default name of the agent's link.
pub const AGENT_LINK_NAME: &str = "boundary0";

/// `TUNSETIFF` (`_IOW('T', 202, int)`).
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

/// An open TUN device; dropping it deletes the link.
#[derive(Debug)]
pub struct AgentLink {
    _device: File,
    name: String,
    index: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum AgentLinkError {
    #[error(
        "a network interface named {0} already exists and is not the agent's; remove it \
         (ip link del {0}) or stop what created it"
    )]
    NameTaken(String),
    #[error("cannot create the TUN device {name} (/dev/net/tun): {source}")]
    Create {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot bring {name} up: {source}")]
    Up {
        name: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot remove the leftover link {name}: {source}")]
    Remove {
        name: String,
        #[source]
        source: io::Error,
    },
}

impl AgentLink {
    /// Creates the TUN device `name` and brings it up. Refuses when an interface of that
    /// name exists already (a leftover is removed by [`remove_leftover_link`] first).
    pub async fn create(
        handle: &rtnetlink::Handle,
        name: &str,
    ) -> Result<AgentLink, AgentLinkError> {
        if nix::net::if_::if_nametoindex(name).is_ok() {
            return Err(AgentLinkError::NameTaken(name.to_owned()));
        }
        let created = |source| AgentLinkError::Create {
            name: name.to_owned(),
            source,
        };
        let device = open_tun(name).map_err(created)?;
        let index = nix::net::if_::if_nametoindex(name).map_err(|e| created(io::Error::from(e)))?;
        handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|e| AgentLinkError::Up {
                name: name.to_owned(),
                source: to_io(e),
            })?;
        Ok(AgentLink {
            _device: device,
            name: name.to_owned(),
            index,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn index(&self) -> u32 {
        self.index
    }
}

/// Removes a TUN link called `name` that a crashed agent left (only possible if it was
/// made persistent by someone; normally the kernel removed it with the agent). Returns
/// whether there was one. A link of that name that is not a TUN is someone else's and is
/// left alone.
pub async fn remove_leftover_link(
    handle: &rtnetlink::Handle,
    name: &str,
) -> Result<bool, AgentLinkError> {
    let failed = |source| AgentLinkError::Remove {
        name: name.to_owned(),
        source,
    };
    let found = handle
        .link()
        .get()
        .match_name(name.to_owned())
        .execute()
        .try_next()
        .await;
    let link = match found {
        Ok(Some(link)) => link,
        Ok(None) => return Ok(false),
        Err(error) => {
            let error = to_io(error);
            if error.raw_os_error() == Some(libc::ENODEV) {
                return Ok(false);
            }
            return Err(failed(error));
        }
    };
    let is_tun = link.attributes.iter().any(|attribute| {
        matches!(attribute, LinkAttribute::LinkInfo(infos)
            if infos.iter().any(|info| matches!(info, LinkInfo::Kind(InfoKind::Tun))))
    });
    if !is_tun {
        tracing::warn!(
            link = name,
            "an interface with the agent's link name exists and is not a TUN device: not the agent's, left alone"
        );
        return Ok(false);
    }
    handle
        .link()
        .del(link.header.index)
        .execute()
        .await
        .map_err(|e| failed(to_io(e)))?;
    Ok(true)
}

fn open_tun(name: &str) -> io::Result<File> {
    let device = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_CLOEXEC)
        .open("/dev/net/tun")?;
    // SAFETY: an all-zero ifreq is valid; the name fits (checked) and stays
    // NUL-terminated; the union member written is the flags short TUNSETIFF reads.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= request.ifr_name.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface names have 1 to 15 characters",
        ));
    }
    for (slot, byte) in request.ifr_name.iter_mut().zip(bytes) {
        *slot = *byte as libc::c_char;
    }
    request.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
    // SAFETY: TUNSETIFF reads an ifreq; `request` outlives the call.
    let result = unsafe { libc::ioctl(device.as_raw_fd(), TUNSETIFF, &mut request) };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(device)
}
