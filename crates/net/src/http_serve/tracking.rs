//! What [`super::serve_connection`] watches: which requests are in progress (from the
//! service call until the response body is dropped) and how long request bodies take.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::body::{Body as HttpBody, Bytes, Frame, Incoming, SizeHint};
use hyper::service::Service;
use hyper::{Request, Response};
use tokio::sync::Notify;
use tokio::time::Sleep;

type BoxError = Box<dyn StdError + Send + Sync>;

/// A request body that did not arrive completely within the body timeout.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {} s", .0.as_secs_f32())]
pub struct BodyTimedOut(pub Duration);

/// Whether `error` (or one of its sources) is [`BodyTimedOut`]: handlers answer 408 then,
/// instead of blaming the body's content.
pub fn is_body_timeout(error: &(dyn StdError + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if error.is::<BodyTimedOut>() {
            return true;
        }
        cause = error.source();
    }
    false
}

/// How many requests of one connection are in progress; `changed` wakes the connection's
/// supervisor whenever one starts or ends.
pub(super) struct Activity {
    in_progress: AtomicUsize,
    changed: Notify,
}

impl Activity {
    pub(super) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            in_progress: AtomicUsize::new(0),
            changed: Notify::new(),
        })
    }

    pub(super) fn is_idle(&self) -> bool {
        self.in_progress.load(Ordering::Acquire) == 0
    }

    /// Resolves at the next start or end of a request (or at once if one happened since
    /// the last call: the supervisor is the only waiter, so `notify_one`'s permit holds it).
    pub(super) fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }

    fn request_started(self: &Arc<Self>) -> InProgress {
        self.in_progress.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_one();
        InProgress(self.clone())
    }
}

/// One request in progress; dropped with the response body (or with the handler's future
/// when the connection goes away first).
struct InProgress(Arc<Activity>);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.in_progress.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_one();
    }
}

/// The service as hyper calls it: each request counted in [`Activity`] and its body under
/// the body timeout.
pub(super) struct TrackedService<S> {
    service: S,
    activity: Arc<Activity>,
    body_timeout: Duration,
}

impl<S> TrackedService<S> {
    pub(super) fn new(
        service: S,
        activity: Arc<Activity>,
        body_timeout: Duration,
    ) -> TrackedService<S> {
        TrackedService {
            service,
            activity,
            body_timeout,
        }
    }
}

impl<S, B> Service<Request<Incoming>> for TrackedService<S>
where
    S: Service<Request<TimedBody>, Response = Response<B>>,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: HttpBody<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody<B>>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn call(&self, request: Request<Incoming>) -> Self::Future {
        let in_progress = self.activity.request_started();
        let timeout = self.body_timeout;
        let request = request.map(|body| TimedBody::new(body, timeout));
        let response = self.service.call(request);
        Box::pin(async move {
            let response = response.await.map_err(Into::into)?;
            Ok(response.map(|body| ResponseBody {
                body,
                _in_progress: in_progress,
            }))
        })
    }
}

/// The request body a service gets from [`super::serve_connection`]: the client's body,
/// which fails with [`BodyTimedOut`] once its deadline passes before its end has arrived.
pub struct TimedBody {
    body: Incoming,
    timeout: Duration,
    /// `None` once the body has ended (or there never was one).
    deadline: Option<Pin<Box<Sleep>>>,
    timed_out: bool,
}

impl TimedBody {
    fn new(body: Incoming, timeout: Duration) -> TimedBody {
        let deadline = (!body.is_end_stream()).then(|| Box::pin(tokio::time::sleep(timeout)));
        TimedBody {
            body,
            timeout,
            deadline,
            timed_out: false,
        }
    }
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if this.timed_out {
            return Poll::Ready(Some(Err(BodyTimedOut(this.timeout).into())));
        }
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                if frame.is_none() {
                    this.deadline = None;
                }
                Poll::Ready(frame.map(|result| result.map_err(Into::into)))
            }
            Poll::Pending => {
                let expired = this
                    .deadline
                    .as_mut()
                    .is_some_and(|deadline| deadline.as_mut().poll(cx).is_ready());
                if expired {
                    this.timed_out = true;
                    this.deadline = None;
                    Poll::Ready(Some(Err(BodyTimedOut(this.timeout).into())))
                } else {
                    Poll::Pending
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        !self.timed_out && self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// A response body that keeps its request counted as in progress until it is dropped.
pub(super) struct ResponseBody<B> {
    body: B,
    /// Held for its `Drop`.
    _in_progress: InProgress,
}

impl<B> HttpBody for ResponseBody<B>
where
    B: HttpBody<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.body)
            .poll_frame(cx)
            .map(|frame| frame.map(|result| result.map_err(Into::into)))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
