//! A worker address from the authorization token (`host:port`, `[v6]:port`, or a bare host
//! with Boundary's default proxy port).

use rustls::pki_types::ServerName;

use super::TunnelError;

/// Boundary's default worker proxy port.
pub const DEFAULT_WORKER_PORT: u16 = 9202;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerAddress {
    /// Host name or IP literal, without brackets.
    pub host: String,
    pub port: u16,
}

impl WorkerAddress {
    pub fn parse(address: &str) -> Result<Self, TunnelError> {
        let bad = || TunnelError::WorkerAddress(address.to_string());
        let address = address.trim();
        let (host, port) = if let Some(rest) = address.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after {
                "" => (host, None),
                _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
            }
        } else if address.matches(':').count() > 1 {
            // A bare IPv6 literal: it has no room for a port.
            (address, None)
        } else {
            match address.split_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (address, None),
            }
        };
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?,
            None => DEFAULT_WORKER_PORT,
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(bad());
        }
        Ok(Self {
            host: host.to_string(),
            port,
        })
    }

    /// `host:port` with brackets around an IPv6 literal, as a URL authority.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The TLS server name: an IP literal yields an address, for which rustls sends no SNI.
    pub fn server_name(&self) -> Result<ServerName<'static>, TunnelError> {
        ServerName::try_from(self.host.clone())
            .map_err(|_| TunnelError::WorkerAddress(self.authority()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> (String, u16) {
        let a = WorkerAddress::parse(s).unwrap();
        (a.host, a.port)
    }

    #[test]
    fn forms_of_worker_addresses() {
        assert_eq!(parsed("127.0.0.1:9202"), ("127.0.0.1".into(), 9202));
        assert_eq!(parsed("worker.example:443"), ("worker.example".into(), 443));
        assert_eq!(parsed("worker.example"), ("worker.example".into(), 9202));
        assert_eq!(parsed("[::1]:9300"), ("::1".into(), 9300));
        assert_eq!(parsed("[fd00::1]"), ("fd00::1".into(), 9202));
        assert_eq!(parsed("fd00::1"), ("fd00::1".into(), 9202));
    }

    #[test]
    fn bad_worker_addresses_are_errors() {
        for bad in [
            "",
            ":9202",
            "host:",
            "host:0",
            "host:99999",
            "[::1",
            "[::1]x",
            "a b:1",
        ] {
            assert!(WorkerAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn authority_and_server_name() {
        let v6 = WorkerAddress::parse("[::1]:9202").unwrap();
        assert_eq!(v6.authority(), "[::1]:9202");
        assert!(matches!(
            v6.server_name().unwrap(),
            ServerName::IpAddress(_)
        ));
        let dns = WorkerAddress::parse("worker.example:9202").unwrap();
        assert!(matches!(dns.server_name().unwrap(), ServerName::DnsName(_)));
    }
}
