//! The lab's holder: a long-lived process in the test's network namespace and in a new,
//! private mount namespace, which it prepares before it sleeps. Everything else in the
//! lab enters both namespaces through it (`nsenter -t <holder> -m -n`).
//!
//! What the holder builds, visible only inside its mount namespace:
//! - a tmpfs on `/run` with `/run/dbus` and `/run/systemd/resolve` (owned by
//!   `systemd-resolve`, which resolved insists on);
//! - a tmpfs on `/etc` holding one symlink per entry of the host's `/etc` (reached
//!   through a recursive bind mount at [`HOST_ETC`]), so `passwd`, `hosts`,
//!   `nsswitch.conf`, … stay the host's live files (a user created on the host after the
//!   lab started is visible inside), while `/etc/resolv.conf` has the shape the test chose
//!   and `/etc/systemd` is a private directory with resolved's own `resolved.conf` and an
//!   empty `resolved.conf.d`. A symlink cannot be bind-mounted over the host's regular
//!   file, which is why `/etc` itself is replaced.
//!
//! Symlinks of the host's `/etc` are copied as links (same target text), so relative
//! ones like `mtab -> ../proc/self/mounts` resolve as they do on the host.

use std::fs;
use std::path::Path;

/// Where the host's `/etc` is bind-mounted inside the lab (on the private `/run`).
pub const HOST_ETC: &str = "/run/host-etc";

/// The line the holder prints once the namespaces are ready.
pub const READY_LINE: &str = "resolved-lab holder ready";

/// The two ways distributions point glibc at resolved's stub.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolvConfShape {
    /// `/etc/resolv.conf -> ../run/systemd/resolve/stub-resolv.conf`, a file resolved
    /// writes (Ubuntu's shape; resolved reports `resolv.conf mode: stub`).
    StubSymlink,
    /// A regular file containing `nameserver 127.0.0.53` (written by hand or by a
    /// network manager instead of linked; resolved reports `foreign`).
    PlainFileNaming127053,
}

/// Writes the holder's script to `path`; the holder runs it with `sh` inside the new
/// mount namespace and ends as `sleep infinity`. `package_root` is the unpacked
/// systemd-resolved package (for its default `resolved.conf`).
pub fn write_script(path: &Path, package_root: &Path, shape: ResolvConfShape) {
    let resolv_conf = match shape {
        ResolvConfShape::StubSymlink => {
            "ln -s ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf"
        }
        ResolvConfShape::PlainFileNaming127053 => {
            "printf 'nameserver 127.0.0.53\\n' >/etc/resolv.conf"
        }
    };
    let resolved_conf = quote(&package_root.join("etc/systemd/resolved.conf"));
    let script = format!(
        r#"set -eu
# A private /run: resolved's and the bus's runtime directories.
mount -t tmpfs -o mode=0755 resolved-lab-run /run
mkdir -p /run/dbus /run/systemd/resolve {HOST_ETC}
chown systemd-resolve:systemd-resolve /run/systemd/resolve

# mirror FROM TO EXCEPT...: one entry in TO per entry of FROM (symlinks copied as links).
mirror() {{
    from=$1 to=$2
    shift 2
    for entry in "$from"/* "$from"/.[!.]* "$from"/..?*; do
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        name=${{entry##*/}}
        case " $* " in *" $name "*) continue ;; esac
        if [ -L "$entry" ]; then
            ln -s "$(readlink "$entry")" "$to/$name"
        else
            ln -s "$entry" "$to/$name"
        fi
    done
}}

# A private /etc that shows the host's files except resolv.conf and systemd/.
mount --rbind /etc {HOST_ETC}
mount -t tmpfs -o mode=0755 resolved-lab-etc /etc
mirror {HOST_ETC} /etc resolv.conf systemd
mkdir -p /etc/systemd/resolved.conf.d
if [ -d {HOST_ETC}/systemd ]; then
    mirror {HOST_ETC}/systemd /etc/systemd resolved.conf resolved.conf.d
fi
cp {resolved_conf} /etc/systemd/resolved.conf
{resolv_conf}

echo '{READY_LINE}'
exec sleep infinity
"#
    );
    fs::write(path, script).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The private system bus's configuration (written to `path`): the usual system-bus
/// policy (method calls only where a service's policy allows them) plus resolved's
/// policy from the unpacked package, listening where clients look for the system bus.
/// The daemon runs as root; nothing is activated on demand.
pub fn write_bus_config(path: &Path, package_root: &Path) {
    let resolve1_policy =
        package_root.join("usr/share/dbus-1/system.d/org.freedesktop.resolve1.conf");
    assert!(
        resolve1_policy.exists(),
        "{} is missing (run scripts/install-test-deps)",
        resolve1_policy.display()
    );
    let config = format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <auth>EXTERNAL</auth>
  <listen>unix:path={socket}</listen>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>{policy}</include>
</busconfig>
"#,
        socket = super::SYSTEM_BUS_SOCKET,
        policy = resolve1_policy.display(),
    );
    fs::write(path, config).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// `path` in single quotes for the script (our own paths; a quote in one is a bug).
fn quote(path: &Path) -> String {
    let text = path.to_str().expect("a UTF-8 path");
    assert!(!text.contains('\''), "unexpected quote in {text}");
    format!("'{text}'")
}
