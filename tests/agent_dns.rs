//! The agent's DNS server against real programs: dig as the client, dnsmasq as the
//! upstream, all inside a network namespace made (and removed) by each test. Needs root.

mod agent_dns_support;
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use agent_dns_support::dnsmasq::{self, BIG_TXT_RECORDS, DENIED_V4, ORDINARY_V4};
use agent_dns_support::*;
use boundary_agent::dns::{DnsError, ForwardEvent, ForwardFailure, Transport};
use support::dnsmasq::DnsmasqConfig;
use support::wait::{READY_TIMEOUT, poll_until};

#[test]
fn ordinary_names_come_from_the_upstream_over_v4_and_v6() {
    let fixture = Fixture::start();
    for server in [SERVER_V4, SERVER_V6] {
        let out = fixture.dig_at(server, &["ordinary.test", "A"]);
        assert_eq!(out.status(), "NOERROR", "{}", out.text);
        assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);
    }
    let events = fixture.seen.events.lock().unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        ForwardEvent::Answered { upstream, transport: Transport::Udp } if *upstream == fixture.dnsmasq.addr
    )));
}

#[test]
fn an_alias_a_query_gets_the_address_authoritatively_with_ttl_5() {
    let fixture = Fixture::start();
    let out = fixture.dig(&["db.alias.test", "A"]);
    assert_eq!(out.status(), "NOERROR", "{}", out.text);
    assert_eq!(out.answer_data(), vec![ALIAS_V4]);
    assert_eq!(out.answers()[0].ttl, 5, "TTL: {}", out.text);
    let flags = out.flags();
    assert!(
        flags.contains(&"aa") && flags.contains(&"ra"),
        "{}",
        out.text
    );
    assert!(!flags.contains(&"ad"), "{}", out.text);
}

#[test]
fn an_alias_aaaa_query_gets_the_v6_address() {
    let fixture = Fixture::start();
    let out = fixture.dig_at(SERVER_V6, &["db.alias.test", "AAAA"]);
    assert_eq!(out.answer_data(), vec![ALIAS_V6], "{}", out.text);
    assert!(out.flags().contains(&"aa"));
}

#[test]
fn other_types_for_an_alias_get_nodata_with_an_soa() {
    let fixture = Fixture::start();
    let out = fixture.dig(&["db.alias.test", "MX"]);
    assert_eq!(out.status(), "NOERROR", "{}", out.text);
    assert!(out.answers().is_empty(), "{}", out.text);
    let authority = out.section("AUTHORITY");
    assert_eq!(authority.len(), 1, "{}", out.text);
    assert_eq!(authority[0].kind, "SOA");
    assert_eq!(authority[0].ttl, 5, "negative TTL: {}", out.text);
}

#[test]
fn upper_case_and_trailing_dots_match_the_alias() {
    let fixture = Fixture::start();
    for name in ["DB.Alias.TEST", "DB.ALIAS.TEST.", "db.alias.test."] {
        let out = fixture.dig(&[name, "A"]);
        assert_eq!(out.answer_data(), vec![ALIAS_V4], "{name}: {}", out.text);
    }
    let questions = fixture.seen.questions.lock().unwrap();
    assert!(questions.iter().all(|q| q.name == ALIAS));
}

#[test]
fn tcp_works_for_aliases_and_forwarded_names() {
    let fixture = Fixture::start();
    let out = fixture.dig(&["+tcp", "db.alias.test", "A"]);
    assert_eq!(out.answer_data(), vec![ALIAS_V4], "{}", out.text);
    assert!(out.text.contains("(TCP)"), "{}", out.text);
    let out = fixture.dig_at(SERVER_V6, &["+tcp", "ordinary.test", "A"]);
    assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);
    let events = fixture.seen.events.lock().unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        ForwardEvent::Answered {
            transport: Transport::Tcp,
            ..
        }
    )));
}

#[test]
fn several_queries_share_one_tcp_connection() {
    let fixture = Fixture::start();
    let out = fixture.dig(&[
        "+tcp",
        "+keepopen",
        "db.alias.test",
        "A",
        "ordinary.test",
        "A",
        "db.alias.test",
        "AAAA",
    ]);
    assert!(out.success, "{}", out.text);
    for expected in [ALIAS_V4, ORDINARY_V4, ALIAS_V6] {
        assert!(
            out.text.contains(expected),
            "{expected} missing: {}",
            out.text
        );
    }
}

