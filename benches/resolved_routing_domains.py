#!/usr/bin/env python3
"""How systemd-resolved copes with many routing-only domains on one link.

Runs inside a resolved lab (tests/support/resolved_lab), started by the ignored test
`measure_many_routing_domains_on_one_link` in tests/resolved_lab.rs, which prints this
script's report. Needs the `jeepney` package (pip install jeepney): busctl cannot carry
100k arguments.

For each count N: clear the link's domains, then SetLinkDomains(link, N routing-only
domains `~<i>.bench.alias.test`) and time the call; read resolved's VmRSS and how many
domains the link really has; then time UDP queries to the stub (127.0.0.53) for the
last routed name and for an ordinary name. Answers have TTL 0, so resolved caches none
and every query is routed and forwarded.
"""

import argparse
import socket
import statistics
import struct
import threading
import time

from jeepney import DBusAddress, new_method_call
from jeepney.io.blocking import open_dbus_connection

RESOLVE1 = DBusAddress(
    "/org/freedesktop/resolve1",
    bus_name="org.freedesktop.resolve1",
    interface="org.freedesktop.resolve1.Manager",
)


def call(connection, message):
    """(seconds, None) or (seconds, 'Error.Name: text')."""
    started = time.monotonic()
    reply = connection.send_and_get_reply(message, timeout=600)
    elapsed = time.monotonic() - started
    if reply.header.message_type.name == "error":
        name = reply.header.fields.get(4, "?")  # ERROR_NAME
        return elapsed, f"{name}: {reply.body[0] if reply.body else ''}"
    return elapsed, None


def set_domains(connection, ifindex, names):
    message = new_method_call(
        RESOLVE1, "SetLinkDomains", "ia(sb)", (ifindex, [(n, True) for n in names])
    )
    return call(connection, message)


def set_domains_under_load(connection, ifindex, names, ordinary_name):
    """set_domains while another thread keeps querying the stub: also returns the
    longest round trip of those queries (resolved is single-threaded)."""
    done = threading.Event()
    longest = [0.0]

    def load():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(60)
            sock.connect(("127.0.0.53", 53))
            ident = 0
            while not done.is_set():
                ident = (ident + 1) % 65536
                started = time.perf_counter()
                sock.send(query(ordinary_name, ident))
                while struct.unpack(">H", sock.recv(4096)[:2])[0] != ident:
                    pass
                longest[0] = max(longest[0], time.perf_counter() - started)

    thread = threading.Thread(target=load)
    thread.start()
    time.sleep(0.05)
    message = new_method_call(
        RESOLVE1, "SetLinkDomains", "ia(sb)", (ifindex, [(n, True) for n in names])
    )
    serialise_started = time.monotonic()
    message.serialise(serial=1)  # what the client spends before the call leaves
    serialise = time.monotonic() - serialise_started
    seconds, error = call(connection, message)
    done.set()
    thread.join()
    return seconds, error, serialise, longest[0]


def bus_label(text):
    """sd-bus's escaping of an object path label (a leading digit becomes _3x)."""
    return "".join(c if c.isalpha() or (i > 0 and c.isdigit()) else f"_{ord(c):02x}"
                   for i, c in enumerate(text))


def link_domain_count(connection, ifindex):
    path = f"/org/freedesktop/resolve1/link/{bus_label(str(ifindex))}"
    link = DBusAddress(path, bus_name="org.freedesktop.resolve1",
                       interface="org.freedesktop.DBus.Properties")
    reply = connection.send_and_get_reply(
        new_method_call(link, "Get", "ss", ("org.freedesktop.resolve1.Link", "Domains")))
    return len(reply.body[0][1])


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def query(name, ident):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", 1, 1)


def latencies(name, count):
    """Round trips in microseconds of `count` A queries for `name` to the stub."""
    results = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(10)
        sock.connect(("127.0.0.53", 53))
        for ident in range(count):
            started = time.perf_counter()
            sock.send(query(name, ident))
            while True:
                reply = sock.recv(4096)
                if struct.unpack(">H", reply[:2])[0] == ident:
                    break
            rcode = reply[3] & 0x0F
            results.append((time.perf_counter() - started) * 1e6)
            if rcode != 0:
                raise SystemExit(f"{name}: rcode {rcode}")
    return results


def summary(values):
    values = sorted(values)
    p95 = values[int(len(values) * 0.95) - 1]
    return f"median {statistics.median(values):7.0f} us  p95 {p95:7.0f} us"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--interface", required=True)
    parser.add_argument("--resolved-pid", type=int, required=True)
    parser.add_argument("--ordinary-name", required=True)
    parser.add_argument("--counts", default="0,256,1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    ifindex = socket.if_nametoindex(args.interface)
    connection = open_dbus_connection(bus="SYSTEM")
    print(f"resolved RSS at start: {rss_kib(args.resolved_pid)} KiB")
    for count in [int(c) for c in args.counts.split(",")]:
        set_domains(connection, ifindex, [])
        names = [f"{i}.bench.alias.test" for i in range(count)]
        seconds, error, serialise, stall = set_domains_under_load(
            connection, ifindex, names, args.ordinary_name)
        present = link_domain_count(connection, ifindex)
        print(f"\nN={count}: SetLinkDomains {seconds * 1000:.1f} ms "
              f"(of which client serialisation <= {serialise * 1000:.1f} ms), "
              f"{error or 'ok'}; link has {present} domains; "
              f"resolved RSS {rss_kib(args.resolved_pid)} KiB; "
              f"longest stub round trip meanwhile {stall * 1000:.1f} ms")
        if error is None:
            routed = names[-1] if names else None
            if routed:
                latencies(routed, 10)  # warm-up
                print(f"  routed   {routed:28} {summary(latencies(routed, args.queries))}")
            latencies(args.ordinary_name, 10)
            print(f"  ordinary {args.ordinary_name:28} "
                  f"{summary(latencies(args.ordinary_name, args.queries))}")
    set_domains(connection, ifindex, [])


if __name__ == "__main__":
    main()
