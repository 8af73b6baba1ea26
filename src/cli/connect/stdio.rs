//! `-stdio`: one connection carried on stdin/stdout, for
//! `ProxyCommand boundary connect -stdio %h`. Stdout is the connection, so nothing else is
//! ever written there.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::AsFd;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Context as _;
use tokio::fs::File;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::proxy::Ending;
use super::signals::Signals;
use crate::cli::output;
use boundary_net::tunnel::{SpliceEnd, TunnelSession};

/// Opens one tunnel and splices it with stdin/stdout until the connection ends (EOF both
/// ways with a v2 worker, the first EOF with a v1 worker) or a signal arrives.
pub async fn carry_stdio(session: &TunnelSession, signals: &mut Signals) -> anyhow::Result<Ending> {
    let tunnel = session
        .connect()
        .await
        .context("cannot open the connection through the worker")?;
    let stdio = StdioStream::take().context("cannot take over stdin and stdout")?;
    let report = tunnel.splice(stdio, signals.recv()).await;
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
        _ => Ending::ConnectionEnded,
    })
}

/// stdin and stdout as one byte stream, through their own descriptors: `std`'s stdout is
/// line-buffered and would hold back binary data that has no newline. File descriptors 0
/// and 1 are pointed at /dev/null once taken, so nothing else can write into the
/// connection, and closing our copy of stdout really ends it: that is how a half-close
/// from the target reaches ssh as EOF.
struct StdioStream {
    input: File,
    output: Option<File>,
}

impl StdioStream {
    fn take() -> io::Result<Self> {
        let input = io::stdin().as_fd().try_clone_to_owned()?;
        let output = io::stdout().as_fd().try_clone_to_owned()?;
        nix::unistd::dup2_stdin(std::fs::File::open("/dev/null")?)?;
        nix::unistd::dup2_stdout(OpenOptions::new().write(true).open("/dev/null")?)?;
        Ok(Self {
            input: File::from_std(std::fs::File::from(input)),
            output: Some(File::from_std(std::fs::File::from(output))),
        })
    }
}

impl AsyncRead for StdioStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.input).poll_read(cx, buf)
    }
}

impl AsyncWrite for StdioStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match &mut self.output {
            Some(output) => Pin::new(output).poll_write(cx, buf),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.output {
            Some(output) => Pin::new(output).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(output) = &mut self.output {
            std::task::ready!(Pin::new(output).poll_flush(cx))?;
            // Dropping the last descriptor of the pipe is what makes the reader see EOF.
            self.output = None;
        }
        Poll::Ready(Ok(()))
    }
}
