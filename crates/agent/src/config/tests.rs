use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::reload::reloadable_change;
use super::*;

fn parse(text: &str) -> AgentConfig {
    AgentConfig::from_hcl(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// Parses `text`, expects a refusal naming `key`, and returns the message.
fn refused(text: &str, key: &str) -> String {
    let error = match AgentConfig::from_hcl(text) {
        Ok(config) => panic!("{text} was accepted: {config:?}"),
        Err(error) => error,
    };
    let message = error.to_string();
    assert_eq!(error.key(), Some(key), "{text}: {message}");
    assert!(message.contains(key), "{text}: {message}");
    message
}

#[test]
fn empty_file_gives_the_defaults() {
    let config = parse("");
    assert_eq!(config, AgentConfig::default());
    assert_eq!(config.alias_refresh_interval, Duration::from_secs(60));
    assert_eq!(config.v4_prefix.to_string(), "100.64.0.0/10");
    assert_eq!(config.v6_prefix.to_string(), "fd00:a20a::/48");
    assert_eq!(config.api_listen_address.to_string(), "127.0.0.1:9300");
    assert_eq!(config.dns_ttl, Duration::from_secs(5));
    assert_eq!(config.session_idle_timeout, Some(Duration::from_secs(1800)));
    assert_eq!(
        config.state_file,
        Path::new("/var/lib/boundary-client-agent/state.json")
    );
    assert_eq!(config.upstream_override(), None);
}

#[test]
fn every_key_parses() {
    let config = parse(
        r#"
        alias_refresh_interval = "90s"
        dns_request_timeout = "300s"
        interface_to_use = "veth0"
        log_file = "/var/log/agent.log"
        log_level = "DEBUG"
        log_to_stdout = true
        override_upstream_dns_servers = ["10.0.0.2", "10.0.0.3:5353", "fd00::53", "[fd00::54]:5300"]
        state_file = "/tmp/state.json"
        operational_state_file = "/tmp/op.json"
        v4_prefix = "10.128.0.0/16"
        v6_prefix = "fd12:3456:789a::/64"
        resolver_mode = "resolv-conf"
        api_listen_address = "[::1]:9400"
        dns_ttl = "10s"
        session_idle_timeout = "1h30m"
        address_idle_timeout = "10m"
        controller_ca_file = "/etc/boundary/controller-ca.pem"
        dns_allowed_sources = ["lan", "10.8.0.0/16"]
        controller_addresses = ["https://Boundary.Example:443/", "http://10.0.0.1:9200"]
        allow_user_pause = true
        "#,
    );
    let servers: Vec<SocketAddr> = [
        "10.0.0.2:53",
        "10.0.0.3:5353",
        "[fd00::53]:53",
        "[fd00::54]:5300",
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    assert_eq!(
        config,
        AgentConfig {
            alias_refresh_interval: Duration::from_secs(90),
            dns_request_timeout: Duration::from_secs(300),
            interface_to_use: Some("veth0".into()),
            log_file: Some(PathBuf::from("/var/log/agent.log")),
            log_level: LogLevel::Debug,
            log_to_stdout: true,
            override_upstream_dns_servers: servers.clone(),
            state_file: PathBuf::from("/tmp/state.json"),
            operational_state_file: PathBuf::from("/tmp/op.json"),
            v4_prefix: "10.128.0.0/16".parse().unwrap(),
            v6_prefix: "fd12:3456:789a::/64".parse().unwrap(),
            resolver_mode: ResolverMode::ResolvConf,
            api_listen_address: "[::1]:9400".parse().unwrap(),
            dns_ttl: Duration::from_secs(10),
            session_idle_timeout: Some(Duration::from_secs(5400)),
            address_idle_timeout: Duration::from_secs(600),
            controller_ca_file: Some(PathBuf::from("/etc/boundary/controller-ca.pem")),
            dns_allowed_sources: crate::dns::AllowedSources {
                virtual_networks: false,
                lan: true,
                networks: vec!["10.8.0.0/16".parse().unwrap()],
            },
            controller_addresses: ControllerPin::new(vec![
                ControllerAddress::parse("http://10.0.0.1:9200").unwrap(),
                ControllerAddress::parse("https://boundary.example").unwrap(),
            ]),
            allow_user_pause: true,
        }
    );
    assert_eq!(config.upstream_override(), Some(&servers[..]));
}

#[test]
fn optional_keys_can_be_unset_and_idle_timeout_turned_off() {
    let config = parse(
        r#"
        interface_to_use = ""
        log_file = null
        controller_ca_file = ""
        override_upstream_dns_servers = []
        session_idle_timeout = "0s"
        resolver_mode = "none"
        "#,
    );
    assert_eq!(config.interface_to_use, None);
    assert_eq!(config.log_file, None);
    assert_eq!(config.controller_ca_file, None);
    assert_eq!(config.session_idle_timeout, None);
    assert_eq!(config.resolver_mode, ResolverMode::None);
    for (text, level) in [
        ("trace", LogLevel::Trace),
        ("Info", LogLevel::Info),
        ("WARNING", LogLevel::Warn),
        ("error", LogLevel::Error),
    ] {
        assert_eq!(parse(&format!("log_level = \"{text}\"")).log_level, level);
    }
}

#[test]
fn unknown_keys_blocks_and_duplicates_are_refused() {
    let message = refused("log_levle = \"info\"", "log_levle");
    assert!(message.contains("unknown key"), "{message}");
    assert!(
        message.contains("log_level"),
        "lists the known keys: {message}"
    );

    let error = AgentConfig::from_hcl("listener \"tcp\" {\n address = \"x\"\n}").unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("line 1: `listener \"tcp\"`: unknown block"),
        "{message}"
    );

    let error = AgentConfig::from_hcl("dns_ttl = \"5s\"\ndns_ttl = \"6s\"").unwrap_err();
    let message = error.to_string();
    assert_eq!(error.key(), Some("dns_ttl"), "{message}");
    assert!(
        message.contains("line 2: `dns_ttl`: set twice; the first is at line 1"),
        "names both lines: {message}"
    );

    let error = AgentConfig::from_hcl("v4_prefix = ").unwrap_err();
    assert!(error.to_string().contains("not valid HCL"), "{error}");
}

#[test]
fn bad_values_name_the_key_and_value() {
    let cases: &[(&str, &str, &str)] = &[
        ("alias_refresh_interval", "\"1M\"", "months"),
        ("alias_refresh_interval", "\"0s\"", "out of range"),
        ("alias_refresh_interval", "60", "duration string"),
        ("alias_refresh_interval", "\"soon\"", "not a duration"),
        ("dns_request_timeout", "\"10ms\"", "out of range"),
        ("dns_request_timeout", "\"${var.x}\"", "interpolation"),
        ("interface_to_use", "\"a/b\"", "interface name"),
        (
            "interface_to_use",
            "\"averyveryverylongname\"",
            "interface name",
        ),
        ("log_file", "\"relative.log\"", "absolute"),
        ("log_level", "\"verbose\"", "trace, debug"),
        ("log_to_stdout", "\"yes\"", "true or false"),
        ("override_upstream_dns_servers", "\"10.0.0.2\"", "list"),
        (
            "override_upstream_dns_servers",
            "[\"dns.example\"]",
            "\"dns.example\"",
        ),
        (
            "override_upstream_dns_servers",
            "[\"10.0.0.2:0\"]",
            "usable",
        ),
        (
            "override_upstream_dns_servers",
            "[\"[fd00::53]\"]",
            "neither",
        ),
        ("override_upstream_dns_servers", "[53]", "not a string"),
        ("state_file", "\"state.json\"", "absolute"),
        ("operational_state_file", "true", "a string"),
        ("v4_prefix", "\"10.0.0.0/24\"", "between /8 and /16"),
        ("v4_prefix", "\"10.0.0.0/7\"", "between /8 and /16"),
        ("v4_prefix", "\"100.64.0.1/10\"", "100.64.0.0/10"),
        ("v4_prefix", "\"127.0.0.0/8\"", "unicast"),
        ("v4_prefix", "\"224.0.0.0/8\"", "unicast"),
        ("v4_prefix", "\"fd00::/48\"", "IPv4 prefix"),
        ("v6_prefix", "\"2001:db8::/48\"", "fc00::/7"),
        ("v6_prefix", "\"fd00::/40\"", "between /48 and /112"),
        ("v6_prefix", "\"fd00::/120\"", "between /48 and /112"),
        ("v6_prefix", "\"fd00::1/64\"", "host bits"),
        ("resolver_mode", "\"dnsmasq\"", "resolv-conf"),
        ("api_listen_address", "\"0.0.0.0:9300\"", "loopback"),
        ("api_listen_address", "\"127.0.0.1\"", "ip:port"),
        ("api_listen_address", "\"127.0.0.1:0\"", "port"),
        ("dns_ttl", "\"1.5s\"", "whole number"),
        ("dns_ttl", "\"1h\"", "out of range"),
        ("session_idle_timeout", "\"1s\"", "out of range"),
        ("address_idle_timeout", "\"10s\"", "out of range"),
        ("controller_ca_file", "\"ca.pem\"", "absolute"),
        ("controller_addresses", "\"https://ctl\"", "a list"),
        ("controller_addresses", "[]", "remove the key"),
        ("controller_addresses", "[\"ctl.example\"]", "not a URL"),
        (
            "controller_addresses",
            "[\"https://ctl/api\"]",
            "without a path",
        ),
        (
            "controller_addresses",
            "[\"ftp://ctl\"]",
            "http:// or https://",
        ),
        ("allow_user_pause", "\"yes\"", "true or false"),
    ];
    for (key, value, expected) in cases {
        let message = refused(&format!("{key} = {value}"), key);
        assert!(message.contains(expected), "{key} = {value}: {message}");
        if !value.starts_with("\"${") {
            let unspaced = |s: &str| s.replace(' ', "");
            assert!(
                unspaced(&message).contains(&unspaced(value)),
                "names the value: {message}"
            );
        }
    }
}

#[test]
fn the_two_state_files_must_differ() {
    let message = refused(
        "state_file = \"/var/lib/a.json\"\noperational_state_file = \"/var/lib/a.json\"",
        "operational_state_file",
    );
    assert!(message.contains("must differ from state_file"), "{message}");
}

#[test]
fn address_idle_timeout_must_outlast_cached_answers() {
    let message = refused(
        "dns_ttl = \"5m\"\naddress_idle_timeout = \"5m\"",
        "address_idle_timeout",
    );
    assert!(message.contains("twice dns_ttl"), "{message}");
    parse("dns_ttl = \"2m\"\naddress_idle_timeout = \"4m\"");
}

#[test]
fn example_file_parses_to_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/client-agent.hcl");
    assert_eq!(AgentConfig::load(&path).unwrap(), AgentConfig::default());
    let text = std::fs::read_to_string(&path).unwrap();
    for key in ConfigKey::ALL {
        assert!(
            text.contains(&format!("{} = ", key.name())),
            "the example shows {key}"
        );
    }
}

#[test]
fn load_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.hcl");
    let error = AgentConfig::load(&path).unwrap_err();
    assert!(
        error.to_string().contains(&*path.to_string_lossy()),
        "{error}"
    );
    std::fs::write(&path, "dns_ttl = 5").unwrap();
    let error = AgentConfig::load(&path).unwrap_err();
    let message = error.to_string();
    assert!(message.contains(&*path.to_string_lossy()), "{message}");
    assert_eq!(error.key(), Some("dns_ttl"), "{message}");
}

