//! Flags every controller-facing command takes, with Boundary's names and environment
//! variables, and the connection they describe.

use super::secret_source;
use super::token_source::{self, FoundToken};
use super::token_store;
use anyhow::Context;
use boundary_net::client::{
    CaSource, ClientOptions, ControllerClient, DEFAULT_ADDRESS, TlsOptions,
};
use boundary_wire::api::Secret;
use clap::{Args, ValueEnum, builder::BoolishValueParser};
use std::path::PathBuf;

/// `-format`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable tables and key/value blocks.
    #[default]
    Table,
    /// One JSON document on stdout, Boundary's `{"status_code":…,"item"|"items":…}`.
    Json,
}

/// `-keyring-type`: where `authenticate` stores the token and other commands look for it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum KeyringType {
    /// The platform's keyring (Linux: the kernel keyutils keyring).
    #[default]
    Auto,
    /// The Linux kernel keyring (per user, kept until reboot).
    Keyutils,
    /// No keyring: `authenticate` prints the token, other commands never read one.
    None,
}

/// The shared flags, flattened into every leaf command that talks to a controller.
#[derive(Clone, Debug, Args)]
pub struct ClientFlags {
    /// Address of the controller.
    #[arg(long, env = "BOUNDARY_ADDR", default_value = DEFAULT_ADDRESS, value_name = "URL")]
    pub addr: String,

    /// Where to read the auth token: `file://PATH` or `env://VAR` (to give the token itself,
    /// set BOUNDARY_TOKEN). Without it: BOUNDARY_TOKEN, then the keyring.
    #[arg(long, value_name = "URL")]
    pub token: Option<String>,

    /// Output format.
    #[arg(long, value_enum, env = "BOUNDARY_CLI_FORMAT", default_value = "table")]
    pub format: OutputFormat,

    /// Keyring holding the token stored by `authenticate`.
    #[arg(
        long,
        value_enum,
        env = "BOUNDARY_KEYRING_TYPE",
        default_value = "auto"
    )]
    pub keyring_type: KeyringType,

    /// Name under which the token is stored in the keyring.
    #[arg(long, env = "BOUNDARY_TOKEN_NAME", default_value = token_store::DEFAULT_TOKEN_NAME)]
    pub token_name: String,

    /// Skip verification of the controller's TLS certificate (testing only).
    #[arg(long, env = "BOUNDARY_TLS_INSECURE", value_parser = BoolishValueParser::new(),
          action = clap::ArgAction::SetTrue)]
    pub tls_insecure: bool,

    /// PEM file with CA certificates to trust in addition to the system roots.
    #[arg(long, env = "BOUNDARY_CACERT", value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
}

/// A controller client for one command, and how its token was found.
pub struct Connection {
    pub client: ControllerClient,
    pub format: OutputFormat,
    pub token: FoundToken,
}

impl ClientFlags {
    /// A client acting with the token found by Boundary's lookup order (see
    /// [`token_source::find_token`]); anonymous when there is none.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        let flag = match &self.token {
            Some(url) => Some(secret_source::read_url_only(url, "-token")?),
            None => None,
        };
        let env_token = std::env::var(token_source::ENV_TOKEN).ok();
        let keyring = self.keyring_type;
        let name = self.token_name.clone();
        let token = token_source::find_token(flag, env_token, || async move {
            match keyring {
                KeyringType::None => Ok(None),
                KeyringType::Auto | KeyringType::Keyutils => {
                    token_store::load(&name).await.map(|t| t.map(|t| t.token))
                }
            }
        })
        .await?;
        let client = self.client_with(token.token.clone())?;
        Ok(Connection {
            client,
            format: self.format,
            token,
        })
    }

    /// A client with an explicit token (or none), e.g. for `authenticate`.
    pub fn client_with(&self, token: Option<Secret>) -> anyhow::Result<ControllerClient> {
        let options = ClientOptions {
            token,
            tls: TlsOptions {
                extra_ca: self.ca_cert.clone().map(CaSource::File),
                insecure: self.tls_insecure,
            },
            ..ClientOptions::default()
        };
        ControllerClient::new(&self.addr, options).context("cannot set up the controller client")
    }
}
