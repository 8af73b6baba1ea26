//! `boundary-client-agent -config PATH`: the privileged daemon (wiring only; see
//! `boundary::agent::daemon`).

fn main() {
    std::process::exit(boundary::agent::daemon::main());
}
