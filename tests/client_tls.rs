//! The controller client's TLS trust decisions against a real rustls HTTPS server with a
//! certificate made for the test: untrusted by default, trusted with `-ca-cert`, accepted
//! by `-tls-insecure`, trusted through the system's trust store (the real CLI with
//! `SSL_CERT_FILE`); and the bearer token reaching the server over that connection.

mod support;

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use boundary_net::client::{CaSource, ClientError, ClientOptions, ControllerClient, TlsOptions};
use boundary_wire::api::Secret;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use support::cli::Cli;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

struct Server {
    addr: String,
    ca_pem: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// `GET /v1/auth-tokens/{id}` answers 401 without a bearer token and an auth token
/// otherwise (echoing the bearer's id), like a controller would.
async fn start_server() -> Server {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let ca_pem = cert.cert.pem();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from(cert.cert.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der())),
        )
        .unwrap();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let acceptor = TlsAcceptor::from(Arc::new(config));

    let app = Router::new().route(
        "/v1/auth-tokens/{id}",
        get(|headers: HeaderMap| async move {
            let bearer = headers
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned);
            match bearer {
                None => (
                    axum::http::StatusCode::UNAUTHORIZED,
                    r#"{"kind":"Unauthenticated","message":"Unauthenticated, or invalid token."}"#
                        .to_owned(),
                ),
                Some(token) => {
                    let id = token.split('_').take(2).collect::<Vec<_>>().join("_");
                    let t = "2026-01-01T00:00:00Z";
                    (
                        axum::http::StatusCode::OK,
                        serde_json::json!({
                            "id": id, "scope_id": "global", "user_id": "u_1234567890",
                            "auth_method_id": "ampw_1234567890", "account_id": "acctpw_1234567890",
                            "created_time": t, "updated_time": t,
                            "approximate_last_used_time": t, "expiration_time": t
                        })
                        .to_string(),
                    )
                }
            }
        }),
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate aborts the handshake: not an error here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(tls), TowerToHyperService::new(app))
                    .await;
            });
        }
    });
    Server {
        addr: format!("https://localhost:{port}"),
        ca_pem,
        task,
    }
}

fn client(server: &Server, tls: TlsOptions, token: Option<&str>) -> ControllerClient {
    ControllerClient::new(
        &server.addr,
        ClientOptions {
            token: token.map(Secret::new),
            tls,
            ..ClientOptions::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn an_unknown_certificate_is_refused_with_the_address_in_the_message() {
    let server = start_server().await;
    let err = client(&server, TlsOptions::default(), None)
        .read_auth_token("at_1234567890")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::Transport { .. }), "{err:?}");
    assert!(err.to_string().contains(&server.addr), "{err}");
    let chain = format!("{:#}", anyhow::Error::new(err));
    assert!(chain.to_lowercase().contains("certificate"), "{chain}");
}

#[tokio::test]
async fn a_trusted_ca_file_lets_the_client_in_and_the_token_is_sent() {
    let server = start_server().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let tls = TlsOptions {
        extra_ca: Some(CaSource::File(ca)),
        insecure: false,
    };
    let anonymous = client(&server, tls.clone(), None);
    let err = anonymous
        .read_auth_token("at_1234567890")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401), "{err}");
    assert_eq!(err.api_body().unwrap().kind, "Unauthenticated");

    let with_token = anonymous.with_token(Some(Secret::new("at_AbCdE12345_s1xyz")));
    let token = with_token.read_auth_token("at_AbCdE12345").await.unwrap();
    assert_eq!(token.id, "at_AbCdE12345");
}

#[tokio::test]
async fn insecure_mode_accepts_any_certificate() {
    let server = start_server().await;
    let tls = TlsOptions {
        extra_ca: None,
        insecure: true,
    };
    let token = client(&server, tls, Some("at_AbCdE12345_s1xyz"))
        .read_auth_token("at_AbCdE12345")
        .await
        .unwrap();
    assert_eq!(token.user_id, "u_1234567890");
}

/// Organisations install their private CAs in the system's trust store; the CLI (and the
/// agent, through the same client) trusts it besides Mozilla's roots. `SSL_CERT_FILE` and
/// `SSL_CERT_DIR` relocate that store, as for OpenSSL-based tools, so the test needs no
/// change to the machine's own store.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_trusts_a_ca_from_the_system_trust_store() {
    let server = start_server().await;
    let store = tempfile::tempdir().unwrap();
    let ca = store.path().join("ca-certificates.crt");
    std::fs::write(&ca, &server.ca_pem).unwrap();
    let args = [
        "auth-tokens",
        "read",
        "-id",
        "at_AbCdE12345",
        "-addr",
        &server.addr,
        "-keyring-type",
        "none",
        "-format",
        "json",
    ];
    let cli = Cli::host().env("BOUNDARY_TOKEN", "at_AbCdE12345_s1xyz");

    let untrusted = cli.run_async(&args).await;
    assert!(!untrusted.success(), "{untrusted:?}");
    assert!(
        untrusted.stderr.to_lowercase().contains("certificate"),
        "{}",
        untrusted.stderr
    );

    let trusted = cli
        .env("SSL_CERT_FILE", &ca.to_string_lossy())
        .env("SSL_CERT_DIR", &store.path().to_string_lossy())
        .run_async(&args)
        .await;
    let document = trusted.json();
    assert_eq!(document["item"]["id"], "at_AbCdE12345", "{document}");
}
