//! `resolv_conf`: the agent's resolv.conf reading and writing
//! (`boundary_agent::os::resolv_conf`) on any file content — what DHCP clients,
//! NetworkManager or an administrator may have left in `/etc/resolv.conf`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use boundary_agent::os::resolv_conf::{is_agent_written, is_interrupted_write, render, upstreams};

/// The agent's own DNS addresses, as it would pass them (one per family).
const OURS: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(100, 64, 0, 1)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
];

/// `data` is a resolv.conf. Checks what the module promises:
/// - `upstreams` lists port-53 addresses, each once, none of the agent's own;
/// - the file `render` writes over it is recognised as the agent's, names exactly the
///   agent's addresses as nameservers (so the previous file's nameservers never survive
///   the takeover: the agent would forward to itself through them otherwise), and keeps
///   the previous file's settings lines;
/// - a complete file is never taken for a write cut short when it is its own saved copy,
///   unless it is empty or a piece of the agent's marker line.
pub fn resolv_conf(data: &[u8]) {
    let found = upstreams(data, &OURS);
    for (index, upstream) in found.iter().enumerate() {
        assert_eq!(upstream.port(), 53, "{upstream}");
        assert!(
            !OURS.contains(&upstream.ip()),
            "{upstream} is the agent's own"
        );
        assert!(
            !found[..index].contains(upstream),
            "{upstream} listed twice"
        );
    }

    let written = render(Some(data), &OURS);
    assert!(is_agent_written(&written));
    assert!(
        upstreams(&written, &OURS).is_empty(),
        "a previous nameserver survived"
    );
    let ours: Vec<SocketAddr> = OURS.iter().map(|ip| SocketAddr::new(*ip, 53)).collect();
    assert_eq!(upstreams(&written, &[]), ours);
    // Rendering what was rendered changes nothing: the agent rewriting its own file
    // (an address change, a restart) does not pile up lines.
    assert_eq!(render(Some(&written), &OURS), written);

    let marker_piece = boundary_agent::os::resolv_conf::AGENT_MARKER
        .as_bytes()
        .starts_with(data);
    assert_eq!(
        is_interrupted_write(data, Some(data)),
        data.is_empty() || marker_piece
    );
}