#[test]
fn reload_splits_reloadable_and_restart_only_changes() {
    let running = AgentConfig::default();
    let unchanged = plan_reload(&running, &running.clone());
    assert!(unchanged.is_empty());
    assert_eq!(unchanged.restart_warning(), None);
    assert_eq!(unchanged.effective, running);

    let new = parse(
        r#"
        dns_request_timeout = "2s"
        log_level = "debug"
        v4_prefix = "10.0.0.0/16"
        override_upstream_dns_servers = ["10.0.0.2"]
        dns_ttl = "7s"
        v6_prefix = "fd00:1::/64"
        controller_addresses = ["https://ctl.example"]
        allow_user_pause = true
        "#,
    );
    let plan = plan_reload(&running, &new);
    assert_eq!(
        plan.apply,
        vec![
            ReloadableChange::DnsRequestTimeout(Duration::from_secs(2)),
            ReloadableChange::LogLevel(LogLevel::Debug),
            ReloadableChange::OverrideUpstreamDnsServers(vec!["10.0.0.2:53".parse().unwrap()]),
            ReloadableChange::ControllerAddresses(ControllerPin::new(vec![
                ControllerAddress::parse("https://ctl.example").unwrap()
            ])),
            ReloadableChange::AllowUserPause(true),
        ]
    );
    assert_eq!(
        plan.restart_required,
        vec![ConfigKey::V4Prefix, ConfigKey::V6Prefix, ConfigKey::DnsTtl]
    );
    let warning = plan.restart_warning().unwrap();
    assert!(
        warning.contains("v4_prefix, v6_prefix, dns_ttl"),
        "{warning}"
    );
    assert!(warning.contains("restart"), "{warning}");
    // The running config takes the reloadable values and keeps the restart-only ones.
    assert_eq!(plan.effective.log_level, LogLevel::Debug);
    assert_eq!(plan.effective.v4_prefix, running.v4_prefix);
    assert_eq!(plan.effective.v6_prefix, running.v6_prefix);
    assert_eq!(plan.effective.dns_ttl, running.dns_ttl);

    // Reloading the same file again only reports the pending restart-only keys; editing
    // them back to the running values clears the warning.
    let again = plan_reload(&plan.effective, &new);
    assert!(again.apply.is_empty());
    assert_eq!(again.restart_required, plan.restart_required);
    let reverted = AgentConfig {
        v4_prefix: running.v4_prefix,
        v6_prefix: running.v6_prefix,
        dns_ttl: running.dns_ttl,
        ..new
    };
    assert!(plan_reload(&plan.effective, &reverted).is_empty());
}