#[test]
fn pipelined_tcp_queries_are_all_answered_and_an_idle_connection_is_closed() {
    use hickory_proto::op::{Message, Query};
    use hickory_proto::rr::{Name, RecordType};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fixture = Fixture::start();
    let (ids, closed) = fixture.server.run(|_server| async move {
        let mut stream = tokio::net::TcpStream::connect(format!("{SERVER_V4}:53"))
            .await
            .unwrap();
        let mut pipelined = Vec::new();
        for (id, name) in [
            (1u16, "ordinary.test."),
            (2, "db.alias.test."),
            (3, "slow.alias.test."),
        ] {
            let mut query = Message::query();
            query.metadata.id = id;
            query.add_query(Query::query(Name::from_ascii(name).unwrap(), RecordType::A));
            let bytes = query.to_vec().unwrap();
            pipelined.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
            pipelined.extend_from_slice(&bytes);
        }
        stream.write_all(&pipelined).await.unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            let length = stream.read_u16().await.unwrap();
            let mut reply = vec![0; usize::from(length)];
            stream.read_exact(&mut reply).await.unwrap();
            let reply = Message::from_vec(&reply).unwrap();
            assert_eq!(reply.answers.len(), 1, "{reply:?}");
            ids.push(reply.metadata.id);
        }
        ids.sort();
        // no further query: the server closes the connection after its idle timeout
        // (the timeout here only stops a hung test)
        let mut byte = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut byte)).await;
        (ids, matches!(read, Ok(Ok(0))))
    });
    assert_eq!(ids, vec![1, 2, 3]);
    assert!(closed, "the idle connection was closed by the server");
}

#[test]
fn use_application_dns_net_is_nxdomain() {
    let fixture = Fixture::start();
    let out = fixture.dig(&["use-application-dns.net", "A"]);
    assert_eq!(out.status(), "NXDOMAIN", "{}", out.text);
}

#[test]
fn a_large_answer_truncated_by_the_upstream_arrives_complete() {
    let fixture = Fixture::start();
    // dnsmasq truncates at 1232 bytes; the client takes 4096: the server's own TCP retry
    // to the upstream delivers the full 2.6 KB answer over UDP.
    let out = fixture.dig(&["+bufsize=4096", "big.test", "TXT"]);
    assert_eq!(out.answers().len(), BIG_TXT_RECORDS, "{}", out.text);
    assert!(!out.retried_over_tcp(), "{}", out.text);
    assert!(!out.flags().contains(&"tc"));
    let events = fixture.seen.events.lock().unwrap();
    assert!(events.iter().any(|e| matches!(
        e,
        ForwardEvent::Answered {
            transport: Transport::Tcp,
            ..
        }
    )));
}

#[test]
fn an_answer_too_large_for_the_client_gets_tc_and_the_tcp_retry_works() {
    let fixture = Fixture::start();
    for bufsize in ["+bufsize=1232", "+noedns"] {
        let out = fixture.dig(&[bufsize, "big.test", "TXT"]);
        assert!(out.retried_over_tcp(), "{bufsize}: {}", out.text);
        assert_eq!(
            out.answers().len(),
            BIG_TXT_RECORDS,
            "{bufsize}: {}",
            out.text
        );
    }
    // what the client sees over UDP: question only, TC set, OPT mirrored
    let out = fixture.dig(&["+ignore", "+bufsize=1232", "big.test", "TXT"]);
    assert!(out.flags().contains(&"tc"), "{}", out.text);
    assert!(out.answers().is_empty(), "{}", out.text);
    assert!(out.edns().is_some(), "{}", out.text);
}

