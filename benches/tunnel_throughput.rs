//! Throughput through the client tunnel and the worker, against direct TCP to the same
//! server on this machine, measured in the same run; prints both and their ratio.
//!
//! `cargo bench --bench tunnel_throughput` (set `BENCH_MIB` to change the transfer size,
//! default 512 MiB per direction and round). It starts a real `boundary dev`, creates a
//! target pointing at an in-process server, and carries a local TCP connection through a
//! `TunnelSession` the way `boundary connect` and the agent do.

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use boundary_net::client::{ClientOptions, ControllerClient, SessionTarget};
use boundary_net::tunnel::TunnelSession;
use boundary_wire::api::target::{CreateTargetRequest, TcpTargetAttributes};
use support::dev::{Dev, PROJECT_ID};
use support::names::unique_alias;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ROUNDS: usize = 3;
const CHUNK: usize = 256 * 1024;

fn main() {
    let bytes = std::env::var("BENCH_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(512)
        * 1024
        * 1024;
    let dev = Dev::start();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        dev.wait_for_worker().await;
        run(&dev.api, dev.admin_token().await, bytes).await
    });
}

async fn run(controller: &str, token: String, bytes: u64) {
    let server = start_server().await;
    let session = Arc::new(authorize(controller, token, server.port()).await);
    let tunnel_entry = start_tunnel_entry(session.clone()).await;

    println!(
        "tunnel throughput, {} MiB per transfer, best of {ROUNDS}",
        bytes >> 20
    );
    for (name, direction) in [
        ("upload", Direction::Upload),
        ("download", Direction::Download),
    ] {
        let direct = best_of(server, direction, bytes).await;
        let tunnel = best_of(tunnel_entry, direction, bytes).await;
        println!(
            "{name:>8}: direct {:>8.1} MiB/s   tunnel {:>8.1} MiB/s   tunnel/direct {:.3}",
            mib_per_s(bytes, direct),
            mib_per_s(bytes, tunnel),
            direct.as_secs_f64() / tunnel.as_secs_f64()
        );
    }
    if let Err(e) = session.cancel().await {
        eprintln!("cancel failed: {e}");
    }
}

fn mib_per_s(bytes: u64, elapsed: Duration) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / elapsed.as_secs_f64()
}

#[derive(Clone, Copy)]
enum Direction {
    Upload,
    Download,
}

async fn best_of(address: SocketAddr, direction: Direction, bytes: u64) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..ROUNDS {
        best = best.min(transfer(address, direction, bytes).await);
    }
    best
}

/// Upload: `U`, the bytes, EOF; the server answers the count it read. Download: `D` and a
/// length; the server sends that many bytes and closes.
async fn transfer(address: SocketAddr, direction: Direction, bytes: u64) -> Duration {
    let mut tcp = TcpStream::connect(address).await.expect("connect");
    tcp.set_nodelay(true).ok();
    let buf = vec![0xa5u8; CHUNK];
    let started = Instant::now();
    match direction {
        Direction::Upload => {
            tcp.write_all(b"U").await.expect("command");
            let mut left = bytes;
            while left > 0 {
                let n = left.min(CHUNK as u64) as usize;
                tcp.write_all(&buf[..n]).await.expect("upload");
                left -= n as u64;
            }
            tcp.shutdown().await.expect("half-close");
            let received = tcp.read_u64().await.expect("server's count");
            assert_eq!(received, bytes, "the server did not get everything");
        }
        Direction::Download => {
            tcp.write_all(b"D").await.expect("command");
            tcp.write_u64(bytes).await.expect("length");
            let mut buf = buf;
            let mut received = 0u64;
            loop {
                let n = tcp.read(&mut buf).await.expect("download");
                if n == 0 {
                    break;
                }
                received += n as u64;
            }
            assert_eq!(received, bytes, "the download was cut short");
        }
    }
    started.elapsed()
}

async fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind server");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tokio::spawn(serve(tcp));
        }
    });
    address
}

async fn serve(mut tcp: TcpStream) {
    tcp.set_nodelay(true).ok();
    let mut buf = vec![0u8; CHUNK];
    match tcp.read_u8().await {
        Ok(b'U') => {
            let mut received = 0u64;
            while let Ok(n) = tcp.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                received += n as u64;
            }
            let _ = tcp.write_u64(received).await;
        }
        Ok(b'D') => {
            let Ok(mut left) = tcp.read_u64().await else {
                return;
            };
            while left > 0 {
                let n = left.min(CHUNK as u64) as usize;
                if tcp.write_all(&buf[..n]).await.is_err() {
                    return;
                }
                left -= n as u64;
            }
        }
        _ => {}
    }
    let _ = tcp.shutdown().await;
}

/// Creates a target for `port` as the dev admin and authorizes a session to it.
async fn authorize(controller: &str, token: String, port: u16) -> TunnelSession {
    let options = ClientOptions {
        token: Some(token.into()),
        ..ClientOptions::default()
    };
    let client = ControllerClient::new(controller, options).expect("client");
    let target = client
        .create_target(&CreateTargetRequest {
            kind: Some("tcp".into()),
            scope_id: Some(PROJECT_ID.into()),
            name: Some(unique_alias("bench")),
            address: Some("127.0.0.1".into()),
            attributes: Some(TcpTargetAttributes {
                default_port: Some(u32::from(port)),
                default_client_port: None,
            }),
            ..CreateTargetRequest::default()
        })
        .await
        .expect("create target");
    let authorization = client
        .authorize_session(SessionTarget::Id(&target.id), None)
        .await
        .expect("authorize session");
    TunnelSession::from_token(authorization.authorization_token.expose()).expect("session")
}

/// A local listener whose connections are tunnelled, like `boundary connect`'s.
async fn start_tunnel_entry(session: Arc<TunnelSession>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind entry");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            tcp.set_nodelay(true).ok();
            let session = session.clone();
            tokio::spawn(async move {
                match session.connect().await {
                    Ok(tunnel) => {
                        tunnel.splice(tcp, std::future::pending()).await;
                    }
                    Err(e) => eprintln!("tunnel failed: {e}"),
                }
            });
        }
    });
    address
}
