dns_ttl = "${var.ttl}"
worker {
  name = env("X")
}
