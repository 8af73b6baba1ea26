//! `controller_addresses`: the controllers root allows the agent to talk to.
//!
//! Without the key, the first user to register a token picks the controller for every
//! user of the machine (and may point it anywhere: a fake controller on localhost could
//! serve aliases such as `deb.debian.org`). With it, a token for any other address is
//! refused before the agent sends anything there.
//!
//! Addresses are compared as origins ([`ControllerAddress`]): scheme, host and port, the
//! scheme's default port filled in, host without case; a path, query, fragment or user
//! name is not part of a controller's address and is refused.

use std::fmt;

use reqwest::Url;

/// A controller's origin, e.g. `https://boundary.corp.example:443`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ControllerAddress {
    scheme: String,
    host: String,
    port: u16,
}

impl ControllerAddress {
    /// Parses `http(s)://host[:port]`, with or without a trailing `/`. The error says
    /// what is wrong with the text (without repeating it).
    pub fn parse(text: &str) -> Result<ControllerAddress, String> {
        let url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the scheme must be http:// or https://".to_owned());
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err("has no host".to_owned());
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not hold a user name or password".to_owned());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(
                "must be scheme://host[:port] only, without a path, query or fragment".to_owned(),
            );
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| "has no port".to_owned())?;
        Ok(ControllerAddress {
            scheme: url.scheme().to_owned(),
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for ControllerAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// The controllers a registration may name: any (`controller_addresses` unset), or only
/// those listed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControllerPin {
    /// Empty: not pinned. Sorted, without duplicates.
    allowed: Vec<ControllerAddress>,
}

impl ControllerPin {
    /// Pins to `addresses`; none leaves the agent unpinned.
    pub fn new(mut addresses: Vec<ControllerAddress>) -> ControllerPin {
        addresses.sort();
        addresses.dedup();
        ControllerPin { allowed: addresses }
    }

    pub fn is_pinned(&self) -> bool {
        !self.allowed.is_empty()
    }

    pub fn addresses(&self) -> &[ControllerAddress] {
        &self.allowed
    }

    /// Whether the agent may talk to the controller at `addr` (a `boundary_addr` as a
    /// user gave it); the refusal says why, for the user and the log.
    pub fn check(&self, addr: &str) -> Result<(), String> {
        if !self.is_pinned() {
            return Ok(());
        }
        let allowed = self
            .allowed
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let refusal = |why: String| {
            format!(
                "this client agent only talks to {allowed} (controller_addresses, set by root \
                 in its configuration); {why}"
            )
        };
        match ControllerAddress::parse(addr) {
            Ok(address) if self.allowed.contains(&address) => Ok(()),
            Ok(address) => Err(refusal(format!("a token of {address} is not accepted"))),
            Err(reason) => Err(refusal(format!("boundary_addr {reason}"))),
        }
    }
}

/// The value of `controller_addresses`: a non-empty list of controller addresses. The
/// error is the reason, for the key's error message.
pub(super) fn parse_list(items: &[String]) -> Result<ControllerPin, String> {
    if items.is_empty() {
        return Err(
            "an empty list would allow no controller at all; remove the key to let \
                    users choose the controller"
                .to_owned(),
        );
    }
    let mut addresses = Vec::with_capacity(items.len());
    for text in items {
        let address =
            ControllerAddress::parse(text).map_err(|reason| format!("{text:?} {reason}"))?;
        addresses.push(address);
    }
    Ok(ControllerPin::new(addresses))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str) -> String {
        ControllerAddress::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .to_string()
    }

    #[test]
    fn addresses_are_compared_as_scheme_host_and_port() {
        for (text, expected) in [
            (
                "https://boundary.corp.example",
                "https://boundary.corp.example:443",
            ),
            (
                "https://boundary.corp.example/",
                "https://boundary.corp.example:443",
            ),
            (
                "HTTPS://Boundary.Corp.Example:443",
                "https://boundary.corp.example:443",
            ),
            ("http://10.0.0.1", "http://10.0.0.1:80"),
            ("http://10.0.0.1:9200/", "http://10.0.0.1:9200"),
            ("  https://[FD00::1]:9200 ", "https://[fd00::1]:9200"),
        ] {
            assert_eq!(normalized(text), expected, "{text}");
        }
        assert_ne!(normalized("http://ctl"), normalized("https://ctl"));
        assert_ne!(normalized("http://ctl:443"), normalized("https://ctl"));
    }

    #[test]
    fn anything_but_an_origin_is_refused_with_a_reason() {
        for (text, reason) in [
            ("boundary.corp.example", "not a URL"),
            ("ftp://ctl", "scheme"),
            ("https://ctl/boundary", "without a path"),
            ("https://ctl//", "without a path"),
            ("https://ctl/?a=b", "query"),
            ("https://ctl/#x", "fragment"),
            ("https://alice@ctl", "user name"),
            ("https://ctl:99999", "not a URL"),
        ] {
            let error = ControllerAddress::parse(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn a_pin_accepts_only_its_addresses_in_any_spelling() {
        let pin = ControllerPin::new(vec![
            ControllerAddress::parse("https://ctl.example").unwrap(),
            ControllerAddress::parse("https://ctl.example:443/").unwrap(),
        ]);
        assert_eq!(pin.addresses().len(), 1, "duplicates are dropped");
        for ok in ["https://ctl.example", "https://CTL.example:443/"] {
            assert_eq!(pin.check(ok), Ok(()), "{ok}");
        }
        for (refused, says) in [
            (
                "http://127.0.0.1:1",
                "a token of http://127.0.0.1:1 is not accepted",
            ),
            ("http://ctl.example", "a token of http://ctl.example:80"),
            (
                "https://ctl.example:9200",
                "a token of https://ctl.example:9200",
            ),
            ("https://ctl.example/evil", "without a path"),
        ] {
            let error = pin.check(refused).unwrap_err();
            assert!(
                error.contains(says) && error.contains("only talks to https://ctl.example:443"),
                "{refused}: {error}"
            );
        }
        assert_eq!(ControllerPin::default().check("http://anything:1"), Ok(()));
    }

    #[test]
    fn the_list_must_hold_addresses() {
        let string = |s: &str| s.to_owned();
        assert!(parse_list(&[]).unwrap_err().contains("remove the key"));
        let error = parse_list(&[string("https://a"), string("https://b/x")]).unwrap_err();
        assert!(
            error.contains("\"https://b/x\"") && error.contains("path"),
            "{error}"
        );
        let pin = parse_list(&[string("https://b"), string("https://a:443")]).unwrap();
        let shown: Vec<String> = pin.addresses().iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["https://a:443", "https://b:443"]);
    }
}
