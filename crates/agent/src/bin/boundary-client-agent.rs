//! `boundary-client-agent -config PATH`: the privileged daemon (wiring only; see
//! `boundary_agent::daemon`).

fn main() {
    std::process::exit(boundary_agent::daemon::main());
}
