//! The response future of [`JwtService`](crate::JwtService): the inner service's future, a
//! rejection that is ready at once, or (only when keys must be fetched first) a boxed
//! verification that then calls the inner service.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::body::ResponseBody;

/// A verification waiting for keys: the request with its claims inserted, or the rejection.
pub(crate) type PendingAuth<B> =
    Pin<Box<dyn Future<Output = Result<Request<B>, Response<Bytes>>> + Send>>;

pin_project! {
    /// Response future of [`JwtService`](crate::JwtService).
    pub struct ResponseFuture<S, B>
    where
        S: Service<Request<B>>,
    {
        #[pin]
        kind: Kind<S, B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<S, B>
    where
        S: Service<Request<B>>,
    {
        Pending { auth: PendingAuth<B>, service: Option<S> },
        Inner { #[pin] future: S::Future },
        Rejected { response: Option<Response<Bytes>> },
    }
}

impl<S: Service<Request<B>>, B> ResponseFuture<S, B> {
    pub(crate) fn inner(future: S::Future) -> Self {
        Self {
            kind: Kind::Inner { future },
        }
    }

    pub(crate) fn rejected(response: Response<Bytes>) -> Self {
        Self {
            kind: Kind::Rejected {
                response: Some(response),
            },
        }
    }

    /// `service` has been polled ready; it is called once `auth` lets the request through.
    #[cfg_attr(not(feature = "jwks"), allow(dead_code))]
    pub(crate) fn pending(auth: PendingAuth<B>, service: S) -> Self {
        Self {
            kind: Kind::Pending {
                auth,
                service: Some(service),
            },
        }
    }
}

impl<S, B, ResBody> Future for ResponseFuture<S, B>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
{
    type Output = Result<Response<ResponseBody<ResBody>>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.kind.as_mut().project() {
                KindProj::Inner { future } => {
                    return Poll::Ready(
                        ready!(future.poll(cx)).map(|r| r.map(ResponseBody::inner)),
                    );
                }
                KindProj::Rejected { response } => {
                    let response = response
                        .take()
                        .expect("ResponseFuture polled after completion");
                    return Poll::Ready(Ok(response.map(ResponseBody::rejection)));
                }
                KindProj::Pending { auth, service } => match ready!(auth.as_mut().poll(cx)) {
                    Ok(request) => {
                        let mut service = service
                            .take()
                            .expect("ResponseFuture polled after completion");
                        let future = service.call(request);
                        this.kind.set(Kind::Inner { future });
                    }
                    Err(response) => this.kind.set(Kind::Rejected {
                        response: Some(response),
                    }),
                },
            }
        }
    }
}

impl<S: Service<Request<B>>, B> std::fmt::Debug for ResponseFuture<S, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
