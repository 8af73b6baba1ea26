//! Errors of the DNS server's control API (starting listeners, configuring upstreams).
//! Per-query problems never surface here: they become DNS answers (FORMERR, SERVFAIL) or
//! counters.

use std::net::SocketAddr;

use super::Transport;

#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error(
        "cannot listen for DNS on {addr} ({transport}): the port is already in use; another \
         DNS server (systemd-resolved, dnsmasq, a second agent) is listening there — stop it \
         or choose another address"
    )]
    AddressInUse {
        addr: SocketAddr,
        transport: Transport,
    },

    #[error(
        "cannot listen for DNS on {addr} ({transport}): the address is not assigned to any \
         interface of this machine (add it first; a new IPv6 address also needs the nodad flag \
         or a finished duplicate address detection)"
    )]
    AddressNotAssigned {
        addr: SocketAddr,
        transport: Transport,
    },

    #[error(
        "cannot listen for DNS on {addr} ({transport}): permission denied (ports below 1024 \
         need root or CAP_NET_BIND_SERVICE)"
    )]
    PermissionDenied {
        addr: SocketAddr,
        transport: Transport,
    },

    #[error("cannot listen for DNS on {addr} ({transport}): {source}")]
    Bind {
        addr: SocketAddr,
        transport: Transport,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "refusing to listen for DNS on the wildcard address {0}: bind one specific address at \
         a time (replies would leave from the wrong source address)"
    )]
    WildcardAddress(SocketAddr),

    #[error("already listening for DNS on {existing}; cannot also listen on {requested}")]
    AlreadyListening {
        existing: SocketAddr,
        requested: SocketAddr,
    },

    #[error("the DNS server must be started from inside a tokio runtime")]
    NoRuntime,

    #[error("invalid upstream DNS server {input:?}: expected an IP address or IP:port")]
    InvalidUpstream { input: String },
}
