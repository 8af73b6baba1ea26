//! An in-memory byte stream standing in for a client's socket: reads yield the fuzz
//! input, writes are kept for the target to check.

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What the client does once it has sent everything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AtEnd {
    /// Closes its side: reads return end of file.
    Close,
    /// Waits for the answers with the connection open: reads never complete again, so
    /// only the server's own deadlines end the connection.
    Wait,
}

/// The client's bytes, delivered in `chunk`-sized reads (several reads exercise the
/// parsers' partial-input paths), and everything the server wrote.
pub(crate) struct MemStream {
    input: Vec<u8>,
    read: usize,
    chunk: usize,
    at_end: AtEnd,
    /// The client sends nothing past this offset until the server has written something
    /// (a WebSocket client waits for the upgrade's answer before its first frame).
    wait_for_answer_at: Option<usize>,
    waiting: Option<Waker>,
    written: Arc<Mutex<Vec<u8>>>,
}

impl MemStream {
    /// A stream that yields `input` and records writes into the returned buffer.
    pub fn new(input: &[u8], chunk: usize, at_end: AtEnd) -> (MemStream, Arc<Mutex<Vec<u8>>>) {
        let written = Arc::new(Mutex::new(Vec::new()));
        let stream = MemStream {
            input: input.to_vec(),
            read: 0,
            chunk: chunk.max(1),
            at_end,
            wait_for_answer_at: None,
            waiting: None,
            written: Arc::clone(&written),
        };
        (stream, written)
    }

    /// Sends nothing past `offset` of the input until the server has answered.
    pub fn wait_for_answer_at(mut self, offset: usize) -> MemStream {
        self.wait_for_answer_at = Some(offset);
        self
    }

    fn answered(&self) -> bool {
        !self
            .written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .is_empty()
    }
}

impl AsyncRead for MemStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut end = self.input.len();
        if let Some(offset) = self.wait_for_answer_at.filter(|&at| at < end) {
            if self.answered() {
                self.wait_for_answer_at = None;
            } else if self.read >= offset {
                self.waiting = Some(context.waker().clone());
                return Poll::Pending;
            } else {
                end = offset;
            }
        }
        let left = end - self.read;
        if left == 0 {
            // `Wait`: no waker is kept, as for a peer that never sends again; the server's
            // timers are what wakes its task.
            return match self.at_end {
                AtEnd::Close => Poll::Ready(Ok(())),
                AtEnd::Wait => Poll::Pending,
            };
        }
        let take = left.min(self.chunk).min(buf.remaining());
        let start = self.read;
        buf.put_slice(&self.input[start..start + take]);
        self.read += take;
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for MemStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend_from_slice(buf);
        if let Some(waiting) = self.waiting.take() {
            waiting.wake();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