#[test]
fn edns_and_the_do_bit_survive_forwarding_and_alias_answers() {
    let fixture = Fixture::start();
    // dnsmasq echoes DO only if it received it: the client's OPT reached the upstream
    let out = fixture.dig(&["+dnssec", "ordinary.test", "A"]);
    let edns = out.edns().unwrap_or_else(|| panic!("no OPT: {}", out.text));
    assert!(edns.contains("flags: do"), "{}", out.text);
    let out = fixture.dig(&["+nodnssec", "ordinary.test", "A"]);
    assert!(
        !out.edns().unwrap_or_default().contains("do"),
        "{}",
        out.text
    );

    let out = fixture.dig(&["+dnssec", "db.alias.test", "A"]);
    let edns = out.edns().unwrap_or_else(|| panic!("no OPT: {}", out.text));
    assert!(
        edns.contains("flags: do") && edns.contains("udp: 1232"),
        "{}",
        out.text
    );
    let out = fixture.dig(&["+noedns", "db.alias.test", "A"]);
    assert!(out.edns().is_none(), "{}", out.text);
    assert_eq!(out.answer_data(), vec![ALIAS_V4]);
}

#[test]
fn every_upstream_down_is_servfail_and_a_later_upstream_is_tried() {
    let fixture = Fixture::start();
    let dead: SocketAddr = "127.0.0.9:53".parse().unwrap();
    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![dead]) });
    let out = fixture.dig(&["ordinary.test", "A"]);
    assert_eq!(out.status(), "SERVFAIL", "{}", out.text);
    {
        let events = fixture.seen.events.lock().unwrap();
        assert!(events.contains(&ForwardEvent::UpstreamFailed {
            upstream: dead,
            transport: Transport::Udp,
            failure: ForwardFailure::Io(std::io::ErrorKind::ConnectionRefused),
        }));
        assert!(events.contains(&ForwardEvent::Exhausted { tried: 1 }));
    }
    let out = fixture.dig(&["+tcp", "ordinary.test", "A"]);
    assert_eq!(out.status(), "SERVFAIL", "{}", out.text);

    let upstream = fixture.dnsmasq.addr;
    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![dead, upstream]) });
    let out = fixture.dig(&["ordinary.test", "A"]);
    assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);
    let counters = fixture
        .server
        .run(|server| async move { server.counters() });
    assert!(
        counters.servfail >= 2 && counters.forwarded >= 1,
        "{counters:?}"
    );
}

/// A resolver that declines (REFUSED, as a VPN's server does for names outside its
/// domains; SERVFAIL; NOTIMP) does not hide the next one, as with glibc and the
/// nameservers of resolv.conf; its reply is the answer only when nobody does better.
#[test]
fn a_refusing_upstream_is_passed_over_and_its_reply_kept_as_a_last_resort() {
    let fixture = Fixture::start();
    // A real dnsmasq with no records and no upstream of its own refuses every name.
    let refusing: SocketAddr = "127.0.0.11:53".parse().unwrap();
    let _config = dnsmasq::spawn(&fixture.netns, &DnsmasqConfig::new().listen(refusing.ip()));
    poll_until("the refusing dnsmasq", READY_TIMEOUT, || {
        let out = fixture.dig_at("127.0.0.11", &["ordinary.test", "A"]);
        (out.status() == "REFUSED").then_some(()).ok_or(out.text)
    });

    let upstream = fixture.dnsmasq.addr;
    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![refusing, upstream]) });
    for transport in ["+notcp", "+tcp"] {
        let out = fixture.dig(&[transport, "ordinary.test", "A"]);
        assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);
    }
    assert!(fixture.saw(ForwardEvent::Declined {
        upstream: refusing,
        transport: Transport::Udp,
        rcode: 5,
    }));

    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![refusing]) });
    let out = fixture.dig(&["ordinary.test", "A"]);
    assert_eq!(out.status(), "REFUSED", "{}", out.text);
}

