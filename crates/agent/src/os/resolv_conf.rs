//! The resolv.conf format as the agent reads and writes it.
//!
//! Parsing follows glibc, not a strict grammar: a `nameserver` line's first word is the
//! address (optionally `%scope` for link-local IPv6), anything unknown is ignored. A small
//! parser instead of the `resolv-conf` crate because that crate rejects a whole file for
//! one line it does not understand, and the agent must never lose the upstreams over an
//! option it has no use for.

use std::net::{IpAddr, SocketAddr, SocketAddrV6};

/// First line of every file the agent writes; how the agent recognises its own content
/// (also when it was written for other agent addresses).
pub const AGENT_MARKER: &str = "# Written by boundary-client-agent";

/// The file the agent writes: its own addresses as the nameservers, followed by the
/// previous file's other settings (`search`, `options`, ...) so short names and resolver
/// options keep working.
pub fn render(previous: Option<&[u8]>, ours: &[IpAddr]) -> Vec<u8> {
    let mut out = String::new();
    out.push_str(AGENT_MARKER);
    out.push_str(
        ", which answers Boundary aliases and forwards other\n\
         # queries to the previous nameservers. It puts the previous file back when it\n\
         # pauses or stops.\n",
    );
    for address in ours {
        out.push_str(&format!("nameserver {address}\n"));
    }
    let mut bytes = out.into_bytes();
    for line in previous.unwrap_or_default().split(|b| *b == b'\n') {
        if is_carried_over(line) {
            bytes.extend_from_slice(line);
            bytes.push(b'\n');
        }
    }
    bytes
}

/// Whether `content` was written by the agent.
pub fn is_agent_written(content: &[u8]) -> bool {
    content.starts_with(AGENT_MARKER.as_bytes())
}

/// Whether `content` is what a write cut short by a crash or power loss leaves behind:
/// the file is truncated before it is written in place, so an interrupted takeover leaves
/// it empty or holding the start of the agent's marker line, and an interrupted restore
/// leaves a piece of `saved` cut mid-line. Recovery then writes the saved copy back
/// instead of keeping the fragment as "newer" content (which would lose the original).
/// A file someone emptied on purpose while the agent was down is restored too: an empty
/// resolv.conf means "no DNS server", never what anyone wants back.
pub fn is_interrupted_write(content: &[u8], saved: Option<&[u8]>) -> bool {
    let cut_restore = saved.is_some_and(|saved| {
        content.len() < saved.len() && saved.starts_with(content) && !content.ends_with(b"\n")
    });
    content.is_empty() || AGENT_MARKER.as_bytes().starts_with(content) || cut_restore
}

/// The nameservers in `content` as port-53 socket addresses, in file order, without
/// duplicates and without `ours`. A link-local IPv6 `%scope` is resolved to the
/// interface index; entries that cannot be parsed or resolved are skipped.
pub fn upstreams(content: &[u8], ours: &[IpAddr]) -> Vec<SocketAddr> {
    let mut found = Vec::new();
    for line in content.split(|b| *b == b'\n') {
        let text = String::from_utf8_lossy(line);
        let mut words = text.split_whitespace();
        if words.next() != Some("nameserver") {
            continue;
        }
        let Some(word) = words.next() else { continue };
        let Some(address) = parse_nameserver(word) else {
            tracing::debug!(
                nameserver = word,
                "ignoring a nameserver entry that is not an address"
            );
            continue;
        };
        if !ours.contains(&address.ip()) && !found.contains(&address) {
            found.push(address);
        }
    }
    found
}

fn parse_nameserver(word: &str) -> Option<SocketAddr> {
    let (address, scope) = match word.split_once('%') {
        Some((address, scope)) => (address, Some(scope)),
        None => (word, None),
    };
    match address.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => Some(SocketAddr::from((v4, 53))),
        IpAddr::V6(v6) => {
            let scope_id = match scope {
                None => 0,
                Some(scope) => scope_index(scope)?,
            };
            Some(SocketAddr::V6(SocketAddrV6::new(v6, 53, 0, scope_id)))
        }
    }
}

