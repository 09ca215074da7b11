//! The `greeter.Greeter` gRPC service of `greeter.proto`, written by hand with tonic's public API:
//! what `tonic-prost-build` would generate, minus options this example does not use, so the
//! build needs no `protoc`. Shared by `examples/grpc.rs` and `tests/suite/grpc.rs`.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::uri::PathAndQuery;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::transport::Channel;
use tonic::{IntoRequest, Request, Response, Status};
use tonic_prost::ProstCodec;

/// `message HelloRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `message HelloReply`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
}

const SAY_HELLO: &str = "/greeter.Greeter/SayHello";

/// The service's methods, implemented by the app.
pub trait Greeter: Send + Sync + 'static {
    fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> impl Future<Output = Result<Response<HelloReply>, Status>> + Send;
}

/// Serves a [`Greeter`] under `/greeter.Greeter/`; add it with `Server::add_service`.
pub struct GreeterServer<T> {
    inner: Arc<T>,
}

impl<T> GreeterServer<T> {
    pub fn new(greeter: T) -> Self {
        Self {
            inner: Arc::new(greeter),
        }
    }
}

impl<T> Clone for GreeterServer<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T> NamedService for GreeterServer<T> {
    const NAME: &'static str = "greeter.Greeter";
}

impl<T: Greeter> tower::Service<http::Request<Body>> for GreeterServer<T> {
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<Body>) -> Self::Future {
        if req.uri().path() != SAY_HELLO {
            let unknown = Status::unimplemented("unknown method").into_http();
            return Box::pin(std::future::ready(Ok(unknown)));
        }
        let greeter = self.inner.clone();
        Box::pin(async move {
            let method = tower::service_fn(|request| greeter.say_hello(request));
            let mut grpc = tonic::server::Grpc::new(ProstCodec::default());
            Ok(grpc.unary(method, req).await)
        })
    }
}

/// A client of `greeter.Greeter`.
#[derive(Clone, Debug)]
pub struct GreeterClient {
    inner: tonic::client::Grpc<Channel>,
}

impl GreeterClient {
    pub fn new(channel: Channel) -> Self {
        Self {
            inner: tonic::client::Grpc::new(channel),
        }
    }

    pub async fn say_hello(
        &mut self,
        request: impl IntoRequest<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        self.inner
            .ready()
            .await
            .map_err(|e| Status::unavailable(format!("greeter service not ready: {e}")))?;
        let path = PathAndQuery::from_static(SAY_HELLO);
        self.inner
            .unary(request.into_request(), path, ProstCodec::default())
            .await
    }
}