/// A local resolver that forwards to the agent (as a dnsmasq reading /etc/resolv.conf
/// does once the agent has taken the file over) would bounce every query back: the
/// server's probe finds it, leaves it out, and forwards to the next upstream; alone, it
/// gives SERVFAIL at once instead of a bounce until timeout.
#[test]
fn a_local_resolver_forwarding_back_to_the_agent_is_found_and_left_out() {
    let fixture = Fixture::start();
    let looping: SocketAddr = "127.0.0.12:53".parse().unwrap();
    let forwarding_back = DnsmasqConfig::new()
        .listen(looping.ip())
        .option(&format!("server={SERVER_V4}"));
    let _config = dnsmasq::spawn(&fixture.netns, &forwarding_back);
    // Through it to the server under test and on to the real upstream.
    poll_until("the forwarding dnsmasq", READY_TIMEOUT, || {
        let out = fixture.dig_at("127.0.0.12", &["ordinary.test", "A"]);
        let answered = out.answer_data() == vec![ORDINARY_V4];
        answered.then_some(()).ok_or(out.text)
    });

    let upstream = fixture.dnsmasq.addr;
    let looping_now = || {
        fixture
            .server
            .run(|server| async move { server.looping_upstreams() })
    };
    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![looping, upstream]) });
    poll_until("the loop to be found", READY_TIMEOUT, || {
        let found = looping_now();
        (found == [looping])
            .then_some(())
            .ok_or(format!("looping: {found:?}"))
    });
    assert!(fixture.saw(ForwardEvent::Looping { upstream: looping }));
    let effective = fixture
        .server
        .run(|server| async move { server.upstreams() });
    assert_eq!(effective, [upstream]);
    let out = fixture.dig(&["ordinary.test", "A"]);
    assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);

    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![looping]) });
    poll_until("the loop to be found again", READY_TIMEOUT, || {
        let found = looping_now();
        (found == [looping])
            .then_some(())
            .ok_or(format!("looping: {found:?}"))
    });
    let out = fixture.dig(&["ordinary.test", "A"]);
    assert_eq!(out.status(), "SERVFAIL", "{}", out.text);
    assert!(
        fixture.saw(ForwardEvent::Exhausted { tried: 1 }),
        "a left-out upstream counts as tried (the failure breaker sees it)"
    );

    // The real upstream alone: nothing loops.
    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![upstream]) });
    assert_eq!(looping_now(), Vec::<SocketAddr>::new());
}

#[test]
fn a_silent_upstream_times_out_and_the_next_one_answers() {
    let fixture = Fixture::start();
    let upstream = fixture.dnsmasq.addr;
    let silent: SocketAddr = "127.0.0.10:53".parse().unwrap();
    let blackhole = fixture.server.run(move |server| async move {
        server.set_upstreams(vec![silent, upstream]);
        // a socket that receives the queries and never answers
        std::net::UdpSocket::bind(silent).unwrap()
    });
    let out = fixture.dig(&["ordinary.test", "A"]);
    drop(blackhole);
    assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);
    let events = fixture.seen.events.lock().unwrap();
    assert!(events.contains(&ForwardEvent::UpstreamFailed {
        upstream: silent,
        transport: Transport::Udp,
        failure: ForwardFailure::Timeout,
    }));
}

#[test]
fn an_ipv6_upstream_answers_over_udp_and_tcp() {
    let fixture = Fixture::start();
    let listen = "fd00:53::2";
    fixture.netns.exec_ok(&[
        "ip",
        "-6",
        "addr",
        "add",
        &format!("{listen}/128"),
        "dev",
        "lo",
        "nodad",
    ]);
    let v6_upstream = dnsmasq::Dnsmasq::start(&fixture.netns, listen);
    let upstream = v6_upstream.addr;
    fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![upstream]) });
    for transport in [None, Some("+tcp")] {
        let mut args = vec!["ordinary.test", "A"];
        args.extend(transport);
        let out = fixture.dig(&args);
        assert_eq!(out.status(), "NOERROR", "{}", out.text);
        assert_eq!(out.answer_data(), vec![ORDINARY_V4], "{}", out.text);
    }
    for transport in [Transport::Udp, Transport::Tcp] {
        assert!(
            fixture.saw(ForwardEvent::Answered {
                upstream,
                transport
            }),
            "{transport} through {upstream}"
        );
    }
}

#[test]
fn the_servers_own_address_is_never_an_upstream() {
    let fixture = Fixture::start();
    let own: SocketAddr = format!("{SERVER_V4}:53").parse().unwrap();
    let looping = fixture
        .server
        .run(move |server| async move { server.set_upstreams(vec![own]) });
    assert_eq!(looping, vec![own]);
    let out = fixture.dig(&["ordinary.test", "A"]);
    assert_eq!(out.status(), "SERVFAIL", "{}", out.text);
    let events = fixture.seen.events.lock().unwrap();
    assert!(events.contains(&ForwardEvent::Exhausted { tried: 0 }));
}

