# Example configuration for `boundary worker -config worker.hcl`.
#
# The worker terminates clients' session TLS on its proxy listener, asks the controller
# (over the cluster listener) whether each connection may proceed, dials the target and
# reports bytes and close reasons. Any worker a session was offered to (every worker live
# when it was authorized) can serve any of its connections.

disable_mlock = true

worker {
  # Stable name: re-registering with it keeps the worker's id at the controller. The
  # worker's credential is derived from the worker-auth key and this name, and the
  # controller lets it act only as this worker.
  name        = "worker-1"
  description = "Boundary worker"

  # What clients dial; goes into every session's authorization token. Required when the
  # proxy listener binds 0.0.0.0; a host without a port gets the listener's port.
  public_addr = "worker-1.example.com:9202"

  # The controllers' cluster listeners, tried in order. Write https:// for a TLS cluster
  # listener; a bare host:port is plain HTTP.
  initial_upstreams = ["https://controller-1.example.com:9201"]

  # PEM certificates to trust for https:// upstreams (ours; without it, the public web
  # roots are trusted).
  upstream_ca_file = "/etc/boundary/cluster-ca.pem"
}

listener "tcp" {
  purpose = "proxy"
  address = "0.0.0.0:9202"
}

# The same key as the controller's worker-auth block. env://VAR or file://path keep it out
# of this file. Generate with: openssl rand -base64 32
# Whoever holds this key can derive any worker's credential: it is the root of worker
# identity, so keep it as secret as the controller's own keys.
kms "aead" {
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id    = "global_worker-auth"
}