#[test]
fn every_key_is_classified_and_the_reloadable_ones_are_known() {
    let reloadable: Vec<&str> = ConfigKey::ALL
        .into_iter()
        .filter(|k| k.is_reloadable())
        .map(|k| k.name())
        .collect();
    assert_eq!(
        reloadable,
        [
            // docs/wire-contract.md §5's reloadable keys, and ours that narrows who may ask.
            "dns_request_timeout",
            "log_file",
            "log_level",
            "override_upstream_dns_servers",
            "state_file",
            "dns_allowed_sources",
            "controller_addresses",
            "allow_user_pause"
        ]
    );
    let config = AgentConfig::default();
    for key in ConfigKey::ALL {
        assert_eq!(ConfigKey::from_name(key.name()), Some(key));
        let change = reloadable_change(&config, key);
        assert_eq!(change.is_some(), key.is_reloadable(), "{key}");
        if let Some(change) = change {
            assert_eq!(change.key(), key);
        }
    }
}

#[test]
fn a_reload_never_moves_the_state_file_onto_the_running_operational_state_file() {
    let running =
        parse("state_file = \"/var/lib/a.json\"\noperational_state_file = \"/var/lib/b.json\"");
    let new =
        parse("state_file = \"/var/lib/b.json\"\noperational_state_file = \"/var/lib/c.json\"");
    let plan = plan_reload(&running, &new);
    assert!(plan.apply.is_empty(), "{plan:?}");
    assert_eq!(
        plan.restart_required,
        [ConfigKey::StateFile, ConfigKey::OperationalStateFile]
    );
    assert_eq!(plan.effective.state_file, running.state_file);
}