#[test]
fn a_pending_decision_answers_the_alias_or_fails_open_to_the_upstream() {
    let fixture = Fixture::start();
    let out = fixture.dig(&["slow.alias.test", "A"]);
    assert_eq!(out.answer_data(), vec!["100.64.0.8"], "{}", out.text);
    assert!(out.flags().contains(&"aa"));
    let out = fixture.dig(&["denied.test", "A"]);
    assert_eq!(out.answer_data(), vec![DENIED_V4], "{}", out.text);
}

#[test]
fn the_policy_gets_each_query_origin_to_attribute_it() {
    let fixture = Fixture::start();
    for transport in ["+notcp", "+tcp"] {
        let out = fixture.dig(&[transport, "whoami.alias.test", "A"]);
        assert_eq!(
            out.answer_data(),
            vec![format!("100.64.1.{ATTRIBUTED_UID}")],
            "{}",
            out.text
        );
    }
    let origins = fixture.seen.origins.lock().unwrap();
    let server: SocketAddr = format!("{SERVER_V4}:53").parse().unwrap();
    assert!(origins.iter().all(|origin| origin.server == server
        && origin.client.ip().is_loopback()
        && origin.client.port() != 0));
    let transports: Vec<Transport> = origins.iter().map(|o| o.transport).collect();
    assert!(transports.contains(&Transport::Udp) && transports.contains(&Transport::Tcp));
}

#[test]
fn malformed_packets_do_not_stop_the_server() {
    let fixture = Fixture::start();
    let replies = fixture.server.run(|_server| async move {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.connect(format!("{SERVER_V4}:53")).await.unwrap();
        // unreadable: no answer; readable header with a broken question: FORMERR
        socket.send(b"\x12\x34\x01").await.unwrap();
        let mut broken = vec![0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
        broken.extend_from_slice(b"\x3fshort");
        socket.send(&broken).await.unwrap();
        let mut buf = [0u8; 512];
        let len = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
            .await
            .expect("a reply to the readable packet")
            .unwrap();
        buf[..len].to_vec()
    });
    assert_eq!(
        &replies[..2],
        &[0xab, 0xcd],
        "the reply answers the readable packet"
    );
    assert_eq!(replies[3] & 0x0f, 1, "FORMERR");
    let out = fixture.dig(&["db.alias.test", "A"]);
    assert_eq!(out.answer_data(), vec![ALIAS_V4], "{}", out.text);
    let counters = fixture
        .server
        .run(|server| async move { server.counters() });
    assert!(
        counters.dropped >= 1 && counters.rejected >= 1,
        "{counters:?}"
    );
}

/// A query for `name` (type A, class IN, RD) with `id`.
fn query_packet(id: u16, name: &str) -> Vec<u8> {
    let mut packet = id.to_be_bytes().to_vec();
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        packet.push(u8::try_from(label.len()).unwrap());
        packet.extend_from_slice(label.as_bytes());
    }
    packet.extend_from_slice(&[0, 0, 1, 0, 1]);
    packet
}

#[test]
fn a_burst_from_many_clients_is_answered_to_each_and_an_overlong_datagram_is_dropped() {
    let fixture = Fixture::start();
    const CLIENTS: u16 = 100;
    let before = fixture
        .server
        .run(|server| async move { server.counters() });
    let replies = fixture.server.run(|_server| async move {
        let server: SocketAddr = format!("{SERVER_V4}:53").parse().unwrap();
        // Longer than any query, sent first: it must not take the burst down with it.
        let long = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut overlong = query_packet(7, "db.alias.test");
        overlong.resize(6000, 0);
        long.send_to(&overlong, server).await.unwrap();
        let mut clients = Vec::new();
        for id in 0..CLIENTS {
            let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            socket
                .send_to(&query_packet(1000 + id, "db.alias.test"), server)
                .await
                .unwrap();
            clients.push(socket);
        }
        // Every query is in the server's queue before it runs (one thread), so it reads
        // them in batches.
        let mut replies = Vec::new();
        for socket in &clients {
            let mut buf = [0u8; 512];
            let len = tokio::time::timeout(Duration::from_secs(5), socket.recv(&mut buf))
                .await
                .expect("every client gets its answer")
                .unwrap();
            replies.push(buf[..len].to_vec());
        }
        let mut buf = [0u8; 512];
        let long_reply =
            tokio::time::timeout(Duration::from_millis(300), long.recv(&mut buf)).await;
        (replies, long_reply.is_err())
    });
    let (replies, long_unanswered) = replies;
    for (id, reply) in (1000..).zip(&replies) {
        let id: u16 = id;
        assert_eq!(
            &reply[..2],
            &id.to_be_bytes(),
            "each client gets its own answer"
        );
        let address: [u8; 4] = reply[reply.len() - 4..].try_into().unwrap();
        assert_eq!(
            std::net::Ipv4Addr::from(address).to_string(),
            ALIAS_V4,
            "query {id}"
        );
    }
    assert!(long_unanswered, "the overlong datagram gets no answer");
    let after = fixture
        .server
        .run(|server| async move { server.counters() });
    assert_eq!(after.dropped, before.dropped + 1, "{after:?}");
}

