//! `-stdio`: one connection carried on stdin/stdout, for
//! `ProxyCommand boundary connect -stdio %h`. Stdout is the connection, so nothing else is
//! ever written there.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf, Stdin, Stdout};

use super::proxy::Ending;
use super::signals::Signals;
use crate::cli::output;
use crate::tunnel::{SpliceEnd, TunnelSession};

/// Opens one tunnel and splices it with stdin/stdout until the connection ends (EOF both
/// ways with a v2 worker, the first EOF with a v1 worker) or a signal arrives.
pub async fn carry_stdio(session: &TunnelSession, signals: &mut Signals) -> anyhow::Result<Ending> {
    let tunnel = session
        .connect()
        .await
        .context("cannot open the connection through the worker")?;
    let report = tunnel.splice(StdioStream::new(), signals.recv()).await;
    tracing::debug!(?report, "stdio connection ended");
    if let SpliceEnd::Reset { error, .. } | SpliceEnd::ProtocolViolation { reason: error, .. } =
        &report.end
    {
        output::stderr(&format!(
            "Error: the connection ended abnormally: {error}\n"
        ));
    }
    Ok(match report.end {
        SpliceEnd::Cancelled => Ending::Shutdown,
        _ => Ending::NoConnectionsLeft,
    })
}

/// stdin and stdout as one byte stream. Shutting down the write half really closes our
/// stdout (it is pointed at /dev/null), so the reader sees EOF: that is how a half-close
/// from the target reaches ssh.
struct StdioStream {
    stdin: Stdin,
    stdout: Stdout,
    stdout_closed: bool,
}

impl StdioStream {
    fn new() -> Self {
        Self {
            stdin: tokio::io::stdin(),
            stdout: tokio::io::stdout(),
            stdout_closed: false,
        }
    }
}

impl AsyncRead for StdioStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_read(cx, buf)
    }
}

impl AsyncWrite for StdioStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.stdout_closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        Pin::new(&mut self.stdout).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stdout_closed {
            return Poll::Ready(Ok(()));
        }
        std::task::ready!(Pin::new(&mut self.stdout).poll_flush(cx))?;
        let devnull = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
        nix::unistd::dup2_stdout(&devnull).map_err(io::Error::from)?;
        self.stdout_closed = true;
        Poll::Ready(Ok(()))
    }
}
