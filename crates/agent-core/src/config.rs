//! The configuration values the core needs (docs/wire-contract.md §5 plus this project's keys),
//! as a plain struct: the HCL loader fills it in.

use super::address_pool::{AddressPool, DEFAULT_V4_PREFIX, DEFAULT_V6_PREFIX, PoolConfigError};
use super::pause::BreakerConfig;
use super::prefix::IpPrefix;
use std::time::Duration;

/// TTL of alias answers (docs/architecture.md: short). The DNS shell puts it in the answers; the
/// core keeps an answered address up at least [`MIN_ADDRESS_IDLE_TIMEOUT`] after the last
/// answer, so a cached answer never points at a removed address.
pub const ALIAS_ANSWER_TTL: Duration = Duration::from_secs(5);

/// Lower bound for `address_idle_timeout`: well above [`ALIAS_ANSWER_TTL`].
pub const MIN_ADDRESS_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoreConfig {
    /// `v4_prefix`, /8 to /16. Default `100.64.0.0/10`.
    pub v4_prefix: IpPrefix,
    /// `v6_prefix` (ours), /16 to /120. Default `fd00:a20a::/48`.
    pub v6_prefix: IpPrefix,
    /// `alias_refresh_interval`. Default 1 minute.
    pub alias_refresh_interval: Duration,
    /// `session_idle_timeout` (ours): a session without connections for this long is
    /// cancelled at the worker. `None` keeps sessions until they expire. Default 30 min.
    pub session_idle_timeout: Option<Duration>,
    /// `address_idle_timeout` (ours): an alias address nobody used (no answer, no
    /// session) for this long is removed from the interface. Default 5 minutes.
    pub address_idle_timeout: Duration,
    /// After a failed authorization, DNS for that alias and user goes upstream for this
    /// long before the agent tries again. Default 10 s.
    pub authorize_retry_after: Duration,
    /// An authorization still unanswered after this long counts as failed. Default 60 s.
    pub authorize_timeout: Duration,
    /// Auto-pause after many network failures. Default 20 within 60 s.
    pub breaker: BreakerConfig,
    /// Errors kept for `status`, per user and agent-wide. Default 10.
    pub error_history: usize,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            v4_prefix: DEFAULT_V4_PREFIX,
            v6_prefix: DEFAULT_V6_PREFIX,
            alias_refresh_interval: Duration::from_secs(60),
            session_idle_timeout: Some(Duration::from_secs(30 * 60)),
            address_idle_timeout: Duration::from_secs(5 * 60),
            authorize_retry_after: Duration::from_secs(10),
            authorize_timeout: Duration::from_secs(60),
            breaker: BreakerConfig::default(),
            error_history: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoreConfigError {
    #[error(transparent)]
    Pool(#[from] PoolConfigError),
    #[error("{key} must be longer than zero")]
    Zero { key: &'static str },
    #[error(
        "address_idle_timeout ({got:?}) must be at least {MIN_ADDRESS_IDLE_TIMEOUT:?}, well above the {ALIAS_ANSWER_TTL:?} TTL of alias answers"
    )]
    AddressIdleTooShort { got: Duration },
}

impl CoreConfig {
    /// Checks the values and builds the address pool they describe.
    pub fn address_pool(&self) -> Result<AddressPool, CoreConfigError> {
        for (key, value) in [
            ("alias_refresh_interval", self.alias_refresh_interval),
            ("authorize_retry_after", self.authorize_retry_after),
            ("authorize_timeout", self.authorize_timeout),
        ] {
            if value.is_zero() {
                return Err(CoreConfigError::Zero { key });
            }
        }
        if self.session_idle_timeout.is_some_and(|d| d.is_zero()) {
            return Err(CoreConfigError::Zero {
                key: "session_idle_timeout",
            });
        }
        if self.address_idle_timeout < MIN_ADDRESS_IDLE_TIMEOUT {
            return Err(CoreConfigError::AddressIdleTooShort {
                got: self.address_idle_timeout,
            });
        }
        Ok(AddressPool::new(self.v4_prefix, self.v6_prefix)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert!(CoreConfig::default().address_pool().is_ok());
        let err = CoreConfig {
            alias_refresh_interval: Duration::ZERO,
            ..CoreConfig::default()
        }
        .address_pool()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "alias_refresh_interval must be longer than zero"
        );
        let err = CoreConfig {
            address_idle_timeout: Duration::from_secs(5),
            ..CoreConfig::default()
        }
        .address_pool()
        .unwrap_err();
        assert!(
            err.to_string().starts_with("address_idle_timeout (5s)"),
            "{err}"
        );
        let err = CoreConfig {
            v4_prefix: "10.0.0.0/24".parse().unwrap(),
            ..CoreConfig::default()
        }
        .address_pool()
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "v4_prefix 10.0.0.0/24 must be between /8 and /16"
        );
    }
}
