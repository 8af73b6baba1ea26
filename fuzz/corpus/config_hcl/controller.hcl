# Example configuration for `boundary controller -config controller.hcl`.
#
# On the first start against an empty database the controller creates the global scope,
# default roles, a password auth method and an `admin` login, and prints the generated
# password once.

disable_mlock = true

controller {
  name        = "controller-1"
  description = "Boundary controller"

  database {
    # sqlite:///absolute/path.db for one controller, postgres://... for several;
    # env://VAR or file://path keep the URL (and its password) out of this file.
    url = "sqlite:///var/lib/boundary/controller.db"
  }
}

# The REST API (clients, the CLI, the client agent).
listener "tcp" {
  purpose       = "api"
  address       = "0.0.0.0:9200"
  tls_cert_file = "/etc/boundary/api.crt"
  tls_key_file  = "/etc/boundary/api.key"
}

# The API workers use (register, heartbeat, session lookups).
listener "tcp" {
  purpose       = "cluster"
  address       = "0.0.0.0:9201"
  tls_cert_file = "/etc/boundary/cluster.crt"
  tls_key_file  = "/etc/boundary/cluster.key"
}

# Seals session keys and credential secrets at rest. Generate with: openssl rand -base64 32
kms "aead" {
  purpose   = "root"
  aead_type = "aes-gcm"
  key       = "sP1fnF5Xz85RrXyELHFeZg9Ad2qt4Z4bgNHVGtD6ung="
  key_id    = "global_root"
}

# Shared with every worker (the same block in the worker's config).
kms "aead" {
  purpose   = "worker-auth"
  aead_type = "aes-gcm"
  key       = "8fZBjCUfN0TzjEGLQldGY4+iE9AkOvCfjh7+p0GtRBQ="
  key_id    = "global_worker-auth"
}
