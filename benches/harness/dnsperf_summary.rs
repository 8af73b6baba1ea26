//! Reading dnsperf's summary (shared by the harness and `benches/dns_answers.rs`).

/// The number after `label` in dnsperf's statistics (`Queries per second:   41802.1`).
pub fn summary_field(text: &str, label: &str) -> f64 {
    text.lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("dnsperf printed no {label:?}:\n{text}"))
}
