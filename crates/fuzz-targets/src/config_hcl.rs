//! `config_hcl`: the three HCL configuration loaders — the agent's
//! (`AgentConfig::from_hcl`), the controller's and the worker's — on the same text. They
//! share the reader in `boundary-config`, so one input exercises its parser and value
//! checks three times over, each with the sections and keys of one program.

use boundary_agent::config::{AgentConfig, ConfigError};
use boundary_controller::config::ControllerConfig;
use boundary_worker::WorkerConfig;

/// `data` is a configuration file; files that are not UTF-8 are refused before parsing
/// (`read_to_string`), so only UTF-8 text reaches the loaders. Checks:
/// - loading is a function of the text (the agent's and worker's configs compare equal
///   when loaded twice: no hidden state, no reading of the clock);
/// - an error names a line of the text (or none), and formats.
pub fn config_hcl(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let lines = text.split('\n').count();

    match AgentConfig::from_hcl(text) {
        Ok(config) => assert_eq!(AgentConfig::from_hcl(text).ok(), Some(config)),
        Err(error) => check_error(&error, lines),
    }
    match WorkerConfig::parse(text) {
        Ok(config) => assert_eq!(WorkerConfig::parse(text).ok(), Some(config)),
        Err(error) => check_error(&error, lines),
    }
    if let Err(error) = ControllerConfig::parse(text) {
        check_error(&error, lines);
    }
}

fn check_error(error: &ConfigError, lines: usize) {
    if let Some(line) = error.line() {
        assert!(
            (1..=lines).contains(&line),
            "line {line} of a {lines}-line text: {error}"
        );
    }
    assert!(!error.to_string().is_empty());
}