/// `%eth0` or `%2`.
fn scope_index(scope: &str) -> Option<u32> {
    if let Ok(index) = scope.parse::<u32>() {
        return Some(index);
    }
    match nix::net::if_::if_nametoindex(scope) {
        Ok(index) => Some(index),
        Err(error) => {
            tracing::warn!(
                scope,
                %error,
                "ignoring a link-local nameserver on an unknown interface"
            );
            None
        }
    }
}

/// Settings lines (not nameservers, comments or blank lines) survive the takeover.
fn is_carried_over(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let trimmed = text.trim();
    !(trimmed.is_empty()
        || trimmed.starts_with('#')
        || trimmed.starts_with(';')
        || trimmed.split_whitespace().next() == Some("nameserver"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_fragments_a_cut_write_leaves_count_as_interrupted() {
        let saved = b"nameserver 10.0.0.2\nnameserver 10.0.0.3\n";
        for fragment in [&b""[..], b"# Writ", b"nameserver 10.0.0.2\nname"] {
            assert!(is_interrupted_write(fragment, Some(saved)), "{fragment:?}");
        }
        // Whole lines (a DHCP client dropping a server), other content, the full file.
        for kept in [
            &b"nameserver 10.0.0.2\n"[..],
            b"nameserver 10.9.9.9\n",
            &saved[..],
        ] {
            assert!(!is_interrupted_write(kept, Some(saved)), "{kept:?}");
        }
        assert!(!is_interrupted_write(b"nameserver 10.0.0.2", None));
    }

    const DEBIAN: &[u8] = b"# Generated by NetworkManager\nsearch corp.example lab\n\
        nameserver 10.0.0.2\nnameserver  2001:db8::53 # comment\n; old\n\
        nameserver 100.64.0.1\noptions edns0 trust-ad\nnameserver bogus\nnameserver 10.0.0.2\n";

    fn ours() -> Vec<IpAddr> {
        vec![
            "100.64.0.1".parse().unwrap(),
            "fd00:a20a::1".parse().unwrap(),
        ]
    }

    #[test]
    fn upstreams_skip_ours_duplicates_and_garbage() {
        let found = upstreams(DEBIAN, &ours());
        assert_eq!(
            found,
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8::53]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn link_local_scope_by_index_and_by_name() {
        let found = upstreams(b"nameserver fe80::1%7\nnameserver fe80::2%lo\n", &[]);
        let SocketAddr::V6(first) = found[0] else {
            panic!("{found:?}")
        };
        assert_eq!(first.scope_id(), 7);
        let SocketAddr::V6(second) = found[1] else {
            panic!("{found:?}")
        };
        assert_eq!(second.scope_id(), 1, "lo is interface 1");
        assert!(upstreams(b"nameserver fe80::3%no-such-if0\n", &[]).is_empty());
    }

    #[test]
    fn render_lists_ours_then_keeps_settings() {
        let written = render(Some(DEBIAN), &ours());
        let text = String::from_utf8(written.clone()).unwrap();
        assert!(text.starts_with(AGENT_MARKER));
        assert!(is_agent_written(&written));
        assert!(!is_agent_written(DEBIAN));
        let settings: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            settings,
            [
                "nameserver 100.64.0.1",
                "nameserver fd00:a20a::1",
                "search corp.example lab",
                "options edns0 trust-ad"
            ]
        );
        assert!(upstreams(&written, &ours()).is_empty());
    }

    #[test]
    fn render_without_previous_file() {
        let text = String::from_utf8(render(None, &ours()[..1])).unwrap();
        assert!(text.ends_with("\nnameserver 100.64.0.1\n"));
    }

    #[test]
    fn non_utf8_content_does_not_panic() {
        let content = b"nameserver 10.1.1.1\n\xff\xfe garbage\nsearch \xc3\x28\n";
        assert_eq!(upstreams(content, &[]).len(), 1);
        let written = render(Some(content), &ours());
        assert!(written.ends_with(b"\xff\xfe garbage\nsearch \xc3\x28\n"));
    }
}
