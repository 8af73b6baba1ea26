//! The local listener of `boundary connect`: one tunnel per accepted connection, until the
//! session runs out of connections, expires, or the caller stops it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::output;
use boundary_net::tunnel::{TunnelError, TunnelSession};

/// Why the proxy stopped.
#[derive(Debug)]
pub enum Ending {
    /// A signal, or the caller's stop condition.
    Shutdown,
    Expired,
    NoConnectionsLeft,
    /// The worker refused the session (canceled, already in use, ...).
    SessionUnusable(String),
    /// The program run with `-exec` (or the ssh helper) exited with this code.
    CommandExited(i32),
    /// `-stdio`: the one connection is over.
    ConnectionEnded,
}

/// How long open connections get to finish after the proxy stopped on its own.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct LocalProxy {
    listener: TcpListener,
    session: Arc<TunnelSession>,
}

/// What a connection task reports back to the accept loop.
enum Event {
    Connected { connections_left: i32 },
    Failed(TunnelError),
}

impl LocalProxy {
    pub async fn bind(address: SocketAddr, session: Arc<TunnelSession>) -> std::io::Result<Self> {
        Ok(Self {
            listener: TcpListener::bind(address).await?,
            session,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        // A bound listener always has an address; fall back to the unspecified one.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Accepts and tunnels connections until `stop` resolves, the session expires, or the
    /// worker says no connection is left (then open connections are allowed to finish).
    /// `on_connections_left` sees the count after every successful handshake.
    pub async fn run<S>(self, stop: S, mut on_connections_left: impl FnMut(i32)) -> Ending
    where
        S: Future<Output = Ending>,
    {
        let LocalProxy { listener, session } = self;
        let mut listener = Some(listener);
        let cancel = CancellationToken::new();
        let (events_tx, mut events) = mpsc::unbounded_channel();
        let mut connections = JoinSet::new();
        let expired = sleep_until_expiration(session.expiration());
        tokio::pin!(stop, expired);
        let mut closing_reason = None;

        let ending = loop {
            if listener.is_none() && connections.is_empty() {
                // Every task reports before it ends; pick up what is still queued.
                while let Ok(event) = events.try_recv() {
                    handle(event, &mut on_connections_left);
                }
                break closing_reason.take().unwrap_or(Ending::NoConnectionsLeft);
            }
            tokio::select! {
                ending = &mut stop => break ending,
                () = &mut expired => break Ending::Expired,
                accepted = accept(&listener) => match accepted {
                    Ok(tcp) => {
                        let _ = tcp.set_nodelay(true);
                        connections.spawn(carry(session.clone(), tcp, events_tx.clone(), cancel.clone()));
                    }
                    Err(e) => output::warn(&format!("accepting a local connection failed: {e}")),
                },
                Some(event) = events.recv() => {
                    if let Some(reason) = handle(event, &mut on_connections_left) {
                        // Refuse new connections; the open ones finish on their own.
                        listener = None;
                        closing_reason.get_or_insert(reason);
                    }
                }
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        };

        drop(listener);
        if !matches!(
            ending,
            Ending::NoConnectionsLeft | Ending::SessionUnusable(_)
        ) {
            cancel.cancel();
        }
        let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        connections.abort_all();
        ending
    }
}

/// Returns why the listener must close, if it must.
fn handle(event: Event, on_connections_left: &mut impl FnMut(i32)) -> Option<Ending> {
    match event {
        Event::Connected { connections_left } => {
            on_connections_left(connections_left);
            (connections_left == 0).then_some(Ending::NoConnectionsLeft)
        }
        Event::Failed(error) => {
            output::stderr(&format!(
                "Error: connection through the worker failed: {error}\n"
            ));
            error
                .session_unusable()
                .then(|| Ending::SessionUnusable(error.to_string()))
        }
    }
}

async fn accept(listener: &Option<TcpListener>) -> std::io::Result<TcpStream> {
    match listener {
        Some(listener) => listener.accept().await.map(|(tcp, _)| tcp),
        None => std::future::pending().await,
    }
}

async fn carry(
    session: Arc<TunnelSession>,
    tcp: TcpStream,
    events: mpsc::UnboundedSender<Event>,
    cancel: CancellationToken,
) {
    match session.connect().await {
        Ok(tunnel) => {
            let _ = events.send(Event::Connected {
                connections_left: tunnel.connections_left(),
            });
            let report = tunnel.splice(tcp, cancel.cancelled_owned()).await;
            tracing::debug!(?report, "connection ended");
        }
        Err(error) => {
            let _ = events.send(Event::Failed(error));
        }
    }
}

async fn sleep_until_expiration(expiration: Option<OffsetDateTime>) {
    let Some(expiration) = expiration else {
        return std::future::pending().await;
    };
    let left = expiration - OffsetDateTime::now_utc();
    let left = Duration::try_from(left).unwrap_or(Duration::ZERO);
    tokio::time::sleep(left).await;
}

#[cfg(test)]
mod tests;