#[test]
fn listening_where_port_53_is_taken_fails_clearly_and_binds_nothing() {
    let fixture = Fixture::start();
    // dnsmasq holds 127.0.0.2:53 (UDP and TCP)
    let upstream = fixture.dnsmasq.addr;
    let error = fixture.server.run(move |server| async move {
        server
            .listen(upstream)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let message = error.expect_err("port 53 is taken");
    assert!(
        message.contains("127.0.0.2:53") && message.contains("already in use"),
        "{message}"
    );

    // only TCP taken: the UDP socket must not stay bound
    let addr: SocketAddr = "127.0.0.78:53".parse().unwrap();
    let (result, after) = fixture.server.run(move |server| async move {
        let taken = std::net::TcpListener::bind(addr).unwrap();
        let result = server.listen(addr);
        // A process another test thread is starting holds a copy of every descriptor
        // until it execs (close-on-exec), this socket's too: the port may stay taken for
        // that moment, but not for long.
        let mut udp_free = false;
        for _ in 0..50 {
            udp_free = std::net::UdpSocket::bind(addr).is_ok();
            if udp_free {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        drop(taken);
        (result.map(|_| ()), udp_free)
    });
    assert!(
        matches!(
            result,
            Err(DnsError::AddressInUse {
                transport: Transport::Tcp,
                ..
            })
        ),
        "{result:?}"
    );
    assert!(after, "the UDP socket was released");

    let wildcard = fixture
        .server
        .run(|server| async move { server.listen("0.0.0.0:53".parse().unwrap()).map(|_| ()) });
    assert!(matches!(wildcard, Err(DnsError::WildcardAddress(_))));

    let missing = fixture.server.run(|server| async move {
        server
            .listen("[fd00:53::99]:53".parse().unwrap())
            .map(|_| ())
    });
    assert!(
        matches!(missing, Err(DnsError::AddressNotAssigned { .. })),
        "{missing:?}"
    );
}

#[test]
fn listeners_start_and_stop_one_address_at_a_time() {
    let fixture = Fixture::start();
    let extra: SocketAddr = "127.0.0.54:53".parse().unwrap();
    fixture
        .server
        .run(move |server| async move { server.listen(extra).map(|_| ()) })
        .unwrap();
    let out = fixture.dig_at("127.0.0.54", &["db.alias.test", "A"]);
    assert_eq!(out.answer_data(), vec![ALIAS_V4], "{}", out.text);

    let stopped = fixture.server.run(move |server| async move {
        let stopped = server.stop_listening(extra.ip()).await;
        // the sockets are closed: the address can be bound again at once
        let udp = std::net::UdpSocket::bind(extra).is_ok();
        let tcp = std::net::TcpListener::bind(extra).is_ok();
        (stopped, udp && tcp, server.listening())
    });
    assert!(stopped.0 && stopped.1, "{stopped:?}");
    assert!(!stopped.2.contains(&extra));
    let out = fixture.dig_at("127.0.0.54", &["+time=1", "db.alias.test", "A"]);
    assert!(
        !out.success,
        "nothing answers on a stopped address: {}",
        out.text
    );
    // the other addresses keep working
    let out = fixture.dig(&["db.alias.test", "A"]);
    assert_eq!(out.answer_data(), vec![ALIAS_V4], "{}", out.text);

    let again = fixture
        .server
        .run(move |server| async move { server.listen(extra) })
        .unwrap();
    assert_eq!(again, extra);
    let out = fixture.dig_at("127.0.0.54", &["+tcp", "db.alias.test", "A"]);
    assert_eq!(out.answer_data(), vec![ALIAS_V4], "{}", out.text);
}
