//! The set of proxy listeners, one per (alias address, port), started and stopped on the
//! core's `Listen`/`StopListening` commands.

use std::collections::BTreeMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::{self, ConnectionBroker, ConnectionContext};
use crate::os::PeerUidLookup;

const BACKLOG: i32 = 1024;
/// After an accept error that is not about one connection (out of file descriptors),
/// wait this long before accepting again instead of spinning.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The running proxy listeners and the connections they accepted.
pub struct ProxyListeners {
    context: Arc<ConnectionContext>,
    listeners: BTreeMap<SocketAddr, RunningListener>,
    connections: TaskTracker,
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
}

struct RunningListener {
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl ProxyListeners {
    pub fn new(broker: Arc<dyn ConnectionBroker>, peers: Arc<dyn PeerUidLookup>) -> Self {
        ProxyListeners {
            context: Arc::new(ConnectionContext {
                broker,
                peers,
                shutdown: CancellationToken::new(),
            }),
            listeners: BTreeMap::new(),
            connections: TaskTracker::new(),
        }
    }

    /// Starts listening on (addr, port); already listening there is success. Must run
    /// inside a tokio runtime.
    pub fn listen(&mut self, addr: IpAddr, port: u16) -> Result<(), ProxyError> {
        let at = SocketAddr::new(addr, port);
        if self.listeners.contains_key(&at) {
            return Ok(());
        }
        let listener = bind(at).map_err(|source| ProxyError::Listen { addr: at, source })?;
        let stop = CancellationToken::new();
        let task = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&self.context),
            self.connections.clone(),
            stop.clone(),
        ));
        self.listeners.insert(at, RunningListener { stop, task });
        tracing::debug!(%at, "proxy listener started");
        Ok(())
    }

    /// Stops the listener on (addr, port) and waits until its socket is closed.
    /// Connections it accepted keep running.
    pub async fn stop(&mut self, addr: IpAddr, port: u16) {
        let at = SocketAddr::new(addr, port);
        if let Some(listener) = self.listeners.remove(&at) {
            listener.stop.cancel();
            let _ = listener.task.await;
            tracing::debug!(%at, "proxy listener stopped");
        }
    }

    /// Where it listens now.
    pub fn listening(&self) -> Vec<SocketAddr> {
        self.listeners.keys().copied().collect()
    }

    /// Stops every listener, ends every tunnelled connection and waits (at most `grace`)
    /// for them to report their end.
    pub async fn shutdown(&mut self, grace: Duration) {
        let all: Vec<SocketAddr> = self.listening();
        for at in all {
            self.stop(at.ip(), at.port()).await;
        }
        self.context.shutdown.cancel();
        self.connections.close();
        if tokio::time::timeout(grace, self.connections.wait())
            .await
            .is_err()
        {
            tracing::warn!("some tunnelled connections did not end in time");
        }
    }
}

fn bind(at: SocketAddr) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(at), Type::STREAM, Some(Protocol::TCP))?;
    // Lets a listener come back while connections of the previous one are in TIME_WAIT.
    socket.set_reuse_address(true)?;
    if at.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&at.into())?;
    socket.listen(BACKLOG)?;
    TcpListener::from_std(socket.into())
}

async fn accept_loop(
    listener: TcpListener,
    context: Arc<ConnectionContext>,
    connections: TaskTracker,
    stop: CancellationToken,
) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                connections.spawn(connection::handle(stream, peer, Arc::clone(&context)));
            }
            Err(error) if is_per_connection(&error) => {
                tracing::debug!(%error, "a connection failed while being accepted");
            }
            Err(error) => {
                tracing::warn!(%error, "accepting connections failed; retrying shortly");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
}

/// Errors that concern the connection being accepted, not the listener.
fn is_per_connection(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}
