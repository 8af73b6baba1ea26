//! Serving one accepted HTTP connection (HTTP/1.1 or h2) for the controller's listeners
//! and the agent's local API, with bounds a slow or silent client cannot stretch.
//!
//! hyper alone leaves a client several ways to hold a connection (a task and a file
//! descriptor) for as long as it likes: hyper-util's auto builder waits without limit
//! while the bytes so far match the h2 preface (one `P` is enough), hyper's HTTP/1.1
//! header-read timeout does not cover that wait, h2 has no deadline for a stream's headers,
//! and request bodies have none at all. So the bounds are kept here, above the protocol,
//! by watching what reaches the service:
//!
//! - **No request in progress** ([`ConnectionLimits::idle_timeout`]): from the
//!   connection's start, and again each time its last request has finished, the next
//!   request must reach the service within the timeout or the connection is dropped. A
//!   request reaches the service once its head is complete (HTTP/1.1), or once the
//!   preface, settings and the stream's complete HEADERS are in (h2). This one deadline
//!   bounds a silent client, a stalled preface, a half-sent head and an idle keep-alive
//!   connection alike; bytes trickling in do not extend it.
//! - **Request bodies** ([`ConnectionLimits::body_timeout`]): a body must have arrived
//!   completely within the timeout, counted from its head. A slower body fails with
//!   [`BodyTimedOut`] (handlers answer 408, see [`is_body_timeout`]); on HTTP/1.1 the
//!   connection is then closed after the response, as hyper does for any body left unread.
//! - **A request in progress** (its handler running, or its response body being sent)
//!   keeps the connection for as long as it takes: slow handlers are not cut.

mod tracking;

#[cfg(test)]
mod tests;

use std::error::Error as StdError;
use std::time::Duration;

use hyper::body::{Body as HttpBody, Bytes};
use hyper::service::Service;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

pub use tracking::{BodyTimedOut, TimedBody, is_body_timeout};

use tracking::{Activity, TrackedService};

/// The deadlines of one server's connections; see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// How long a connection may go without a request in progress before the next
    /// request's head must have arrived: counted from the connection's start, and again
    /// from the end of each request.
    pub idle_timeout: Duration,
    /// How long a request's body may take to arrive completely, counted from its head.
    pub body_timeout: Duration,
}

/// Serves `io` with `service` until the client closes, [`ConnectionLimits`] end it, or
/// `shutdown` is cancelled: then requests in progress finish (the caller bounds that
/// wait), idle connections close at once and no new request is taken.
///
/// `service` is any hyper service taking a [`TimedBody`]: the agent's local API passes a
/// `service_fn`, the controller its axum router wrapped in hyper-util's
/// `TowerToHyperService`.
pub async fn serve_connection<I, S, B>(
    io: I,
    service: S,
    limits: ConnectionLimits,
    shutdown: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    S: Service<Request<TimedBody>, Response = Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    let activity = Activity::new();
    let service = TrackedService::new(service, activity.clone(), limits.body_timeout);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // hyper's own HTTP/1.1 head timeout is redundant with the idle deadline, but it
    // answers a half-sent head with a 408 before closing, which tells a slow client why.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout);
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        // A change after this read leaves a permit in `changed`: it is not missed.
        let changed = activity.changed();
        let idle = activity.is_idle();
        tokio::select! {
            // The connection first: a request head that arrived with the deadline counts.
            biased;
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = changed => {}
            () = tokio::time::sleep(limits.idle_timeout), if idle => {
                if !activity.is_idle() {
                    continue;
                }
                tracing::debug!(
                    timeout = ?limits.idle_timeout,
                    "closing a connection that sent no request within the idle timeout"
                );
                return;
            }
            () = shutdown.cancelled(), if !draining => {
                draining = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}
