//! Whether systemd-resolved is the machine's DNS path, and whether it answers.

use std::fs;
use std::path::Path;

use super::bus::ResolvedBus;

/// resolved's stub listener, the only nameserver in a resolv.conf that sends programs to
/// resolved.
const STUB: &str = "127.0.0.53";

/// Why `path` (`/etc/resolv.conf`) sends programs to resolved, or `None`: a symlink to its
/// stub file (Ubuntu's and Fedora's shape, followed even when the target is missing
/// because resolved is not running), or a file whose only nameserver is 127.0.0.53.
/// A symlink to `/run/systemd/resolve/resolv.conf` lists the real servers instead:
/// programs then bypass resolved, and the file is taken over like any other.
pub fn resolved_manages(path: &Path) -> Option<String> {
    if let Ok(target) = fs::read_link(path)
        && target
            .to_string_lossy()
            .ends_with("systemd/resolve/stub-resolv.conf")
    {
        return Some(format!(
            "{} links to systemd-resolved's stub ({})",
            path.display(),
            target.display()
        ));
    }
    let content = fs::read(path).ok()?;
    let text = String::from_utf8_lossy(&content);
    let nameservers: Vec<&str> = text
        .lines()
        .filter_map(|line| line.trim().strip_prefix("nameserver"))
        .map(str::trim)
        .collect();
    (!nameservers.is_empty() && nameservers.iter().all(|ns| *ns == STUB)).then(|| {
        format!(
            "{} names only systemd-resolved's stub ({STUB})",
            path.display()
        )
    })
}

/// A connection to resolved that answered, or why there is none.
pub struct ResolvedPresence;

impl ResolvedPresence {
    /// Connects to the system bus (`address`, else the environment's or the default
    /// one) and asks who owns resolved's name.
    pub async fn probe(address: Option<&str>) -> Result<ResolvedBus, String> {
        let bus = ResolvedBus::connect(address).await.map_err(|e| {
            format!(
                "cannot reach the system D-Bus: {}",
                super::bus::describe(&e)
            )
        })?;
        bus.owner().await.map_err(|e| {
            format!(
                "systemd-resolved does not answer on D-Bus: {}",
                super::bus::describe(&e)
            )
        })?;
        Ok(bus)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stub_by_symlink_or_by_content_is_resolved_and_the_rest_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("resolv.conf");
        std::os::unix::fs::symlink("../run/systemd/resolve/stub-resolv.conf", &link).unwrap();
        assert!(resolved_manages(&link).is_some(), "dangling stub link");

        let uplink = dir.path().join("uplink.conf");
        std::os::unix::fs::symlink("/run/systemd/resolve/resolv.conf", &uplink).unwrap();
        assert!(resolved_manages(&uplink).is_none());

        let file = dir.path().join("plain");
        fs::write(
            &file,
            "# Generated\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
        )
        .unwrap();
        assert!(resolved_manages(&file).is_some());
        fs::write(&file, "nameserver 127.0.0.53\nnameserver 192.0.2.1\n").unwrap();
        assert!(
            resolved_manages(&file).is_none(),
            "another server besides the stub"
        );
        fs::write(&file, "search lan\n").unwrap();
        assert!(resolved_manages(&file).is_none());
    }
}
