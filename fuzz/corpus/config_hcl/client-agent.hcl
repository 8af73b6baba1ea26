# Boundary client agent configuration (boundary-client-agent -config PATH).
#
# Every key is optional; the values below are the defaults. An unknown key or a bad value
# stops the agent with a message naming the key. Durations are written like "30s", "1m",
# "1h30m" (careful: "1M" is a month). Changes to the keys marked "reload" apply on SIGHUP
# (systemctl reload) or when this file changes, without touching sessions; any other change
# is reported by `boundary client-agent status` until the agent restarts.

# How often each user's alias list is refreshed from the controller. 1s to 24h.
alias_refresh_interval = "1m"

# How long one attempt at an upstream DNS server may take before the next one is tried
# (all failing: SERVFAIL). 100ms to 1h. (reload)
dns_request_timeout = "5s"

# Interface that carries the alias addresses. Unset: the interface of the default route
# (in systemd-resolved mode: the agent's own link, boundary0).
# interface_to_use = "eth0"

# Also write logs to this file (absolute path). Unset: no file; logs go to stdout, which
# journald collects under systemd. (reload) The file is created 0640 and never followed
# through a symlink; its directory must be one only root can change.
# log_file = "/var/log/boundary-client-agent.log"

# trace, debug, info, warn or error (any case). (reload)
log_level = "info"

# With a log_file: log to stdout as well.
log_to_stdout = false

# Forward non-alias queries to these servers, in this order of priority, instead of the
# resolvers the system used before the agent. "ip" means port 53; IPv6 with a port is
# written "[addr]:port". Empty: the system's previous resolvers. (reload)
override_upstream_dns_servers = []
# override_upstream_dns_servers = ["10.0.0.2", "[fd00::53]:5353"]

# Crash-recovery state (saved resolver configuration, added addresses); removed on a
# clean shutdown. (reload) Both state files must live in a directory only root can
# change (owned by root, not group/world-writable, nor any directory above it unless
# sticky), or the agent refuses to start and names the directory and its owner.
state_file = "/var/lib/boundary-client-agent/state.json"

# Whether the agent is paused, kept across restarts.
operational_state_file = "/var/lib/boundary-client-agent/operational-state.json"

# IPv4 addresses for aliases come from this prefix: /8 to /16. Boundary reloads it; here a
# change needs a restart (the address pool holds live sessions) and status says so.
v4_prefix = "100.64.0.0/10"

# IPv6 addresses for aliases: a unique-local (fc00::/7) prefix, /48 to /112.
v6_prefix = "fd00:a20a::/48"

# How the agent becomes the system resolver (restart-only):
#   auto              systemd-resolved when /etc/resolv.conf sends programs to resolved's
#                     stub 127.0.0.53 (Ubuntu, Fedora) and resolved answers on D-Bus;
#                     none (with a warning in status) when resolved owns the file but
#                     does not answer; resolv-conf for any other file
#   resolv-conf       rewrite /etc/resolv.conf in place (restored on pause and exit);
#                     a rewrite by NetworkManager, a DHCP client or resolvconf is adopted
#                     as the new "previous" configuration and taken over again at once
#   systemd-resolved  configure systemd-resolved over D-Bus on the agent's own link
#                     (a TUN device, boundary0): one routing domain per alias name, so
#                     only alias names reach the agent (all names, ~., above 128 aliases);
#                     the link goes away on pause, on exit and when the agent dies
#   none              change nothing; point the system at the agent yourself
# With systemd-resolved the agent's DNS and alias addresses live on boundary0 unless
# interface_to_use is set (then alias addresses go there).
resolver_mode = "auto"

# Who besides this host may use the agent's DNS server, and only for ordinary
# forwarding (never alias answers, never a session made with someone's token):
#   "virtual"   host-internal virtual networks: Docker bridges, a VM's veth or tap (they
#               copy the host's resolv.conf and would otherwise lose DNS)
#   "lan"       hosts on the uplinks (the default route's interface): off by default, so
#               a host on the same Wi-Fi routing 100.64.0.1 via this machine is REFUSED
#   "a.b.c.d/n" any source inside this network, wherever it arrives
# [] serves this host only. (reload)
dns_allowed_sources = ["virtual"]

# The local API used by `boundary client-agent ...` and Boundary Desktop: a loopback
# ip:port. The CLI finds another port with -client-agent-port or
# BOUNDARY_CLIENT_AGENT_LISTENING_PORT.
api_listen_address = "127.0.0.1:9300"

# TTL of DNS answers for aliases, whole seconds, 0s to 5m.
dns_ttl = "5s"

# A session without connections for this long is cancelled at the worker. 10s to 30 days;
# "0s": keep sessions until they expire.
session_idle_timeout = "30m"

# An alias address unused for this long (no DNS answer, no session) is removed from the
# interface. 30s to 7 days, and at least twice dns_ttl.
address_idle_timeout = "5m"

# PEM certificates (absolute path) trusted for https:// controllers, in addition to
# Mozilla's roots and the system's trust store (/etc/ssl/certs, read at start; a CA
# installed there with update-ca-certificates needs nothing here). Read at start; a file
# that cannot be read, holds no certificate or an unusable one stops the start.
# controller_ca_file = "/etc/boundary/controller-ca.pem"

# The only controllers users may register tokens of (reload). Without it, the first user
# to register after the agent starts (or after every token expired) picks the controller
# for everyone on this machine, and could point the agent at a fake controller of their
# own that answers names such as deb.debian.org for other users; the agent logs that
# registration, and every switch to another controller, at WARN with the user's uid.
# Addresses are compared as scheme, host and port ("https://ctl" = "https://CTL:443/"); a
# path is not allowed. A token of any other address is refused (403) before the agent
# sends anything there. Narrowing the list on reload drops the tokens, and ends the
# sessions, of a controller it no longer allows.
# controller_addresses = ["https://boundary.corp.example"]

# Pausing stops alias resolution and ends the sessions of every user (DNS goes back to
# the previous resolvers), so by default only root may pause or resume the agent; other
# users are refused (403), except that any user with a token may resume it after an
# automatic pause (too many network failures). true: every user with a registered token
# may pause and resume it for everyone, as before. (reload)
allow_user_pause = false
