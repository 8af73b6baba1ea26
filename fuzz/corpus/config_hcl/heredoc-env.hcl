worker {
  name = <<EOT
w1
EOT
  public_addr = "env://WORKER_ADDR"
}
