//! `boundary-client-agent -config PATH`: the privileged daemon (wiring only).

fn main() {
    eprintln!("Error: boundary-client-agent is not built yet");
    std::process::exit(1);
}
