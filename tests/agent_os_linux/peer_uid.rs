//! sock_diag owner lookups for connections and DNS queries made by real OS users.

use std::net::SocketAddr;
use std::process::Stdio;

use boundary_agent::os::PeerUidLookup;
use boundary_agent::os::linux::SockDiagPeerLookup;
use tokio::net::{TcpListener, UdpSocket};

use crate::NETNS_PREFIX;
use crate::support::netns::{Netns, connect};
use crate::support::os_user::OsUser;
use crate::support::process::HANG_TIMEOUT;
use crate::support::wait::{READY_TIMEOUT, poll_until};

/// Starts `args` in `netns` as `user` (root when `None`), output discarded.
fn spawn_as(netns: &Netns, user: Option<&OsUser>, args: &[&str]) -> u32 {
    let mut command = netns.command_for(user, args[0]);
    command
        .args(&args[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    netns.spawn(command).pid
}

/// Accepts one TCP connection from `socat` (run as `user`) to `listen`, dialled at
/// `dial` (a socat address), and looks up the client's uid.
async fn tcp_uid(netns: &Netns, user: Option<&OsUser>, listen: &str, dial: &str) -> Option<u32> {
    let listener = TcpListener::bind(listen).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let target = format!("{dial}:{port}");
    let client = spawn_as(netns, user, &["socat", "-u", &target, "STDOUT"]);
    let (stream, peer) = tokio::time::timeout(HANG_TIMEOUT, listener.accept())
        .await
        .expect("the client connects")
        .unwrap();
    let lookup = SockDiagPeerLookup::new().unwrap();
    let uid = lookup
        .tcp_client_uid(peer, stream.local_addr().unwrap())
        .await
        .unwrap();
    netns.kill(client);
    uid
}

#[test]
fn tcp_connections_report_the_connecting_user() {
    // Declared first so it is dropped last, after the namespace killed its processes.
    let user = OsUser::create("btos");
    let netns = Netns::new(NETNS_PREFIX);
    netns.block_on(|| async {
        let uid = Some(user.uid);
        assert_eq!(
            tcp_uid(&netns, Some(&user), "127.0.0.1:0", "TCP4:127.0.0.1").await,
            uid
        );
        assert_eq!(
            tcp_uid(&netns, Some(&user), "[::1]:0", "TCP6:[::1]").await,
            uid
        );
        // Dual-stack listener: the peer shows up as ::ffff:127.0.0.1.
        assert_eq!(
            tcp_uid(&netns, Some(&user), "[::]:0", "TCP4:127.0.0.1").await,
            uid
        );
        assert_eq!(
            tcp_uid(&netns, None, "127.0.0.1:0", "TCP4:127.0.0.1").await,
            Some(0)
        );
        assert_eq!(
            tcp_uid(&netns, None, "[::1]:0", "TCP6:[::1]").await,
            Some(0)
        );
    });
}

#[test]
fn a_closed_client_is_not_found() {
    // Declared first so it is dropped last, after the namespace killed its processes.
    let user = OsUser::create("btos");
    let netns = Netns::new(NETNS_PREFIX);
    netns.block_on(|| async {
        let lookup = SockDiagPeerLookup::new().unwrap();
        for (listen, host) in [("127.0.0.1:0", "127.0.0.1"), ("[::1]:0", "::1")] {
            let listener = TcpListener::bind(listen).await.unwrap();
            let port = listener.local_addr().unwrap().port();
            // Connects, then exits at once (closing its socket).
            let script = format!("exec 3<>/dev/tcp/{host}/{port}");
            let client = spawn_as(&netns, Some(&user), &["bash", "-c", &script]);
            let (stream, peer) = tokio::time::timeout(HANG_TIMEOUT, listener.accept())
                .await
                .expect("the client connects")
                .unwrap();
            let status = netns
                .wait_exit(client, HANG_TIMEOUT)
                .expect("the client exits");
            assert!(status.success(), "{status}");
            // The server side stays open; the client socket is in FIN_WAIT/TIME_WAIT.
            let uid = lookup
                .tcp_client_uid(peer, stream.local_addr().unwrap())
                .await
                .unwrap();
            assert_eq!(
                uid, None,
                "a closed client must not be attributed ({listen})"
            );
        }
        // Nobody at all on that 4-tuple.
        let nobody: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:10".parse().unwrap();
        assert_eq!(lookup.tcp_client_uid(nobody, server).await.unwrap(), None);
        let v6: SocketAddr = "[::1]:10".parse().unwrap();
        assert!(
            lookup.tcp_client_uid(nobody, v6).await.is_err(),
            "mixed families"
        );
    });
}

/// A peer that is no local socket (another namespace here, another host in life) whose
/// source port is the port of a local listener: the kernel's exact lookup falls back to
/// that listener, whose owner must not be taken for the peer.
#[test]
fn a_remote_peer_is_not_attributed_to_a_local_listener_on_its_source_port() {
    // Declared first so it is dropped last, after the namespaces killed their processes.
    let user = OsUser::create("btos");
    let local = Netns::new(NETNS_PREFIX);
    let remote = Netns::new(NETNS_PREFIX);
    let link = connect(&local, &remote);
    const LISTENER_PORT: u16 = 7777;
    // The user's server on the wildcard address of that port.
    spawn_as(
        &local,
        Some(&user),
        &[
            "socat",
            &format!("TCP4-LISTEN:{LISTENER_PORT},reuseaddr"),
            "STDOUT",
        ],
    );
    poll_until("the user's listener", READY_TIMEOUT, || {
        let listening = local.exec_ok(&["ss", "-ltnH"]);
        if listening.contains(&format!(":{LISTENER_PORT} ")) {
            Ok(())
        } else {
            Err(listening)
        }
    });
    local.block_on(|| async {
        let listener = TcpListener::bind(SocketAddr::new(link.a_v4.into(), 0))
            .await
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let dial = format!("TCP4:{}:{port},sourceport={LISTENER_PORT}", link.a_v4);
        let client = spawn_as(&remote, None, &["socat", "-u", &dial, "STDOUT"]);
        let (stream, peer) = tokio::time::timeout(HANG_TIMEOUT, listener.accept())
            .await
            .expect("the remote client connects")
            .unwrap();
        assert_eq!(peer.port(), LISTENER_PORT);
        let lookup = SockDiagPeerLookup::new().unwrap();
        let uid = lookup
            .tcp_client_uid(peer, stream.local_addr().unwrap())
            .await
            .unwrap();
        remote.kill(client);
        assert_eq!(uid, None, "the remote peer was attributed to uid {uid:?}");
    });
}

/// The UDP form of the same: a datagram from another namespace whose source port is the
/// port of a local user's wildcard-bound UDP socket (the kernel's lookup matches that
/// socket) must not be attributed to that user.
#[test]
fn a_remote_udp_sender_is_not_attributed_to_a_local_socket_on_its_source_port() {
    // Declared first so it is dropped last, after the namespaces killed their processes.
    let user = OsUser::create("btos");
    let local = Netns::new(NETNS_PREFIX);
    let remote = Netns::new(NETNS_PREFIX);
    let link = connect(&local, &remote);
    const RECEIVER_PORT: u16 = 7778;
    spawn_as(
        &local,
        Some(&user),
        &[
            "socat",
            "-u",
            &format!("UDP4-RECV:{RECEIVER_PORT}"),
            "STDOUT",
        ],
    );
    poll_until("the user's UDP socket", READY_TIMEOUT, || {
        let bound = local.exec_ok(&["ss", "-lunH"]);
        if bound.contains(&format!(":{RECEIVER_PORT} ")) {
            Ok(())
        } else {
            Err(bound)
        }
    });
    local.block_on(|| async {
        let socket = UdpSocket::bind(SocketAddr::new(link.a_v4.into(), 0))
            .await
            .unwrap();
        let server = socket.local_addr().unwrap();
        let sendto = format!(
            "echo query | exec socat -t 30 - UDP4-SENDTO:{}:{},sourceport={RECEIVER_PORT}",
            link.a_v4,
            server.port()
        );
        let client = spawn_as(&remote, None, &["bash", "-c", &sendto]);
        let mut query = [0u8; 512];
        let (_, from) = tokio::time::timeout(HANG_TIMEOUT, socket.recv_from(&mut query))
            .await
            .expect("the remote sender's datagram arrives")
            .unwrap();
        assert_eq!(from.port(), RECEIVER_PORT);
        let lookup = SockDiagPeerLookup::new().unwrap();
        let uid = lookup.udp_client_uid(from, server).await.unwrap();
        remote.kill(client);
        assert_eq!(uid, None, "the remote sender was attributed to uid {uid:?}");
    });
}

/// How a test client sends its DNS query.
#[derive(Clone, Copy)]
enum UdpClient {
    /// `dig` (a connected UDP socket).
    Dig,
    /// `socat UDP-SENDTO` (an unconnected socket, `sendto`).
    SendTo,
    /// glibc's stub resolver (`getent hosts`) reading the namespace's resolv.conf;
    /// the server must listen on port 53.
    Glibc,
}

/// socat wants IPv6 literals in brackets.
fn socat_host(ip: &str) -> String {
    if ip.contains(':') {
        format!("[{ip}]")
    } else {
        ip.to_string()
    }
}

/// Receives one query from `client` (run as `user`) on `listen` and looks up its sender.
/// `server` is the address the client dials.
async fn udp_uid(
    netns: &Netns,
    user: Option<&OsUser>,
    listen: &str,
    server: &str,
    client: UdpClient,
) -> Option<u32> {
    let socket = UdpSocket::bind(listen).await.unwrap();
    let port = socket.local_addr().unwrap().port();
    // Each client waits for an answer that never comes; it is killed after the lookup.
    let at = format!("@{server}");
    let (port_arg, sendto) = (
        port.to_string(),
        format!("UDP-SENDTO:{}:{port}", socat_host(server)),
    );
    let socat = format!("echo query | exec socat -t 30 - {sendto}");
    let args: Vec<&str> = match client {
        UdpClient::Dig => vec![
            "dig",
            &at,
            "-p",
            &port_arg,
            "+tries=1",
            "+timeout=30",
            "db.example.test",
        ],
        UdpClient::SendTo => vec!["bash", "-c", &socat],
        UdpClient::Glibc => vec!["getent", "hosts", "db.example.test"],
    };
    let client = spawn_as(netns, user, &args);
    let mut query = [0u8; 512];
    let (_, from) = tokio::time::timeout(HANG_TIMEOUT, socket.recv_from(&mut query))
        .await
        .unwrap_or_else(|_| panic!("{args:?} sends a query to {listen}"))
        .unwrap();
    let lookup = SockDiagPeerLookup::new().unwrap();
    // What the client dialled (the socket may be bound to the wildcard address).
    let dialled = SocketAddr::new(server.parse().unwrap(), port);
    let uid = lookup.udp_client_uid(from, dialled).await.unwrap();
    netns.kill(client);
    uid
}

#[test]
fn dns_queries_over_udp_report_the_querying_user() {
    use UdpClient::{Dig, Glibc, SendTo};
    // Declared first so it is dropped last, after the namespace killed its processes.
    let user = OsUser::create("btos");
    let netns = Netns::new(NETNS_PREFIX);
    netns.write_resolv_conf(b"nameserver 127.0.0.1\noptions timeout:30 attempts:1\n");
    netns.block_on(|| async {
        let (netns, user) = (&netns, Some(&user));
        for (listen, server, client) in [
            ("127.0.0.1:0", "127.0.0.1", Dig),
            ("[::1]:0", "::1", Dig),
            // Dual-stack socket: the client shows up as ::ffff:127.0.0.1.
            ("[::]:0", "127.0.0.1", Dig),
            ("127.0.0.1:0", "127.0.0.1", SendTo),
            ("[::1]:0", "::1", SendTo),
            ("127.0.0.1:53", "127.0.0.1", Glibc),
        ] {
            let found = udp_uid(netns, user, listen, server, client).await;
            assert_eq!(found, user.map(|u| u.uid), "{listen} <- {server}");
        }
        let found = udp_uid(netns, None, "127.0.0.1:0", "127.0.0.1", Dig).await;
        assert_eq!(found, Some(0), "root's query");

        // The server's own socket is never taken for the client.
        let lookup = SockDiagPeerLookup::new().unwrap();
        let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let own = server.local_addr().unwrap();
        assert_eq!(lookup.udp_client_uid(own, own).await.unwrap(), None);
        let gone: SocketAddr = "127.0.0.1:9".parse().unwrap();
        assert_eq!(lookup.udp_client_uid(gone, own).await.unwrap(), None);
    });
}
