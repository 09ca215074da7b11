//! The response body of a [`JwtService`](crate::middleware::JwtService): the inner service's body, or the
//! few bytes of a rejection. Works over any `http_body::Body<Data = Bytes>`, so the layer fits
//! axum, tonic and hyper services alike.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;

pin_project! {
    /// The inner service's body, or the body of a rejection: the response body of
    /// [`JwtService`](super::JwtService) and [`RequireService`](crate::authorize::RequireService).
    ///
    /// ```
    /// use tower::{service_fn, Layer, ServiceExt};
    /// use tower_jwt_auth::{JwtLayer, VerifyingKey};
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let handler = service_fn(|_: http::Request<()>| async { Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hi"))) });
    /// let service = JwtLayer::<serde_json::Value>::new(VerifyingKey::hs256([7u8; 32])?).layer(handler);
    /// let response = service.oneshot(http::Request::new(())).await?; // no token
    /// let body = response.into_body(); // a ResponseBody<String>
    /// let body = axum::body::to_bytes(axum::body::Body::new(body), 1024).await?;
    /// assert_eq!(body.as_ref(), br#"{"error":"unauthorized","error_description":"no bearer token"}"#);
    /// # Ok::<(), Box<dyn std::error::Error>>(()) }).unwrap();
    /// ```
    pub struct ResponseBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        Rejection { data: Option<Bytes> },
    }
}

impl<B> ResponseBody<B> {
    pub(crate) fn inner(body: B) -> Self {
        Self {
            kind: Kind::Inner { body },
        }
    }

    pub(crate) fn rejection(data: Bytes) -> Self {
        let data = (!data.is_empty()).then_some(data);
        Self {
            kind: Kind::Rejection { data },
        }
    }
}

impl<B: Body<Data = Bytes>> Body for ResponseBody<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        match self.project().kind.project() {
            KindProj::Inner { body } => body.poll_frame(cx),
            KindProj::Rejection { data } => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Rejection { data } => data.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Rejection { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
        }
    }
}

impl<B> std::fmt::Debug for ResponseBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            Kind::Inner { .. } => "ResponseBody::Inner",
            Kind::Rejection { .. } => "ResponseBody::Rejection",
        })
    }
}
