#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/ (run from anywhere; the output is committed).

Each seed is a small, well-formed (or deliberately slightly wrong) input of the kind the
target's code receives in real use, prefixed with the target's selector byte where it
has one (see the entry functions in crates/fuzz-targets/src/). libFuzzer mutates from
here; regressions found later are added by hand as regression-* files.
"""
import base64, os, struct, pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "corpus"


def put(target, name, data):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# ---------------------------------------------------------------- DNS helpers
def qname(name):
    out = b""
    for label in name.strip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def opt(payload=1232, do=False, version=0, options=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\0" + struct.pack(">HHIH", 41, payload, ttl, len(options)) + options


def query(name, qtype=1, qclass=1, qid=0x1234, flags=0x0120, edns=None, qd=1, extra=b""):
    ar = 1 if edns is not None else 0
    head = struct.pack(">HHHHHH", qid, flags, qd, 0, 0, ar)
    body = qname(name) + struct.pack(">HH", qtype, qclass) if qd else b""
    return head + body + extra + (edns or b"")


def rr(name_bytes, rtype, rdata, ttl=60, rclass=1):
    return name_bytes + struct.pack(">HHIH", rtype, rclass, ttl, len(rdata)) + rdata


def reply(q, answers=(), authority=(), additional=(), rcode=0, flags=0x8180, qd=True):
    """A reply to query bytes q (its ID and question echoed)."""
    qid = q[:2]
    question = b""
    if qd:
        # question section of q: from 12 to the end of its name + 4
        i = 12
        while q[i] != 0:
            i += q[i] + 1
        question = q[12:i + 5]
    head = qid + struct.pack(">HHHHH", flags | rcode, 1 if qd else 0, len(answers),
                             len(authority), len(additional))
    return head + question + b"".join(answers) + b"".join(authority) + b"".join(additional)


PTR = b"\xc0\x0c"  # compression pointer to the question name
A = lambda *o: bytes(o)
AAAA = lambda text: __import__("ipaddress").IPv6Address(text).packed

# ---------------------------------------------------------------- dns_query
queries = {
    "a-alias-edns": query("db.prod.example.", 1, edns=opt(1232, do=True)),
    "aaaa-alias": query("DB.Prod.Example.", 28, edns=opt(4096)),
    "a-no-edns": query("www.example.com.", 1),
    "mx": query("example.com.", 15, edns=opt()),
    "txt-chaos": query("version.bind.", 16, qclass=3),
    "any": query("example.org.", 255, edns=opt(512)),
    "two-questions": query("a.example.", 1, qd=2) + qname("b.example.") + b"\0\x01\0\x01",
    "cookie-only": query("", qd=0, edns=opt(1232, options=struct.pack(">HH", 10, 8) + b"\x01" * 8)),
    "edns-version-1": query("a.example.", 1, edns=opt(version=1)),
    "notify-opcode": query("zone.example.", 6, flags=0x2000),
    "response-bit": query("a.example.", 1, flags=0x8100),
    "ecs-option": query("a.example.", 1, edns=opt(1232, options=struct.pack(">HHHBB", 8, 7, 1, 24, 0) + b"\x0a\x00\x00")),
    "loop-probe": query("x1.loop-check.boundary-client-agent.example.", 1, edns=opt()),
    "long-name": query(".".join(["a" * 63] * 3) + ".", 1, edns=opt()),
    "short": b"\x12\x34\x01",
}
for i, (name, q) in enumerate(sorted(queries.items())):
    put("dns_query", name, bytes([i % 16]) + q)

# ---------------------------------------------------------------- dns_forward
def fwd(flags, q, r):
    return bytes([flags, len(q)]) + q + r


qa = query("www.example.com.", 1, qid=0x0101, edns=opt(1232))
qaaaa = query("www.example.com.", 28, qid=0x0202, edns=opt(1232, do=True))
q512 = query("big.example.", 16, qid=0x0303)
forwards = {
    "a-public": fwd(0, qa, reply(qa, [rr(PTR, 1, A(93, 184, 216, 34))])),
    "a-rebinding": fwd(0, qa, reply(qa, [rr(PTR, 1, A(100, 64, 0, 5)), rr(PTR, 1, A(1, 2, 3, 4))])),
    "aaaa-rebinding-signed": fwd(1, qaaaa, reply(qaaaa, [
        rr(PTR, 28, AAAA("fd00::5")),
        rr(PTR, 46, struct.pack(">HBBIIIH", 28, 13, 3, 60, 0, 0, 1) + qname("example.com.") + b"\xaa" * 16),
    ])),
    "cname-then-protected": fwd(0, qa, reply(qa, [
        rr(PTR, 5, qname("inner.example.")),
        rr(qname("inner.example."), 1, A(100, 127, 255, 1)),
    ])),
    "additional-protected": fwd(0, qa, reply(qa, [rr(PTR, 2, qname("ns.example."))], [],
                                            [rr(qname("ns.example."), 1, A(100, 100, 1, 1))])),
    "txt-over-512": fwd(0, q512, reply(q512, [rr(PTR, 16, (b"\xff" + b"t" * 255) * 3)])),
    "truncated-tc": fwd(0, q512, reply(q512, [], flags=0x8380)),
    "servfail-no-question": fwd(0, qa, reply(qa, rcode=2, qd=False)),
    "nxdomain-soa": fwd(1, qa, reply(qa, [], [rr(b"\0", 6, qname("a.root.") + qname("h.root.") + struct.pack(">IIIII", 1, 2, 3, 4, 5))], rcode=3)),
    "wrong-id": fwd(2, qa, reply(qa, [rr(PTR, 1, A(93, 184, 216, 34))])),
    "other-question": fwd(0, qa, reply(query("evil.example.", 1, qid=0x0101), [rr(PTR, 1, A(6, 6, 6, 6))])),
    "chaos-class-a": fwd(0, qa, reply(qa, [rr(PTR, 1, A(100, 64, 0, 1), rclass=3)])),
}
for name, data in forwards.items():
    put("dns_forward", name, data)

# ---------------------------------------------------------------- resolv_conf
resolv = {
    "systemd-stub": b"# This is /run/systemd/resolve/stub-resolv.conf\nnameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
    "network-manager": b"# Generated by NetworkManager\nsearch corp.example lan\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nnameserver fe80::1%eth0\n",
    "link-local-index": b"nameserver fe80::53%2\nnameserver 2001:db8::53\noptions rotate timeout:1 attempts:2\n",
    "agent-written": b"# Written by boundary-client-agent, which answers Boundary aliases and forwards other\n# queries to the previous nameservers. It puts the previous file back when it\n# pauses or stops.\nnameserver 100.64.0.1\nnameserver fd00::1\nsearch lan\n",
    "crlf-tabs-dupes": b"nameserver\t10.0.0.2\r\nnameserver 10.0.0.2\r\n  nameserver 8.8.8.8 # google\r\n; comment\r\ndomain example.net\r\n",
    "garbage": b"nameserver not-an-address\nnameserver\nnameserver 300.1.1.1\noptions\n\n",
    "marker-piece": b"# Written by boundary",
    "empty": b"",
}
for name, data in resolv.items():
    put("resolv_conf", name, data)

# ---------------------------------------------------------------- config_hcl
conf_dir = ROOT.parent.parent / "config"
for f in ["client-agent.hcl", "controller.hcl", "worker.hcl"]:
    put("config_hcl", f, (conf_dir / f).read_bytes())
put("config_hcl", "agent-every-key.hcl", b'''alias_refresh_interval = "90s"
dns_request_timeout = "300s"
interface_to_use = "veth0"
log_level = "DEBUG"
override_upstream_dns_servers = ["10.0.0.2", "10.0.0.3:5353", "fd00::53", "[fd00::54]:5300"]
v4_prefix = "10.128.0.0/16"
v6_prefix = "fd12:3456:789a::/64"
resolver_mode = "resolv-conf"
api_listen_address = "[::1]:9400"
session_idle_timeout = "1h30m"
dns_allowed_sources = ["lan", "10.8.0.0/16"]
controller_addresses = ["https://Boundary.Example:443/", "http://10.0.0.1:9200"]
allow_user_pause = true
''')
put("config_hcl", "duplicate-key.hcl", b'log_level = "info"\nlog_level = "debug"\n')
put("config_hcl", "template.hcl", b'dns_ttl = "${var.ttl}"\nworker {\n  name = env("X")\n}\n')
put("config_hcl", "heredoc-env.hcl", b'worker {\n  name = <<EOT\nw1\nEOT\n  public_addr = "env://WORKER_ADDR"\n}\n')

# ---------------------------------------------------------------- session_token
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(tag, wire, payload):
    key = varint((tag << 3) | wire)
    if wire == 2:
        return key + varint(len(payload)) + payload
    return key + varint(payload)


def timestamp(seconds):
    return field(1, 0, seconds) + field(2, 0, 123000)


cert = bytes(range(200)) * 2
token = (field(10, 2, b"s_1234567890") + field(20, 2, b"ttcp_1234567890")
         + field(30, 2, field(1, 2, b"p_1234567890") + field(2, 2, b"project"))
         + field(40, 2, timestamp(1700000000)) + field(80, 2, b"tcp") + field(90, 0, 0xFFFFFFFFFFFFFFFF)
         + field(102, 0, 22) + field(105, 2, timestamp(1700003600)) + field(120, 2, cert)
         + field(130, 2, bytes(range(64))) + field(140, 2, b"hst_1234567890")
         + field(141, 2, b"tcp://10.0.0.5:22") + field(150, 2, field(10, 2, b"127.0.0.1:9202"))
         + field(160, 0, 0))
ALPHABET = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def b58(data):
    n = int.from_bytes(data, "big")
    out = b""
    while n:
        n, r = divmod(n, 58)
        out = ALPHABET[r:r + 1] + out
    return b"1" * (len(data) - len(data.lstrip(b"\0"))) + out


put("session_token", "full-text", b"\0" + b58(token) + b"\n")
put("session_token", "full-raw", b"\1" + token)
put("session_token", "short-key-raw", b"\1" + field(10, 2, b"s_1") + field(120, 2, b"c") + field(130, 2, b"k" * 32))
put("session_token", "missing-cert-raw", b"\1" + field(10, 2, b"s_1") + field(130, 2, b"k" * 64))
put("session_token", "not-base58", b"\0" + b"0OIl+/=")

# ---------------------------------------------------------------- worker_handshake
TOFU = b"aB3dE5fG7hJ9kL1mN2pQ"
connect = field(10, 2, TOFU)
cancel = connect + field(20, 0, 1)


def frame(payload, opcode=2, fin=True, mask=b"\x37\xfa\x21\x3d"):
    first = (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        length = bytes([0x80 | n])
    else:
        length = bytes([0x80 | 126]) + struct.pack(">H", n)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([first]) + length + mask + masked


UPGRADE = (b"GET /v1/proxy HTTP/1.1\r\nHost: worker.example:9202\r\nConnection: Upgrade\r\n"
           b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
handshakes = {
    "payload-connect": b"\x00" + connect,
    "payload-cancel": b"\x03" + cancel,
    "payload-short-tofu": b"\x00" + field(10, 2, b"short"),
    "payload-unknown-command": b"\x00" + connect + field(20, 0, 7),
    "frames-connect": b"\x01" + frame(connect),
    "frames-ping-then-cancel": b"\x04" + frame(b"hi", opcode=9) + frame(cancel),
    "frames-fragmented": b"\x07" + frame(connect[:5], fin=False) + frame(connect[5:], opcode=0),
    "frames-text": b"\x01" + frame(b"hello", opcode=1),
    "frames-close": b"\x01" + frame(struct.pack(">H", 1000), opcode=8),
    "upgrade-v1": b"\x02" + UPGRADE + b"Sec-WebSocket-Protocol: boundary-tcp-proxy-v1\r\n\r\n" + frame(connect),
    "upgrade-v2-slow": b"\x05" + UPGRADE + b"Sec-WebSocket-Protocol: boundary-tcp-proxy-v2\r\n\r\n" + frame(cancel),
    "upgrade-no-protocol": b"\x02" + UPGRADE + b"\r\n",
    "upgrade-wrong-path": b"\x02" + UPGRADE.replace(b"/v1/proxy", b"/v1/other") + b"Sec-WebSocket-Protocol: boundary-tcp-proxy-v1\r\n\r\n",
}
for name, data in handshakes.items():
    put("worker_handshake", name, data)

# ---------------------------------------------------------------- api_request
def http(method, path, headers=(), body=b""):
    head = f"{method} {path} HTTP/1.1\r\n".encode()
    for h in headers:
        head += h.encode() + b"\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n".encode()
    return head + b"\r\n" + body


H = "Host: 127.0.0.1:9300"
tok = b'{"boundary_addr":"http://127.0.0.1:9200","token":"at_1234567890_s1Zq9wXe7RtYu2IoPaSdFgHjKl"}'
requests = {
    "status": b"\0" + http("GET", "/v1/status", [H]),
    "status-head-localhost": b"\0" + http("HEAD", "/v1/status", ["Host: localhost"]),
    "sessions-v6": b"\x05" + http("GET", "/v1/sessions", ["Host: [::1]:9300"]),
    "tokens": b"\0" + http("POST", "/v1/tokens", [H, "Content-Type: application/json"], tok),
    "tokens-bad-addr": b"\0" + http("POST", "/v1/tokens", [H], b'{"boundary_addr":"ftp://x","token":"at_1234567890_s1Zq9wXe7RtYu2IoPaSdFgHjKl"}'),
    "tokens-bad-json": b"\x03" + http("POST", "/v1/tokens", [H], b'{"boundary_addr": 7, "token": "at_1234567890_s1Zq9wXe7RtYu2IoPaSdFgHjKl"'),
    "tokens-chunked": b"\0" + http("POST", "/v1/tokens", [H, "Transfer-Encoding: chunked"]) + b"10\r\n" + tok[:16] + b"\r\n0\r\n\r\n",
    "pause-resume-pipelined": b"\0" + http("POST", "/v1/pause", [H]) + http("POST", "/v1/resume", [H]),
    "origin": b"\0" + http("GET", "/v1/status", [H, "Origin: https://evil.example"]),
    "referer-token": b"\0" + http("POST", "/v1/tokens", [H, "Referer: https://evil.example/"], tok),
    "remote-host": b"\0" + http("GET", "/v1/status", ["Host: agent.evil.example"]),
    "absolute-uri": b"\0" + http("GET", "http://127.0.0.1:9300/v1/status", [H]),
    "wrong-method": b"\0" + http("DELETE", "/v1/status", [H]),
    "not-found": b"\0" + http("GET", "/v1/../etc/passwd", [H]),
    "expect-continue": b"\0" + http("POST", "/v1/tokens", [H, "Expect: 100-continue"], tok),
    "h2-preface": b"\0" + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00",
    "incomplete-body": b"\0" + http("POST", "/v1/tokens", [H, "Content-Length: 500"]) + tok,
}
for name, data in requests.items():
    put("api_request", name, data)
print("seeds written under", ROOT)
