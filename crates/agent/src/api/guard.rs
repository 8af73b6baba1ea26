//! Who may talk to the local API at all, checked before any handler runs.
//!
//! 1. A request with an `Origin` or `Referer` header comes from a web page (browsers
//!    add them; the CLI and Desktop do not): refused, so a page cannot drive the agent
//!    through the user's browser.
//! 2. The `Host` must name the loopback interface (`localhost`, `127.x.y.z`, `[::1]`,
//!    with or without a port). This defeats DNS rebinding: a page whose name was
//!    re-pointed at 127.0.0.1 still sends its own name as `Host`.
//! 3. The caller's identity is the uid owning the client end of the TCP connection
//!    (sock_diag on Linux). No owner (the client is on another host, or already gone)
//!    means no identity: refused.
//!
//! The uid is handed to the handlers as a [`Caller`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use hyper::header;
use hyper::{HeaderMap, Request, Uri};

use super::response::{Response, error_response};
use super::server::ConnectionAddrs;
use crate::os::PeerUidLookup;
use boundary_wire::api::ApiErrorBody;
use boundary_wire::api::error::kind;

/// The local user who sent the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Caller {
    pub uid: u32,
}

/// The caller of `request`, which arrived on the connection `addrs`; the answer to send
/// instead when the request is refused.
pub(super) async fn check_caller<B>(
    peers: &dyn PeerUidLookup,
    addrs: ConnectionAddrs,
    request: &Request<B>,
) -> Result<Caller, Response> {
    if let Err(reason) = check_browser_headers(request.headers(), request.uri()) {
        tracing::debug!(peer = %addrs.peer, %reason, "local API request refused");
        return Err(forbidden(reason));
    }
    let Some(local) = addrs.local else {
        return Err(forbidden(
            "cannot tell which local user is calling".to_owned(),
        ));
    };
    let uid = match peers.tcp_client_uid(addrs.peer, local).await {
        Ok(Some(uid)) => uid,
        Ok(None) => {
            tracing::debug!(peer = %addrs.peer, "local API request from a socket without a local owner");
            return Err(forbidden(
                "the client agent only answers local users (no local process owns the \
                 connection)"
                    .to_owned(),
            ));
        }
        Err(error) => {
            tracing::warn!(peer = %addrs.peer, %error, "cannot look up the caller of a local API request");
            return Err(error_response(
                500,
                ApiErrorBody::new(
                    kind::INTERNAL,
                    "the client agent cannot tell which local user is calling",
                ),
            ));
        }
    };
    tracing::debug!(uid, method = %request.method(), path = request.uri().path(), "local API request");
    Ok(Caller { uid })
}

fn forbidden(message: String) -> Response {
    error_response(403, ApiErrorBody::new(kind::PERMISSION_DENIED, message))
}

/// Refuses requests a web browser would make: with `Origin` or `Referer`, or a `Host`
/// (or absolute-form URI authority) that is not the loopback interface.
pub(super) fn check_browser_headers(headers: &HeaderMap, uri: &Uri) -> Result<(), String> {
    for name in [header::ORIGIN, header::REFERER] {
        if headers.contains_key(&name) {
            return Err(format!(
                "requests carrying an {name} header are refused: web pages may not use the \
                 client agent"
            ));
        }
    }
    let hosts: Vec<_> = headers.get_all(header::HOST).iter().collect();
    let host = match hosts.as_slice() {
        [host] => host.to_str().unwrap_or(""),
        [] => match uri.authority() {
            Some(authority) => authority.as_str(),
            None => return Err("a Host header is required".to_owned()),
        },
        _ => return Err("more than one Host header".to_owned()),
    };
    if !is_local_host(host) {
        return Err(format!(
            "Host {host:?} is not this machine's loopback interface; call the client agent \
             at localhost, 127.0.0.1 or [::1]"
        ));
    }
    if let Some(authority) = uri.authority()
        && !is_local_host(authority.as_str())
    {
        return Err(format!(
            "request target {authority} is not the loopback interface"
        ));
    }
    Ok(())
}

/// `localhost`, a loopback IPv4 address or `[::1]`, each with an optional port.
pub(super) fn is_local_host(host: &str) -> bool {
    let (name, port) = if let Some(rest) = host.strip_prefix('[') {
        match rest.split_once(']') {
            Some((inside, after)) => match after.strip_prefix(':') {
                Some(port) => (inside, Some(port)),
                None if after.is_empty() => (inside, None),
                None => return false,
            },
            None => return false,
        }
    } else {
        match host.split_once(':') {
            Some((name, port)) => (name, Some(port)),
            None => (host, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    let name_ok = if host.starts_with('[') {
        name.parse::<Ipv6Addr>()
            .is_ok_and(|ip| IpAddr::V6(ip).is_loopback())
    } else {
        name.eq_ignore_ascii_case("localhost")
            || name.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
    };
    port_ok && name_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::{HeaderName, HeaderValue};

    #[test]
    fn local_hosts_are_recognised() {
        for host in [
            "localhost",
            "LOCALHOST:9300",
            "127.0.0.1",
            "127.0.0.1:9300",
            "127.1.2.3:80",
            "[::1]",
            "[::1]:9300",
        ] {
            assert!(is_local_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:9300",
            "localhost.evil.example",
            "10.0.0.1:9300",
            "::1",
            "[::2]:9300",
            "[::1]x",
            "127.0.0.1:",
            "127.0.0.1:99999",
            "localhost:9300:1",
            "",
        ] {
            assert!(!is_local_host(host), "{host}");
        }
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn browser_requests_are_refused() {
        let uri: Uri = "/v1/status".parse().unwrap();
        assert!(check_browser_headers(&headers(&[("host", "localhost:9300")]), &uri).is_ok());
        for bad in [
            headers(&[
                ("host", "localhost:9300"),
                ("origin", "https://evil.example"),
            ]),
            headers(&[
                ("host", "localhost:9300"),
                ("referer", "https://evil.example/"),
            ]),
            headers(&[("host", "evil.example:9300")]),
            headers(&[("host", "localhost"), ("host", "evil.example")]),
            headers(&[]),
        ] {
            assert!(check_browser_headers(&bad, &uri).is_err(), "{bad:?}");
        }
        let absolute: Uri = "http://evil.example/v1/status".parse().unwrap();
        assert!(check_browser_headers(&headers(&[("host", "localhost")]), &absolute).is_err());
        assert!(check_browser_headers(&headers(&[]), &absolute).is_err());
        let local: Uri = "http://127.0.0.1:9300/v1/status".parse().unwrap();
        assert!(check_browser_headers(&headers(&[]), &local).is_ok());
    }
}
