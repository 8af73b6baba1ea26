//! The proxy loop against the scripted worker peer.

use std::sync::Mutex;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use boundary_net::tunnel::test_worker::{
    Script, accept_v2, scripted_worker, session_cert, session_data, within, worker_tls_config,
};

async fn proxy_for(scripts: Vec<Script>) -> LocalProxy {
    let cert = session_cert("s_1234567890");
    let (worker, _seen) = scripted_worker(worker_tls_config(&cert, &cert), scripts).await;
    let session = TunnelSession::new(session_data(&cert, &[worker])).unwrap();
    LocalProxy::bind("127.0.0.1:0".parse().unwrap(), Arc::new(session))
        .await
        .unwrap()
}

/// One request/response through the proxy, half-closing after the request.
async fn echo(address: SocketAddr, data: &[u8]) -> Vec<u8> {
    let mut tcp = TcpStream::connect(address).await.unwrap();
    tcp.write_all(data).await.unwrap();
    tcp.shutdown().await.unwrap();
    let mut back = vec![];
    within("echo", tcp.read_to_end(&mut back)).await.unwrap();
    back
}

#[tokio::test]
async fn the_proxy_stops_after_the_last_allowed_connection() {
    let proxy = proxy_for(vec![accept_v2(1), accept_v2(0)]).await;
    let address = proxy.local_addr();
    let seen = Arc::new(Mutex::new(vec![]));
    let counts = seen.clone();
    let run = tokio::spawn(proxy.run(std::future::pending(), move |left| {
        counts.lock().unwrap().push(left)
    }));
    assert_eq!(echo(address, b"one").await, b"one");
    assert_eq!(echo(address, b"two").await, b"two");
    let ending = within("proxy end", run).await.unwrap();
    assert!(matches!(ending, Ending::NoConnectionsLeft), "{ending:?}");
    assert_eq!(*seen.lock().unwrap(), [1, 0]);
    // The listener is closed: nothing accepts a third connection.
    assert!(TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn stopping_the_proxy_ends_open_connections() {
    let proxy = proxy_for(vec![accept_v2(-1)]).await;
    let address = proxy.local_addr();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let (left_tx, mut left_rx) = mpsc::unbounded_channel();
    let run = tokio::spawn(proxy.run(
        async move {
            let _ = stop_rx.await;
            Ending::Shutdown
        },
        move |left| {
            let _ = left_tx.send(left);
        },
    ));
    let mut tcp = TcpStream::connect(address).await.unwrap();
    tcp.write_all(b"ping").await.unwrap();
    let mut four = [0u8; 4];
    within("echo", tcp.read_exact(&mut four)).await.unwrap();
    assert_eq!(within("count", left_rx.recv()).await, Some(-1));

    stop_tx.send(()).unwrap();
    let ending = within("proxy end", run).await.unwrap();
    assert!(matches!(ending, Ending::Shutdown), "{ending:?}");
    let mut rest = vec![];
    within("EOF", tcp.read_to_end(&mut rest)).await.unwrap();
    assert!(rest.is_empty());
}

#[tokio::test]
async fn a_refused_session_stops_the_proxy() {
    let proxy = proxy_for(vec![Script::Close(
        1011,
        boundary_wire::proto::close::UNABLE_TO_AUTHORIZE,
    )])
    .await;
    let address = proxy.local_addr();
    let run = tokio::spawn(proxy.run(std::future::pending(), |_| {}));
    let mut tcp = TcpStream::connect(address).await.unwrap();
    let mut rest = vec![];
    // The local connection is dropped without data.
    let _ = within("EOF", tcp.read_to_end(&mut rest)).await;
    assert!(rest.is_empty());
    let ending = within("proxy end", run).await.unwrap();
    assert!(matches!(ending, Ending::SessionUnusable(_)), "{ending:?}");
}

#[tokio::test]
async fn an_expired_session_stops_the_proxy() {
    let cert = session_cert("s_1234567890");
    let mut data = session_data(&cert, &["127.0.0.1:1".into()]);
    data.expiration = Some(boundary_wire::proto::to_timestamp(
        OffsetDateTime::now_utc() - time::Duration::seconds(1),
    ));
    let session = Arc::new(TunnelSession::new(data).unwrap());
    let proxy = LocalProxy::bind("127.0.0.1:0".parse().unwrap(), session)
        .await
        .unwrap();
    let ending = within("proxy end", proxy.run(std::future::pending(), |_| {})).await;
    assert!(matches!(ending, Ending::Expired), "{ending:?}");
}
